// `mappings --json`'s lines as bytes: the text JSON.stringify makes of mappingJson's object
// (json-flows.ts), without the objects or the string; a busy capture has tens of thousands of
// mappings printed at the end. Held identical to it by test/output/json-mapping-fast.test.ts; a
// field added to mappingJson must be added here too.

import type { Handover, Mapping } from '../flows/types.js';
import { mappingJson } from './json-flows.js';
import { char, CLOSE_BRACE, CLOSE_BRACKET, COMMA, END_LINE, key, keysOf, lineFormat, micros as ts, num, numOrNull, ROOM, SLACK, str, strings } from './json-line-fast.js';
import { bytesOf, putBytes } from './out-buffer.js';

/** One mapping's NDJSON line (with its newline) into `out`, and as bytes for the tests. */
export const { write: writeMappingJson, bytes: mappingLineBytes } = lineFormat(line, mappingJson);

/** The keys after an object's first, as bytes. */
const K = keysOf([
  'source', 'by', 'rlocs', 'transport', 'no_handover', 'timeline_dropped', 'frame', 'file', 'from', 'to', 'baseline',
  'smr_ts', 'updated_ts', 'first_data_ts', 'latency_ms', 'stale_data_packets',
]);
const EID = bytesOf('{"eid":');
const TIMELINE = bytesOf(',"timeline":[');
const TS = bytesOf('{"ts":');
const NEXT_TS = bytesOf(',{"ts":');
const HANDOVERS = bytesOf('],"handovers":[');
const PEERS = bytesOf(',"peers":[');
const PEER = bytesOf('{"peer":');
const NEXT_PEER = bytesOf(',{"peer":');
const IDLE = bytesOf(',"idle":true');
const END_HANDOVER = bytesOf(']}');

/** The line into `b` from `p`: where it ends, or FAIL, or ROOM. */
function line(b: Uint8Array, p: number, m: Mapping, multi: boolean): number {
  if (p + SLACK > b.length) return ROOM;
  p = key(b, p, EID);
  p = str(b, p, m.eid);
  p = key(b, p, TIMELINE);
  for (let i = 0; i < m.timeline.length && p >= 0; i++) {
    const t = m.timeline[i]!;
    if (p + SLACK > b.length) return ROOM;
    p = key(b, p, i ? NEXT_TS : TS);
    p = num(b, p, ts(t.ts));
    p = frame(b, p, t.frame.frame, t.frame.file, multi);
    p = str(b, key(b, p, K.source), t.source);
    p = str(b, key(b, p, K.by), t.by);
    p = strings(b, key(b, p, K.rlocs), t.rlocs);
    if (t.transport !== undefined) p = str(b, key(b, p, K.transport), t.transport);
    p = char(b, p, CLOSE_BRACE);
  }
  p = key(b, p, HANDOVERS);
  for (let i = 0; i < m.handovers.length && p >= 0; i++) {
    if (p + SLACK > b.length) return ROOM;
    p = handover(b, i ? char(b, p, COMMA) : p, m.handovers[i]!, multi);
  }
  p = char(b, p, CLOSE_BRACKET);
  if (m.noHandover !== undefined) p = why(b, key(b, p, K.no_handover), m.noHandover);
  if (m.timelineDropped !== undefined) p = num(b, key(b, p, K.timeline_dropped), m.timelineDropped);
  return key(b, p, END_LINE);
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
  p = num(b, key(b, p, K.frame), f);
  return multi ? num(b, key(b, p, K.file), file + 1) : p;
}

function handover(b: Uint8Array, p: number, h: Handover, multi: boolean): number {
  p = num(b, key(b, p, TS), ts(h.ts));
  p = strings(b, key(b, p, K.from), h.from);
  p = strings(b, key(b, p, K.to), h.to);
  p = frame(b, p, h.frame.frame, h.frame.file, multi);
  p = str(b, key(b, p, K.baseline), h.baseline);
  p = key(b, p, PEERS);
  for (let i = 0; i < h.peers.length && p >= 0; i++) {
    if (p + SLACK > b.length) return ROOM;
    const q = h.peers[i]!;
    p = str(b, key(b, p, i ? NEXT_PEER : PEER), q.peer);
    if (q.smrTs !== undefined) p = num(b, key(b, p, K.smr_ts), ts(q.smrTs));
    if (q.updatedTs !== undefined) p = num(b, key(b, p, K.updated_ts), ts(q.updatedTs));
    if (q.firstDataTs !== undefined) p = num(b, key(b, p, K.first_data_ts), ts(q.firstDataTs));
    p = numOrNull(b, key(b, p, K.latency_ms), q.latencyMs);
    if (q.idle) p = key(b, p, IDLE);
    p = num(b, key(b, p, K.stale_data_packets), q.staleDataPackets);
    p = char(b, p, CLOSE_BRACE);
  }
  return key(b, p, END_HANDOVER);
}
