// Exchanges, mappings and statistics in the JSON contract's form (`flows --json`, `mappings --json`,
// `stats --json`). Several merged captures add `files` beside `frames` (1-based capture numbers).

import type { Stats } from '../flows/stats.js';
import type { Exchange, FrameRef, Handover, Mapping, TimelineEntry } from '../flows/types.js';

type Obj = Record<string, unknown>;

const ts = (t: number) => Math.round(t * 1e6) / 1e6;

function put(o: Obj, k: string, v: unknown): void {
  if (v !== undefined) o[k] = v;
}

export function exchangeJson(e: Exchange, multi = false): Obj {
  const o: Obj = {
    kind: e.kind,
    eid: e.eid,
    nonce: e.nonce,
    frames: e.frames.map((f) => f.frame),
  };
  if (multi) o.files = e.frames.map((f) => f.file + 1);
  o.start = ts(e.start);
  o.requester = e.requester;
  put(o, 'responder', e.responder);
  o.rtt_ms = e.rttMs;
  o.time_to_answer_ms = e.timeToAnswerMs;
  o.retransmissions = e.retransmissions;
  o.outcome = e.outcome;
  put(o, 'rlocs', e.rlocs);
  put(o, 'via', e.via);
  if (e.icmp) {
    const i: Obj = { type: e.icmp.type, code: e.icmp.code, name: e.icmp.name, from: e.icmp.from };
    put(i, 'mtu', e.icmp.mtu);
    o.icmp = i;
  }
  put(o, 'smr_invoked', e.smrInvoked);
  put(o, 'lisp_sec', e.lispSec);
  put(o, 'site', e.site);
  put(o, 'want_map_notify', e.wantMapNotify);
  put(o, 'key_id', e.keyId);
  put(o, 'withdraw', e.withdraw);
  put(o, 'subscription_nonce', e.subscriptionNonce);
  put(o, 'interval_ms', e.intervalMs);
  put(o, 'request_seen', e.requestSeen);
  put(o, 'invoked_nonce', e.invokedNonce);
  put(o, 'invoked_ms', e.invokedMs);
  put(o, 'probed_rloc', e.probedRloc);
  put(o, 'referral_action', e.referralAction);
  put(o, 'action', e.action);
  put(o, 'auth_error', e.authError);
  put(o, 'transport', e.transport);
  put(o, 'message_id', e.messageId);
  put(o, 'reject_reason', e.rejectReason);
  if (e.nat) {
    const n: Obj = {};
    put(n, 'global_etr_rloc', e.nat.globalEtrRloc);
    n.global_etr_port = e.nat.etrUdpPort;
    n.ms_udp_port = e.nat.msUdpPort;
    n.etr_udp_port = e.nat.etrUdpPort;
    put(n, 'ms_rloc', e.nat.msRloc);
    put(n, 'private_etr_rloc', e.nat.privateEtrRloc);
    n.rtr_rlocs = e.nat.rtrRlocs;
    o.nat = n;
  }
  if (e.notes) o.notes = e.notes.map((x) => ({ level: x.level, text: x.text }));
  return o;
}

function frameFields(o: Obj, f: FrameRef, multi: boolean): void {
  o.frame = f.frame;
  if (multi) o.file = f.file + 1;
}

/** One entry of a mapping's `timeline`. */
export function timelineJson(t: TimelineEntry, multi = false): Obj {
  const o: Obj = { ts: ts(t.ts) };
  frameFields(o, t.frame, multi);
  o.source = t.source;
  o.by = t.by;
  o.rlocs = t.rlocs;
  put(o, 'transport', t.transport);
  return o;
}

/** One of a mapping's `handovers`, with its peers. */
export function handoverJson(h: Handover, multi = false): Obj {
  const o: Obj = { ts: ts(h.ts), from: h.from, to: h.to };
  frameFields(o, h.frame, multi);
  o.baseline = h.baseline;
  o.peers = h.peers.map((p) => {
    const q: Obj = { peer: p.peer };
    if (p.smrTs !== undefined) q.smr_ts = ts(p.smrTs);
    if (p.updatedTs !== undefined) q.updated_ts = ts(p.updatedTs);
    if (p.firstDataTs !== undefined) q.first_data_ts = ts(p.firstDataTs);
    q.latency_ms = p.latencyMs;
    if (p.idle) q.idle = true;
    q.stale_data_packets = p.staleDataPackets;
    return q;
  });
  return o;
}

export function mappingJson(m: Mapping, multi = false): Obj {
  const timeline = m.timeline.map((t) => timelineJson(t, multi));
  const handovers = m.handovers.map((h) => handoverJson(h, multi));
  const o: Obj = { eid: m.eid, timeline, handovers };
  put(o, 'no_handover', m.noHandover);
  put(o, 'timeline_dropped', m.timelineDropped);
  return o;
}

/** A loop, not a map: it runs once, over up to 10,000 sites, mostly before V8 optimises it. */
function siteRowsJson(sites: Stats['sites']): Obj[] {
  const out: Obj[] = new Array<Obj>(sites.length);
  for (let i = 0; i < sites.length; i++) {
    const x = sites[i]!;
    out[i] = {
      site: x.site,
      xtr_ids: x.xtrIds,
      eid: x.eid,
      registrations: x.registrations,
      answered: x.answered,
      unanswered: x.unanswered,
      rejected: x.rejected,
      auth_failed: x.authFailed,
      interval_ms: x.intervalMs,
      rlocs: x.rlocs,
    };
  }
  return out;
}

export function statsJson(s: Stats): Obj {
  return {
    frames: s.frames,
    lisp_packets: s.lispPackets,
    control_packets: s.controlPackets,
    data_packets: s.dataPackets,
    malformed_frames: s.malformedFrames,
    warning_frames: s.warningFrames,
    note_frames: s.noteFrames,
    messages: s.messages,
    exchanges: s.exchanges,
    unanswered: s.unanswered,
    auth_failures: s.authFailures,
    auth_verified: s.authVerified,
    handovers: s.handovers,
    resolvers: s.resolvers.map((r) => ({
      resolver: r.resolver,
      requests: r.requests,
      answered: r.answered,
      negative: r.negative,
      unanswered: r.unanswered,
      unanswered_rate: Math.round(r.unansweredRate * 1e4) / 1e4,
      retransmissions: r.retransmissions,
      rtt_p50_ms: r.rttP50,
      rtt_p90_ms: r.rttP90,
      rtt_p99_ms: r.rttP99,
      rtt_max_ms: r.rttMax,
    })),
    sites: siteRowsJson(s.sites),
  };
}
