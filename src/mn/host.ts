// The hosts at the ends of the tunnels: what an EID (or a non-LISP host) sends and answers. ICMP
// echo (ping) and the UDP echo service (port 7) between EIDs, built with the packet builders and
// read back with the IP decoder.

import { performance } from 'node:perf_hooks';
import { innerPacket } from '../dissect/build.js';
import { decodeIp, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP } from '../dissect/ip.js';

export const UDP_ECHO_PORT = 7;

export interface InnerPacket {
  version: 4 | 6;
  src: string;
  dst: string;
  proto: number;
  ttl: number;
  icmp?: { type: number; code: number; id: number; seq: number; data: Uint8Array };
  udp?: { sport: number; dport: number; payload: Uint8Array };
}

/** Reads an IP packet far enough to answer it; undefined when it is not an unfragmented IP packet. */
export function parseInner(b: Uint8Array): InnerPacket | undefined {
  const ip = decodeIp(b, 0, b.length);
  if (!ip.ok || ip.isFragment || ip.truncated) return undefined;
  const p: InnerPacket = { version: ip.version, src: ip.src, dst: ip.dst, proto: ip.proto, ttl: ip.ttl };
  const o = ip.payloadOffset;
  const end = ip.payloadEnd;
  if ((ip.proto === IPPROTO_ICMP || ip.proto === IPPROTO_ICMPV6) && end - o >= 8) {
    p.icmp = {
      type: b[o]!,
      code: b[o + 1]!,
      id: (b[o + 4]! << 8) | b[o + 5]!,
      seq: (b[o + 6]! << 8) | b[o + 7]!,
      data: b.slice(o + 8, end),
    };
  } else if (ip.proto === IPPROTO_UDP && end - o >= 8) {
    p.udp = { sport: (b[o]! << 8) | b[o + 1]!, dport: (b[o + 2]! << 8) | b[o + 3]!, payload: b.slice(o + 8, end) };
  }
  return p;
}

/** An ICMP (or ICMPv6) echo request. */
export function isEchoRequest(p: InnerPacket): boolean {
  return !!p.icmp && p.icmp.code === 0 && p.icmp.type === (p.version === 6 ? 128 : 8);
}

/** An ICMP (or ICMPv6) echo reply. */
export function isEchoReply(p: InnerPacket): boolean {
  return !!p.icmp && p.icmp.code === 0 && p.icmp.type === (p.version === 6 ? 129 : 0);
}

/** The answer a host gives: echo reply to an echo request, the same datagram back on UDP port 7. */
export function answerFor(p: InnerPacket): Uint8Array | undefined {
  if (isEchoRequest(p)) {
    return innerPacket({ src: p.dst, dst: p.src, proto: 'icmp-echo-reply', icmpId: p.icmp!.id, seq: p.icmp!.seq, payload: p.icmp!.data });
  }
  if (p.udp && p.udp.dport === UDP_ECHO_PORT) {
    return innerPacket({ src: p.dst, dst: p.src, proto: 'udp', sport: UDP_ECHO_PORT, dport: p.udp.sport, payload: p.udp.payload });
  }
  return undefined;
}

export interface EchoResult {
  /** Who answered (the inner source of the reply). */
  from: string;
  rttMs: number;
  seq: number;
  /** How a capture finds the ICMP echo and its reply (see echoKey); none for UDP echo. */
  wireKey?: string;
}

/** An ICMP echo request to `peer` and the reply from it, by id and sequence number. */
export function echoKey(peer: string, id: number, seq: number): string {
  return `echo ${peer} ${id} ${seq}`;
}

interface Outstanding {
  key: string;
  sentAt: number;
  resolve: (r: EchoResult | undefined) => void;
  timer: NodeJS.Timeout;
}

/** Sends echo requests and matches the replies (ICMP by id/seq, UDP echo by ports). */
export class Pinger {
  private readonly out = new Map<string, Outstanding>();
  private nextId = (process.pid & 0xffff) ^ 0x4c53;
  private seq = 0;

  /** Builds an echo request from `src` to `dst`; `send` puts it on its way; resolves with the reply or undefined. */
  echo(
    send: (packet: Uint8Array, sent: (at: number) => void) => void,
    o: { src: string; dst: string; proto?: 'icmp' | 'udp'; timeoutMs: number; payload?: Uint8Array },
  ): Promise<EchoResult | undefined> {
    const seq = ++this.seq & 0xffff;
    let packet: Uint8Array;
    let key: string;
    if (o.proto === 'udp') {
      const sport = 0xc000 | ((this.nextId ^ seq) & 0x3fff);
      packet = innerPacket({ src: o.src, dst: o.dst, proto: 'udp', sport, dport: UDP_ECHO_PORT, payload: o.payload ?? new TextEncoder().encode(`lispscope echo ${seq}`) });
      key = `udp ${o.dst} ${sport}`;
    } else {
      const id = this.nextId;
      packet = innerPacket({ src: o.src, dst: o.dst, proto: 'icmp-echo-request', icmpId: id, seq, ...(o.payload ? { payload: o.payload } : {}) });
      key = `icmp ${o.dst} ${id} ${seq}`;
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.out.delete(key);
        resolve(undefined);
      }, o.timeoutMs);
      const out: Outstanding = { key, sentAt: performance.now(), resolve, timer };
      this.out.set(key, out);
      // The echo may wait for a Map-Reply first: its time starts when it leaves encapsulated.
      send(packet, (at) => (out.sentAt = at));
    })
      .then((r) => r as EchoResult | undefined)
      .then((r) => (r ? { ...r, seq, ...(o.proto === 'udp' ? {} : { wireKey: echoKey(o.dst, this.nextId, seq) }) } : r));
  }

  /** Offers a received packet (arrived at `at`, performance.now()); true when it answered one of ours. */
  offer(p: InnerPacket, at = performance.now()): boolean {
    let key: string | undefined;
    if (isEchoReply(p)) key = `icmp ${p.src} ${p.icmp!.id} ${p.icmp!.seq}`;
    else if (p.udp && p.udp.sport === UDP_ECHO_PORT) key = `udp ${p.src} ${p.udp.dport}`;
    const o = key === undefined ? undefined : this.out.get(key);
    if (!o) return false;
    clearTimeout(o.timer);
    this.out.delete(o.key);
    o.resolve({ from: p.src, rttMs: Math.max(0, at - o.sentAt), seq: 0 });
    return true;
  }

  /** Gives up every outstanding echo. */
  close(): void {
    for (const o of this.out.values()) {
      clearTimeout(o.timer);
      o.resolve(undefined);
    }
    this.out.clear();
  }
}
