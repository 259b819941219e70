// The flow engine: fed decoded packets one by one (live or offline, one capture or several merged),
// it reports exchanges as they close, and at the end the mapping timelines with handovers and the
// statistics. State is bounded throughout (see ExchangeTracker and MappingTracker).

import type { LispPacket } from '../capture/packets.js';
import { plainControlType, type PlainControl } from '../capture/plain-control.js';
import type { PlainData } from '../capture/plain-data.js';
import type { Frame } from '../capture/types.js';
import { formatIPv4, formatIPv6 } from '../dissect/addr.js';
import { DataFlag, dataIid } from '../dissect/data.js';
import { quotedMessage } from '../dissect/icmp.js';
import { controlTypeName, LISP_CONTROL_PORT } from '../dissect/registry.js';
import { ExchangeTracker, type ExchangeOptions, type PendingExchange } from './exchanges.js';
import { MappingTracker, type MappingOptions } from './mappings.js';
import { StatsCollector, type Stats } from './stats.js';
import type { Exchange, ExchangeSummary, Mapping } from './types.js';
import { controlView, dataView, reliableViews, type ControlView } from './view.js';
import { plainControlView } from './plain-control-view.js';
import { u32 } from '../dissect/bytes.js';

/** Results a caller may do without (see FlowEngineOptions.without). */
export type FlowResult = 'mappings' | 'mapping-details' | 'exchange-stats' | 'exchanges';

export interface FlowEngineOptions extends Omit<ExchangeOptions, 'onExchange' | 'onSummary'> {
  mappings?: MappingOptions;
  /**
   * Results the caller never reads, whose work is then not done: `mappings` (timelines and
   * handovers; the exchanges do not depend on them), `mapping-details` (the timelines and each
   * handover's peers: the handovers are still found and counted, `finish` returns no mappings),
   * `exchange-stats` (what the statistics count of closed exchanges), `exchanges` (none is read,
   * nor counted: only those the mappings depend on are followed, see
   * ExchangeOptions.mappingInputsOnly; ignored with onExchange or onSummary). Frame and packet
   * counts are kept either way.
   */
  without?: readonly FlowResult[];
  /**
   * Receives exchanges as they are final, in `order` (ExchangeOptions.order). The statistics
   * count them as they come: under `close`, the same counts, but their lists follow close order
   * and a sampled RTT percentile may differ (`stats` runs in start order).
   */
  onExchange?: (e: Exchange, startIndex: number) => void;
  /**
   * For a caller that reads only an exchange's summary (ExchangeSummary), instead of onExchange:
   * the same exchanges in the same order, but the whole exchange is never built (neither is it for
   * the statistics when the caller takes no exchanges at all). Ignored with onExchange.
   */
  onSummary?: (e: ExchangeSummary, startIndex: number) => void;
}

export class FlowEngine {
  readonly stats = new StatsCollector();
  readonly mappingTracker: MappingTracker;
  readonly exchanges: ExchangeTracker;
  /** The mapping tracker is fed (not when the caller does without mappings: it stays empty). */
  private readonly tracksMappings: boolean;

  constructor(opts: FlowEngineOptions = {}) {
    const handoversOnly = opts.without?.includes('mapping-details') ?? false;
    this.mappingTracker = new MappingTracker(handoversOnly ? { ...opts.mappings, handoversOnly } : opts.mappings);
    this.tracksMappings = !opts.without?.includes('mappings');
    const { without: _without, onExchange, onSummary, ...rest } = opts;
    const inputsOnly = (opts.without?.includes('exchanges') ?? false) && !onExchange && !onSummary;
    const countExchanges = !opts.without?.includes('exchange-stats') && !inputsOnly;
    const stats = this.stats;
    // Each exchange counted in the statistics, then handed to the caller if it takes it.
    const counted =
      <E extends ExchangeSummary>(then?: (e: E, startIndex: number) => void) =>
      (e: E, startIndex: number) => {
        if (countExchanges) stats.exchange(e);
        then?.(e, startIndex);
      };
    const report: Pick<ExchangeOptions, 'onExchange' | 'onSummary'> = onExchange
      ? { onExchange: counted(onExchange) }
      : onSummary || countExchanges
        ? { onSummary: counted(onSummary) }
        : {};
    this.exchanges = new ExchangeTracker({ ...rest, ...report, ...(inputsOnly ? { mappingInputsOnly: true } : {}) }, this.tracksMappings ? this.mappingTracker : undefined);
  }

  /** Every frame of the capture, LISP or not (for the statistics). */
  frame(): void {
    this.stats.frames++;
  }

  packet(p: LispPacket, file = 0): void {
    const s = this.stats;
    s.notes(p);
    if (!p.kind) return;
    s.lispPackets++;
    if (p.auth) p.auth.ok ? s.authVerified++ : s.authFailures++;
    const ref = { frame: p.frame, file };
    if (p.control) {
      s.controlPackets++;
      s.message(controlTypeName(p.control));
      const v = controlView(p);
      if (v) this.exchanges.control(v, ref);
    } else if (p.kind === 'data' || p.kind === 'vxlan') {
      s.dataPackets++;
      s.message(p.kind);
      const d = dataView(p);
      if (d && this.tracksMappings) this.mappingTracker.data(d.ts, d.itr, d.etr, d.dstEid);
      // A control message an RTR hands on inside LISP data (a Map-Notify for a NATed xTR).
      const nested = p.data?.inner?.lisp;
      if (nested?.kind === 'control' && nested.control) {
        const v = controlView(p);
        if (v) {
          s.message(controlTypeName(nested.control));
          this.exchanges.control(v, ref);
          return;
        }
      }
      this.exchanges.sweep(p.ts);
    } else if (p.kind === 'icmp-error' && p.icmp && p.ip) {
      s.message('icmp-error');
      const { icmp } = p;
      const q = quotedMessage(icmp);
      // An error about a data packet (no control message quoted, or the port says data) is no exchange's.
      if (q?.nonce !== undefined || (icmp.quoted.dport === LISP_CONTROL_PORT && !icmp.quoted.lisp)) {
        this.exchanges.icmpError(
          {
            ts: p.ts,
            from: p.ip.src,
            ...(q?.nonce !== undefined ? { nonce: q.nonce } : {}),
            src: icmp.quoted.src,
            dst: icmp.quoted.dst,
            ...(icmp.quoted.sport !== undefined ? { sport: icmp.quoted.sport } : {}),
            ...(icmp.quoted.dport !== undefined ? { dport: icmp.quoted.dport } : {}),
            icmp: { type: icmp.type, code: icmp.code, name: icmp.name, from: p.ip.src, ...(icmp.mtu !== undefined ? { mtu: icmp.mtu } : {}) },
          },
          ref,
        );
      } else this.exchanges.sweep(p.ts);
    } else if (p.kind === 'reliable') {
      // Map-Server reliable transport over TCP: its Registrations become registration exchanges.
      s.controlPackets++;
      for (let i = 0; i < (p.reliable?.length ?? 0); i++) s.message('reliable-transport');
      for (const v of reliableViews(p)) this.exchanges.reliable(v, ref);
    } else {
      s.message('unknown');
    }
  }

  /**
   * A plain data packet recognised from its bytes (capture/plain-data.ts), for the same effect as
   * `packet` on its decode without building it.
   */
  plainData(f: Frame, d: PlainData): void {
    const s = this.stats;
    s.lispPackets++;
    s.dataPackets++;
    s.message('data');
    const b = f.data;
    const ts = f.tsSec + f.tsNsec / 1e9;
    if (d.innerLen > 0 && this.tracksMappings) {
      const iid = d.flags & DataFlag.I ? dataIid(d.word2) : -1;
      if (d.innerVersion === 4) this.mappingTracker.dataV4(f.tsSec, f.tsNsec, u32(b, d.ip + 12) | 0, u32(b, d.ip + 16) | 0, iid, u32(b, d.inner + 16) | 0);
      else {
        const dst = formatIPv6(b, d.inner + 24);
        this.mappingTracker.data(ts, formatIPv4(b, d.ip + 12), formatIPv4(b, d.ip + 16), iid < 0 ? dst : `[${iid}]${dst}`);
      }
    }
    this.exchanges.sweep(ts);
  }

  /**
   * A common control message recognised from its bytes (capture/plain-control.ts), for the same
   * effect as `packet` on its decode without building it: the scan lets by no message the decoder
   * would note, and the caller none whose authentication a key could verify.
   */
  plainControl(f: Frame, c: PlainControl, file = 0): ControlView {
    const s = this.stats;
    s.lispPackets++;
    s.controlPackets++;
    s.message(plainControlType(c));
    const v = plainControlView(f, c);
    this.exchanges.control(v, { frame: f.index, file });
    return v;
  }

  /** Exchanges started but not reported by onExchange yet (a snapshot; see ExchangeTracker.pending). */
  pending(): PendingExchange[] {
    return this.exchanges.pending();
  }

  /** Exchanges started so far, and one of them still pending (see ExchangeTracker.pendingAt). */
  get started(): number {
    return this.exchanges.startedCount;
  }

  pendingAt(startIndex: number): PendingExchange | undefined {
    return this.exchanges.pendingAt(startIndex);
  }

  /**
   * `finish`, handing exchanges out a batch at a time and waiting whenever `ready` says the output
   * is full: everything closed behind a long-lived exchange would otherwise be written at once.
   */
  async finishPaced(ready: () => Promise<void> | undefined): Promise<{ mappings: Mapping[]; stats: Stats }> {
    while (this.exchanges.finish(1024)) await ready();
    return this.finish();
  }

  /** End of input: closes every exchange and returns the mappings and statistics. */
  finish(): { mappings: Mapping[]; stats: Stats } {
    this.exchanges.finish();
    const mappings = this.mappingTracker.mappings();
    return { mappings, stats: this.stats.result(this.mappingTracker.handoverCount()) };
  }
}
