// Counters over a capture: messages per type, registrations per site and EID, resolution RTT
// percentiles and unanswered rates per Map-Resolver, authentication failures, malformed frames.
// Memory is bounded: RTTs are kept as a fixed-size reservoir per resolver.

import type { LispPacket } from '../capture/packets.js';
import type { ExchangeSummary } from './types.js';

const RESERVOIR = 4096;

/** A site's locators before any registration named some (shared, never changed). */
const NO_RLOCS: string[] = [];

const LEVEL_BIT = { error: 4, warning: 2, note: 1 } as const;

class Reservoir {
  readonly samples: number[] = [];
  private seen = 0;
  private state = 0x9e3779b9;

  add(v: number): void {
    this.seen++;
    if (this.samples.length < RESERVOIR) {
      this.samples.push(v);
      return;
    }
    // Deterministic xorshift, so the same capture always reports the same percentiles.
    this.state ^= this.state << 13;
    this.state ^= this.state >>> 17;
    this.state ^= this.state << 5;
    const j = (this.state >>> 0) % this.seen;
    if (j < RESERVOIR) this.samples[j] = v;
  }

  percentile(p: number): number | null {
    if (this.samples.length === 0) return null;
    const s = [...this.samples].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
  }
}

export interface ResolverStats {
  resolver: string;
  requests: number;
  answered: number;
  negative: number;
  unanswered: number;
  unansweredRate: number;
  retransmissions: number;
  rttP50: number | null;
  rttP90: number | null;
  rttP99: number | null;
  rttMax: number | null;
}

export interface SiteStats {
  /** The site's xTR-ID (the latest, when it changed), or its source RLOC without one. */
  site: string;
  /** Every xTR-ID (or source) seen for it, oldest first: a Mobile Node restarted with a new one. */
  xtrIds: string[];
  eid: string;
  registrations: number;
  answered: number;
  unanswered: number;
  /** Refused by the Map-Server (Registration Reject, reliable transport). */
  rejected: number;
  authFailed: number;
  /** Median time between registrations. */
  intervalMs: number | null;
  rlocs: string[];
}

export interface Stats {
  frames: number;
  lispPackets: number;
  controlPackets: number;
  dataPackets: number;
  /** Frames with an error note (bytes that are not what they claim). */
  malformedFrames: number;
  /** Frames with a warning note (decodes, but deviates from the RFCs). */
  warningFrames: number;
  /** Frames with a note-level note (worth knowing, normal). */
  noteFrames: number;
  messages: Record<string, number>;
  exchanges: Record<string, Record<string, number>>;
  authFailures: number;
  /** Messages whose authentication verified with the key given. */
  authVerified: number;
  unanswered: number;
  handovers: number;
  resolvers: ResolverStats[];
  sites: SiteStats[];
}

/**
 * What went wrong in a capture, by the names `--fail-on` takes: every exchange outcome seen, and
 * unanswered, auth-failed and malformed when the counters say so.
 */
export function failuresIn(st: Stats): Set<string> {
  const found = new Set(Object.values(st.exchanges).flatMap((outcomes) => Object.keys(outcomes)));
  if (st.unanswered > 0) found.add('unanswered');
  if (st.authFailures > 0) found.add('auth-failed');
  if (st.malformedFrames > 0) found.add('malformed');
  return found;
}

/**
 * A site and EID's counters, one object: with its counters in an object of their own, and filed
 * under a text made of the site and the EID, each of the thousands of rows a busy capture makes was
 * four objects more for the collector to copy into the old generation.
 */
interface SiteRow extends Omit<SiteStats, 'intervalMs' | 'xtrIds'> {
  /** Made at the first interval: most sites of a busy capture register once. */
  intervals: Reservoir | undefined;
  keyId: number | undefined;
  /** Start of its first and last registration. */
  first: number;
  last: number;
}

/** Rows of one site whose xTR-ID changed (siteList), and the start of its latest registration. */
interface SiteGroup {
  rows: SiteRow[];
  last: number;
}

export class StatsCollector {
  frames = 0;
  lispPackets = 0;
  controlPackets = 0;
  dataPackets = 0;
  malformedFrames = 0;
  warningFrames = 0;
  noteFrames = 0;
  authFailures = 0;
  authVerified = 0;
  unanswered = 0;
  private readonly messages = new Map<string, number>();
  private dataMessages = 0;
  private readonly exchanges = new Map<string, Map<string, number>>();
  private readonly resolvers = new Map<string, { s: Omit<ResolverStats, 'rttP50' | 'rttP90' | 'rttP99' | 'rttMax' | 'unansweredRate'>; rtt: Reservoir }>();
  /** The rows by site, then by EID; and in the order they were made (siteList's). */
  private readonly sites = new Map<string, Map<string, SiteRow>>();
  private readonly siteRows: SiteRow[] = [];
  private static readonly MAX_KEYS = 10_000;

  /** Counts a packet once for each note level it has. */
  notes(p: Pick<LispPacket, 'notes' | 'frameNotes'>): void {
    let levels = 0;
    for (const n of p.frameNotes) levels |= LEVEL_BIT[n.level];
    for (const n of p.notes) levels |= LEVEL_BIT[n.level];
    if (levels & 4) this.malformedFrames++;
    if (levels & 2) this.warningFrames++;
    if (levels & 1) this.noteFrames++;
  }

  message(type: string): void {
    // Data is most of a capture: counted apart from the map.
    if (type === 'data') this.dataMessages++;
    else this.messages.set(type, (this.messages.get(type) ?? 0) + 1);
  }

  exchange(e: ExchangeSummary): void {
    let k = this.exchanges.get(e.kind);
    if (!k) this.exchanges.set(e.kind, (k = new Map<string, number>()));
    k.set(e.outcome, (k.get(e.outcome) ?? 0) + 1);
    if (e.outcome === 'unanswered') this.unanswered++;
    // Only requests sent to a Map-Resolver (in an ECM) measure one; a Map-Request sent straight to
    // an xTR does not make it a Map-Resolver.
    if (e.kind === 'resolution' && e.outcome !== 'reply-only' && e.via !== undefined) {
      const key = e.via;
      let r = this.resolvers.get(key);
      if (!r && this.resolvers.size < StatsCollector.MAX_KEYS) {
        r = { s: { resolver: key, requests: 0, answered: 0, negative: 0, unanswered: 0, retransmissions: 0 }, rtt: new Reservoir() };
        this.resolvers.set(key, r);
      }
      if (r) {
        r.s.requests++;
        r.s.retransmissions += e.retransmissions;
        if (e.outcome === 'answered') r.s.answered++;
        else if (e.outcome === 'negative') r.s.negative++;
        else if (e.outcome === 'unanswered') r.s.unanswered++;
        if (e.rttMs !== null) r.rtt.add(e.rttMs);
      }
    }
    if (e.kind === 'registration' && e.site !== undefined && e.wantMapNotify !== undefined) {
      let bySite = this.sites.get(e.site);
      let s = bySite?.get(e.eid);
      if (!s && this.siteRows.length < StatsCollector.MAX_KEYS) {
        s = {
          site: e.site,
          eid: e.eid,
          registrations: 0,
          answered: 0,
          unanswered: 0,
          rejected: 0,
          authFailed: 0,
          rlocs: NO_RLOCS,
          intervals: undefined,
          keyId: e.keyId,
          first: e.start,
          last: e.start,
        };
        if (!bySite) this.sites.set(e.site, (bySite = new Map()));
        bySite.set(e.eid, s);
        this.siteRows.push(s);
      }
      if (s) {
        s.registrations++;
        s.last = e.start;
        if (e.outcome === 'answered') s.answered++;
        else if (e.outcome === 'unanswered') s.unanswered++;
        else if (e.outcome === 'rejected') s.rejected++;
        else if (e.outcome === 'auth-failed') s.authFailed++;
        if (e.intervalMs !== undefined) (s.intervals ??= new Reservoir()).add(e.intervalMs);
        if (e.rlocs) s.rlocs = e.rlocs;
      }
    }
  }

  /**
   * The sites: one per xTR-ID (or source RLOC), except that xTR-IDs registering the same EID with
   * the same key one after the other (never at the same time) are one site whose xTR-ID changed, as
   * a Mobile Node that makes a new one at each start.
   */
  private siteList(): SiteStats[] {
    // Plain loops: this runs once, at the end, over up to MAX_KEYS rows, mostly before V8 optimises
    // it; with array spreads and destructuring per row it took some 50 ms of `stats`.
    const rows = this.siteRows.slice().sort((a, b) => a.first - b.first);
    const groups: SiteGroup[] = [];
    const latest = new Map<string, SiteGroup>();
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const k = `${r.eid} ${r.keyId ?? ''}`;
      const g = latest.get(k);
      if (g && g.last < r.first) {
        g.rows.push(r);
        g.last = r.last;
        continue;
      }
      const fresh = { rows: [r], last: r.last };
      latest.set(k, fresh);
      groups.push(fresh);
    }
    const out: SiteStats[] = new Array<SiteStats>(groups.length);
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!.rows;
      const f = g[0]!;
      let site = f.site;
      let registrations = f.registrations;
      let answered = f.answered;
      let unanswered = f.unanswered;
      let rejected = f.rejected;
      let authFailed = f.authFailed;
      let rlocs = f.rlocs;
      const xtrIds = [f.site];
      const intervals = f.intervals ? f.intervals.samples.slice() : [];
      for (let j = 1; j < g.length; j++) {
        const r = g[j]!;
        site = r.site;
        xtrIds.push(r.site);
        registrations += r.registrations;
        answered += r.answered;
        unanswered += r.unanswered;
        rejected += r.rejected;
        authFailed += r.authFailed;
        if (r.rlocs.length) rlocs = r.rlocs;
        if (r.intervals) for (const x of r.intervals.samples) intervals.push(x);
      }
      intervals.sort((a, b) => a - b);
      const intervalMs = intervals.length ? intervals[Math.floor(intervals.length / 2)]! : null;
      // The fields in the order SiteStats had them when they were copied from the row's own object.
      out[i] = { site, eid: f.eid, registrations, answered, unanswered, rejected, authFailed, rlocs, xtrIds, intervalMs };
    }
    return out.sort((a, b) => (a.site < b.site ? -1 : a.site > b.site ? 1 : a.eid < b.eid ? -1 : a.eid > b.eid ? 1 : 0));
  }

  result(handovers: number): Stats {
    const byName = <V>(m: Map<string, V>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return {
      frames: this.frames,
      lispPackets: this.lispPackets,
      controlPackets: this.controlPackets,
      dataPackets: this.dataPackets,
      malformedFrames: this.malformedFrames,
      warningFrames: this.warningFrames,
      noteFrames: this.noteFrames,
      messages: Object.fromEntries(byName(this.dataMessages > 0 ? new Map([...this.messages, ['data', this.dataMessages]]) : this.messages)),
      exchanges: Object.fromEntries(byName(this.exchanges).map(([k, v]) => [k, Object.fromEntries(byName(v))])),
      authFailures: this.authFailures,
      authVerified: this.authVerified,
      unanswered: this.unanswered,
      handovers,
      resolvers: byName(this.resolvers).map(([, r]) => ({
        ...r.s,
        unansweredRate: r.s.requests ? r.s.unanswered / r.s.requests : 0,
        rttP50: r.rtt.percentile(50),
        rttP90: r.rtt.percentile(90),
        rttP99: r.rtt.percentile(99),
        rttMax: r.rtt.percentile(100),
      })),
      sites: this.siteList(),
    };
  }
}
