// The IPv6 next hop and its MAC for `replay -i`/`inject -i`: /proc/net/ipv6_route and `ip -6 neigh`
// text parsed, the longest-prefix route through the interface chosen, the neighbour's state judged.
// Fixtures are the kernel's and iproute2's own formats: CONTAINER and CONTAINER_NEIGH were copied
// from a Docker container (fd00::/64 on eth0, gateway fd00::1 never answered), LAPTOP from a host on
// a router-advertised network with a static route, a source-specific route and Wi-Fi as well.

import { describe, expect, it } from 'vitest';
import { ipv4GroupMac, ipv6NextHop, lookupIpv6Mac, neighbourMac, parseIpv6Routes, parseNeighbours, type Ipv6Tables } from '../../src/capture/neighbours.js';

const CONTAINER = `\
fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo
fd000000000000000000000000000002 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 80200001     eth0
fe8000000000000000fc00fffe000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001     eth0
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`;
const CONTAINER_NEIGH = 'fd00::1 FAILED \n';

// Defaults from router advertisements on eth0 (metric 100, via fe80::1) and wlan0 (metric 600), a
// second eth0 default of a higher metric, `ip -6 route add 2001:db8:99::/48 via fe80::2 dev eth0`,
// `ip -6 route add 2001:db8:77::/48 from 2001:db8:1::/64 via fe80::7 dev eth0`, docker0's subnet,
// the local table's /128s and multicast routes, lo's unreachable default.
const LAPTOP = `\
20010db8000100000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000064 00000001 00000000 00440001     eth0
20010db8000200000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000258 00000001 00000000 00440001    wlan0
20010db8009900000000000000000000 30 00000000000000000000000000000000 00 fe800000000000000000000000000002 00000400 00000001 00000000 00000003     eth0
20010db8007700000000000000000000 30 20010db8000100000000000000000000 40 fe800000000000000000000000000007 00000400 00000001 00000000 00000003     eth0
fd000d0c000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001  docker0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001    wlan0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000009 00000400 00000001 00000000 00000003     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000064 00000003 00000000 00450003     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000258 00000001 00000000 00450003    wlan0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000004 00000000 80200001       lo
20010db8000100000000000000000010 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000005 00000000 80200001     eth0
fe80000000000000022315fffe4c9a10 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001     eth0
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000004 00000000 00000001     eth0
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001    wlan0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`;

// `ip -6 neigh show dev eth0` (iproute2 6.1) on LAPTOP: no `dev` column.
const LAPTOP_NEIGH = `\
fe80::1 lladdr 00:00:5e:00:02:01 router REACHABLE
fe80::2 lladdr 52:54:00:a1:b2:c3 router STALE
fe80::9 FAILED
fe80::7 INCOMPLETE
2001:db8:1::7 lladdr 52:54:00:00:00:07 DELAY
2001:db8:1::8 lladdr 52:54:00:00:00:08 PROBE
2001:db8:1::a lladdr 02:00:00:00:00:0a PERMANENT
2001:db8:1::b lladdr 52:54:00:00:00:0b proto zebra REACHABLE
2001:db8:1::dead INCOMPLETE
`;

// `ip -6 neigh show` (every device) prints `dev`; a FAILED entry's lladdr, if any were printed, is not used.
const ALL_NEIGH = `\
fe80::1 dev wlan0 lladdr 00:11:22:33:44:55 router STALE
fe80::2 dev wlan0 lladdr 00:11:22:33:44:66 router REACHABLE
fe80::1 dev eth0 lladdr 00:00:5e:00:02:01 router REACHABLE
2001:db8:1::c dev eth0 lladdr 52:54:00:00:00:0c FAILED
192.0.2.1 dev eth0 lladdr 52:54:00:00:00:01 REACHABLE
`;

function tables(routes: string | undefined, neigh: Record<string, string | { error: string }>): Ipv6Tables & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    routes: () => routes,
    neighbours(iface) {
      asked.push(iface);
      const n = neigh[iface] ?? '';
      return typeof n === 'string' ? { text: n } : n;
    },
  };
}

describe('parseIpv6Routes', () => {
  it('reads every field of /proc/net/ipv6_route, addresses in network order', () => {
    const routes = parseIpv6Routes(CONTAINER);
    expect(routes).toHaveLength(8);
    const def = routes[2]!;
    expect([Buffer.from(def.dest).toString('hex'), def.prefixLen, def.srcPrefixLen, Buffer.from(def.nextHop).toString('hex'), def.metric, def.flags, def.dev]).toEqual([
      '00000000000000000000000000000000',
      0,
      0,
      'fd000000000000000000000000000001',
      1024,
      3,
      'eth0',
    ]);
    expect(routes.map((r) => `${r.prefixLen}/${r.dev}`)).toEqual(['64/eth0', '64/eth0', '0/eth0', '128/lo', '128/eth0', '128/eth0', '8/eth0', '0/lo']);
    const ss = parseIpv6Routes(LAPTOP)[3]!;
    expect([ss.prefixLen, ss.srcPrefixLen]).toEqual([48, 64]);
  });

  it('skips lines that are not routes', () => {
    const text = `garbage\n${CONTAINER.split('\n')[0]}\nfd00 40 00 00 00 00000100 00000001 00000000 00000001 eth0\n\n` + 'zz000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0\n';
    expect(parseIpv6Routes(text).map((r) => r.dev)).toEqual(['eth0']);
    expect(parseIpv6Routes('')).toEqual([]);
  });
});

describe('ipv6NextHop', () => {
  const container = parseIpv6Routes(CONTAINER);
  const laptop = parseIpv6Routes(LAPTOP);
  const cases: Array<[string, typeof laptop, string, string, string | undefined]> = [
    ['on-link global: the destination itself', container, 'eth0', 'fd00::5', 'fd00::5'],
    ['default route ::/0: its gateway', container, 'eth0', '2001:db8::1', 'fd00::1'],
    ['link-local destination: on-link', container, 'eth0', 'fe80::42:acff:fe11:2', 'fe80::42:acff:fe11:2'],
    ['no route through that interface', container, 'wlan0', '2001:db8::1', undefined],
    ['loopback: its unreachable default is a reject route', container, 'lo', '2001:db8::1', undefined],
    ['RA prefix on-link', laptop, 'eth0', '2001:db8:1::7', '2001:db8:1::7'],
    ['default: the lower metric of two, a link-local gateway', laptop, 'eth0', '2001:4860::8888', 'fe80::1'],
    ['a /48 beats the default', laptop, 'eth0', '2001:db8:99:1::5', 'fe80::2'],
    ['a source-specific route is not used', laptop, 'eth0', '2001:db8:77::1', 'fe80::1'],
    ['another interface\'s more specific route is not used', laptop, 'eth0', '2001:db8:2::9', 'fe80::1'],
    ['through wlan0: its own routes', laptop, 'wlan0', '2001:db8:2::9', '2001:db8:2::9'],
    ['an interface without a default', laptop, 'docker0', '2001:db8:2::9', undefined],
    ['an interface without a default, on-link', laptop, 'docker0', 'fd00:d0c::3', 'fd00:d0c::3'],
    ['not an address', laptop, 'eth0', 'nope', undefined],
  ];
  it.each(cases)('%s', (_name, routes, iface, dst, hop) => {
    expect(ipv6NextHop(routes, iface, dst)).toBe(hop);
  });

  it('prefix lengths that are not a multiple of 8', () => {
    // 2001:db8:100::/40 via fe80::a, 2001:db8:180::/41 via fe80::b (bit 40 set)
    const routes = parseIpv6Routes(
      [
        '20010db8010000000000000000000000 28 00000000000000000000000000000000 00 fe80000000000000000000000000000a 00000400 00000001 00000000 00000003 eth0',
        '20010db8018000000000000000000000 29 00000000000000000000000000000000 00 fe80000000000000000000000000000b 00000400 00000001 00000000 00000003 eth0',
      ].join('\n'),
    );
    expect(ipv6NextHop(routes, 'eth0', '2001:db8:17f::1')).toBe('fe80::a');
    expect(ipv6NextHop(routes, 'eth0', '2001:db8:180::1')).toBe('fe80::b');
    expect(ipv6NextHop(routes, 'eth0', '2001:db8:1ff:ffff::1')).toBe('fe80::b');
    expect(ipv6NextHop(routes, 'eth0', '2001:db8:200::1')).toBeUndefined();
  });
});

describe('parseNeighbours', () => {
  it('reads address, dev, lladdr, router and the states; skips IPv4 lines', () => {
    expect(parseNeighbours(ALL_NEIGH)).toEqual([
      { address: 'fe80::1', dev: 'wlan0', lladdr: '00:11:22:33:44:55', router: true, states: ['STALE'] },
      { address: 'fe80::2', dev: 'wlan0', lladdr: '00:11:22:33:44:66', router: true, states: ['REACHABLE'] },
      { address: 'fe80::1', dev: 'eth0', lladdr: '00:00:5e:00:02:01', router: true, states: ['REACHABLE'] },
      { address: '2001:db8:1::c', dev: 'eth0', lladdr: '52:54:00:00:00:0c', router: false, states: ['FAILED'] },
    ]);
    expect(parseNeighbours(CONTAINER_NEIGH)).toEqual([{ address: 'fd00::1', router: false, states: ['FAILED'] }]);
  });

  it('keeps going past words it does not know, and takes keyed values as values', () => {
    const [n] = parseNeighbours('2001:DB8:1:0::b lladdr 52:54:00:00:00:0B extern_learn proto STALE offload REACHABLE\n');
    // `proto STALE` is a protocol named STALE, not a state; the address and MAC come out canonical.
    expect(n).toEqual({ address: '2001:db8:1::b', lladdr: '52:54:00:00:00:0b', router: false, states: ['REACHABLE'] });
    expect(parseNeighbours('fe80::3 lladdr nonsense STALE\n')).toEqual([{ address: 'fe80::3', router: false, states: ['STALE'] }]);
  });
});

describe('neighbourMac', () => {
  const eth0 = parseNeighbours(LAPTOP_NEIGH);
  const all = parseNeighbours(ALL_NEIGH);
  const cases: Array<[string, typeof eth0, string, string, ReturnType<typeof neighbourMac>]> = [
    ['REACHABLE router', eth0, 'eth0', 'fe80::1', { mac: '00:00:5e:00:02:01' }],
    ['STALE', eth0, 'eth0', 'fe80::2', { mac: '52:54:00:a1:b2:c3' }],
    ['DELAY', eth0, 'eth0', '2001:db8:1::7', { mac: '52:54:00:00:00:07' }],
    ['PROBE', eth0, 'eth0', '2001:db8:1::8', { mac: '52:54:00:00:00:08' }],
    ['PERMANENT', eth0, 'eth0', '2001:db8:1::a', { mac: '02:00:00:00:00:0a' }],
    ['with a protocol', eth0, 'eth0', '2001:db8:1::b', { mac: '52:54:00:00:00:0b' }],
    ['FAILED', eth0, 'eth0', 'fe80::9', { state: 'FAILED' }],
    ['INCOMPLETE', eth0, 'eth0', '2001:db8:1::dead', { state: 'INCOMPLETE' }],
    ['not in the cache', eth0, 'eth0', '2001:db8:1::99', { state: undefined }],
    ['the same address written otherwise', eth0, 'eth0', '2001:0db8:0001:0000:0000:0000:0000:0007', { mac: '52:54:00:00:00:07' }],
    ['dev column: this interface\'s entry', all, 'eth0', 'fe80::1', { mac: '00:00:5e:00:02:01' }],
    ['dev column: not another interface\'s', all, 'eth0', 'fe80::2', { state: undefined }],
    ['FAILED with an lladdr', all, 'eth0', '2001:db8:1::c', { state: 'FAILED' }],
  ];
  it.each(cases)('%s', (_name, neigh, iface, address, want) => {
    expect(neighbourMac(neigh, iface, address)).toEqual(want);
  });
});

describe('lookupIpv6Mac', () => {
  const laptop = { eth0: LAPTOP_NEIGH, wlan0: 'fe80::1 lladdr 00:11:22:33:44:55 router STALE\n' };
  const cases: Array<[string, string | undefined, Record<string, string | { error: string }>, string, string, { hop?: string; mac?: string; why?: RegExp }]> = [
    ['default route, link-local gateway REACHABLE', LAPTOP, laptop, 'eth0', '2606:4700::1111', { hop: 'fe80::1', mac: '00:00:5e:00:02:01' }],
    ['the same destination through wlan0', LAPTOP, laptop, 'wlan0', '2606:4700::1111', { hop: 'fe80::1', mac: '00:11:22:33:44:55' }],
    ['static /48 via a STALE router', LAPTOP, laptop, 'eth0', '2001:db8:99::1', { hop: 'fe80::2', mac: '52:54:00:a1:b2:c3' }],
    ['on-link neighbour in DELAY', LAPTOP, laptop, 'eth0', '2001:db8:1::7', { hop: '2001:db8:1::7', mac: '52:54:00:00:00:07' }],
    ['on-link, not in the cache', LAPTOP, laptop, 'eth0', '2001:db8:1::99', { hop: '2001:db8:1::99', why: /^not in the neighbour cache: ping 2001:db8:1::99 first$/ }],
    ['on-link, INCOMPLETE', LAPTOP, laptop, 'eth0', '2001:db8:1::dead', { hop: '2001:db8:1::dead', why: /^INCOMPLETE in the neighbour cache/ }],
    ['link-local destination not in the cache: ping with the zone', LAPTOP, laptop, 'eth0', 'fe80::77', { hop: 'fe80::77', why: /ping fe80::77%eth0 first/ }],
    ['gateway FAILED (the container\'s)', CONTAINER, { eth0: CONTAINER_NEIGH }, 'eth0', '2001:db8::1', { hop: 'fd00::1', why: /^FAILED in the neighbour cache: ping fd00::1 first$/ }],
    ['no route through the interface', CONTAINER, {}, 'wlan0', '2001:db8::1', { why: /^no route through wlan0$/ }],
    ['no IPv6 at all', undefined, {}, 'eth0', '2001:db8::1', { why: /no IPv6 routing table/ }],
    ['ip is missing', CONTAINER, { eth0: { error: 'it needs ip (iproute2), which is not installed' } }, 'eth0', 'fd00::7', { hop: 'fd00::7', why: /^cannot read the neighbour cache: it needs ip/ }],
    ['multicast: 33:33 and the low 32 bits, no lookup', undefined, {}, 'eth0', 'ff02::1:ff00:1234', { hop: 'ff02::1:ff00:1234', mac: '33:33:ff:00:12:34' }],
  ];
  it.each(cases)('%s', (_name, routes, neigh, iface, dst, want) => {
    const t = tables(routes, neigh);
    const got = lookupIpv6Mac(iface, dst, t);
    expect(got.hop).toBe(want.hop);
    if (want.mac) expect(got).toEqual({ hop: want.hop, mac: want.mac });
    else expect('why' in got ? got.why : got.mac).toMatch(want.why!);
    // The neighbour cache is read only for the interface, and only once a route was found.
    expect(t.asked).toEqual(want.hop && !dst.startsWith('ff') ? [iface] : []);
  });
});

describe('ipv4GroupMac', () => {
  it.each([
    ['224.0.0.251', '01:00:5e:00:00:fb'],
    // Only the low 23 bits of the group survive: 224.128.1.2 and 224.0.1.2 share a MAC.
    ['224.128.1.2', '01:00:5e:00:01:02'],
    ['239.255.255.250', '01:00:5e:7f:ff:fa'],
    ['255.255.255.255', 'ff:ff:ff:ff:ff:ff'],
    ['192.0.2.1', undefined],
    ['240.0.0.1', undefined],
    ['224.0.0.256', undefined],
    ['fe80::1', undefined],
  ])('%s → %s', (dst, mac) => {
    expect(ipv4GroupMac(dst)).toBe(mac);
  });
});
