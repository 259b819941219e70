// `flows --json`'s exchange lines as bytes: the text JSON.stringify makes of exchangeJson's object
// (json-flows.ts), without the object or the string. Held identical to it by
// test/output/json-exchange-fast.test.ts; a field added to exchangeJson must be added here too.

import type { Exchange } from '../flows/types.js';
import { exchangeJson } from './json-flows.js';
import { bool, key, lineFormat, micros as ts, num, numOrNull, ROOM, SLACK, str, strings } from './json-line-fast.js';
import { putAscii } from './out-buffer.js';

/** One exchange's NDJSON line (with its newline) into `out`, and as bytes for the tests. */
export const { write: writeExchangeJson, bytes: exchangeLineBytes } = lineFormat(line, exchangeJson);

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
