// Per EID prefix: the timeline of RLOC sets announced (Map-Register, Map-Notify) and learned
// (Map-Reply), and the handovers — each change of the registered RLOC set — with, per peer xTR
// that was sending to the EID, when it was told (SMR), when it re-learned the mapping, when its
// data moved to the new RLOCs and how many packets it still sent to the old ones.

import { PrefixTable } from './lpm.js';
import type { FrameRef, Handover, HandoverPeer, Mapping } from './types.js';

export interface MappingOptions {
  /** Timeline entries kept per EID; more are counted, not kept. */
  maxTimeline?: number;
  /** EIDs tracked at most; beyond it new EIDs are counted, not tracked. */
  maxEids?: number;
  /** A peer counts as "sending to the EID" if it did within this long before the handover. */
  peerWindowMs?: number;
}

interface Tracking {
  handover: Handover;
  from: Set<string>;
  to: Set<string>;
  peers: Map<string, HandoverPeer>;
}

interface EidState {
  mapping: Mapping;
  registered?: string[];
  /** Last data packet time per peer (ITR RLOC) sending to this EID. */
  lastData: Map<string, number>;
  tracking?: Tracking;
}

const MAX_PEERS_PER_EID = 4096;

export class MappingTracker {
  private readonly eids = new Map<string, EidState>();
  /** The tracked EID prefixes, for data packets' inner destinations. */
  private readonly table = new PrefixTable();
  private readonly maxTimeline: number;
  private readonly maxEids: number;
  private readonly peerWindow: number;
  /** EIDs not tracked because of the cap. */
  droppedEids = 0;

  constructor(opts: MappingOptions = {}) {
    this.maxTimeline = opts.maxTimeline ?? 10_000;
    this.maxEids = opts.maxEids ?? 100_000;
    this.peerWindow = (opts.peerWindowMs ?? 60_000) / 1000;
  }

  private state(eid: string): EidState | undefined {
    let s = this.eids.get(eid);
    if (s) return s;
    if (this.eids.size >= this.maxEids) {
      this.droppedEids++;
      return undefined;
    }
    s = { mapping: { eid, timeline: [], handovers: [] }, lastData: new Map() };
    this.eids.set(eid, s);
    this.table.add(eid);
    return s;
  }

  /**
   * A Map-Register, Map-Notify or Map-Reply carried `eid` → `rlocs` (sorted); `transport` 'tcp' for
   * the Map-Server reliable transport (a Registration's Map-Register is a Map-Register all the same,
   * so it moves the registered set; a Mapping Notification is `source` 'mapping-notification').
   */
  announce(ts: number, frame: FrameRef, source: string, by: string, eid: string, rlocs: string[], transport?: 'tcp'): void {
    const s = this.state(eid);
    if (!s) return;
    const tl = s.mapping.timeline;
    if (tl.length < this.maxTimeline) tl.push(transport ? { ts, frame, source, by, rlocs, transport } : { ts, frame, source, by, rlocs });
    else s.mapping.timelineDropped = (s.mapping.timelineDropped ?? 0) + 1;
    if (source !== 'map-register') return;
    const prev = s.registered;
    s.registered = rlocs;
    if (!prev || sameSet(prev, rlocs)) return;
    const handover: Handover = { ts, frame, from: prev, to: rlocs, peers: [] };
    s.mapping.handovers.push(handover);
    const t: Tracking = { handover, from: new Set(prev), to: new Set(rlocs), peers: new Map() };
    for (const [peer, last] of s.lastData) if (ts - last <= this.peerWindow) this.peer(t, peer);
    s.tracking = t;
  }

  private peer(t: Tracking, peer: string): HandoverPeer | undefined {
    let p = t.peers.get(peer);
    if (p) return p;
    if (t.peers.size >= MAX_PEERS_PER_EID || t.to.has(peer) || t.from.has(peer)) return undefined;
    p = { peer, latencyMs: null, staleDataPackets: 0 };
    t.peers.set(peer, p);
    t.handover.peers.push(p);
    return p;
  }

  /** An SMR from `from` told peer `to` about a changed mapping (the EID if the SMR named it). */
  smr(ts: number, to: string, eids: string[]): void {
    for (const s of this.trackingFor(eids)) {
      if (ts < s.tracking!.handover.ts) continue;
      const p = this.peer(s.tracking!, to);
      if (p && p.smrTs === undefined) p.smrTs = ts;
    }
  }

  /** A Map-Reply to peer `to` taught it `eid` → `rlocs`. */
  learned(ts: number, to: string, eid: string, rlocs: string[]): void {
    const t = this.eids.get(eid)?.tracking;
    if (!t || ts < t.handover.ts || !rlocs.some((r) => t.to.has(r))) return;
    const p = this.peer(t, to);
    if (p && p.updatedTs === undefined) p.updatedTs = ts;
  }

  /** A data packet from ITR `itr` to ETR `etr` for inner destination `dst`. */
  data(ts: number, itr: string, etr: string, dst: string | undefined): void {
    if (dst === undefined) return;
    const eid = this.covering(dst);
    if (!eid) return;
    const s = this.eids.get(eid)!;
    if (s.lastData.size < MAX_PEERS_PER_EID || s.lastData.has(itr)) s.lastData.set(itr, ts);
    const t = s.tracking;
    if (!t || ts < t.handover.ts) return;
    if (t.to.has(etr)) {
      const p = this.peer(t, itr);
      if (p && p.firstDataTs === undefined) {
        p.firstDataTs = ts;
        p.latencyMs = Math.round((ts - t.handover.ts) * 1e6) / 1e3;
      }
    } else if (t.from.has(etr)) {
      const p = this.peer(t, itr);
      if (p) p.staleDataPackets++;
    }
  }

  private *trackingFor(eids: string[]): Iterable<EidState> {
    const seen = new Set<EidState>();
    for (const e of eids) {
      const key = this.eids.has(e) ? e : this.covering(e.replace(/\/\d+$/, ''));
      const s = key ? this.eids.get(key) : undefined;
      if (s?.tracking && !seen.has(s)) {
        seen.add(s);
        yield s;
      }
    }
    // An SMR that names no tracked EID (e.g. it carries the peer's own prefix) still concerns
    // every mapping whose handover is under way.
    if (seen.size === 0) for (const s of this.eids.values()) if (s.tracking) yield s;
  }

  /** The most specific tracked EID prefix covering an address. */
  private covering(addr: string): string | undefined {
    return this.table.lookup(addr);
  }

  /** Every mapping, in the order the EIDs were first seen. */
  mappings(): Mapping[] {
    return [...this.eids.values()].map((s) => s.mapping);
  }
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
