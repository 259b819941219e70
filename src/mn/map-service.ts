// A Map-Server/Map-Resolver standing alone (`lispscope ms`) on an address of this host, for
// engineers testing a real xTR, Mobile Node or RTR: the same MapServer the lab runs, with the
// guards a server facing other people's equipment needs (only the named address, answers only to
// unicast addresses, a per-source rate limit), and our RTR beside it when one of the RTRs it
// announces in Info-Replies is an address of this host. One recorder holds what both send and
// receive, each datagram once.

import { networkInterfaces } from 'node:os';
import { ipAddress } from '../dissect/address.js';
import { nonUnicastReason, SendGuard } from './guard.js';
import { silentLogger, type Logger } from './log.js';
import { MapServer, type ProxyReplyMode, type SiteConfig } from './map-server.js';
import type { Recorder } from './recorder.js';
import type { RetryTimers } from './requests.js';
import { Rtr } from './rtr.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT } from '../dissect/registry.js';

/** Canonical text of an IP address, undefined when `a` is none. */
function canonical(a: string): string | undefined {
  const ip = ipAddress(a);
  return ip && (ip.kind === 'ipv4' || ip.kind === 'ipv6') ? ip.addr : undefined;
}

/** Whether `address` is one of this host's (127/8 and ::1 always are). */
export function isLocalAddress(address: string): boolean {
  const a = canonical(address);
  if (!a) return false;
  if (a.startsWith('127.') || a === '::1') return true;
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((i) => canonical(i.address.split('%')[0]!) === a));
}

export interface MapServiceOptions {
  /** The one address served (a unicast address of this host). */
  address: string;
  /** Default 4342. */
  port?: number;
  sites: SiteConfig[];
  /** RTRs announced in Info-Replies; those that are addresses of this host run our RTR. */
  rtrs?: string[];
  /** The key shared with an RTR, by its address (MS-RTR authentication of the Map-Notifies it relays). */
  rtrKey?: (rtr: string) => string | undefined;
  proxyReply?: ProxyReplyMode;
  mapNotifyAck?: RetryTimers;
  /** TTL, minutes, of negative Map-Replies for non-LISP space and of Info-Replies (default 15). */
  ttl?: number;
  registrationTimeoutMs?: number;
  /** Messages handled per second from one source address (default 100; 0: no limit). */
  perSourceRate?: number;
  recorder?: Recorder;
  log?: Logger;
}

export class MapService {
  private constructor(
    readonly ms: MapServer,
    /** Our RTR, when one of the announced RTRs is ours. */
    readonly rtr: Rtr | undefined,
    private readonly guard: SendGuard,
  ) {}

  /** Why `address` cannot be served, or undefined. */
  static refusal(address: string): string | undefined {
    const a = canonical(address);
    if (!a) return `"${address}" is not an IP address`;
    const why = nonUnicastReason(a);
    if (why) return `${address} is ${why}: name one unicast address of this host`;
    return undefined;
  }

  static async start(o: MapServiceOptions): Promise<MapService> {
    const why = MapService.refusal(o.address);
    if (why) throw new RangeError(why);
    const address = canonical(o.address)!;
    const ours = (o.rtrs ?? []).map((r) => canonical(r) ?? r).filter(isLocalAddress);
    if (ours.length > 1) throw new RangeError(`one RTR of ours at most: ${ours.join(' and ')} are both addresses of this host`);
    if (ours[0] === address) throw new RangeError(`the RTR ${address} needs its own address: the Map-Server holds ${address}:${o.port ?? LISP_CONTROL_PORT}`);
    const log = o.log ?? silentLogger;
    // Whoever asks gets an answer, but never a multicast or broadcast address (a spoofed ITR-RLOC).
    const guard = new SendGuard({ allowed: [], alsoAllowed: () => true });
    const ms = await MapServer.start({
      name: 'ms',
      address,
      ...(o.port ? { port: o.port } : {}),
      sites: o.sites,
      rtrs: o.rtrs ?? [],
      ...(o.rtrKey ? { rtrKey: o.rtrKey } : {}),
      proxyReply: o.proxyReply ?? 'registration',
      ...(o.mapNotifyAck ? { mapNotifyAck: o.mapNotifyAck } : {}),
      negativeTtl: o.ttl ?? 15,
      infoTtl: o.ttl ?? 15,
      ...(o.registrationTimeoutMs ? { registrationTimeoutMs: o.registrationTimeoutMs } : {}),
      perSourceRate: o.perSourceRate ?? 100,
      ...(o.recorder ? { recorder: o.recorder } : {}),
      // What our RTR sends us it recorded already.
      recordReceived: (src) => src !== ours[0],
      policy: guard,
      log,
    });
    let rtr: Rtr | undefined;
    if (ours[0]) {
      try {
        rtr = await Rtr.start({
          name: 'rtr',
          rlocs: [ours[0]],
          mapResolver: address,
          ...(o.recorder ? { recorder: o.recorder } : {}),
          recordReceived: (src) => src !== address,
          policy: guard,
          log,
          ports: { control: o.port || LISP_CONTROL_PORT, data: LISP_DATA_PORT },
        });
      } catch (e) {
        await ms.close();
        throw e;
      }
    }
    return new MapService(ms, rtr, guard);
  }

  async close(): Promise<void> {
    await this.rtr?.stop();
    await this.ms.close();
    this.guard.close();
  }
}
