// One input (a capture file, or a live interface) turned into rows: every frame goes through the
// same decoder (or the same scans of plain data and common control messages) and flow engine as
// `read`, `flows` and `mappings`, and every row is written by their JSON writers, so the tables
// hold exactly what those commands print.

import { PacketDecoder, type LispPacket, type PacketDecoderOptions } from '../capture/packets.js';
import { plainControl, scanPlainControl } from '../capture/plain-control.js';
import { plainData, scanPlainData } from '../capture/plain-data.js';
import type { Frame } from '../capture/types.js';
import { FlowEngine } from '../flows/engine.js';
import type { Predicate } from '../flows/filter.js';
import type { Exchange, Mapping } from '../flows/types.js';
import { writeScannedControlJson } from '../output/json-control-fast.js';
import { writeExchangeJson } from '../output/json-exchange-fast.js';
import { exchangeJson, handoverJson, mappingJson, timelineJson } from '../output/json-flows.js';
import type { JsonOptions } from '../output/json-lisp.js';
import { packetJson, writePacketJson } from '../output/json.js';
import { JsonWriter } from '../output/json-writer.js';
import { ColumnTap } from './control-row.js';
import { writePlainRow, type PlainRowWriter } from './plain-row.js';
import type { Stager } from './stage.js';
import { trace } from './trace.js';
import { namesPorts } from '../dissect/classify.js';

export interface RecorderOptions {
  decoder?: Omit<PacketDecoderOptions, 'warning'>;
  warning: (message: string) => void;
  /** -Y: keeps the packets, exchanges and mappings it matches (as read, flows and mappings do). */
  /** Display filters: the packets, exchanges and mappings kept (see common.ts filtersForAll). */
  filters?: { packet: Predicate; exchange: Predicate; mapping: Predicate };
  /** Exchange wait in seconds for every kind (flows --timeout); default the per-kind waits. */
  timeout?: number;
  json?: JsonOptions;
  /** false: plain data packets and control messages are staged as JSON rows too (tests compare both ways). */
  plainRows?: boolean;
  /** Writes plain data rows in the sink's own format (ClickHouse); default DuckDB's (plain-row.ts). */
  plainRow?: PlainRowWriter;
  /** What control rows carry after `seq` (ClickHouse: the vantage and file; see Sink.controlOrigin). */
  controlOrigin?: Uint8Array;
}

/** What an input held: the `captures` row. */
export interface InputSummary {
  format: string;
  link_types: number[];
  frames: number;
  lisp_packets: number;
  control_packets: number;
  data_packets: number;
  malformed_frames: number;
  exchanges: number;
  handovers: number;
  first_ts?: number;
  last_ts?: number;
  drops?: number;
  export_drops?: number;
  /** Rows staged per table. */
  rows: { packets: number; exchanges: number; mappings: number; handovers: number; handover_peers: number };
}

export class Recorder {
  readonly engine: FlowEngine;
  private readonly decoder: PacketDecoder;
  private readonly packets;
  private readonly exchangeRows;
  private readonly jw;
  /** Plain data packets skip the general decoder (as read --json and flows do) and are staged as plain rows. */
  private readonly fast: boolean;
  private readonly writePlain: PlainRowWriter;
  /** Other packets are staged as their columns' values beside the JSON (control-row.ts), unless plainRows is false. */
  private readonly tap: ColumnTap | undefined;
  private readonly scanned = plainData();
  /**
   * Common control messages skip it too (as read --json and flows do), unless a key is given: its
   * verdicts are the decoder's. Their rows are their JSON lines written from the frame's bytes,
   * the columns read back from those (ColumnTap.readText).
   */
  private readonly fastControl: boolean;
  private readonly scannedControl = plainControl();
  private readonly linkTypes = new Set<number>();
  private linkType = -1;
  private firstTs: number | undefined;
  /** The last frame's time as read (its seconds are worked out once, at the end). */
  private lastSec = 0;
  private lastNsec = 0;
  private exchanges = 0;
  private handovers = 0;
  /** Live: how much of each mapping is written (timeline entries, handovers). */
  private readonly written = new Map<Mapping, { timeline: number; handovers: number }>();

  constructor(
    private readonly stager: Stager,
    private readonly opts: RecorderOptions,
  ) {
    // The `captures` row counts frames and packets, not what the statistics say of exchanges.
    // Exchange rows are numbered by start (`seq`), so they are written as they close: behind a
    // long-lived exchange, none waits. Filtered, a row's number counts the rows kept before it in
    // start order: known only in that order.
    this.engine = new FlowEngine({
      ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
      without: ['exchange-stats'],
      order: opts.filters ? 'start' : 'close',
      onExchange: (e, startIndex) => this.exchange(e, startIndex),
    });
    this.decoder = new PacketDecoder({ ...opts.decoder, warning: opts.warning });
    this.packets = stager.stage('packets');
    this.exchangeRows = stager.stage('exchanges');
    this.jw = new JsonWriter(this.packets.out);
    this.fast = opts.plainRows !== false && !opts.filters && !opts.decoder?.all && !namesPorts(opts.decoder?.decodeAs);
    this.packets.plainRows = this.fast;
    this.fastControl = this.fast && !opts.decoder?.keyFor;
    this.writePlain = opts.plainRow ?? writePlainRow;
    if (opts.plainRows !== false) this.tap = new ColumnTap();
  }

  frame(f: Frame): void {
    this.engine.frame();
    this.firstTs ??= f.tsSec + f.tsNsec / 1e9;
    this.lastSec = f.tsSec;
    this.lastNsec = f.tsNsec;
    if (f.linkType !== this.linkType) {
      this.linkType = f.linkType;
      this.linkTypes.add(f.linkType);
    }
    if (this.fast && scanPlainData(f, this.scanned)) {
      this.engine.plainData(f, this.scanned);
      this.writePlain(f, this.scanned, this.packets.beginPlain());
      this.packets.endPlain();
      return;
    }
    if (this.fastControl && this.plainControl(f)) return;
    const p = this.decoder.decode(f);
    if (p) this.packet(p);
  }

  /** A common control message's row, when the scan takes the frame and its line fits the tap. */
  private plainControl(f: Frame): boolean {
    const c = this.scannedControl;
    const tap = this.tap!;
    if (!scanPlainControl(f, c)) return false;
    tap.start();
    if (!writeScannedControlJson(f, c, tap.text)) return false;
    this.engine.plainControl(f, c);
    tap.readText();
    this.tapped(tap);
    return true;
  }

  private packet(p: LispPacket): void {
    this.engine.packet(p);
    // Only LISP packets are rows (those `stats` counts); a frame too broken to tell counts as malformed.
    if (!p.kind) return;
    if (this.opts.filters && !this.opts.filters.packet(packetJson(p, this.opts.json))) return;
    const tap = this.tap;
    if (!tap) {
      this.packets.begin();
      writePacketJson(this.jw, p, this.opts.json);
      this.packets.end();
      return;
    }
    tap.start();
    writePacketJson(tap, p, this.opts.json);
    this.tapped(tap);
  }

  /** Stages the row the tap holds: its columns' values beside its JSON, or (when they do not fit the format) its JSON. */
  private tapped(tap: ColumnTap): void {
    if (tap.fields()) {
      tap.writeRow(this.packets.beginControl(), this.opts.controlOrigin);
      this.packets.endControl();
    } else {
      this.packets.begin();
      tap.writeJson(this.packets.out);
      this.packets.end();
    }
  }

  private exchange(e: Exchange, startIndex: number): void {
    if (this.opts.filters) {
      const o = exchangeJson(e);
      if (!this.opts.filters.exchange(o)) return;
      this.stager.text('exchanges', JSON.stringify(o));
    } else {
      // flows --json's own writer: the same line, without the object and the string.
      this.exchangeRows.begin(startIndex + 1);
      writeExchangeJson(this.exchangeRows.out, e);
      this.exchangeRows.end(true);
    }
    this.exchanges++;
  }

  /** Closes the exchanges still open, writes the mappings and the input's `captures` row. */
  finish(extra: { format: string; drops?: number; exportDrops?: number }): InputSummary {
    this.decoder.finish();
    const { mappings, stats } = this.engine.finish();
    trace('engine done', `${mappings.length} mappings`);
    for (const m of mappings) this.mapping(m, m.handovers.length);
    trace('mappings');
    const handovers = this.handovers;
    const s: InputSummary = {
      format: extra.format,
      link_types: [...this.linkTypes].sort((a, b) => a - b),
      frames: stats.frames,
      lisp_packets: stats.lispPackets,
      control_packets: stats.controlPackets,
      data_packets: stats.dataPackets,
      malformed_frames: stats.malformedFrames,
      exchanges: this.exchanges,
      handovers,
      rows: {
        packets: this.packets.seq,
        exchanges: this.stager.stage('exchanges').seq,
        mappings: this.stager.stage('mappings').seq,
        handovers: this.stager.stage('handovers').seq,
        handover_peers: this.stager.stage('handover_peers').seq,
      },
    };
    if (this.firstTs !== undefined) s.first_ts = Math.round(this.firstTs * 1e6) / 1e6;
    if (this.firstTs !== undefined) s.last_ts = Math.round((this.lastSec + this.lastNsec / 1e9) * 1e6) / 1e6;
    if (extra.drops !== undefined) s.drops = extra.drops;
    if (extra.exportDrops !== undefined) s.export_drops = extra.exportDrops;
    const { rows: _rows, ...row } = s;
    this.stager.text('captures', JSON.stringify({ exported: Math.round(Date.now()) / 1000, ...row }));
    this.stager.cutAll();
    return s;
  }

  /**
   * Live: writes the mappings' rows that are final at `now` (capture time): new timeline entries,
   * and handovers whose peers are no longer followed. The rest waits for the next call or the end.
   * A display filter judges a mapping as a whole, so with one everything waits for the end.
   */
  flushMappings(now: number): void {
    if (this.opts.filters) return;
    for (const [m, final] of this.engine.mappingTracker.progress(now)) this.mapping(m, final);
  }

  /** A mapping's timeline entries, and its first `final` handovers with their peers, not written yet. */
  private mapping(m: Mapping, final: number): void {
    if (this.opts.filters && !this.opts.filters.mapping(mappingJson(m))) return;
    let w = this.written.get(m);
    if (!w) {
      if (m.timeline.length === 0 && final === 0) return;
      w = { timeline: 0, handovers: 0 };
      this.written.set(m, w);
    }
    const eid = m.eid;
    // `{"eid":…,` then the entry's own fields: the text of JSON.stringify({ eid, ...entry }) without the copy.
    const head = `{"eid":${JSON.stringify(eid)},`;
    for (; w.timeline < m.timeline.length; w.timeline++) this.stager.text('mappings', head + JSON.stringify(timelineJson(m.timeline[w.timeline]!)).slice(1));
    for (; w.handovers < final; w.handovers++) {
      const h = handoverJson(m.handovers[w.handovers]!);
      this.stager.text('handovers', JSON.stringify({ eid, ...h }));
      for (const p of h.peers as Record<string, unknown>[]) {
        this.stager.text('handover_peers', JSON.stringify({ eid, handover_ts: h.ts, handover_frame: h.frame, ...p }));
      }
      this.handovers++;
    }
  }
}
