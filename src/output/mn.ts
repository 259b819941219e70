// What `lispscope mn`'s subcommands print of their exchanges: a few lines of text, or one NDJSON
// object per answer (nonces as hex, times in ms rounded to the microsecond). The behaviour (what is
// sent, waited for and timed) is src/mn's; this is only how its results read.

import { addressText, prefixText, type Prefix } from '../dissect/address.js';
import { toHex } from '../dissect/addr.js';
import { authAlgorithm, splitKeyIdField } from '../dissect/auth.js';
import { infoName, typeName } from '../dissect/names.js';
import { MessageType } from '../dissect/registry.js';
import type { InfoResult, RegisterResult, ResolveResult, SubscribeResult, Timing } from '../mn/client.js';
import type { EchoResult } from '../mn/host.js';
import { icmpErrorText, type IcmpError } from '../mn/icmp.js';
import type { RunEvent } from '../mn/run.js';
import type { Publication } from '../mn/subscriber.js';
import { activeJson, mappingRecordLines } from './active.js';
import { mappingRecordJson } from './json.js';
import { nonceText } from './line.js';
import { plural } from './units.js';

export const ms3 = (x: number): string => `${x.toFixed(3)} ms`;


/** "by the capture clock on lo", "by the socket clock". */
export function clockText(t: Timing, wire: { iface: string } | undefined): string {
  if (t.clock === 'capture') return `by the capture clock on ${wire!.iface}`;
  return wire ? `by the socket clock (the capture on ${wire.iface} missed a packet)` : 'by the socket clock';
}

export function timingJson(t: Timing): Record<string, unknown> {
  return { rtt_ms: t.rttMs, rtt_clock: t.clock, socket_rtt_ms: t.socketRttMs };
}

export function icmpJson(e: IcmpError | undefined): Record<string, unknown> {
  return e ? { icmp: { from: e.from, reason: e.reason, to: e.dst, port: e.dport } } : {};
}

/** Why nothing answered: ": " and the ICMP error when one came back, else " after" how many requests went unanswered. */
export function unansweredText(icmp: IcmpError | undefined, what: string, n: number): string {
  return icmp ? `: ${icmpErrorText(icmp)}` : ` after ${plural(n, what)}`;
}

const recordLines = (records: Parameters<typeof mappingRecordLines>[0][]) => records.flatMap((rec) => mappingRecordLines(rec));

/** What the client saw besides the answer: the capture clock and the ICMP error that came back. */
export interface Seen {
  wire: { iface: string } | undefined;
  icmp: IcmpError | undefined;
}

// ---- mn register --------------------------------------------------------------------------------

export interface RegisterOutcome {
  ms: string;
  eid: string;
  rlocs: string[];
  ttl: number;
  /** The Key ID field of the Map-Register (names the algorithm). */
  keyId: number;
  notify: boolean;
  xtrId: Uint8Array | undefined;
  siteId: Uint8Array | undefined;
  result: RegisterResult | undefined;
  failure: { text: string; causes: string[] } | undefined;
}

export function registerOutput(o: RegisterOutcome, seen: Seen, json: boolean): string[] {
  const alg = authAlgorithm(splitKeyIdField(o.keyId).algorithmId)?.name ?? `algorithm ${o.keyId}`;
  const siteId = toHex(o.siteId ?? new Uint8Array(8));
  const r = o.result;
  if (json) {
    return [
      activeJson({
        command: 'register',
        ms: o.ms,
        eid: o.eid,
        rlocs: o.rlocs,
        ttl: o.ttl,
        auth_algorithm: alg,
        want_map_notify: o.notify,
        xtr_id: o.xtrId ? toHex(o.xtrId) : null,
        ...(o.xtrId ? { site_id: siteId } : {}),
        ...(r ? { nonce: r.nonce, attempts: r.attempts } : {}),
        ...(o.notify ? { notified: !!r, ...(r ? timingJson(r) : {}) } : {}),
        ...(o.failure ? { causes: o.failure.causes, ...icmpJson(seen.icmp) } : {}),
      }),
    ];
  }
  if (o.failure) return [o.failure.text];
  const idText = o.xtrId ? `xTR-ID ${toHex(o.xtrId)}, site-ID ${siteId}` : 'no xTR-ID';
  if (o.notify) {
    return [
      `Registered ${o.eid} -> ${o.rlocs.join(', ')} with ${o.ms} (${alg}, ttl ${o.ttl}, ${idText})`,
      `Map-Notify from ${r!.from} with rtt ${ms3(r!.rttMs)} ${clockText(r!, seen.wire)}, nonce ${nonceText(r!.nonce)} (same nonce, authenticated), after ${plural(r!.attempts, 'attempt')}`,
    ];
  }
  return [`Map-Register sent to ${o.ms} for ${o.eid} -> ${o.rlocs.join(', ')} (${alg}, ttl ${o.ttl}, ${idText}, nonce ${nonceText(r!.nonce)}); no Map-Notify asked for`];
}

// ---- mn resolve, mn probe ---------------------------------------------------------------------

function resolveJson(command: string, extra: Record<string, unknown>, r: ResolveResult | undefined, seen: Seen): Record<string, unknown> {
  return {
    command,
    ...extra,
    answered: !!r,
    ...(r
      ? { from: r.from, ...timingJson(r), attempts: r.attempts, nonce: r.nonce, itr_rloc: r.itrRloc, probe: r.reply.probe, records: r.reply.records.map((rec) => mappingRecordJson(rec)) }
      : icmpJson(seen.icmp)),
  };
}

/** The line before the Map-Request goes (text only). */
export function resolveStartLine(mr: string, eid: Prefix, itrRloc: string, port: number): string {
  return `Send Map-Request to ${mr} for ${prefixText(eid.address, eid.maskLen)} (ITR-RLOC ${itrRloc}, port ${port}) ...`;
}

export function resolveOutput(o: { eid: Prefix; mr: string; attempts: number }, r: ResolveResult | undefined, seen: Seen, json: boolean): string[] {
  const eidText = prefixText(o.eid.address, o.eid.maskLen);
  if (json) return [activeJson(resolveJson('resolve', { eid: eidText, mr: o.mr }, r, seen))];
  if (!r) return [`No Map-Reply from ${o.mr}${unansweredText(seen.icmp, typeName(MessageType.MapRequest), o.attempts)}`];
  return [
    `Received Map-Reply from ${r.from} with rtt ${ms3(r.rttMs)} ${clockText(r, seen.wire)}${r.attempts > 1 ? ` after ${r.attempts} attempts` : ''}${r.from === o.mr ? ' (the mapping system answered)' : ' (the ETR answered)'}`,
    '',
    `Mapping entry for ${eidText}:`,
    ...recordLines(r.reply.records),
  ];
}

export function probeOutput(o: { rloc: string; eid: Prefix; attempts: number }, r: ResolveResult | undefined, seen: Seen, json: boolean): string[] {
  const probed = r?.reply.records.flatMap((x) => x.locators).find((l) => l.probed);
  if (json) {
    return [activeJson({ ...resolveJson('probe', { rloc: o.rloc, eid: prefixText(o.eid.address, o.eid.maskLen) }, r, seen), ...(probed ? { probed_locator: addressText(probed.rloc) } : {}) })];
  }
  if (!r) return [`No RLOC-probe reply from ${o.rloc}${unansweredText(seen.icmp, 'probe', o.attempts)}`];
  return [
    `RLOC-probe reply from ${r.from} with rtt ${ms3(r.rttMs)} ${clockText(r, seen.wire)}${r.reply.probe ? '' : ' (probe bit NOT set in the reply)'}; probed locator: ${probed ? addressText(probed.rloc) : 'none marked'}`,
    ...recordLines(r.reply.records),
  ];
}

// ---- mn smr, mn info --------------------------------------------------------------------------

export function smrOutput(o: { peer: string; port: number; eid: Prefix; nonce: bigint; sent: boolean }, seen: Seen, json: boolean): string[] {
  const eidText = prefixText(o.eid.address, o.eid.maskLen);
  if (json) return [activeJson({ command: 'smr', peer: o.peer, eid: eidText, nonce: o.nonce, sent: o.sent, ...icmpJson(seen.icmp) })];
  if (seen.icmp) return [`SMR to ${o.peer}: ${icmpErrorText(seen.icmp)}`];
  return [o.sent ? `SMR sent to ${o.peer}:${o.port} for ${eidText} (nonce ${nonceText(o.nonce)}): the peer re-resolves it through its Map-Resolver` : `SMR to ${o.peer} not sent`];
}

export function infoOutput(o: { ms: string; eid: Prefix; attempts: number }, r: InfoResult | undefined, seen: Seen, json: boolean): string[] {
  if (json) {
    return [
      activeJson({
        command: 'info',
        ms: o.ms,
        eid: prefixText(o.eid.address, o.eid.maskLen),
        answered: !!r,
        ...(r
          ? {
              from: r.from,
              ...timingJson(r),
              attempts: r.attempts,
              auth_ok: r.auth.ok,
              local: r.local,
              ...(r.global ? { global_etr_rloc: r.global.address, global_etr_port: r.global.port } : {}),
              ...(r.msRloc ? { ms_rloc: r.msRloc } : {}),
              rtr_rlocs: r.rtrs,
              behind_nat: r.behindNat,
            }
          : icmpJson(seen.icmp)),
      }),
    ];
  }
  if (!r) return [`No Info-Reply from ${o.ms}${unansweredText(seen.icmp, infoName(false), o.attempts)}`];
  return [
    `Info-Reply from ${r.from} with rtt ${ms3(r.rttMs)} ${clockText(r, seen.wire)}, authentication ${r.auth.ok ? 'ok' : `FAILED (${r.auth.reason})`}`,
    `  sent from        ${r.local.address}:${r.local.port}`,
    `  seen as          ${r.global ? `${r.global.address}:${r.global.port}` : 'unknown'}`,
    `  Map-Server RLOC  ${r.msRloc ?? 'unknown'}`,
    `  RTRs             ${r.rtrs.join(', ') || 'none'}`,
    `  ${r.behindNat ? 'behind a NAT: register through an RTR' : 'no NAT between us and the Map-Server'}`,
  ];
}

// ---- mn ping ----------------------------------------------------------------------------------

/** One echo of `mn ping`: its reply (RTT from the capture when it timed it), or the ICMP error seen. */
export interface EchoOutcome {
  seq: number;
  reply: EchoResult | undefined;
  /** The capture's RTT, when it timed the echo. */
  wireRttMs: number | undefined;
  icmp: IcmpError | undefined;
}

export function echoOutput(o: { dst: string; rloc: string }, e: EchoOutcome, json: boolean): string[] {
  const r = e.reply;
  const rtt = e.wireRttMs ?? r?.rttMs;
  if (json) {
    return [
      activeJson({
        command: 'ping',
        eid: o.dst,
        rloc: o.rloc,
        seq: e.seq,
        answered: !!r,
        ...(r ? { from: r.from, rtt_ms: rtt, rtt_clock: e.wireRttMs === undefined ? 'socket' : 'capture', socket_rtt_ms: r.rttMs } : icmpJson(e.icmp)),
      }),
    ];
  }
  return [r ? `echo reply from ${r.from}: seq ${e.seq} time ${ms3(rtt!)}` : `no echo reply: seq ${e.seq}${e.icmp ? `: ${icmpErrorText(e.icmp)}` : ''}`];
}

/** The summary after the echoes (text only). */
export function pingSummary(count: number, received: number, wire: { iface: string } | undefined): string {
  const clock = wire ? `capture clock on ${wire.iface}` : 'socket clock';
  return `${count} sent, ${received} received, ${count ? Math.round((100 * (count - received)) / count) : 0}% lost (times ${clock})`;
}

// ---- mn subscribe -----------------------------------------------------------------------------

export function subscribeRegisteredOutput(
  o: { ms: string; eid: string; rlocs: string[]; xtrId: Uint8Array; siteId: Uint8Array },
  reg: RegisterResult | undefined,
  failure: { text: string; causes: string[] } | undefined,
  seen: Seen,
  json: boolean,
): string[] {
  if (!reg) {
    if (json) return [activeJson({ command: 'subscribe', event: 'registered', eid: o.eid, notified: false, causes: failure?.causes ?? [], ...icmpJson(seen.icmp) })];
    return [failure?.text ?? ''];
  }
  if (json) {
    return [activeJson({ command: 'subscribe', event: 'registered', eid: o.eid, rlocs: o.rlocs, xtr_id: toHex(o.xtrId), site_id: toHex(o.siteId), nonce: reg.nonce, ...timingJson(reg) })];
  }
  return [`Registered ${o.eid} -> ${o.rlocs.join(', ')} with ${o.ms} (xTR-ID ${toHex(o.xtrId)}, site-ID ${toHex(o.siteId)}): Map-Notify with rtt ${ms3(reg.rttMs)} ${clockText(reg, seen.wire)}`];
}

export function subscribedOutput(o: { ms: string; target: string; attempts: number }, sub: SubscribeResult | undefined, seen: Seen, json: boolean): string[] {
  if (!sub) {
    if (json) return [activeJson({ command: 'subscribe', event: 'subscribed', eid: o.target, ms: o.ms, confirmed: false, ...icmpJson(seen.icmp) })];
    const why = seen.icmp
      ? icmpErrorText(seen.icmp)
      : `after ${o.attempts} Map-Requests: the Map-Server does not do Publish/Subscribe, or refused (it signs what it publishes with the key of the site our xTR-ID registered with)`;
    return [`No Map-Notify from ${o.ms} confirming the subscription to ${o.target} ${why}`];
  }
  if (json) {
    return [
      activeJson({
        command: 'subscribe',
        event: 'subscribed',
        eid: o.target,
        ms: o.ms,
        confirmed: true,
        from: sub.from,
        nonce: sub.nonce,
        attempts: sub.attempts,
        ...timingJson(sub),
        records: sub.notify.records.map((rec) => mappingRecordJson(rec)),
      }),
    ];
  }
  return [
    `Subscribed to ${o.target}: Map-Notify from ${sub.from} with rtt ${ms3(sub.rttMs)} ${clockText(sub, seen.wire)}, nonce ${nonceText(sub.nonce)} (authenticated, acknowledged)`,
    ...recordLines(sub.notify.records),
  ];
}

export function publicationOutput(p: Publication, json: boolean, now = new Date()): string[] {
  if (json) return [activeJson({ command: 'subscribe', event: 'publication', from: p.from, nonce: p.notify.nonce, acknowledged: true, records: p.notify.records.map((rec) => mappingRecordJson(rec)) })];
  return [`${now.toISOString()} Publication from ${p.from}, nonce ${nonceText(p.notify.nonce)} (authenticated, acknowledged):`, ...recordLines(p.notify.records)];
}

export function withdrawnOutput(target: string, publications: number, json: boolean): string[] {
  if (json) return [activeJson({ command: 'subscribe', event: 'withdrawn', eid: target, publications })];
  return [`Withdrew the subscription to ${target} after ${plural(publications, 'publication')}`];
}

// ---- mn run -----------------------------------------------------------------------------------

const clockName = (wire: { iface: string } | undefined) => (wire ? `the capture clock on ${wire.iface}` : 'the socket clock');

/** An event of `mn run`: `{"ts", "event", ...}` or a timestamped line. */
export function runEventOutput(e: RunEvent, json: boolean, now = new Date()): string {
  const [fields, text] = runEventParts(e);
  if (json) return activeJson({ ts: now.getTime() / 1000, event: e.event, ...fields });
  return `${now.toISOString()} ${text}`;
}

function runEventParts(e: RunEvent): [Record<string, unknown>, string] {
  switch (e.event) {
    case 'log':
      return [{ level: e.level, message: e.message }, e.text ?? e.message];
    case 'registered':
      return [
        { eid: e.eid, rlocs: e.rlocs, nonce: e.nonce, ...timingJson(e.timing) },
        `registered ${e.eid} -> ${e.rlocs.join(', ')} (Map-Notify ${nonceText(e.nonce)} in ${ms3(e.timing.rttMs)} ${clockText(e.timing, e.wire)})`,
      ];
    case 'handover':
      return [
        { from: e.from, to: e.to, smrs: e.smrs, total_ms: e.totalMs },
        `handover ${e.from.join(', ')} -> ${e.to.join(', ')}: SMRs to ${e.smrs.join(', ') || 'nobody'} (${ms3(e.totalMs)})`,
      ];
    case 'nat':
      return [{ global: e.global, port: e.port, rtrs: e.rtrs }, `behind a NAT: seen as ${e.global}:${e.port}, RTR ${e.rtrs[0]}`];
    case 'up':
      return [
        { eid: e.eid, rlocs: e.rlocs, registered: e.registered, rtt_clock: e.wire ? 'capture' : 'socket', ...(e.wire ? { capture_interface: e.wire.iface } : {}) },
        `Mobile Node ${e.node} is up${e.registered ? '' : ' (not registered yet: retrying every registerInterval)'}; RTTs by ${clockName(e.wire)}`,
      ];
    case 'moving':
      return [{ reason: e.reason, from: e.from, to: e.to }, `${e.reason}: moving from ${e.from.join(', ')} to ${e.to.join(', ')}`];
    case 'down':
      return [{}, 'Mobile Node stopped'];
  }
}
