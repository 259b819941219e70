// LISP found inside another packet: in the inner packet of LISP data (an RTR hands the Map-Notify to
// a NATed Mobile Node inside a data packet, inner UDP 4342 -> 4342, IID 0xFFFFFF; data in data), or
// in the packet an ICMP error quotes. Decoded with the same decoders, notes sharing the enclosing
// message's offsets.

import { classifyDatagram, type Classification } from './classify.js';
import { decodeControlAt } from './control.js';
import { Cursor, type Note, type NoteLevel } from './cursor.js';
import { decodeData } from './data.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT } from './registry.js';
import type { NestedLisp } from './types.js';

/**
 * Whether an inner UDP datagram carries LISP: either port 4342 is control (or data, when its bytes
 * are a data header and an IP packet), either port 4341 is data.
 */
export function nestedKind(sport: number, dport: number, b: Uint8Array, off: number, end: number): Classification | undefined {
  if (sport === LISP_CONTROL_PORT || dport === LISP_CONTROL_PORT) {
    const c = classifyDatagram(sport, dport, b, off, end);
    return c && c.kind !== 'vxlan' ? c : undefined;
  }
  if (sport === LISP_DATA_PORT || dport === LISP_DATA_PORT) return { kind: 'data' };
  return undefined;
}

/** Decodes the LISP message at bytes[start, end); notes get offsets from `base`. */
export function decodeNested(
  k: Classification,
  bytes: Uint8Array,
  start: number,
  end: number,
  base: number,
  notes: Note[],
  depth: number,
  cutLevel: NoteLevel,
): NestedLisp {
  const out: NestedLisp = { kind: k.kind === 'data' ? 'data' : 'control', offset: start - base, length: end - start };
  if (k.byContent) out.byContent = k.byContent;
  if (out.kind === 'control') {
    out.control = decodeControlAt(new Cursor(bytes, start, end, base, notes, cutLevel), 0);
    return out;
  }
  const d = decodeData(bytes, start, end, { base, depth, cutLevel });
  notes.push(...d.notes);
  if (d.value) out.data = d.value;
  return out;
}
