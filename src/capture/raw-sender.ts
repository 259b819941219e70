// Raw sending for `replay -i` and `inject -i`: each LISP message is wrapped in IP + UDP (+ the
// interface's link header) and handed to libpcap on the named interface, under the same policy as
// UDP sending (named destinations only, no multicast/broadcast unless allowed, rate-limited).
// No socket is bound, so answers can only be heard by capturing: with `listen`, the same handle
// captures what the peer sends back and hands it to the recorder as received traffic.

import { decodeLink, encodeLink, LINKTYPE_EN10MB } from '../dissect/link.js';
import { encodeIpUdp } from '../dissect/ip.js';
import { openInjector, type Injector } from './inject.js';
import { LiveCapture, LiveCaptureError } from './live.js';
import { ethernetMacs, isLoopback, routeLocalnet } from './neighbours.js';

export interface RawSender {
  readonly iface: string;
  /** Queues one datagram; false (with the reason on `refused`) when the policy refuses it. */
  send(src: string, sport: number, dst: string, dport: number, payload: Uint8Array, checksum: boolean): boolean;
  refused?: string;
  close(): Promise<void>;
}

/** Who may be sent to, and when (the Mobile Node's SendGuard). */
export interface RawSendPolicy {
  refusal(dst: string): string | undefined;
  schedule(send: () => void): void;
}

export interface RawOptions {
  /** Gets each IP packet as it leaves (and, with `listen`, as answers arrive): for -w and printing. */
  recorder?: { ip(component: string, packet: Uint8Array, received?: boolean): unknown };
  /** Capture UDP to this address and port on the interface too: the answers to what is sent. */
  listen?: { address: string; port: number };
  /** --dst-mac. */
  dstMac?: string;
  /** One-line warnings (what will not reach a socket). */
  warn?: (message: string) => void;
}

/** Why a raw sender cannot be opened, in one line. */
export class RawSendError extends Error {}

/** A source port for a raw datagram, which has no socket to take one from: one of the dynamic ports (RFC 6335), as the kernel would pick. */
export function ephemeralPort(): number {
  return 49152 + Math.floor(Math.random() * 16384);
}

/** A sender of datagrams to `to` (the one destination of replay and inject) on `iface`. */
export function openRaw(iface: string, to: string, guard: RawSendPolicy, o: RawOptions = {}): RawSender {
  let capture: LiveCapture | undefined;
  let injector: Injector | undefined;
  let macs = {};
  try {
    capture = o.listen === undefined ? undefined : LiveCapture.open({ iface, filter: `udp and dst host ${o.listen.address} and dst port ${o.listen.port}` });
    injector = openInjector(capture ?? iface);
    if (injector.linkType === LINKTYPE_EN10MB) {
      const found = ethernetMacs(iface, to, o.dstMac);
      if ('why' in found) throw new RawSendError(found.why);
      macs = found;
    }
  } catch (e) {
    injector?.close();
    void capture?.stop();
    if (e instanceof LiveCaptureError) throw new RawSendError(e.message);
    throw e;
  }
  const out = injector;
  if (/^127\./.test(to) && isLoopback(iface) && !routeLocalnet(iface)) {
    // ip_route_input() treats 127/8 arriving from a device as martian unless route_localnet is set.
    o.warn?.(`the kernel drops 127.0.0.0/8 packets sent raw on ${iface} before any socket sees them (captures do see them) unless net.ipv4.conf.${iface}.route_localnet=1`);
  }
  // On the loopback (or when sending to ourselves) what we send is captured too: it is no answer.
  const sentPackets: Uint8Array[] = [];
  capture?.start({
    frame: (f) => {
      const link = decodeLink(capture!.linkType, f.data);
      if (link.next !== 'ipv4' && link.next !== 'ipv6') return;
      const packet = f.data.slice(link.offset);
      const own = sentPackets.findIndex((s) => Buffer.compare(s, packet) === 0);
      if (own >= 0) sentPackets.splice(own, 1);
      else o.recorder?.ip('lispscope', packet, true);
    },
    warning: () => {},
  });
  const raw: RawSender = {
    iface,
    send(src, sport, dst, dport, payload, checksum) {
      const why = guard.refusal(dst);
      if (why) {
        raw.refused = why;
        return false;
      }
      const packet = encodeIpUdp({ src, dst, sport, dport, udpChecksum: checksum }, payload);
      const frame = encodeLink(out.linkType, packet, macs);
      guard.schedule(() => {
        if (capture) sentPackets.push(packet);
        out.send(frame);
        o.recorder?.ip('lispscope', packet);
      });
      return true;
    },
    async close() {
      out.close();
      await capture?.stop();
    },
  };
  return raw;
}
