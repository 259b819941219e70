// One NDJSON object per packet, per ../shared/json-contract.md (`read --json`).

import type { LispPacket } from '../capture/packets.js';
import { controlJson, dataJson, type JsonObject, type JsonOptions } from './json-lisp.js';

export function packetJson(p: LispPacket, opts: JsonOptions = {}): JsonObject {
  const o: JsonObject = { frame: p.frame, ts: Math.round(p.ts * 1e6) / 1e6, len: p.len };
  if (p.ip) {
    o.src = p.ip.src;
    o.dst = p.ip.dst;
  }
  if (p.udp) {
    o.sport = p.udp.srcPort;
    o.dport = p.udp.dstPort;
  }
  if (p.control) Object.assign(o, controlJson(p.control, opts));
  else if (p.data) Object.assign(o, dataJson(p.data));
  else if (p.kind) o.type = p.kind === 'data' ? 'data' : 'unknown';
  if (p.auth) {
    o.auth_ok = p.auth.ok;
    if (!p.auth.ok) o.auth_error = p.auth.reason;
  }
  if (p.fragments) o.fragments = p.fragments;
  if (p.summary) o.summary = p.summary;
  const malformed = [...p.frameNotes, ...p.notes.map((n) => `${n.message} (at byte ${n.offset})`)];
  if (malformed.length) o.malformed = malformed;
  return o;
}

/** JSON text of an object; undefined fields are left out (the contract omits what does not apply). */
export function stringify(o: JsonObject): string {
  return JSON.stringify(o);
}
