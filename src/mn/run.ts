// `mn run`'s behaviour: a Mobile Node that stays up on the RLOCs its configuration gives, times its
// registrations on a capture of their interface (which follows the node when it moves), and hands
// over when the configuration is reloaded or a configured interface's address changes. What
// happens is told as events, in the order it happens (a registration once its RTT is known).

import { configuredRlocs, type MobileNodeConfig } from './config.js';
import { wireTiming, type Timing } from './client.js';
import { MobileNode, type MobileNodeOptions } from './mobile-node.js';
import type { Recorder } from './recorder.js';
import type { SendPolicy } from './socket.js';
import { interfaceOf, openWireClock, type WireClock } from './wire-clock.js';

export type RunEvent =
  | { event: 'log'; level: string; message: string; /** The text line when it differs from the message. */ text?: string }
  | { event: 'registered'; eid: string; rlocs: readonly string[]; nonce: bigint; timing: Timing; wire: WireClock | undefined }
  | { event: 'handover'; from: string[]; to: string[]; smrs: string[]; totalMs: number }
  | { event: 'nat'; global: string; port: number; rtrs: string[] }
  | { event: 'up'; eid: string; rlocs: string[]; registered: boolean; node: string; wire: WireClock | undefined }
  | { event: 'moving'; reason: string; from: string[]; to: string[] }
  | { event: 'down' };

export interface MobileNodeRunOptions {
  cfg: MobileNodeConfig;
  key: string;
  recorder: Recorder;
  policy: SendPolicy;
  /** The interface whose capture times the exchanges; `pinned` when the user named it (it stays, and failing to open it throws). */
  capture: { iface: string | undefined; pinned: boolean };
  onEvent(e: RunEvent): void;
  /** Why the socket times rather than a capture. */
  why?: (message: string) => void;
}

export class MobileNodeRun {
  readonly node: MobileNode;
  private cfg: MobileNodeConfig;
  private rlocs: string[];
  private wire: WireClock | undefined;
  /** Events are told in order, also when one waits for the capture to time it. */
  private told = Promise.resolve();
  private moving = Promise.resolve();
  private poll: NodeJS.Timeout | undefined;
  private started: Promise<'up' | Error> | undefined;

  /** Opens the capture clock and makes the node (not started); throws what stops it (a WireClockError too). */
  static async open(o: MobileNodeRunOptions): Promise<MobileNodeRun> {
    const ports = [o.cfg.controlPort, o.cfg.dataPort];
    const rlocs = configuredRlocs(o.cfg);
    const wire = o.capture.iface ? openWireClock({ iface: o.capture.iface, local: rlocs, ports }, o.capture.pinned, o.why) : undefined;
    try {
      return new MobileNodeRun(o, rlocs, ports, wire);
    } catch (e) {
      await wire?.close();
      throw e;
    }
  }

  private constructor(
    private readonly o: MobileNodeRunOptions,
    rlocs: string[],
    private readonly ports: number[],
    wire: WireClock | undefined,
  ) {
    this.cfg = o.cfg;
    this.rlocs = rlocs;
    this.wire = wire;
    this.node = new MobileNode(this.options());
    this.node.on('registered', (r: { nonce: bigint; rttMs: number }) => {
      const at = this.node.currentRlocs;
      const wire = this.wire;
      this.told = this.told.then(async () => {
        const timing = await wireTiming(wire, r);
        o.onEvent({ event: 'registered', eid: this.cfg.eid, rlocs: at, nonce: r.nonce, timing, wire });
      });
    });
    this.node.on('handover', (h: { from: string[]; to: string[]; smrs: Array<{ rloc: string }>; totalMs: number }) =>
      this.tell({ event: 'handover', from: h.from, to: h.to, smrs: h.smrs.map((s) => s.rloc), totalMs: h.totalMs }),
    );
    this.node.on('nat', (n: { global: string; port: number; rtrs: string[] }) => this.tell({ event: 'nat', global: n.global, port: n.port, rtrs: n.rtrs }));
  }

  /** The addresses the configuration names (the send guard allows them). */
  static named(cfg: MobileNodeConfig): string[] {
    return [cfg.mapServer.address, cfg.mapResolver, ...(cfg.petr ? [cfg.petr] : [])];
  }

  /** Starts the node: 'up' once it is bound and its first registration answered or given up on, or the error. */
  start(): Promise<'up' | Error> {
    this.started = this.node.start().then(
      () => 'up' as const,
      (e: Error) => e,
    );
    return this.started;
  }

  /** Says the node is up, and from now on follows a configured interface's address (when the configuration names interfaces). */
  up(): void {
    const mn = this.node;
    this.tell({ event: 'up', eid: this.cfg.eid, rlocs: this.rlocs, registered: !!mn.attachment?.registration, node: mn.describe(), wire: this.wire });
    if (this.cfg.interfaces && !this.cfg.rlocs) this.poll = setInterval(() => this.move('address change'), this.cfg.pollInterval * 1000);
  }

  /** A new configuration (the Map-Server and key stay): moves when its RLOCs differ. */
  reload(fresh: MobileNodeConfig, reason: string): void {
    this.cfg = { ...fresh, mapServer: this.cfg.mapServer, keyFile: this.cfg.keyFile };
    this.move(reason);
  }

  /** A log line of the caller's, in order with the events. */
  log(level: string, message: string, text?: string): void {
    this.tell({ event: 'log', level, message, ...(text !== undefined ? { text } : {}) });
  }

  /** Hands over when the configured RLOCs changed. */
  move(reason: string): void {
    this.moving = this.moving.then(async () => {
      const next = configuredRlocs(this.cfg);
      if (next.length === 0) {
        this.log('warn', 'no address on the configured interfaces: staying');
        return;
      }
      if (next.join(',') === this.rlocs.join(',')) return;
      this.tell({ event: 'moving', reason, from: this.rlocs, to: next });
      this.rlocs = next;
      await this.retime(next);
      try {
        await this.node.moveTo(next);
      } catch (e) {
        this.log('warn', (e as Error).message, `handover failed: ${(e as Error).message}`);
      }
    });
  }

  /** Stops the node whose start failed (nothing else is told). */
  async abort(): Promise<void> {
    await this.node.stop();
    await this.told;
    await this.wire?.close();
  }

  /** Stops after a run: the handover under way, the node, then `down`. */
  async finish(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    await this.moving;
    await this.node.stop();
    await this.started;
    this.tell({ event: 'down' });
    await this.told;
    await this.wire?.close();
  }

  private tell(e: RunEvent): void {
    this.told = this.told.then(() => this.o.onEvent(e));
  }

  private options(): MobileNodeOptions {
    const cfg = this.cfg;
    return {
      name: 'mn',
      eid: cfg.eid,
      rlocs: this.rlocs,
      mapServer: { address: cfg.mapServer.address, port: cfg.mapServer.port, key: this.o.key, keyId: cfg.keyId },
      mapResolver: cfg.mapResolver,
      ...(cfg.petr ? { petr: cfg.petr } : {}),
      proxyReply: cfg.proxyReply,
      natTraversal: cfg.natTraversal,
      ports: { control: cfg.controlPort, data: cfg.dataPort },
      timers: { registerIntervalMs: cfg.registerInterval * 1000 },
      ...(cfg.xtrId !== undefined ? { xtrId: cfg.xtrId } : {}),
      ...(cfg.siteId ? { siteId: cfg.siteId } : {}),
      recorder: this.o.recorder,
      // -w holds both directions, so that `flows` on it sees every registration answered.
      recordReceived: true,
      policy: this.o.policy,
      log: (level: string, _c: string, message: string) => {
        // Moves are told as their own events.
        if (level !== 'debug' && !message.startsWith('moving from')) this.log(level, message);
      },
    };
  }

  private openWire(iface: string | undefined, at: string[]): WireClock | undefined {
    if (!iface) return undefined;
    return openWireClock({ iface, local: at, ports: this.ports }, this.o.capture.pinned, this.o.why);
  }

  /** The capture follows the node: its new addresses, on their interface (unless the user named one). */
  private async retime(next: string[]): Promise<void> {
    if (!this.wire) return;
    const iface = this.o.capture.pinned ? this.o.capture.iface! : interfaceOf(next[0]!);
    if (iface === this.wire.iface) return this.wire.follow(next);
    await this.wire.close();
    this.wire = this.openWire(iface, next);
    const clock = this.wire ? `the capture clock on ${this.wire.iface}` : 'the socket clock';
    this.log('info', `RTTs now by ${clock}`);
  }
}
