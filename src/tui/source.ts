// The one interface the terminal UI reads from, whatever feeds it: capture files (several merged by
// time, like `flows`), a live interface (src/capture/live.ts) or the embedded lab (src/mn/lab.ts).
// A source runs the same flow engine the CLI uses, in the background, and hands out
//  - packets by sequence number (random access, decoded on demand from the bytes it keeps or can
//    read back: the UI never holds more than the rows it shows),
//  - sessions (the engine's exchanges, in start order, once every earlier one closed) and the
//    pending ones (started, not listed yet: a request waiting for its answer),
//  - mappings, counters for the stats bar and a one-line status,
// and tells its subscribers what changed. No component decodes or matches anything itself.

import type { LispPacket } from '../capture/packets.js';
import type { Frame } from '../capture/types.js';
import type { FlowEngine } from '../flows/engine.js';
import type { PendingExchange } from '../flows/exchanges.js';
import type { Exchange, FrameRef, Mapping } from '../flows/types.js';
import { controlView, type ControlView } from '../flows/view.js';
import type { Lab } from '../mn/lab.js';
import type { Recorder } from '../mn/recorder.js';
import { learnRoles, withMobileNodes, type Roles } from './roles.js';

export type SourceKind = 'file' | 'live' | 'lab';

/**
 * An exchange as the UI lists it: `seq` is its place in start order (the engine's startIndex),
 * never reused. Sessions are listed in that order, so a pending one has the seq its closed version
 * will have: it is replaced in place.
 */
export interface Session {
  seq: number;
  exchange: Exchange;
  /** Not closed yet: its outcome may still change (an unanswered one is still waiting). */
  open?: boolean;
}

/**
 * The sessions after the listed ones, numbered [from, from + count) as of when taken: open
 * exchanges, and closed ones held behind them. A busy capture has tens of thousands at a time, so
 * a view reads only the rows it shows (`at`, each as it is now: listed meanwhile, or still
 * pending); one that filters or sorts them takes them whole (`list`, a snapshot).
 */
export interface PendingRows {
  from: number;
  count: number;
  at(seq: number): Session | undefined;
  list(): readonly Session[];
}

/** What the packet index knows about a packet without decoding it. */
export interface PacketRef {
  seq: number;
  ref: FrameRef;
  ts: number;
}

/** A packet decoded on demand, with its frame bytes (the detail tree's ranges point into them). */
export interface PacketView {
  seq: number;
  ref: FrameRef;
  packet: LispPacket;
  bytes: Uint8Array;
  /** The lab component that sent it. */
  sender?: string;
}

/** What the stats bar shows. */
export interface Counters {
  /** Frames seen by the analysis (every frame, LISP or not). */
  frames: number;
  lisp: number;
  /** Frames the capture could not keep up with (live: lispscope's queue; kernel drops are not known). */
  drops: number;
  unanswered: number;
  authFailures: number;
  malformed: number;
  sessions: number;
  handovers: number;
  /** The same packet in two merged captures, counted once. */
  duplicates: number;
  /** Packets and sessions no longer kept in memory (live and lab keep the newest). */
  evictedPackets: number;
  evictedSessions: number;
}

export type SourceState = 'starting' | 'loading' | 'live' | 'done' | 'error' | 'stopped';

export interface SourceStatus {
  state: SourceState;
  /** One line: what the source is doing ("indexing 45%", "lab: handover ok", an error). */
  text: string;
  /** 0..1 while a file is read. */
  progress?: number;
  /** The latest warnings (damaged files, unreassembled fragments), newest last. */
  warnings: string[];
}

export type SourceEvent = 'packets' | 'sessions' | 'mappings' | 'status';

export interface DataSource {
  readonly kind: SourceKind;
  /** File names, interface, or lab scenario. */
  readonly title: string;
  /** Several captures merged: frame references carry a file number. */
  readonly multiFile: boolean;
  /** The lab, when this source runs one (handover action). */
  readonly lab?: Lab;
  /** Where the UI's own sends are recorded so that they show up as packets (the lab's recorder). */
  readonly recorder?: Recorder;
  /** The local addresses the lab's components use (actions default to them). */
  readonly localTargets?: { mapResolver?: string };

  /**
   * Starts the background work. Rejects (with a one-line message) when the input cannot be used at
   * all: a missing file, not a capture, an interface that cannot be opened.
   */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Calls `fn` (coalesced, from the event loop) with what changed; returns the unsubscribe. */
  subscribe(fn: (changed: ReadonlySet<SourceEvent>) => void): () => void;

  /** Sequence numbers of the packets available: [first, end). */
  packetRange(): { first: number; end: number };
  packetRef(seq: number): PacketRef | undefined;
  /** The sequence number of a frame an exchange names, when it is (still) indexed. */
  seqOf(ref: FrameRef): number | undefined;
  /** Decodes a packet on demand (cached for the rows on screen). */
  packet(seq: number): PacketView | undefined;
  /** The same packet for a scan over many (the packet filter): not kept in that cache. */
  scanPacket(seq: number): PacketView | undefined;
  /**
   * The packet's frame as captured, for a scan that reads plain data packets in place (their
   * decoding depends on no other frame); its bytes may be valid only until the next call.
   */
  scanFrame?(seq: number): Frame | undefined;
  /**
   * Whether plain data packets decode as they read in place (capture/plain-data.ts): not while
   * decode-as ports are set (the lab learns some as it runs), which may make such a frame decode
   * otherwise.
   */
  plainInPlace?(): boolean;
  /**
   * The `type` of the packet's JSON object when the source knows it without decoding the packet
   * (the analysis decoded it already): the packet filter skips packets their type rules out.
   */
  knownType?(seq: number): string | undefined;
  /**
   * Finds the packets that pass the packet filter `filter` (one that compiles) among the packets
   * available now, on worker threads, when the source can and the capture is big enough to pay
   * for them: `found` gets their sequence numbers in order as they are known, and where the scan
   * got (every packet before `scanned` was looked at). Resolves with the end of the range it
   * covered; undefined when it cannot (the caller scans packet by packet).
   */
  scanParallel?(filter: string, found: (seqs: number[], scanned: number) => void, signal: AbortSignal): Promise<number> | undefined;

  /** Sessions in start order; `total` counts every session ever reported (evicted ones included). */
  sessions(): { list: readonly Session[]; total: number };
  /** The exchanges the engine started that are not listed yet (open, or closed behind an open one). */
  pending(): PendingRows;
  /** Session `seq` as it is now (listed or pending), if still kept. */
  sessionAt(seq: number): Session | undefined;
  mappings(): readonly Mapping[];
  counters(): Counters;
  status(): SourceStatus;
  /** Roles (MN, MS, MR, xTR, RTR) learned from the packets, for the ladder's lanes. */
  roles(): Roles;
}

function pendingSession(p: PendingExchange): Session {
  return { seq: p.startIndex, exchange: p.exchange, open: p.open };
}

/**
 * What a snapshot of the engine's state costs grows with what it holds: a busy capture has tens
 * of thousands of exchanges open at a time and of mappings. One that took longer than
 * RETAKE_ABOVE_MS is handed out again until RETAKE_AFTER times that has passed, so that taking it
 * costs the display (which asks on every refresh) a twentieth of its time at most; a cheap one
 * is taken afresh every time.
 */
const RETAKE_ABOVE_MS = 5;
const RETAKE_AFTER = 20;

class CostlySnapshot<T> {
  private last: { at: number; cost: number; value: T } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly take: () => T,
    /** Called once a snapshot handed out again is due to be taken afresh: the display comes back for it. */
    private readonly stale: () => void,
  ) {}

  /** The snapshot; `reused` tells a caller that may bring it up to date. */
  get(): { value: T; reused: boolean } {
    const now = performance.now();
    const last = this.last;
    const due = last ? last.at + RETAKE_AFTER * last.cost : 0;
    if (last && last.cost >= RETAKE_ABOVE_MS && now < due) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.stale();
      }, due - now).unref();
      return { value: last.value, reused: true };
    }
    const value = this.take();
    this.last = { at: now, cost: performance.now() - now, value };
    return { value, reused: false };
  }

  set(value: T): void {
    if (this.last) this.last.value = value;
  }

  /** The next one is taken afresh (the source reached a state the display must show). */
  drop(): void {
    this.last = undefined;
  }
}

const MAX_WARNINGS = 20;
const VIEW_CACHE = 512;

/**
 * What every source shares: subscribers, the sessions list (capped: the oldest go first), the
 * decoded-packet cache, warnings, and the roles learned from the packets.
 */
export abstract class SourceCore {
  protected engine: FlowEngine | undefined;
  protected readonly sessionList: Session[] = [];
  protected sessionTotal = 0;
  /**
   * Exchanges closed before one that started earlier (the engine reports them as they close): the
   * one of startIndex sessionTotal + i - heldHead is at held[i], until everything before it is
   * listed. Kept here rather than in the engine, which held each with its matching state: these
   * are the objects the list keeps anyway. Each is the Session it will be listed as: the pending
   * snapshots taken meanwhile hand out the same object every time, so that a view can tell the
   * ones it has seen (a long-lived exchange can hold back most of a capture).
   */
  private held: (Session | undefined)[] = [];
  private heldHead = 0;
  protected evictedSessions = 0;
  protected readonly warningList: string[] = [];
  protected readonly learned: Roles = new Map();
  private readonly listeners = new Set<(changed: ReadonlySet<SourceEvent>) => void>();
  private unreported = new Set<SourceEvent>();
  private scheduled = false;
  private readonly cache = new Map<number, PacketView>();
  /** pendingSessions, with `sessionTotal` as of then. */
  private readonly pendingSnapshot = new CostlySnapshot(
    () => ({ total: this.sessionTotal, list: this.takePending() }),
    () => this.changed('sessions'),
  );

  constructor(protected readonly maxSessions = Infinity) {}

  subscribe(fn: (changed: ReadonlySet<SourceEvent>) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  protected changed(what: SourceEvent): void {
    this.unreported.add(what);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const set = this.unreported;
      this.unreported = new Set();
      for (const l of this.listeners) l(set);
    });
  }

  protected warn(message: string): void {
    this.warningList.push(message);
    if (this.warningList.length > MAX_WARNINGS) this.warningList.shift();
    this.changed('status');
  }

  /** The engine's onExchange (order `close`): lists the exchange, or holds it until its turn. */
  protected addExchange = (e: Exchange, startIndex: number): void => {
    const held = this.held;
    if (startIndex === this.sessionTotal) {
      this.list({ seq: startIndex, exchange: e });
      // Its own slot (empty), then the ones held for it.
      if (this.heldHead < held.length) this.heldHead++;
      while (this.heldHead < held.length && held[this.heldHead]) {
        this.list(held[this.heldHead]!);
        held[this.heldHead++] = undefined;
      }
      if (this.heldHead === held.length) {
        held.length = 0;
        this.heldHead = 0;
      } else if (this.heldHead > 1024 && this.heldHead * 2 > held.length) {
        this.held = held.slice(this.heldHead);
        this.heldHead = 0;
      }
    } else {
      const at = this.heldHead + startIndex - this.sessionTotal;
      // Filled up to it, never written past its end: an array with a gap is a slow dictionary.
      while (held.length <= at) held.push(undefined);
      held[at] = { seq: startIndex, exchange: e };
    }
    this.changed('sessions');
  };

  private list(s: Session): void {
    this.sessionList.push(s);
    this.sessionTotal++;
    // Evict in batches so that a long live run does not shift the array on every exchange.
    if (this.sessionList.length > this.maxSessions * 1.1) {
      const n = this.sessionList.length - this.maxSessions;
      this.sessionList.splice(0, n);
      this.evictedSessions += n;
    }
  }

  /** Every decoded packet passes here: roles are learned from control messages. */
  protected observe(p: LispPacket): void {
    if (!p.control) return;
    const v = controlView(p);
    if (v) this.observeControl(v);
  }

  /** A control message's view, when the analysis had no decoded packet (a scanned one). */
  protected observeControl(v: ControlView): void {
    learnRoles(this.learned, v);
  }

  sessions(): { list: readonly Session[]; total: number } {
    return { list: this.sessionList, total: this.sessionTotal };
  }

  sessionAt(seq: number): Session | undefined {
    // The list holds [total - length, total) (evicted ones before), the held ones the rest but
    // the open ones.
    if (seq < this.sessionTotal) return this.sessionList[seq - this.sessionTotal + this.sessionList.length];
    const held = this.held[this.heldHead + seq - this.sessionTotal];
    if (held) return held;
    const p = this.engine?.pendingAt(seq);
    return p && pendingSession(p);
  }

  pending(): PendingRows {
    const from = this.sessionTotal;
    const end = Math.max(this.engine?.started ?? 0, from + this.held.length - this.heldHead);
    return { from, count: end - from, at: (seq) => this.sessionAt(seq), list: () => this.pendingSessions() };
  }

  /**
   * The pending sessions, numbered on from `total`: a snapshot, taken when called (or handed out
   * again when taking it is costly).
   */
  pendingSessions(): Session[] {
    const { value, reused } = this.pendingSnapshot.get();
    // The ones listed since leave it (it is in seq order).
    if (reused && value.total !== this.sessionTotal) {
      let k = 0;
      while (k < value.list.length && value.list[k]!.seq < this.sessionTotal) k++;
      const list = value.list.slice(k);
      this.pendingSnapshot.set({ total: this.sessionTotal, list });
      return list;
    }
    return value.list;
  }

  private takePending(): Session[] {
    // The engine's (in start order) fill the gaps between the held ones (in place, in seq order).
    const open = this.engine?.pending() ?? [];
    const out: Session[] = [];
    let k = 0;
    for (let i = this.heldHead; i < this.held.length; i++) {
      const s = this.held[i];
      if (!s) continue;
      for (; k < open.length && open[k]!.startIndex < s.seq; k++) out.push(pendingSession(open[k]!));
      out.push(s);
    }
    for (; k < open.length; k++) out.push(pendingSession(open[k]!));
    return out;
  }

  mappings(): readonly Mapping[] {
    return this.engine ? this.engine.mappingTracker.mappingList() : [];
  }

  /** The engine is through its input: the snapshots the display takes next must be its final state. */
  protected settled(): void {
    this.pendingSnapshot.drop();
  }

  roles(): Roles {
    return withMobileNodes(this.learned, this.mappings());
  }

  protected engineCounters(): Omit<Counters, 'drops' | 'duplicates' | 'evictedPackets'> {
    const s = this.engine?.stats;
    return {
      frames: s?.frames ?? 0,
      lisp: s?.lispPackets ?? 0,
      unanswered: s?.unanswered ?? 0,
      authFailures: s?.authFailures ?? 0,
      malformed: s?.malformedFrames ?? 0,
      sessions: this.sessionTotal,
      handovers: this.engine?.mappingTracker.handoverCount() ?? 0,
      evictedSessions: this.evictedSessions,
    };
  }

  /**
   * Decodes packet `seq` from what the source keeps (each source knows where its bytes are). For
   * the screen (`scan` false) a source may answer undefined while a long decoding goes on in the
   * background, and report 'packets' when it is done; a scan waits for it.
   */
  protected abstract decodeAt(seq: number, scan: boolean): PacketView | undefined;

  /** Decoded packets for the rows on screen, least recently used dropped first. */
  packet(seq: number): PacketView | undefined {
    const hit = this.cache.get(seq);
    if (hit) {
      this.cache.delete(seq);
      this.cache.set(seq, hit);
      return hit;
    }
    const v = this.decodeAt(seq, false);
    if (!v) return undefined;
    this.cache.set(seq, v);
    if (this.cache.size > VIEW_CACHE) this.cache.delete(this.cache.keys().next().value!);
    return v;
  }

  /** A scan over the whole capture would only push the rows on screen out of the cache. */
  scanPacket(seq: number): PacketView | undefined {
    return this.cache.get(seq) ?? this.decodeAt(seq, true);
  }
}
