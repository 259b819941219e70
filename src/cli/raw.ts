// Raw sending for `replay -i` and `inject -i`: each LISP message is wrapped in IP + UDP (+ the
// interface's link header) and handed to libpcap on the named interface, under the same guard as
// UDP sending (named destinations only, no multicast/broadcast unless allowed, rate-limited).
// No socket is bound, so answers can only be heard by capturing: with `listen`, the same handle
// captures what the peer sends back and hands it to the recorder as received traffic.

import { readFileSync } from 'node:fs';
import { openInjector, type Injector } from '../capture/inject.js';
import { LiveCapture, LiveCaptureError } from '../capture/live.js';
import { encodeIpUdp } from '../dissect/ip.js';
import { parseMac } from '../dissect/addr.js';
import { decodeLink, encodeLink, LINKTYPE_EN10MB } from '../dissect/link.js';
import { ipAddress } from '../dissect/address.js';
import type { SendGuard } from '../mn/guard.js';
import { LispSocket } from '../mn/socket.js';
import type { Recorder } from '../mn/recorder.js';
import { UsageError, type Parsed } from './args.js';
import type { Io } from '../output/io.js';
import type { Traffic } from './mn.js';
import { ipv4GroupMac, lookupIpv6Mac, systemIpv6Tables, type MacLookup } from './neighbours.js';

export interface RawSender {
  readonly iface: string;
  /** Queues one datagram; false (with the reason on `refused`) when the guard refuses it. */
  send(src: string, sport: number, dst: string, dport: number, payload: Uint8Array, checksum: boolean): boolean;
  refused?: string;
  close(): Promise<void>;
}

/** The --dst-mac option of the commands that send raw. */
export const DST_MAC_OPTION = {
  name: 'dst-mac',
  kind: 'value',
  arg: 'MAC',
  help: 'with -i on Ethernet: the next hop\'s MAC (default: from the kernel\'s routes and its ARP table or IPv6 neighbour cache; the loopback needs none)',
} as const;

export interface RawOptions {
  /** Gets each IP packet as it leaves (and, with `listen`, as answers arrive): for -w and printing. */
  recorder?: Recorder;
  /** Capture UDP to this address and port on the interface too: the answers to what is sent. */
  listen?: { address: string; port: number };
  /** --dst-mac. */
  dstMac?: string;
  /** One-line warnings (what will not reach a socket). */
  warn?: (message: string) => void;
}

const IFF_LOOPBACK = 0x8;

function isLoopback(iface: string): boolean {
  return (parseInt(sysNet(iface, 'flags') ?? '0', 16) & IFF_LOOPBACK) !== 0;
}

function routeLocalnet(iface: string): boolean {
  const conf = (dev: string) => {
    try {
      return readFileSync(`/proc/sys/net/ipv4/conf/${dev}/route_localnet`, 'utf8').trim() === '1';
    } catch {
      return false;
    }
  };
  return conf('all') || conf(iface);
}

function sysNet(iface: string, file: string): string | undefined {
  try {
    return readFileSync(`/sys/class/net/${iface}/${file}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** /proc/net/route holds addresses as little-endian hex: 0100007F is 127.0.0.1. */
function procIPv4(hex: string): number {
  return (parseInt(hex, 16) >>> 0).toString(16).padStart(8, '0').match(/../g)!.reverse().reduce((n, b) => n * 256 + parseInt(b, 16), 0);
}

function ipv4Number(a: string): number {
  return a.split('.').reduce((n, b) => n * 256 + Number(b), 0);
}

/** The IPv4 next hop towards `dst` through `iface`, from the kernel's main routing table. */
function nextHop(iface: string, dst: string): string | undefined {
  let best: { len: number; gw: number } | undefined;
  let text: string;
  try {
    text = readFileSync('/proc/net/route', 'utf8');
  } catch {
    return undefined;
  }
  const d = ipv4Number(dst);
  for (const line of text.split('\n').slice(1)) {
    const [dev, net, gw, , , , , mask] = line.trim().split(/\s+/);
    if (dev !== iface || !net || !gw || !mask) continue;
    const m = procIPv4(mask);
    if (((d & m) >>> 0) !== procIPv4(net)) continue;
    const len = m.toString(2).replace(/0/g, '').length;
    if (!best || len > best.len) best = { len, gw: procIPv4(gw) };
  }
  if (!best) return undefined;
  if (best.gw === 0) return dst;
  return [24, 16, 8, 0].map((sh) => (best!.gw >>> sh) & 0xff).join('.');
}

function arpEntry(iface: string, address: string): string | undefined {
  try {
    for (const line of readFileSync('/proc/net/arp', 'utf8').split('\n').slice(1)) {
      const [ip, , flags, hw, , dev] = line.trim().split(/\s+/);
      if (ip === address && dev === iface && (parseInt(flags ?? '0', 16) & 0x2) !== 0) return hw;
    }
  } catch {
    // no /proc: not Linux, the caller asks for --dst-mac
  }
  return undefined;
}

/** The IPv4 next hop's MAC on `iface`: the main routing table, then the ARP table. */
function lookupIpv4Mac(iface: string, dst: string): MacLookup {
  const group = ipv4GroupMac(dst);
  if (group) return { hop: dst, mac: group };
  const hop = nextHop(iface, dst);
  if (!hop) return { why: `no route through ${iface}` };
  const mac = arpEntry(iface, hop);
  return mac ? { hop, mac } : { hop, why: 'not in the ARP table: ping it first' };
}

/** Source and destination MACs for Ethernet frames to `dst` on `iface`. */
function macsFor(iface: string, dst: string, given: string | undefined, command: string): { src?: string; dst: string } {
  const src = sysNet(iface, 'address');
  if (given !== undefined) {
    if (!parseMac(given)) throw new UsageError(`${command}: --dst-mac: "${given}" is not a MAC address (aa:bb:cc:dd:ee:ff)`);
    return { ...(src ? { src } : {}), dst: given };
  }
  // The loopback takes any frame addressed to its own all-zero MAC as for this host.
  if (isLoopback(iface)) return { src: src ?? '00:00:00:00:00:00', dst: src ?? '00:00:00:00:00:00' };
  // A loopback destination on a wire would leave the host with an address no one may route.
  if (/^127\./.test(dst) || dst === '::1') throw new UsageError(`${command}: ${dst} is a loopback address: send it raw on the loopback interface (-i lo), not on ${iface}`);
  const found = dst.includes(':') ? lookupIpv6Mac(iface, dst, systemIpv6Tables) : lookupIpv4Mac(iface, dst);
  if (!('mac' in found)) throw new UsageError(`${command}: -i ${iface}: no MAC address known for ${found.hop ?? dst} (${found.why}); give --dst-mac`);
  return { ...(src ? { src } : {}), dst: found.mac };
}

/** A sender of datagrams to `to` (the one destination of replay and inject) on `iface`. */
export function openRaw(iface: string, to: string, guard: SendGuard, command: string, o: RawOptions = {}): RawSender {
  let capture: LiveCapture | undefined;
  let injector: Injector | undefined;
  let macs = {};
  try {
    capture = o.listen === undefined ? undefined : LiveCapture.open({ iface, filter: `udp and dst host ${o.listen.address} and dst port ${o.listen.port}` });
    injector = openInjector(capture ?? iface);
    if (injector.linkType === LINKTYPE_EN10MB) macs = macsFor(iface, to, o.dstMac, command);
  } catch (e) {
    injector?.close();
    void capture?.stop();
    if (e instanceof LiveCaptureError) throw new UsageError(`${command}: ${e.message}`);
    throw e;
  }
  const out = injector;
  if (/^127\./.test(to) && isLoopback(iface) && !routeLocalnet(iface)) {
    // ip_route_input() treats 127/8 arriving from a device as martian unless route_localnet is set.
    o.warn?.(`${command}: the kernel drops 127.0.0.0/8 packets sent raw on ${iface} before any socket sees them (captures do see them) unless net.ipv4.conf.${iface}.route_localnet=1`);
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

export interface Sender {
  /** With -i. */
  raw?: RawSender;
  /** Without -i: bound to --source, else to any address and a port the kernel picks. */
  socket?: LispSocket;
}

export interface SenderOptions {
  to: string;
  source: { address: string; port?: number } | undefined;
  /** The address our datagrams carry (--source, else the one the kernel would use towards --to). */
  local: string;
  guard: SendGuard;
  traffic: Traffic;
  /** Record (and so print) what comes back on the socket. */
  recordReceived?: boolean;
  /** Control port of the socket when not 4342. */
  controlPort?: number;
  /** With -i: capture what comes back to `local` at this port. */
  listenPort?: number;
}

/** What replay and inject send through: a socket, or with -i IF a raw sender. Closes what it opened when it fails. */
export async function openSender(a: Parsed, io: Io, command: string, o: SenderOptions): Promise<Sender> {
  const iface = a.values.get('interface');
  try {
    if (iface !== undefined) {
      const listen = o.listenPort === undefined ? {} : { listen: { address: o.local, port: o.listenPort } };
      return { raw: openRaw(iface, o.to, o.guard, command, { dstMac: a.values.get('dst-mac'), warn: (m) => io.warn(m), recorder: o.traffic.recorder, ...listen }) };
    }
    const socket = await LispSocket.open({
      name: 'lispscope',
      address: o.source?.address ?? (ipAddress(o.to)?.kind === 'ipv6' ? '::' : '0.0.0.0'),
      port: o.source?.port ?? 0,
      recordAs: o.local,
      ...(o.recordReceived ? { recordReceived: true } : {}),
      recorder: o.traffic.recorder,
      policy: o.guard,
      ...(o.controlPort !== undefined && o.controlPort !== 4342 ? { ports: { control: o.controlPort, data: 4341 } } : {}),
    });
    return { socket };
  } catch (e) {
    o.traffic.close();
    o.guard.close();
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${command}: ${(e as Error).message}`);
  }
}
