// `mappings --json`'s lines as bytes: the text JSON.stringify makes of mappingJson's object
// (json-flows.ts), without the objects or the string; a busy capture has tens of thousands of
// mappings printed at the end. Held identical to it by test/output/json-mapping-fast.test.ts; a
// field added to mappingJson must be added here too.

import type { Handover, Mapping } from '../flows/types.js';
import { mappingJson } from './json-flows.js';
import { key, lineFormat, micros as ts, num, numOrNull, ROOM, SLACK, str, strings } from './json-line-fast.js';
import { putBytes } from './out-buffer.js';

/** One mapping's NDJSON line (with its newline) into `out`, and as bytes for the tests. */
export const { write: writeMappingJson, bytes: mappingLineBytes } = lineFormat(line, mappingJson);

/** The line into `b` from `p`: where it ends, or FAIL, or ROOM. */
function line(b: Uint8Array, p: number, m: Mapping, multi: boolean): number {
  if (p + SLACK > b.length) return ROOM;
  p = key(b, p, '{"eid":');
  p = str(b, p, m.eid);
  p = key(b, p, ',"timeline":[');
  for (let i = 0; i < m.timeline.length && p >= 0; i++) {
    const t = m.timeline[i]!;
    if (p + SLACK > b.length) return ROOM;
    p = key(b, p, i ? ',{"ts":' : '{"ts":');
    p = num(b, p, ts(t.ts));
    p = frame(b, p, t.frame.frame, t.frame.file, multi);
    p = str(b, key(b, p, ',"source":'), t.source);
    p = str(b, key(b, p, ',"by":'), t.by);
    p = strings(b, key(b, p, ',"rlocs":'), t.rlocs);
    if (t.transport !== undefined) p = str(b, key(b, p, ',"transport":'), t.transport);
    p = key(b, p, '}');
  }
  p = key(b, p, '],"handovers":[');
  for (let i = 0; i < m.handovers.length && p >= 0; i++) {
    if (p + SLACK > b.length) return ROOM;
    p = handover(b, key(b, p, i ? ',' : ''), m.handovers[i]!, multi);
  }
  p = key(b, p, ']');
  if (m.noHandover !== undefined) p = why(b, key(b, p, ',"no_handover":'), m.noHandover);
  if (m.timelineDropped !== undefined) p = num(b, key(b, p, ',"timeline_dropped":'), m.timelineDropped);
  return key(b, p, '}\n');
}

/**
 * Tens of thousands of mappings share a few `no_handover` lines (a third of the output's bytes):
 * each is written once into its own bytes, then copied.
 */
const whyBytes = new Map<string, Uint8Array>();
const MAX_WHYS = 64;

function why(b: Uint8Array, p: number, text: string): number {
  if (p < 0) return p;
  const held = whyBytes.get(text);
  if (held !== undefined) return p + held.length + SLACK > b.length ? ROOM : putBytes(b, p, held);
  const end = str(b, p, text);
  if (end >= 0 && whyBytes.size < MAX_WHYS) whyBytes.set(text, b.slice(p, end));
  return end;
}

function frame(b: Uint8Array, p: number, f: number, file: number, multi: boolean): number {
  p = num(b, key(b, p, ',"frame":'), f);
  return multi ? num(b, key(b, p, ',"file":'), file + 1) : p;
}

function handover(b: Uint8Array, p: number, h: Handover, multi: boolean): number {
  p = num(b, key(b, p, '{"ts":'), ts(h.ts));
  p = strings(b, key(b, p, ',"from":'), h.from);
  p = strings(b, key(b, p, ',"to":'), h.to);
  p = frame(b, p, h.frame.frame, h.frame.file, multi);
  p = str(b, key(b, p, ',"baseline":'), h.baseline);
  p = key(b, p, ',"peers":[');
  for (let i = 0; i < h.peers.length && p >= 0; i++) {
    if (p + SLACK > b.length) return ROOM;
    const q = h.peers[i]!;
    p = str(b, key(b, p, i ? ',{"peer":' : '{"peer":'), q.peer);
    if (q.smrTs !== undefined) p = num(b, key(b, p, ',"smr_ts":'), ts(q.smrTs));
    if (q.updatedTs !== undefined) p = num(b, key(b, p, ',"updated_ts":'), ts(q.updatedTs));
    if (q.firstDataTs !== undefined) p = num(b, key(b, p, ',"first_data_ts":'), ts(q.firstDataTs));
    p = numOrNull(b, key(b, p, ',"latency_ms":'), q.latencyMs);
    if (q.idle) p = key(b, p, ',"idle":true');
    p = num(b, key(b, p, ',"stale_data_packets":'), q.staleDataPackets);
    p = key(b, p, '}');
  }
  return key(b, p, ']}');
}
