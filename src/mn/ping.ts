// Pings from our EID (ICMP echo, or UDP to the echo port) through the tunnel routers: the echo
// leaves through the router's ITR side and its reply comes back through the ETR side.

import { performance } from 'node:perf_hooks';
import { mappingRecord } from '../dissect/build.js';
import { eidIp, type Prefix } from './eid.js';
import { Pinger, type EchoResult, type InnerPacket } from './host.js';
import type { IcmpError } from './icmp.js';
import type { MapCache } from './map-cache.js';
import type { SentStamp } from './requests.js';
import type { WireClock } from './wire-clock.js';

/** What the ping role uses of its router. */
export interface PingHost {
  readonly timers: { echoTimeoutMs: number };
  eidPrefixes(): readonly Prefix[];
  sourceEid(family?: 'ipv4' | 'ipv6'): string | undefined;
  forward(packet: Uint8Array, sent?: SentStamp): Promise<boolean>;
}

export interface PingOptions {
  proto?: 'icmp' | 'udp';
  timeoutMs?: number;
  /** Our EID to ping from (default: our host EID of the destination's family). */
  src?: string;
}

export class PingRole {
  private readonly pinger = new Pinger();

  constructor(private readonly host: PingHost) {}

  /** Pings `dst` from our EID; undefined when no reply came (or we have no EID of its family). */
  ping(dst: string, o: PingOptions = {}): Promise<EchoResult | undefined> {
    const h = this.host;
    const family = dst.includes(':') ? 'ipv6' : 'ipv4';
    const src = o.src ?? h.sourceEid(family) ?? h.eidPrefixes().map((p) => eidIp(p.address)).find((a) => a && a.includes(':') === (family === 'ipv6'));
    if (!src) return Promise.resolve(undefined);
    return this.pinger.echo((p, sent) => void h.forward(p, sent), {
      src,
      dst,
      proto: o.proto ?? 'icmp',
      timeoutMs: o.timeoutMs ?? h.timers.echoTimeoutMs,
    });
  }

  /** An echo reply one of our pings waits for (true: it was, and is consumed). */
  offer(info: InnerPacket, at: number | undefined): boolean {
    return this.pinger.offer(info, at);
  }

  close(): void {
    this.pinger.close();
  }
}

/** What a series of pings reports of each echo. */
export interface EchoReport {
  seq: number;
  reply: EchoResult | undefined;
  /** The RTT by the capture clock, when the capture saw both the echo and its reply. */
  wireRttMs: number | undefined;
  /** The last ICMP error the capture heard about our packets. */
  icmp: IcmpError | undefined;
}

export interface PingSeriesOptions extends PingOptions {
  count: number;
  intervalMs: number;
  /** Times the echoes and hears the ICMP errors they draw (the router's sockets are not connected). */
  wire?: WireClock;
}

/**
 * `count` pings from `router`'s EID to `dst`, one every `intervalMs` as ping does (a lost one does
 * not hold up the next); `each` hears every echo as it ends. Resolves with how many were answered.
 */
export async function pingSeries(router: { ping(dst: string, o: PingOptions): Promise<EchoResult | undefined> }, dst: string, o: PingSeriesOptions, each: (e: EchoReport) => void): Promise<number> {
  let received = 0;
  let icmp: IcmpError | undefined;
  o.wire?.onIcmpError((e) => (icmp = e));
  const echo = async (seq: number) => {
    const reply = await router.ping(dst, { ...(o.proto ? { proto: o.proto } : {}), ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}), ...(o.src ? { src: o.src } : {}) });
    const wireRttMs = reply?.wireKey && o.wire ? await o.wire.rtt(reply.wireKey) : undefined;
    if (reply) received++;
    each({ seq, reply, wireRttMs, icmp });
  };
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < o.count; i++) {
    const due = t0 + i * o.intervalMs - performance.now();
    if (due > 0) await new Promise((r) => setTimeout(r, due));
    pending.push(echo(i + 1));
  }
  await Promise.all(pending);
  return received;
}

/** A static map-cache entry: the host `dst` through the ETR at `rloc`, as the user named it. */
export function pinThrough(cache: MapCache, dst: string, rloc: string): void {
  cache.insert(mappingRecord({ eid: dst, authoritative: false, locators: [{ rloc }] }), 'command line');
}
