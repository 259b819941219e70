// What `sniff --flows` does with each frame: decode it, feed the flow engine, and show each
// exchange as it completes (one line, or NDJSON), through the display filter, up to a count.
// Exchanges close on capture time; when traffic stops, sweep() moves that clock on from the
// wall clock, so that an unanswered request still closes.

import { PacketDecoder, type PacketDecoderOptions } from '../capture/packets.js';
import type { Frame } from '../capture/types.js';
import type { Predicate } from '../flows/filter.js';
import { FlowEngine } from '../flows/engine.js';
import type { Exchange } from '../flows/types.js';
import { capDroppedText, exchangeLine } from './flows-text.js';
import { exchangeJson } from './json-flows.js';
import { countKinds, type PacketKinds } from './packet-stream.js';
import type { Style } from './style.js';

export interface ExchangeStreamOptions {
  json: boolean;
  style: Style;
  filter?: Predicate;
  /** --timeout: one wait for every kind of exchange. */
  timeout?: number;
  /** Show at most this many exchanges, then call `onLimit`. */
  count?: number;
  onLimit?: () => void;
  decoder: Omit<PacketDecoderOptions, 'warning'>;
  warning(message: string): void;
  line(text: string): void;
}

export class ExchangeStream {
  /** Exchanges shown. */
  shown = 0;
  readonly kinds: PacketKinds = { lisp: 0, control: 0, data: 0, reliable: 0 };
  private readonly engine: FlowEngine;
  private readonly decoder: PacketDecoder;

  constructor(private readonly o: ExchangeStreamOptions) {
    this.engine = new FlowEngine({ ...(o.timeout !== undefined ? { timeout: o.timeout } : {}), onExchange: (e) => this.show(e) });
    this.decoder = new PacketDecoder({ ...o.decoder, warning: o.warning });
  }

  /** False once the count is reached. */
  frame(f: Frame): boolean {
    this.engine.frame();
    const p = this.decoder.decode(f);
    if (!p) return true;
    countKinds(this.kinds, p);
    this.engine.packet(p);
    return !this.reached();
  }

  /** Closes what has waited too long by `nowSeconds` (the wall clock, when the capture is quiet). */
  sweep(nowSeconds: number): void {
    this.engine.exchanges.sweep(nowSeconds);
  }

  /** The end of the capture: every exchange still open closes. */
  finish(): void {
    this.decoder.finish();
    this.engine.finish();
    const dropped = this.engine.exchanges.counters.dropped;
    if (dropped) this.o.warning(capDroppedText(dropped));
  }

  private reached(): boolean {
    return this.o.count !== undefined && this.shown >= this.o.count;
  }

  private show(e: Exchange): void {
    if (this.reached()) return;
    const obj = exchangeJson(e);
    if (this.o.filter && !this.o.filter(obj)) return;
    this.o.line(this.o.json ? JSON.stringify(obj) : exchangeLine(e, this.o.style));
    this.shown++;
    if (this.reached()) this.o.onLimit?.();
  }
}
