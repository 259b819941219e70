// The next hop's MAC for a destination of `replay -i`/`inject -i` on Ethernet. IPv6: the route from
// /proc/net/ipv6_route (longest prefix through the interface, then the lowest metric), the MAC from
// the kernel's neighbour cache. IPv6 neighbours are not in /proc, and Node has no netlink, so the
// cache is read with `ip -6 neigh show dev IFACE` (iproute2). Parsing and lookup are pure functions
// over that text; only `systemIpv6Tables` touches the system. IPv4: /proc/net/route, then
// /proc/net/arp.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { formatIPv6, formatMac, fromHex, parseIPv6, parseMac } from '../dissect/addr.js';

/** One line of /proc/net/ipv6_route. */
export interface Ipv6Route {
  dest: Uint8Array;
  prefixLen: number;
  /** Non-zero for a source-specific route (`ip -6 route add ... from PREFIX`). */
  srcPrefixLen: number;
  /** All zeros for an on-link route. */
  nextHop: Uint8Array;
  metric: number;
  flags: number;
  dev: string;
}

/** include/uapi/linux/route.h (ipv6_route.h): unreachable, prohibit, blackhole, throw routes. */
const RTF_REJECT = 0x0200;

/**
 * /proc/net/ipv6_route: `dest(32 hex) dest_prefixlen(hex) src(32 hex) src_prefixlen next_hop(32 hex)
 * metric refcnt use flags devname`, addresses in network byte order. Lines not of that form are skipped.
 */
export function parseIpv6Routes(text: string): Ipv6Route[] {
  const out: Ipv6Route[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 10) continue;
    const [dest, plen, , splen, hop, metric, , , flags, dev] = f as [string, string, string, string, string, string, string, string, string, string];
    const d = /^[0-9a-f]{32}$/i.test(dest) ? fromHex(dest) : undefined;
    const h = /^[0-9a-f]{32}$/i.test(hop) ? fromHex(hop) : undefined;
    const hex = (s: string) => (/^[0-9a-f]{1,8}$/i.test(s) ? parseInt(s, 16) : NaN);
    const [p, sp, m, fl] = [hex(plen), hex(splen), hex(metric), hex(flags)];
    if (!d || !h || !(p <= 128) || !(sp <= 128) || Number.isNaN(m) || Number.isNaN(fl)) continue;
    out.push({ dest: d, prefixLen: p, srcPrefixLen: sp, nextHop: h, metric: m, flags: fl, dev });
  }
  return out;
}

function inPrefix(a: Uint8Array, net: Uint8Array, len: number): boolean {
  for (let bit = 0; bit < len; bit += 8) {
    const mask = len - bit >= 8 ? 0xff : (0xff << (8 - (len - bit))) & 0xff;
    if ((a[bit / 8]! & mask) !== (net[bit / 8]! & mask)) return false;
  }
  return true;
}

/**
 * The next hop towards `dst` through `iface`: of the routes on `iface` that cover it, the longest
 * prefix, then the lowest metric; its gateway, or `dst` itself when the route is on-link. Undefined
 * when no route through `iface` covers it, or the best one is a reject route. Source-specific routes
 * are not used (the source is not known here).
 */
export function ipv6NextHop(routes: readonly Ipv6Route[], iface: string, dst: string): string | undefined {
  const d = parseIPv6(dst);
  if (!d) return undefined;
  let best: Ipv6Route | undefined;
  for (const r of routes) {
    if (r.dev !== iface || r.srcPrefixLen !== 0 || !inPrefix(d, r.dest, r.prefixLen)) continue;
    if (!best || r.prefixLen > best.prefixLen || (r.prefixLen === best.prefixLen && r.metric < best.metric)) best = r;
  }
  if (!best || best.flags & RTF_REJECT) return undefined;
  return best.nextHop.some((b) => b !== 0) ? formatIPv6(best.nextHop, 0) : formatIPv6(d, 0);
}

/** One line of `ip -6 neigh show`. */
export interface Neighbour {
  address: string;
  /** Absent when `ip` was asked for one device (`dev IFACE`): it does not repeat it. */
  dev?: string;
  lladdr?: string;
  router: boolean;
  /** NUD states, as `ip` prints them (one, or several when several bits are set). */
  states: string[];
}

const NUD_STATES = new Set(['INCOMPLETE', 'REACHABLE', 'STALE', 'DELAY', 'PROBE', 'FAILED', 'NOARP', 'PERMANENT', 'NONE']);
/** NUD_VALID: the states in which the kernel itself sends to the cached address (and /proc/net/arp sets ATF_COM). */
const USABLE = new Set(['PERMANENT', 'NOARP', 'REACHABLE', 'PROBE', 'STALE', 'DELAY']);
/** `ip neigh` keywords followed by a value we do not use. */
const KEYED = new Set(['proto', 'protocol', 'vrf', 'used', 'probes', 'nomaster', 'master']);

/**
 * `ip -6 neigh show [dev IFACE]`: `ADDRESS [dev DEV] [lladdr MAC] [router] [proxy] [proto P] STATE...`.
 * Unknown words are skipped; lines that do not start with an IPv6 address are too.
 */
export function parseNeighbours(text: string): Neighbour[] {
  const out: Neighbour[] = [];
  for (const line of text.split('\n')) {
    const w = line.trim().split(/\s+/);
    const a = parseIPv6(w[0] ?? '');
    if (!a) continue;
    const n: Neighbour = { address: formatIPv6(a, 0), router: false, states: [] };
    for (let i = 1; i < w.length; i++) {
      const word = w[i]!;
      if (word === 'dev' && i + 1 < w.length) n.dev = w[++i]!;
      else if (word === 'lladdr' && i + 1 < w.length) {
        const mac = parseMac(w[++i]!);
        if (mac) n.lladdr = formatMac(mac, 0);
      } else if (word === 'router') n.router = true;
      else if (NUD_STATES.has(word)) n.states.push(word);
      else if (KEYED.has(word)) i++;
    }
    out.push(n);
  }
  return out;
}

/** The MAC the neighbour cache holds for `address` on `iface`, else the state that keeps it from use (undefined: no entry). */
export function neighbourMac(neighbours: readonly Neighbour[], iface: string, address: string): { mac: string } | { state: string | undefined } {
  const a = parseIPv6(address);
  const n = a && neighbours.find((x) => (x.dev === undefined || x.dev === iface) && x.address === formatIPv6(a, 0));
  if (!n) return { state: undefined };
  if (n.lladdr && n.states.some((s) => USABLE.has(s))) return { mac: n.lladdr };
  return { state: n.states.join(' ') || 'without a MAC' };
}

/** What the lookup reads: the routing table's text, and the neighbour cache's for one interface. */
export interface Ipv6Tables {
  /** /proc/net/ipv6_route; undefined when it cannot be read (no IPv6). */
  routes(): string | undefined;
  neighbours(iface: string): { text: string } | { error: string };
}

/** The next hop's MAC, or why there is none (with the next hop when it was found). */
export type MacLookup = { hop: string; mac: string } | { hop?: string; why: string };

/** RFC 2464 §7: an IPv6 multicast address maps to 33:33 and its last 32 bits. */
function multicastMac(d: Uint8Array): string {
  return formatMac(Uint8Array.of(0x33, 0x33, d[12]!, d[13]!, d[14]!, d[15]!), 0);
}

/**
 * The Ethernet destination of an IPv4 packet that needs no lookup: RFC 1112 §6.4 maps a multicast
 * group (224.0.0.0/4) to 01:00:5e and its low 23 bits; the limited broadcast goes to every station.
 */
export function ipv4GroupMac(dst: string): string | undefined {
  const o = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(dst)?.slice(1).map(Number);
  if (!o || o.some((x) => x > 255)) return undefined;
  if (o.every((x) => x === 255)) return 'ff:ff:ff:ff:ff:ff';
  if ((o[0]! & 0xf0) !== 0xe0) return undefined;
  return formatMac(Uint8Array.of(0x01, 0x00, 0x5e, o[1]! & 0x7f, o[2]!, o[3]!), 0);
}

/** The Ethernet destination for an IPv6 packet to `dst` sent on `iface`. */
export function lookupIpv6Mac(iface: string, dst: string, tables: Ipv6Tables): MacLookup {
  const d = parseIPv6(dst);
  if (!d) return { why: 'not an IPv6 address' };
  if (d[0] === 0xff) return { hop: dst, mac: multicastMac(d) };
  const routes = tables.routes();
  if (routes === undefined) return { why: 'no IPv6 routing table (/proc/net/ipv6_route)' };
  const hop = ipv6NextHop(parseIpv6Routes(routes), iface, dst);
  if (!hop) return { why: `no route through ${iface}` };
  const cache = tables.neighbours(iface);
  if ('error' in cache) return { hop, why: `cannot read the neighbour cache: ${cache.error}` };
  const found = neighbourMac(parseNeighbours(cache.text), iface, hop);
  if ('mac' in found) return { hop, mac: found.mac };
  // A link-local address needs its zone to be pinged.
  const ping = `ping ${hop}${/^fe[89ab]/.test(hop) ? `%${iface}` : ''} first`;
  return { hop, why: found.state === undefined ? `not in the neighbour cache: ${ping}` : `${found.state} in the neighbour cache: ${ping}` };
}

/** The kernel's tables, read from /proc and through `ip`. */
export const systemIpv6Tables: Ipv6Tables = {
  routes() {
    try {
      return readFileSync('/proc/net/ipv6_route', 'utf8');
    } catch {
      return undefined;
    }
  },
  neighbours(iface) {
    const r = spawnSync('ip', ['-6', 'neigh', 'show', 'dev', iface], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, LC_ALL: 'C' } });
    if (r.error) {
      const code = (r.error as NodeJS.ErrnoException).code;
      return { error: code === 'ENOENT' ? 'it needs ip (iproute2), which is not installed' : `ip -6 neigh: ${r.error.message}` };
    }
    if (r.status !== 0) return { error: `ip -6 neigh: ${r.stderr.trim().split('\n')[0] || `exit status ${r.status}`}` };
    return { text: r.stdout };
  },
};

// ---- IPv4 and the interface ------------------------------------------------------------------

const IFF_LOOPBACK = 0x8;

/** Whether `iface` is a loopback interface (IFF_LOOPBACK in /sys/class/net). */
export function isLoopback(iface: string): boolean {
  return (parseInt(sysNet(iface, 'flags') ?? '0', 16) & IFF_LOOPBACK) !== 0;
}

/** Whether the kernel routes 127.0.0.0/8 arriving on `iface` (net.ipv4.conf.*.route_localnet). */
export function routeLocalnet(iface: string): boolean {
  const conf = (dev: string) => {
    try {
      return readFileSync(`/proc/sys/net/ipv4/conf/${dev}/route_localnet`, 'utf8').trim() === '1';
    } catch {
      return false;
    }
  };
  return conf('all') || conf(iface);
}

/** A file of /sys/class/net/IFACE (`address`: its MAC), or undefined. */
export function sysNet(iface: string, file: string): string | undefined {
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

/**
 * Source and destination MACs for Ethernet frames to `dst` on `iface`: `given` (--dst-mac), the
 * loopback's own, or the next hop's from the kernel's tables; else why there are none.
 */
export function ethernetMacs(iface: string, dst: string, given: string | undefined): { src?: string; dst: string } | { why: string } {
  const src = sysNet(iface, 'address');
  if (given !== undefined) {
    if (!parseMac(given)) return { why: `--dst-mac: "${given}" is not a MAC address (aa:bb:cc:dd:ee:ff)` };
    return { ...(src ? { src } : {}), dst: given };
  }
  // The loopback takes any frame addressed to its own all-zero MAC as for this host.
  if (isLoopback(iface)) return { src: src ?? '00:00:00:00:00:00', dst: src ?? '00:00:00:00:00:00' };
  // A loopback destination on a wire would leave the host with an address no one may route.
  if (/^127\./.test(dst) || dst === '::1') return { why: `${dst} is a loopback address: send it raw on the loopback interface (-i lo), not on ${iface}` };
  const found = dst.includes(':') ? lookupIpv6Mac(iface, dst, systemIpv6Tables) : lookupIpv4Mac(iface, dst);
  if (!('mac' in found)) return { why: `-i ${iface}: no MAC address known for ${found.hop ?? dst} (${found.why}); give --dst-mac` };
  return { ...(src ? { src } : {}), dst: found.mac };
}
