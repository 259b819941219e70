// `flows --json`'s exchange lines as bytes: the text JSON.stringify makes of exchangeJson's object
// (json-flows.ts), without the object or the string. Held identical to it by
// test/output/json-exchange-fast.test.ts; a field added to exchangeJson must be added here too.

import type { Exchange } from '../flows/types.js';
import { exchangeJson } from './json-flows.js';
import { bool, char, CLOSE_BRACE, CLOSE_BRACKET, COMMA, END_LINE, key, keysOf, lineFormat, micros as ts, num, numOrNull, ROOM, SLACK, str, strings } from './json-line-fast.js';
import { bytesOf, putBytes } from './out-buffer.js';

/** One exchange's NDJSON line (with its newline) into `out`, and as bytes for the tests. */
export const { write: writeExchangeJson, bytes: exchangeLineBytes } = lineFormat(line, exchangeJson);

/** The keys after a line's first, as bytes. */
const K = keysOf([
  'eid', 'nonce', 'start', 'requester', 'responder', 'rtt_ms', 'time_to_answer_ms', 'retransmissions', 'outcome',
  'rlocs', 'via', 'code', 'name', 'from', 'mtu', 'smr_invoked', 'lisp_sec', 'site', 'want_map_notify', 'key_id',
  'withdraw', 'subscription_nonce', 'interval_ms', 'request_seen', 'invoked_nonce', 'invoked_ms', 'probed_rloc',
  'referral_action', 'action', 'auth_error', 'transport', 'message_id', 'reject_reason', 'ms_udp_port',
  'etr_udp_port', 'ms_rloc', 'private_etr_rloc', 'rtr_rlocs', 'text',
]);
const KIND = bytesOf('{"kind":');
const FRAMES = bytesOf(',"frames":[');
const FILES = bytesOf(',"files":[');
const ICMP = bytesOf(',"icmp":{"type":');
const NAT = bytesOf(',"nat":{');
const GLOBAL_ETR_RLOC = bytesOf('"global_etr_rloc":');
const GLOBAL_ETR_PORT = bytesOf('"global_etr_port":');
const NOTES = bytesOf(',"notes":[');
const LEVEL = bytesOf('{"level":');
const NEXT_LEVEL = bytesOf(',{"level":');

/** The line into `b` from `p`: where it ends, or FAIL, or ROOM. */
function line(b: Uint8Array, p: number, e: Exchange, multi: boolean): number {
  if (p + SLACK > b.length) return ROOM;
  p = putBytes(b, p, KIND);
  p = str(b, p, e.kind);
  p = key(b, p, K.eid);
  p = str(b, p, e.eid);
  p = key(b, p, K.nonce);
  p = str(b, p, e.nonce);
  if (p < 0) return p;
  const frames = e.frames;
  if (p + frames.length * 24 + SLACK > b.length) return ROOM;
  p = putBytes(b, p, FRAMES);
  for (let i = 0; i < frames.length; i++) {
    if (i) b[p++] = 44;
    p = num(b, p, frames[i]!.frame);
  }
  b[p++] = 93;
  if (multi) {
    p = putBytes(b, p, FILES);
    for (let i = 0; i < frames.length; i++) {
      if (i) b[p++] = 44;
      p = num(b, p, frames[i]!.file + 1);
    }
    b[p++] = 93;
  }
  p = putBytes(b, p, K.start);
  p = num(b, p, ts(e.start));
  p = putBytes(b, p, K.requester);
  p = str(b, p, e.requester);
  if (e.responder !== undefined) p = str(b, key(b, p, K.responder), e.responder);
  p = key(b, p, K.rtt_ms);
  p = numOrNull(b, p, e.rttMs);
  p = key(b, p, K.time_to_answer_ms);
  p = numOrNull(b, p, e.timeToAnswerMs);
  p = key(b, p, K.retransmissions);
  p = num(b, p, e.retransmissions);
  p = key(b, p, K.outcome);
  p = str(b, p, e.outcome);
  if (e.rlocs !== undefined) p = strings(b, key(b, p, K.rlocs), e.rlocs);
  if (e.via !== undefined) p = str(b, key(b, p, K.via), e.via);
  if (e.icmp) {
    const i = e.icmp;
    p = num(b, key(b, p, ICMP), i.type);
    p = num(b, key(b, p, K.code), i.code);
    p = str(b, key(b, p, K.name), i.name);
    p = str(b, key(b, p, K.from), i.from);
    if (i.mtu !== undefined) p = num(b, key(b, p, K.mtu), i.mtu);
    p = char(b, p, CLOSE_BRACE);
  }
  if (e.smrInvoked !== undefined) p = bool(b, key(b, p, K.smr_invoked), e.smrInvoked);
  if (e.lispSec !== undefined) p = str(b, key(b, p, K.lisp_sec), e.lispSec);
  if (e.site !== undefined) p = str(b, key(b, p, K.site), e.site);
  if (e.wantMapNotify !== undefined) p = bool(b, key(b, p, K.want_map_notify), e.wantMapNotify);
  if (e.keyId !== undefined) p = num(b, key(b, p, K.key_id), e.keyId);
  if (e.withdraw !== undefined) p = bool(b, key(b, p, K.withdraw), e.withdraw);
  if (e.subscriptionNonce !== undefined) p = str(b, key(b, p, K.subscription_nonce), e.subscriptionNonce);
  if (e.intervalMs !== undefined) p = num(b, key(b, p, K.interval_ms), e.intervalMs);
  if (e.requestSeen !== undefined) p = bool(b, key(b, p, K.request_seen), e.requestSeen);
  if (e.invokedNonce !== undefined) p = str(b, key(b, p, K.invoked_nonce), e.invokedNonce);
  if (e.invokedMs !== undefined) p = num(b, key(b, p, K.invoked_ms), e.invokedMs);
  if (e.probedRloc !== undefined) p = str(b, key(b, p, K.probed_rloc), e.probedRloc);
  if (e.referralAction !== undefined) p = str(b, key(b, p, K.referral_action), e.referralAction);
  if (e.action !== undefined) p = str(b, key(b, p, K.action), e.action);
  if (e.authError !== undefined) p = str(b, key(b, p, K.auth_error), e.authError);
  if (e.transport !== undefined) p = str(b, key(b, p, K.transport), e.transport);
  if (e.messageId !== undefined) p = num(b, key(b, p, K.message_id), e.messageId);
  if (e.rejectReason !== undefined) p = str(b, key(b, p, K.reject_reason), e.rejectReason);
  if (e.nat) {
    const n = e.nat;
    p = key(b, p, NAT);
    if (n.globalEtrRloc !== undefined) p = char(b, str(b, key(b, p, GLOBAL_ETR_RLOC), n.globalEtrRloc), COMMA);
    p = num(b, key(b, p, GLOBAL_ETR_PORT), n.etrUdpPort);
    p = num(b, key(b, p, K.ms_udp_port), n.msUdpPort);
    p = num(b, key(b, p, K.etr_udp_port), n.etrUdpPort);
    if (n.msRloc !== undefined) p = str(b, key(b, p, K.ms_rloc), n.msRloc);
    if (n.privateEtrRloc !== undefined) p = str(b, key(b, p, K.private_etr_rloc), n.privateEtrRloc);
    p = char(b, strings(b, key(b, p, K.rtr_rlocs), n.rtrRlocs), CLOSE_BRACE);
  }
  if (e.notes) {
    p = key(b, p, NOTES);
    for (let i = 0; i < e.notes.length; i++) {
      const x = e.notes[i]!;
      p = key(b, p, i ? NEXT_LEVEL : LEVEL);
      p = str(b, p, x.level);
      p = char(b, str(b, key(b, p, K.text), x.text), CLOSE_BRACE);
    }
    p = char(b, p, CLOSE_BRACKET);
  }
  p = key(b, p, END_LINE);
  return p;
}
