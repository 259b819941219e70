// Per EID prefix: the timeline of RLOC sets announced (Map-Register, Map-Notify) and learned
// (Map-Reply), and the handovers — each change of the EID's RLOC set — with, per peer xTR that was
// sending to the EID, when it was told (SMR), when it re-learned the mapping, when its data moved
// to the new RLOCs and how many packets it still sent to the old ones.
//
// The set in force comes from registrations when the capture holds any for the EID; otherwise
// from Map-Replies (a peer's vantage point sees no registration). When the capture holds neither
// before the first announcement (the previous registration came before the capture started), the
// previous set is inferred from the data plane: the RLOCs peers were encapsulating to for the EID
// in the minute before. A handover is found there when peers were sending to an RLOC the new set no
// longer has (`baseline: data-plane`).
//
// Data packets are most of a capture: they are handled on numbers (IPv4 as signed 32-bit values,
// which V8 keeps unboxed where an unsigned one from 128.0.0.0 up is a heap number made per packet)
// and formatted only where a result needs the text.

import { formatIPv4 } from '../dissect/addr.js';
import { DataSeen, type Addr } from './last-seen.js';
import { PrefixTable, ipv4Prefix, ipv4Value, maskV4, readIPv4Prefix } from './lpm.js';
import type { FrameRef, Handover, HandoverBaseline, HandoverPeer, Mapping, TimelineEntry } from './types.js';
import { texts } from './text-pool.js';

export interface MappingOptions {
  /** Timeline entries kept per EID; more are counted, not kept. */
  maxTimeline?: number;
  /** EIDs tracked at most; beyond it new EIDs are counted, not tracked. */
  maxEids?: number;
  /** A peer counts as "sending to the EID" if it did within this long before the handover. */
  peerWindowMs?: number;
  /**
   * A peer's latency is measured only when it sent data to the EID within this long before the
   * handover; otherwise it was idle, and its first packet after the handover measures its silence.
   */
  activeWindowMs?: number;
  /** A handover's peers are followed at most this long (or until every one of them moved). */
  maxTrackingMs?: number;
  /** Destinations no mapping covers yet, remembered for data-plane baselines. */
  maxHosts?: number;
  /**
   * Only what finding the handovers needs (`stats` counts them): no timeline entries and no peers
   * followed after a handover; `mappings()` is then empty and `handoverCount()` says how many.
   */
  handoversOnly?: boolean;
}

const addrKey = (text: string): Addr => {
  const v = ipv4Value(text, 0);
  return v >= 0 ? v | 0 : text;
};
const V4 = new Uint8Array(4);
const addrText = (a: Addr): string => {
  if (typeof a === 'string') return a;
  V4[0] = a >>> 24;
  V4[1] = (a >>> 16) & 255;
  V4[2] = (a >>> 8) & 255;
  V4[3] = a & 255;
  return formatIPv4(V4, 0);
};

interface Tracking {
  handover: Handover;
  from: Set<Addr>;
  to: Set<Addr>;
  peers: Map<Addr, HandoverPeer>;
  /** Peers whose data has moved to a new RLOC. */
  moved: number;
  /** Capture time after which the peers are no longer followed. */
  until: number;
}


type SetSource = Exclude<HandoverBaseline, 'data-plane'>;

/**
 * Tens of thousands of these live as long as the capture: every field is there from the start, and
 * nothing else is made per EID that most EIDs never need (see NO_HANDOVERS, NO_MAPPING).
 */
class EidState {
  readonly mapping: Mapping;
  /** Its EID's text is an IPv4 prefix as `prefixText` writes it (ipv4Prefix.canonical): the prefix table finds it by its numbers. */
  readonly canonical: boolean;
  /** The RLOC set in force, and what it was taken from. */
  rlocs: string[] | undefined = undefined;
  source: SetSource | undefined = undefined;
  /** A Map-Register for the EID was seen: Map-Replies and Map-Notifies no longer move the set. */
  registered = false;
  /** Data to the EID's locators was seen before its first announcement. */
  dataBefore = false;
  /** Made at the first data packet to the EID: most EIDs of a busy capture see none. */
  seen: DataSeen | undefined = undefined;
  tracking: Tracking | undefined = undefined;
  /** Announced since its `noHandover` line was last made (it is in MappingTracker.unexplained). */
  unexplained = false;

  /** `eid` undefined: no mapping is handed out (MappingOptions.handoversOnly). */
  constructor(eid: string | undefined, canonical: boolean) {
    this.mapping = eid === undefined ? NO_MAPPING : { eid, timeline: NO_ENTRIES, handovers: NO_HANDOVERS };
    this.canonical = canonical;
  }
}

interface Smr {
  ts: number;
  to: Addr;
  eids: string[];
}

/** The messages that set an EID's RLOCs, as `no_handover` names them: one, several. */
const WHAT_MOVES: Record<string, [string, string]> = {
  'map-register': ['one registration', 'registrations'],
  'map-notify': ['one Map-Notify', 'Map-Notifies'],
  'map-reply': ['one Map-Reply', 'Map-Replies'],
  publication: ['one publication', 'publications'],
};

const MAX_PEERS_PER_EID = 4096;
const MAX_ETRS = 64;
const MAX_HOST_PEERS = 16;
const MAX_HOST_ETRS = 8;
/** A shorter EID prefix scans the remembered destinations of its instance only up to this many. */
const MAX_HOST_SCAN = 4096;
const MAX_RECENT_SMRS = 1024;
const MAX_RELAYS = 4096;
const MAX_SETTLED = 4096;
const MAX_STRINGS = 65_536;
/** The timeline of an EID before its first entry (replaced, never added to). */
const NO_ENTRIES = Object.freeze([]) as unknown as TimelineEntry[];
/** The handovers of an EID before its first (replaced, never added to): most EIDs never move. */
const NO_HANDOVERS = Object.freeze([]) as unknown as Handover[];
/** The mapping of every EID when none is handed out: only the handovers are counted. */
const NO_MAPPING: Mapping = Object.freeze({ eid: '', timeline: NO_ENTRIES, handovers: NO_HANDOVERS });

export class MappingTracker {
  /** Every EID, in the order first seen. */
  private readonly states: EidState[] = [];
  /** Their mappings, in the same order (handed out without a copy; empty with handoversOnly). */
  private readonly list: Mapping[] = [];
  /**
   * The tracked EID prefixes, for data packets' inner destinations, each with the EID last added
   * for it. An EID whose text is canonical (EidState.canonical) is found here by its numbers, with
   * no hash of the text (a fresh string at every announcement) and no second table keyed by it.
   */
  private readonly table = new PrefixTable<EidState>();
  /** The other EIDs by text, and canonical ones whose place in `table` another text took. */
  private readonly others = new Map<string, EidState>();
  private readonly maxTimeline: number;
  private readonly maxEids: number;
  private readonly peerWindow: number;
  private readonly activeWindow: number;
  private readonly maxTracking: number;
  private readonly maxHosts: number;
  private readonly handoversOnly: boolean;
  /** EIDs whose handover's peers are being followed. */
  private readonly tracking = new Set<EidState>();
  /**
   * Peers that every handover being followed already holds an SMR for (or never will: the peer is
   * one of its RLOCs, or it has its fill of peers). Most SMRs name no EID under a handover and so
   * concern all of them: from the second such SMR to a peer on, there is nothing to go through.
   * Emptied whenever `tracking` changes.
   */
  private readonly smrSettled = new Set<Addr>();
  /** Data to destinations no tracked EID covers, by instance (-1: none) and destination. */
  private readonly hosts = new Map<number, Map<Addr, DataSeen>>();
  /** `hosts`' instance -1 (most data packets' destinations): one lookup less per packet. */
  private plainHosts: Map<Addr, DataSeen> | undefined = undefined;
  private hostCount = 0;
  /**
   * Instances where an EID prefix was added without taking over the destinations it covers (too
   * many to go through): there, a remembered destination may be covered, and the table decides.
   */
  private readonly unscanned = new Set<number>();
  /** SMRs of the last active window (from smrHead on), for handovers found after them (from a Map-Reply). */
  private recentSmrs: Smr[] = [];
  private smrHead = 0;
  /** RTRs (from Info-Replies and registrations through them): data to them is relayed, not delivered. */
  private readonly relays = new Set<Addr>();
  /** RLOC sets of timeline entries, each kept once (bounded). */
  private readonly sets = new Map<string, string[]>();
  /**
   * EIDs announced since the last mappingList(), whose `noHandover` lines it makes again: a viewer
   * asks on every refresh, and only these changed.
   */
  private readonly unexplained: EidState[] = [];
  /** `noHandover` lines, each made once. */
  private readonly whys = new Map<string, string>();
  /** EIDs not tracked because of the cap. */
  droppedEids = 0;
  /** Handovers found so far. */
  private handovers = 0;

  constructor(opts: MappingOptions = {}) {
    this.maxTimeline = opts.maxTimeline ?? 10_000;
    this.maxEids = opts.maxEids ?? 100_000;
    this.peerWindow = (opts.peerWindowMs ?? 60_000) / 1000;
    this.activeWindow = (opts.activeWindowMs ?? 10_000) / 1000;
    this.maxTracking = (opts.maxTrackingMs ?? 300_000) / 1000;
    this.maxHosts = opts.maxHosts ?? 65_536;
    this.handoversOnly = opts.handoversOnly ?? false;
  }

  /** The EID of this text, if tracked. */
  private tracked(eid: string): EidState | undefined {
    return this.find(eid, readIPv4Prefix(eid) && ipv4Prefix.canonical);
  }

  /** `tracked`, the text read already: `canonical` when ipv4Prefix holds it, read as canonical. */
  private find(eid: string, canonical: boolean): EidState | undefined {
    if (canonical) {
      const s = this.table.exactIPv4(ipv4Prefix.iid, ipv4Prefix.v4, ipv4Prefix.len);
      // Nothing there: never an EID of this prefix (the table forgets none). A canonical one there
      // is this text's; a text that is not took its place, and `others` has it.
      if (s === undefined || s.canonical) return s;
    }
    return this.others.get(eid);
  }

  private state(eid: string): EidState | undefined {
    // Each text is read once, for finding its EID and for adding a new one alike.
    const v4 = readIPv4Prefix(eid);
    const { iid, v4: addr, len } = ipv4Prefix;
    const canonical = v4 && ipv4Prefix.canonical;
    let s = this.find(eid, canonical);
    if (s) return s;
    if (this.states.length >= this.maxEids) {
      this.droppedEids++;
      return undefined;
    }
    s = new EidState(this.handoversOnly ? undefined : eid, canonical);
    this.states.push(s);
    if (!this.handoversOnly) this.list.push(s.mapping);
    if (!canonical) this.others.set(eid, s);
    if (!v4) {
      this.table.add(eid, s);
      this.adoptHosts(eid, s);
      return s;
    }
    const replaced = this.table.addIPv4(iid, addr, len, s);
    // A canonical EID no longer in the table under its numbers: by its text from now on (written
    // from its numbers, the network's: canonical, it is the one text that reads as them).
    if (replaced?.canonical) this.others.set((iid >= 0 ? `[${iid}]` : '') + addrText(maskV4(addr, len)) + '/' + len, replaced);
    if (canonical) this.adoptHostsIPv4(iid, addr, len, s);
    else this.adoptHosts(eid, s);
    return s;
  }

  /**
   * A Map-Register, Map-Notify or Map-Reply carried `eid` → `rlocs` (sorted); `transport` 'tcp' for
   * the Map-Server reliable transport (a Registration's Map-Register is a Map-Register all the same;
   * a Mapping Notification is `source` 'mapping-notification').
   */
  announce(ts: number, frame: FrameRef, source: string, by: string, eid: string, rlocs: string[], transport?: 'tcp'): void {
    const s = this.state(eid);
    if (!s) return;
    // Everything the line depends on is changed here only.
    if (!s.unexplained && !this.handoversOnly) {
      s.unexplained = true;
      this.unexplained.push(s);
    }
    if (!this.handoversOnly) rlocs = this.addEntry(s, ts, frame, source, by, rlocs, transport);
    const registration = source === 'map-register';
    if (registration) s.registered = true;
    if (rlocs.length === 0) return;
    if (!registration && (s.registered || (source === 'map-reply' && s.source === 'registration'))) return;
    const prev = s.rlocs;
    const prevSource = s.source;
    s.source = source === 'map-reply' ? 'map-reply' : source === 'publication' ? 'publication' : 'registration';
    // The same set again: the array held already is kept, the new one left to die young.
    if (prev && sameSet(prev, rlocs)) return;
    // Kept for the rest of the capture: with a timeline, the entry's array (one per set, of shared
    // texts, addEntry); without one (handoversOnly), the announced array as it is. Interning that
    // too (a key joined from the RLOCs, looked up among some 16,000 sets at each of the bench
    // capture's 44,000 set changes) cost `stats --json` about 1% of its CPU, to keep about 1 MB less.
    s.rlocs = rlocs;
    if (prev) {
      this.handover(s, ts, frame, prev, rlocs, prevSource!);
      return;
    }
    // No earlier set in the capture: what were peers encapsulating to? Not to a router that also
    // encapsulates data for the EID itself (an RTR or re-encapsulating tunnel router relays it: it
    // is on the path, not the EID's locator).
    const seen = s.seen;
    const used = seen
      ? [...seen.etrs()].filter(([etr, last]) => ts - last <= this.peerWindow && !seen.hasPeer(etr) && !this.relays.has(etr)).map(([etr]) => addrText(etr))
      : [];
    s.dataBefore = used.length > 0;
    if (used.some((r) => !rlocs.includes(r))) this.handover(s, ts, frame, used.sort(), rlocs, 'data-plane');
  }

  /** Adds a timeline entry; returns `rlocs` as the entry holds it. */
  private addEntry(s: EidState, ts: number, frame: FrameRef, source: string, by: string, rlocs: string[], transport?: 'tcp'): string[] {
    const m = s.mapping;
    const tl = m.timeline;
    // Most announcements repeat a set already held (the EID's, the previous message's, another
    // EID's): the timeline keeps one array per set, and one copy of each address text.
    const last = tl.length > 0 ? tl[tl.length - 1]!.rlocs : s.rlocs;
    rlocs = last && sameSet(last, rlocs) ? last : this.internSet(rlocs);
    // Addresses repeat across thousands of entries: one copy each, the exchanges' too.
    by = texts.get(by);
    if (tl.length < this.maxTimeline) {
      const entry: TimelineEntry = transport ? { ts, frame, source, by, rlocs, transport } : { ts, frame, source, by, rlocs };
      // An EID has one or two entries most of the time: no room kept for more until they come.
      if (tl === NO_ENTRIES) m.timeline = [entry];
      else if (tl.length === 1) m.timeline = [tl[0]!, entry];
      else tl.push(entry);
    } else m.timelineDropped = (m.timelineDropped ?? 0) + 1;
    return rlocs;
  }

  private handover(s: EidState, ts: number, frame: FrameRef, from: string[], to: string[], baseline: HandoverBaseline): void {
    this.handovers++;
    if (this.handoversOnly) return;
    const handover: Handover = { ts, frame, from, to, baseline, peers: [] };
    const m = s.mapping;
    if (m.handovers === NO_HANDOVERS) m.handovers = [handover];
    else m.handovers.push(handover);
    // A viewer that asked before (mappingList, while the capture goes on) was told why there was none.
    if (m.noHandover !== undefined) delete m.noHandover;
    const t: Tracking = { handover, from: new Set(from.map(addrKey)), to: new Set(to.map(addrKey)), peers: new Map(), moved: 0, until: ts + this.maxTracking };
    if (s.tracking) this.tracking.delete(s);
    s.tracking = t;
    this.tracking.add(s);
    this.smrSettled.clear();
    for (const [peer, last] of s.seen?.peers() ?? []) {
      if (ts - last > this.peerWindow) continue;
      const p = this.peer(t, peer);
      if (p && ts - last > this.activeWindow) p.idle = true;
    }
    // A handover found late (at the Map-Reply that taught the new set, with the data plane as its
    // baseline) comes after the SMRs that announced it; one found at the registration comes first.
    if (baseline === 'registration') return;
    const since = s.mapping.handovers.length > 1 ? s.mapping.handovers[s.mapping.handovers.length - 2]!.ts : -Infinity;
    for (let i = this.smrHead; i < this.recentSmrs.length; i++) {
      const x = this.recentSmrs[i]!;
      if (ts - x.ts > this.activeWindow || x.ts <= since || !x.eids.some((e) => this.concerns(s, e))) continue;
      const p = this.peer(t, x.to);
      if (p && p.smrTs === undefined) p.smrTs = x.ts;
    }
  }

  private peer(t: Tracking, peer: Addr): HandoverPeer | undefined {
    let p = t.peers.get(peer);
    if (p) return p;
    if (t.peers.size >= MAX_PEERS_PER_EID || t.to.has(peer) || t.from.has(peer)) return undefined;
    p = { peer: addrText(peer), latencyMs: null, staleDataPackets: 0 };
    t.peers.set(peer, p);
    t.handover.peers.push(p);
    return p;
  }

  /** `rtr` relays data for NATed xTRs (an Info-Reply named it, or a registration went through it). */
  relay(rtr: string): void {
    if (this.relays.size < MAX_RELAYS) this.relays.add(addrKey(rtr));
  }

  /** An SMR told peer `to` about a changed mapping (the EIDs the SMR named). */
  smr(ts: number, to: string, eids: string[]): void {
    if (this.handoversOnly) return;
    const key = addrKey(to);
    const recent = this.recentSmrs;
    recent.push({ ts, to: key, eids });
    while (this.smrHead < recent.length && (recent.length - this.smrHead > MAX_RECENT_SMRS || ts - recent[this.smrHead]!.ts > this.activeWindow)) this.smrHead++;
    if (this.smrHead > 4096 && this.smrHead * 2 > recent.length) {
      this.recentSmrs = recent.slice(this.smrHead);
      this.smrHead = 0;
    }
    const concerned = this.trackingFor(eids);
    const all = concerned === this.tracking;
    if (all && this.smrSettled.has(key)) return;
    let settled = true;
    for (const s of concerned) {
      if (ts < s.tracking!.handover.ts) {
        settled = false;
        continue;
      }
      const p = this.peer(s.tracking!, key);
      if (p && p.smrTs === undefined) p.smrTs = ts;
    }
    if (all && settled && this.smrSettled.size < MAX_SETTLED) this.smrSettled.add(key);
  }

  /** A Map-Reply to peer `to` taught it `eid` → `rlocs`. */
  learned(ts: number, to: string, eid: string, rlocs: string[]): void {
    if (this.handoversOnly) return;
    const t = this.tracked(eid)?.tracking;
    if (!t || ts < t.handover.ts || !rlocs.some((r) => t.to.has(addrKey(r)))) return;
    const p = this.peer(t, addrKey(to));
    if (p && p.updatedTs === undefined) p.updatedTs = ts;
  }

  /** A data packet from ITR `itr` to ETR `etr` for inner destination `dst` (`[iid]addr` with an Instance ID). */
  data(ts: number, itr: string, etr: string, dst: string | undefined): void {
    if (dst === undefined) return;
    const s = this.table.lookup(dst);
    if (s !== undefined) {
      this.sent(s, ts, addrKey(itr), addrKey(etr));
      return;
    }
    let iid = -1;
    let host = dst;
    if (dst.charCodeAt(0) === 91) {
      const end = dst.indexOf(']');
      iid = Number(dst.slice(1, end));
      host = dst.slice(end + 1);
    }
    this.remember(ts, addrKey(itr), addrKey(etr), iid, addrKey(host));
  }

  /**
   * `data` for an IPv4 packet in IPv4, on numbers (the plain-data fast path); `iid` -1 for none.
   * Every argument is a small integer (addresses as signed 32-bit values, the time as the capture's
   * seconds and nanoseconds): this is not inlined into its caller, and a double or an unsigned
   * address from 128.0.0.0 up would be a heap number made per packet (38 MB a run of the bench
   * capture, about three scavenges).
   */
  dataV4(tsSec: number, tsNsec: number, itr: number, etr: number, iid: number, dst: number): void {
    const ts = tsSec + tsNsec / 1e9;
    // Most data goes to destinations already remembered as covered by no EID (one that covers
    // them takes them over, adoptHosts): found there, the large prefix table is not touched.
    const seen = (iid === -1 ? this.plainHosts : this.hosts.get(iid))?.get(dst);
    if (seen !== undefined && (this.unscanned.size === 0 || !this.unscanned.has(iid))) {
      seen.note(ts, itr, etr, MAX_HOST_PEERS, MAX_HOST_ETRS);
      return;
    }
    const s = this.table.lookupIPv4(dst, iid);
    if (s !== undefined) this.sent(s, ts, itr, etr);
    else this.remember(ts, itr, etr, iid, dst);
  }

  private sent(s: EidState, ts: number, itr: Addr, etr: Addr): void {
    // Without peers to follow, data matters only until the EID's first set (the data-plane baseline).
    if (this.handoversOnly && s.rlocs) return;
    (s.seen ??= new DataSeen()).note(ts, itr, etr, MAX_PEERS_PER_EID, MAX_ETRS);
    const t = s.tracking;
    if (!t || ts < t.handover.ts) return;
    if (ts > t.until) {
      this.stopTracking(s);
      return;
    }
    if (t.to.has(etr)) {
      const p = this.peer(t, itr);
      if (p && p.firstDataTs === undefined) {
        p.firstDataTs = ts;
        if (!p.idle) p.latencyMs = Math.round((ts - t.handover.ts) * 1e6) / 1e3;
        // Every peer has moved: nothing more to learn about this handover.
        if (++t.moved === t.peers.size && ts - t.handover.ts > this.activeWindow) this.stopTracking(s);
      }
    } else if (t.from.has(etr)) {
      const p = this.peer(t, itr);
      if (p) p.staleDataPackets++;
    }
  }

  private stopTracking(s: EidState): void {
    s.tracking = undefined;
    this.tracking.delete(s);
    this.smrSettled.clear();
  }

  /** Data to a destination no tracked EID covers: kept (bounded) for a later data-plane baseline. */
  private remember(ts: number, itr: Addr, etr: Addr, iid: number, dst: Addr): void {
    let inst = this.hosts.get(iid);
    if (!inst) {
      inst = new Map();
      this.hosts.set(iid, inst);
      if (iid === -1) this.plainHosts = inst;
    }
    let seen = inst.get(dst);
    if (!seen) {
      if (this.hostCount >= this.maxHosts) this.forgetOldestHost();
      seen = new DataSeen();
      inst.set(dst, seen);
      this.hostCount++;
    }
    seen.note(ts, itr, etr, MAX_HOST_PEERS, MAX_HOST_ETRS);
  }

  private forgetOldestHost(): void {
    for (const inst of this.hosts.values()) {
      const first = inst.keys().next();
      if (first.done) continue;
      inst.delete(first.value);
      this.hostCount--;
      return;
    }
  }

  /** `adoptHosts` for a canonical IPv4 EID prefix, on its numbers (ipv4Prefix's). */
  private adoptHostsIPv4(iid: number, v4: number, len: number, s: EidState): void {
    if (this.hostCount === 0) return;
    const inst = this.hosts.get(iid);
    if (!inst) return;
    if (len === 32) {
      const seen = inst.get(v4);
      if (seen) this.take(s, inst, v4, seen);
      return;
    }
    if (inst.size > MAX_HOST_SCAN) {
      this.unscanned.add(iid);
      return;
    }
    const net = maskV4(v4, len);
    for (const [k, seen] of inst) if (typeof k === 'number' && maskV4(k, len) === net) this.take(s, inst, k, seen);
  }

  /** `s` takes over what was seen of destination `k` (of instance `inst`). */
  private take(s: EidState, inst: Map<Addr, DataSeen>, k: Addr, seen: DataSeen): void {
    // The first destination's lists become the EID's as they are (its caps are the smaller).
    if (s.seen === undefined) s.seen = seen;
    else s.seen.takeLatest(seen, MAX_PEERS_PER_EID, MAX_ETRS);
    inst.delete(k);
    this.hostCount--;
  }

  /** A new EID takes over what was seen of the destinations it covers. */
  private adoptHosts(eid: string, s: EidState): void {
    if (this.hostCount === 0) return;
    let iid = -1;
    let rest = eid;
    if (eid.charCodeAt(0) === 91) {
      const end = eid.indexOf(']');
      iid = Number(eid.slice(1, end));
      rest = eid.slice(end + 1);
    }
    const inst = this.hosts.get(iid);
    if (!inst) return;
    const slash = rest.lastIndexOf('/');
    const addr = rest.slice(0, slash);
    const len = Number(rest.slice(slash + 1));
    const key = addrKey(addr);
    const full = typeof key === 'number' ? 32 : 128;
    const take = (k: Addr, seen: DataSeen) => this.take(s, inst, k, seen);
    if (len === full) {
      const seen = inst.get(key);
      if (seen) take(key, seen);
      return;
    }
    if (inst.size > MAX_HOST_SCAN) {
      this.unscanned.add(iid);
      return;
    }
    const table = new PrefixTable();
    table.add(eid);
    for (const [k, seen] of inst) {
      const text = (iid >= 0 ? `[${iid}]` : '') + addrText(k);
      if (table.lookup(text) !== undefined) take(k, seen);
    }
  }

  /** The mappings under a handover that EIDs an SMR named concern (see `concerns`). */
  private trackingFor(eids: string[]): Iterable<EidState> {
    if (this.tracking.size === 0) return [];
    let found: EidState[] | undefined;
    for (const e of eids) {
      const s = this.tracked(e) ?? this.table.lookup(withoutLength(e));
      if (s?.tracking && !found?.includes(s)) (found ??= []).push(s);
    }
    // An SMR that names no tracked EID (e.g. it carries the peer's own prefix) still concerns
    // every mapping whose handover is under way.
    return found ?? this.tracking;
  }

  /** Does an EID an SMR named concern this mapping (the same prefix, or an address within it). */
  private concerns(s: EidState, named: string): boolean {
    return named === s.mapping.eid || this.table.lookup(withoutLength(named)) === s;
  }

  /**
   * While a capture runs: stops following the handovers whose time is up at `now` (capture time),
   * and gives each mapping with how many of its handovers are final (no longer followed: their
   * peers will not change). Timeline entries are final when they are added.
   */
  *progress(now: number): Iterable<[Mapping, number]> {
    // With handoversOnly no mapping is handed out (as from mappingList), and none is followed.
    if (this.handoversOnly) return;
    for (const s of this.tracking) if (now > s.tracking!.until) this.stopTracking(s);
    for (const s of this.states) yield [s.mapping, s.mapping.handovers.length - (s.tracking ? 1 : 0)];
  }

  /** How many handovers were found. */
  handoverCount(): number {
    return this.handovers;
  }

  /** Every mapping, in the order the EIDs were first seen; for one without a handover, why. */
  mappings(): Mapping[] {
    return [...this.mappingList()];
  }

  /** `mappings()` without a copy: the tracker goes on adding to it (and to the mappings in it). */
  mappingList(): readonly Mapping[] {
    if (this.handoversOnly) return [];
    for (const s of this.unexplained) {
      s.unexplained = false;
      if (s.mapping.handovers.length === 0) s.mapping.noHandover = this.why(s);
    }
    this.unexplained.length = 0;
    return this.list;
  }

  private why(s: EidState): string {
    if (!s.source) return 'only negative or empty answers: no RLOC set to follow';
    // What moves the set: registrations when there are any, else Map-Replies.
    const source = s.registered ? 'map-register' : s.source === 'registration' ? 'map-notify' : s.source;
    let moving = 0;
    for (const t of s.mapping.timeline) if (t.source === source && t.rlocs.length > 0) moving++;
    // Tens of thousands of EIDs share a few of these lines: each is made once.
    const key = moving > 1 ? `${source} ${moving}` : `${source} ${s.dataBefore ? 1 : 0}`;
    let why = this.whys.get(key);
    if (why === undefined) {
      const [one, many] = WHAT_MOVES[source]!;
      if (moving > 1) why = `the RLOC set did not change over ${moving} ${many}`;
      else
        why = !s.dataBefore
          ? `${one} and nothing earlier to compare it with (no earlier registration, Map-Reply or data to the EID): a move before it cannot be seen from here`
          : `${one}, and the data before it already went to its RLOCs`;
      this.whys.set(key, why);
    }
    return why;
  }

  /** An array equal to `rlocs` (sorted), shared by every entry with that set (bounded; never changed). */
  private internSet(rlocs: string[]): string[] {
    const key = rlocs.length === 1 ? rlocs[0]! : rlocs.join('\n');
    const held = this.sets.get(key);
    if (held !== undefined) return held;
    const set = rlocs.map((r) => texts.get(r));
    if (this.sets.size < MAX_STRINGS) this.sets.set(key, set);
    return set;
  }
}

/** `10.1.0.0/16` → `10.1.0.0`: the address of a prefix's text (an address's text as it is). */
function withoutLength(prefix: string): string {
  const slash = prefix.lastIndexOf('/');
  if (slash < 0 || slash === prefix.length - 1) return prefix;
  for (let i = slash + 1; i < prefix.length; i++) {
    const c = prefix.charCodeAt(i);
    if (c < 48 || c > 57) return prefix;
  }
  return prefix.slice(0, slash);
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
