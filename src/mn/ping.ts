// Pings from our EID (ICMP echo, or UDP to the echo port) through the tunnel routers: the echo
// leaves through the router's ITR side and its reply comes back through the ETR side.

import { eidIp, type Prefix } from './eid.js';
import { Pinger, type EchoResult, type InnerPacket } from './host.js';
import type { SentStamp } from './requests.js';

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
