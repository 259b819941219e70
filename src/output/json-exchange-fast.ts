// `flows --json`'s exchange lines as bytes: the text JSON.stringify makes of exchangeJson's object
// (json-flows.ts), without the object or the string. Held identical to it by
// test/output/json-exchange-fast.test.ts; a field added to exchangeJson must be added here too.

import type { Exchange } from '../flows/types.js';
import { exchangeJson } from './json-flows.js';
import { putAscii, putTime, putUint, type OutBuffer } from './out-buffer.js';

/**
 * Room kept beyond each string checked: keys, punctuation and numbers are written without a check
 * of their own, and all of them together stay well below this.
 */
export const SLACK = 2048;
/** A string needs escaping: the line takes JSON.stringify. */
export const FAIL = -1;
/** The line may not fit in what is left of the buffer. */
export const ROOM = -2;

const ts = (t: number) => Math.round(t * 1e6) / 1e6;

/** One exchange's NDJSON line (with its newline) into `out`. */
export function writeExchangeJson(out: OutBuffer, e: Exchange, multi = false): void {
  // Written in place after the buffer's content; pos moves only once the whole line is there.
  let p = line(out.buf, out.pos, e, multi);
  if (p === ROOM && out.pos > 0) {
    out.flush();
    p = line(out.buf, out.pos, e, multi);
  }
  if (p < 0) out.text(JSON.stringify(exchangeJson(e, multi)) + '\n');
  else out.pos = p;
}

/** The line as bytes, or undefined when it takes JSON.stringify instead (what the tests hold). */
export function exchangeLineBytes(e: Exchange, multi = false): Uint8Array | undefined {
  const b = new Uint8Array(1 << 16);
  const n = line(b, 0, e, multi);
  return n < 0 ? undefined : b.slice(0, n);
}

/** The line into `b` from `p`: where it ends, or FAIL, or ROOM. */
function line(b: Uint8Array, p: number, e: Exchange, multi: boolean): number {
  if (p + SLACK > b.length) return ROOM;
  p = putAscii(b, p, '{"kind":');
  p = str(b, p, e.kind);
  p = key(b, p, ',"eid":');
  p = str(b, p, e.eid);
  p = key(b, p, ',"nonce":');
  p = str(b, p, e.nonce);
  if (p < 0) return p;
  const frames = e.frames;
  if (p + frames.length * 24 + SLACK > b.length) return ROOM;
  p = putAscii(b, p, ',"frames":[');
  for (let i = 0; i < frames.length; i++) {
    if (i) b[p++] = 44;
    p = num(b, p, frames[i]!.frame);
  }
  b[p++] = 93;
  if (multi) {
    p = putAscii(b, p, ',"files":[');
    for (let i = 0; i < frames.length; i++) {
      if (i) b[p++] = 44;
      p = num(b, p, frames[i]!.file + 1);
    }
    b[p++] = 93;
  }
  p = putAscii(b, p, ',"start":');
  p = num(b, p, ts(e.start));
  p = putAscii(b, p, ',"requester":');
  p = str(b, p, e.requester);
  if (e.responder !== undefined) p = str(b, key(b, p, ',"responder":'), e.responder);
  p = key(b, p, ',"rtt_ms":');
  p = numOrNull(b, p, e.rttMs);
  p = key(b, p, ',"time_to_answer_ms":');
  p = numOrNull(b, p, e.timeToAnswerMs);
  p = key(b, p, ',"retransmissions":');
  p = num(b, p, e.retransmissions);
  p = key(b, p, ',"outcome":');
  p = str(b, p, e.outcome);
  if (e.rlocs !== undefined) p = strings(b, key(b, p, ',"rlocs":'), e.rlocs);
  if (e.via !== undefined) p = str(b, key(b, p, ',"via":'), e.via);
  if (e.icmp) {
    const i = e.icmp;
    p = num(b, key(b, p, ',"icmp":{"type":'), i.type);
    p = num(b, key(b, p, ',"code":'), i.code);
    p = str(b, key(b, p, ',"name":'), i.name);
    p = str(b, key(b, p, ',"from":'), i.from);
    if (i.mtu !== undefined) p = num(b, key(b, p, ',"mtu":'), i.mtu);
    p = key(b, p, '}');
  }
  if (e.smrInvoked !== undefined) p = bool(b, key(b, p, ',"smr_invoked":'), e.smrInvoked);
  if (e.lispSec !== undefined) p = str(b, key(b, p, ',"lisp_sec":'), e.lispSec);
  if (e.site !== undefined) p = str(b, key(b, p, ',"site":'), e.site);
  if (e.wantMapNotify !== undefined) p = bool(b, key(b, p, ',"want_map_notify":'), e.wantMapNotify);
  if (e.keyId !== undefined) p = num(b, key(b, p, ',"key_id":'), e.keyId);
  if (e.withdraw !== undefined) p = bool(b, key(b, p, ',"withdraw":'), e.withdraw);
  if (e.subscriptionNonce !== undefined) p = str(b, key(b, p, ',"subscription_nonce":'), e.subscriptionNonce);
  if (e.intervalMs !== undefined) p = num(b, key(b, p, ',"interval_ms":'), e.intervalMs);
  if (e.requestSeen !== undefined) p = bool(b, key(b, p, ',"request_seen":'), e.requestSeen);
  if (e.invokedNonce !== undefined) p = str(b, key(b, p, ',"invoked_nonce":'), e.invokedNonce);
  if (e.invokedMs !== undefined) p = num(b, key(b, p, ',"invoked_ms":'), e.invokedMs);
  if (e.probedRloc !== undefined) p = str(b, key(b, p, ',"probed_rloc":'), e.probedRloc);
  if (e.referralAction !== undefined) p = str(b, key(b, p, ',"referral_action":'), e.referralAction);
  if (e.action !== undefined) p = str(b, key(b, p, ',"action":'), e.action);
  if (e.authError !== undefined) p = str(b, key(b, p, ',"auth_error":'), e.authError);
  if (e.transport !== undefined) p = str(b, key(b, p, ',"transport":'), e.transport);
  if (e.messageId !== undefined) p = num(b, key(b, p, ',"message_id":'), e.messageId);
  if (e.rejectReason !== undefined) p = str(b, key(b, p, ',"reject_reason":'), e.rejectReason);
  if (e.nat) {
    const n = e.nat;
    p = key(b, p, ',"nat":{');
    if (n.globalEtrRloc !== undefined) p = key(b, str(b, key(b, p, '"global_etr_rloc":'), n.globalEtrRloc), ',');
    p = num(b, key(b, p, '"global_etr_port":'), n.etrUdpPort);
    p = num(b, key(b, p, ',"ms_udp_port":'), n.msUdpPort);
    p = num(b, key(b, p, ',"etr_udp_port":'), n.etrUdpPort);
    if (n.msRloc !== undefined) p = str(b, key(b, p, ',"ms_rloc":'), n.msRloc);
    if (n.privateEtrRloc !== undefined) p = str(b, key(b, p, ',"private_etr_rloc":'), n.privateEtrRloc);
    p = key(b, strings(b, key(b, p, ',"rtr_rlocs":'), n.rtrRlocs), '}');
  }
  if (e.notes) {
    p = key(b, p, ',"notes":[');
    for (let i = 0; i < e.notes.length; i++) {
      const x = e.notes[i]!;
      p = key(b, p, i ? ',{"level":' : '{"level":');
      p = str(b, p, x.level);
      p = key(b, str(b, key(b, p, ',"text":'), x.text), '}');
    }
    p = key(b, p, ']');
  }
  p = key(b, p, '}\n');
  return p;
}

/** Our own ASCII text (keys, punctuation), after a check that the line is still good. */
export function key(b: Uint8Array, p: number, k: string): number {
  return p < 0 ? p : putAscii(b, p, k);
}

/** A string between quotes, when it needs no escaping (printable ASCII, no quote or backslash). */
export function str(b: Uint8Array, p: number, s: string): number {
  if (p < 0) return p;
  if (p + s.length + SLACK > b.length) return ROOM;
  b[p++] = 34;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c > 126 || c === 34 || c === 92) return FAIL;
    b[p++] = c;
  }
  b[p++] = 34;
  return p;
}

export function strings(b: Uint8Array, p: number, list: readonly string[]): number {
  p = key(b, p, '[');
  for (let i = 0; i < list.length; i++) {
    if (i) p = key(b, p, ',');
    p = str(b, p, list[i]!);
  }
  return key(b, p, ']');
}

/** A number as JSON.stringify writes it (null when not finite). */
export function num(b: Uint8Array, p: number, n: number): number {
  if (p < 0) return p;
  if (Number.isInteger(n) && n >= 0 && n <= 0x7fffffff) return putUint(b, p, n);
  // Times and milliseconds are rounded to microseconds: such a number is the double nearest to
  // k / 10^6, and below 2^33 (where doubles lie closer than 10^-6) no shorter decimal than k's
  // digits with a point before the last six (trailing zeros dropped) reads back as it, so that is
  // String's shortest round-trip text, written without making the string.
  if (n >= 0 && n < 2 ** 33) {
    const k = Math.round(n * 1e6);
    if (k / 1e6 === n) {
      const usec = k % 1e6;
      return putTime(b, p, (k - usec) / 1e6, usec);
    }
  }
  return putAscii(b, p, Number.isFinite(n) ? String(n) : 'null');
}

export function numOrNull(b: Uint8Array, p: number, n: number | null): number {
  return n === null ? key(b, p, 'null') : num(b, p, n);
}

function bool(b: Uint8Array, p: number, v: boolean): number {
  return key(b, p, v ? 'true' : 'false');
}
