import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeLink,
  encodeLink,
  LINKTYPE_EN10MB,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  type LinkEncodeOptions,
} from '../../src/dissect/link.js';
import {
  decodeIp,
  decodeIPv4,
  decodeIPv6,
  decodeUdp,
  encodeIPv4,
  encodeIPv6,
  encodeIpUdp,
  encodeUdp,
  internetChecksum,
  summarizeTransport,
  verifyUdpChecksum,
  type IpDecode,
  type IpHeader,
  type UdpHeader,
} from '../../src/dissect/ip.js';
import { writePcap } from '../../src/capture/writer.js';
import { decodeIcmpError } from '../../src/dissect/icmp.js';
import { collect, run, toolsOrSkip } from '../capture/helpers.js';

const LISP = Uint8Array.of(0x10, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd, 1, 2, 3, 4);
const V4 = encodeIpUdp({ src: '192.0.2.1', dst: '198.51.100.7', sport: 40000, dport: 4342, id: 77, ttl: 9 }, LISP);
const V6 = encodeIpUdp({ src: '2001:db8::1', dst: 'fe80::1:2', sport: 4341, dport: 4341, ttl: 3 }, LISP);

function ip(d: IpDecode): IpHeader {
  if (!d.ok) throw new Error(`expected a decodable IP header: ${d.notes.join('; ')}`);
  return d;
}

function udp(d: ReturnType<typeof decodeUdp>): UdpHeader {
  if (!d.ok) throw new Error(`expected a decodable UDP header: ${d.notes.join('; ')}`);
  return d;
}

describe('decodeLink / encodeLink', () => {
  const cases: [string, number, LinkEncodeOptions, Partial<ReturnType<typeof decodeLink>>][] = [
    ['Ethernet II', LINKTYPE_EN10MB, {}, { next: 'ipv4', offset: 14, etherType: 0x0800, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' }],
    ['802.1Q', LINKTYPE_EN10MB, { vlans: [100] }, { next: 'ipv4', offset: 18, vlanIds: [100] }],
    ['QinQ 802.1ad', LINKTYPE_EN10MB, { vlans: [{ id: 10, tpid: 0x88a8, pcp: 5 }, 4094] }, { next: 'ipv4', offset: 22, vlanIds: [10, 4094] }],
    ['QinQ 0x9100 x3', LINKTYPE_EN10MB, { vlans: [{ id: 1, tpid: 0x9100 }, { id: 2, tpid: 0x9100, dei: true }, 3] }, { next: 'ipv4', offset: 26, vlanIds: [1, 2, 3] }],
    ['802.3 + SNAP', LINKTYPE_EN10MB, { snap: true }, { next: 'ipv4', offset: 22, etherType: 0x0800, llc: { dsap: 0xaa, ssap: 0xaa, control: 3, oui: 0, pid: 0x0800 } }],
    ['VLAN + 802.3 + SNAP', LINKTYPE_EN10MB, { snap: true, vlans: [7] }, { next: 'ipv4', offset: 26, vlanIds: [7] }],
    ['Linux SLL', LINKTYPE_LINUX_SLL, { packetType: 4 }, { next: 'ipv4', offset: 16, packetType: 4, arphrd: 1, etherType: 0x0800 }],
    ['Linux SLL2', LINKTYPE_LINUX_SLL2, { ifIndex: 7, packetType: 3 }, { next: 'ipv4', offset: 20, ifIndex: 7, packetType: 3 }],
    ['NULL little-endian host', LINKTYPE_NULL, {}, { next: 'ipv4', offset: 4, family: 2 }],
    ['NULL big-endian host', LINKTYPE_NULL, { hostEndian: 'be' }, { next: 'ipv4', offset: 4, family: 2 }],
    ['LOOP', LINKTYPE_LOOP, {}, { next: 'ipv4', offset: 4, family: 2 }],
    ['RAW', LINKTYPE_RAW, {}, { next: 'ipv4', offset: 0 }],
    ['RAW (12)', 12, {}, { next: 'ipv4', offset: 0, linkName: 'RAW' }],
    ['RAW (14)', 14, {}, { next: 'ipv4', offset: 0 }],
    ['IPV4', LINKTYPE_IPV4, {}, { next: 'ipv4', offset: 0, linkName: 'IPV4' }],
  ];
  for (const [name, lt, opts, want] of cases) {
    it(`${name} (IPv4 and, where it applies, IPv6)`, () => {
      const d = decodeLink(lt, encodeLink(lt, V4, opts));
      expect(d).toMatchObject({ linkType: lt, notes: [], ...want });
      const back = ip(decodeIp(encodeLink(lt, V4, opts), d.offset));
      expect([back.src, back.dst]).toEqual(['192.0.2.1', '198.51.100.7']);
      if (lt !== LINKTYPE_IPV4) {
        const d6 = decodeLink(lt, encodeLink(lt, V6, opts));
        expect(d6.next).toBe('ipv6');
        expect(ip(decodeIp(encodeLink(lt, V6, opts), d6.offset)).src).toBe('2001:db8::1');
      }
    });
  }

  it('NULL/LOOP: every IPv6 address family value, other families are not IP', () => {
    for (const af of [10, 24, 28, 30]) {
      for (const hostEndian of ['le', 'be'] as const) {
        expect(decodeLink(LINKTYPE_NULL, encodeLink(LINKTYPE_NULL, V6, { family: af, hostEndian }))).toMatchObject({ next: 'ipv6', family: af });
      }
      expect(decodeLink(LINKTYPE_LOOP, encodeLink(LINKTYPE_LOOP, V6, { family: af }))).toMatchObject({ next: 'ipv6', family: af });
    }
    expect(decodeLink(LINKTYPE_NULL, encodeLink(LINKTYPE_NULL, V4, { family: 7 }))).toMatchObject({ next: 'non-ip', family: 7 });
    // LOOP is always big-endian: a little-endian 2 is 0x02000000, not IPv4.
    expect(decodeLink(LINKTYPE_LOOP, Uint8Array.of(2, 0, 0, 0, ...V4))).toMatchObject({ next: 'non-ip', family: 0x02000000 });
  });

  it('IPV6 link type and defaults', () => {
    expect(decodeLink(LINKTYPE_IPV6, V6)).toMatchObject({ next: 'ipv6', offset: 0, notes: [] });
    expect(decodeLink(LINKTYPE_IPV6, V4).notes).toEqual(['link type IPV6 but IP version 4 at byte offset 0']);
    expect(decodeLink(LINKTYPE_IPV4, new Uint8Array(0))).toMatchObject({ next: 'truncated', notes: ['empty frame'] });
    expect(encodeLink(LINKTYPE_NULL, V6).subarray(0, 4)).toEqual(Uint8Array.of(30, 0, 0, 0));
    expect(encodeLink(LINKTYPE_LOOP, V6).subarray(0, 4)).toEqual(Uint8Array.of(0, 0, 0, 24));
  });

  it('non-IP payloads and unknown link types are results, not errors', () => {
    const arp = encodeLink(LINKTYPE_EN10MB, new Uint8Array(28), { etherType: 0x0806 });
    expect(decodeLink(LINKTYPE_EN10MB, arp)).toMatchObject({ next: 'non-ip', etherType: 0x0806, offset: 14 });
    const stp = Uint8Array.from([...new Uint8Array(12), 0, 38, 0x42, 0x42, 0x03, ...new Uint8Array(35)]);
    expect(decodeLink(LINKTYPE_EN10MB, stp)).toMatchObject({ next: 'non-ip', offset: 17, llc: { dsap: 0x42, ssap: 0x42, control: 3 } });
    const iframe = Uint8Array.from([...new Uint8Array(12), 0, 38, 0xf0, 0xf0, 0x00, 0x01, ...new Uint8Array(30)]);
    expect(decodeLink(LINKTYPE_EN10MB, iframe).offset).toBe(18);
    const cisco = Uint8Array.from([...new Uint8Array(12), 0, 38, 0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00, ...new Uint8Array(30)]);
    expect(decodeLink(LINKTYPE_EN10MB, cisco)).toMatchObject({ next: 'non-ip', offset: 22, llc: { oui: 0x0c, pid: 0x2000 } });
    const odd = Uint8Array.from([...new Uint8Array(12), 0x05, 0xf0, ...V4]);
    expect(decodeLink(LINKTYPE_EN10MB, odd)).toMatchObject({ next: 'non-ip', notes: ['type/length 1520 before byte offset 14 is neither a length nor an Ethertype'] });
    expect(decodeLink(147, V4)).toMatchObject({ next: 'unknown-linktype', linkName: 'LINKTYPE_147', offset: 0 });
    expect(decodeLink(-1, V4).next).toBe('unknown-linktype');
    expect(() => encodeLink(147, V4)).toThrow(RangeError);
    // Linux cooked: netlink, 802.2 and Novell pseudo protocols.
    const sll = (arphrd: number, proto: number): Uint8Array => {
      const f = encodeLink(LINKTYPE_LINUX_SLL, V4, { arphrd, etherType: proto });
      return f;
    };
    expect(decodeLink(LINKTYPE_LINUX_SLL, sll(824, 0x0800))).toMatchObject({ next: 'non-ip', arphrd: 824, etherType: 0x0800 });
    expect(decodeLink(LINKTYPE_LINUX_SLL, sll(1, 0x0001))).toMatchObject({ next: 'non-ip', etherType: 1 });
    expect(decodeLink(LINKTYPE_LINUX_SLL, sll(1, 0x0004))).toMatchObject({ next: 'non-ip', llc: { dsap: 0x45 } });
    // A VLAN tag kept after the cooked header.
    const tagged = Uint8Array.from([0x20, 0x05, 0x08, 0x00, ...V4]);
    expect(decodeLink(LINKTYPE_LINUX_SLL2, encodeLink(LINKTYPE_LINUX_SLL2, tagged, { etherType: 0x8100 }))).toMatchObject({ next: 'ipv4', vlanIds: [5], offset: 24 });
  });

  it('reports cut-short link headers with offsets', () => {
    const eth = encodeLink(LINKTYPE_EN10MB, V4, { vlans: [5, 6] });
    expect(decodeLink(LINKTYPE_EN10MB, eth.subarray(0, 13))).toMatchObject({ next: 'truncated', notes: ['Ethernet header is cut short (13 of 14 bytes)'] });
    expect(decodeLink(LINKTYPE_EN10MB, eth.subarray(0, 20))).toMatchObject({ next: 'truncated', vlanIds: [5], notes: ['VLAN tag at byte offset 18 is cut short (2 of 4 bytes)'] });
    const snap = encodeLink(LINKTYPE_EN10MB, V4, { snap: true });
    expect(decodeLink(LINKTYPE_EN10MB, snap.subarray(0, 16)).notes).toEqual(['LLC header at byte offset 14 is cut short']);
    expect(decodeLink(LINKTYPE_EN10MB, snap.subarray(0, 20)).notes).toEqual(['SNAP header at byte offset 17 is cut short']);
    expect(decodeLink(LINKTYPE_LINUX_SLL, new Uint8Array(15)).notes).toEqual(['Linux cooked header is cut short (15 of 16 bytes)']);
    expect(decodeLink(LINKTYPE_LINUX_SLL2, new Uint8Array(19)).notes).toEqual(['Linux cooked v2 header is cut short (19 of 20 bytes)']);
    expect(decodeLink(LINKTYPE_NULL, new Uint8Array(3)).next).toBe('truncated');
    expect(decodeLink(LINKTYPE_LOOP, new Uint8Array(2)).next).toBe('truncated');
    expect(decodeLink(LINKTYPE_RAW, new Uint8Array(0)).next).toBe('truncated');
    expect(decodeLink(LINKTYPE_RAW, Uint8Array.of(0x50)).notes).toEqual(['raw IP frame has IP version 5 at byte offset 0']);
  });

  it('pads short Ethernet frames and the IP layer ignores the padding', () => {
    const tiny = encodeIPv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17 }, encodeUdp(1, 2, new Uint8Array(0)));
    const frame = encodeLink(LINKTYPE_EN10MB, tiny, { pad: true });
    expect(frame.length).toBe(60);
    const d = ip(decodeIp(frame, decodeLink(LINKTYPE_EN10MB, frame).offset));
    expect([d.payloadOffset, d.payloadEnd, d.truncated]).toEqual([34, 42, false]);
    const u = udp(decodeUdp(frame, d.payloadOffset, d.payloadEnd));
    expect([u.payloadOffset, u.payloadEnd, u.notes]).toEqual([42, 42, []]);
  });

  it('never throws on random bytes (property)', () => {
    const types = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147, 65535];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 80 }), (lt, bytes) => {
        const d = decodeLink(lt, bytes);
        expect(d.offset).toBeGreaterThanOrEqual(0);
        expect(d.offset).toBeLessThanOrEqual(Math.max(bytes.length, 0) + 8);
        if (d.next === 'ipv4' || d.next === 'ipv6') expect(d.offset).toBeLessThanOrEqual(bytes.length);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('IPv4', () => {
  it('round-trips every header field', () => {
    const opts = Uint8Array.of(0x94, 0x04, 0, 0, 0x01); // router alert + NOP, padded to 8
    const pkt = encodeIPv4(
      { src: '10.1.2.3', dst: '224.0.0.9', proto: 17, ttl: 1, id: 0xbeef, tos: 0xb8, df: true, mf: true, fragmentOffset: 0x1234, options: opts },
      Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
    );
    const h = ip(decodeIPv4(pkt));
    expect(h).toMatchObject({
      version: 4,
      src: '10.1.2.3',
      dst: '224.0.0.9',
      proto: 17,
      ttl: 1,
      id: 0xbeef,
      tos: 0xb8,
      dontFragment: true,
      moreFragments: true,
      fragmentOffset: 0x1234,
      isFragment: true,
      checksumOk: true,
      optionsOffset: 20,
      optionsLength: 8,
      headerOffset: 0,
      payloadOffset: 28,
      payloadEnd: 36,
      totalLength: 36,
      truncated: false,
      notes: [],
    });
    expect(Array.from(pkt.subarray(20, 28))).toEqual([0x94, 4, 0, 0, 1, 0, 0, 0]);
    expect(internetChecksum(pkt, 0, 28)).toBe(0);
  });

  it('flags problems as notes or malformed results', () => {
    const good = encodeIPv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6 }, new Uint8Array(20));
    const at = (bytes: Uint8Array, off: number): IpDecode => decodeIPv4(Uint8Array.from([...new Uint8Array(off), ...bytes]), off);
    expect(at(good.subarray(0, 19), 3)).toEqual({ ok: false, version: 4, notes: ['IPv4 header at byte offset 3 is cut short (19 of 20 bytes)'] });
    const ihl = good.slice();
    ihl[0] = 0x44;
    expect(at(ihl, 2)).toEqual({ ok: false, version: 4, notes: ['IPv4 IHL 4 at byte offset 2 is below the minimum 5'] });
    const v = good.slice();
    v[0] = 0x65;
    expect(decodeIPv4(v)).toMatchObject({ ok: false, version: 6 });
    const long = good.slice();
    long[0] = 0x4f;
    expect(decodeIPv4(long.subarray(0, 40)).notes).toEqual(['IPv4 header with options at byte offset 0 is cut short (40 of 60 bytes)']);
    const short = encodeIPv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, totalLength: 12 }, new Uint8Array(20));
    expect(ip(decodeIPv4(short))).toMatchObject({ payloadOffset: 20, payloadEnd: 20, notes: ['IPv4 Total Length 12 at byte offset 2 is less than the header length 20'] });
    const tso = encodeIPv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, totalLength: 0 }, new Uint8Array(20));
    expect(ip(decodeIPv4(tso))).toMatchObject({ payloadEnd: 40, truncated: false });
    // Deviations that still decode are warnings, not errors.
    expect(ip(decodeIPv4(tso))).toMatchObject({ notes: [] });
    expect(ip(decodeIPv4(tso)).warnings[0]).toMatch(/Total Length 0 .*segmentation offload/);
    const evil = encodeIPv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, reservedFlag: true }, new Uint8Array(0));
    expect(ip(decodeIPv4(evil))).toMatchObject({ notes: [], warnings: ['IPv4 reserved flag set at byte offset 6'] });
    const bad = encodeIPv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, checksum: 0x1234 }, new Uint8Array(0));
    expect(ip(decodeIPv4(bad)).checksumOk).toBe(false);
    // Snaplen cut: the header says more than was captured.
    expect(ip(decodeIPv4(good.subarray(0, 30)))).toMatchObject({ payloadEnd: 30, truncated: true, totalLength: 40 });
    expect(decodeIp(Uint8Array.of(0x20))).toEqual({ ok: false, version: 2, notes: ['IP version 2 at byte offset 0 is neither 4 nor 6'] });
    expect(decodeIp(new Uint8Array(0), 0)).toMatchObject({ ok: false, notes: ['no IP header at byte offset 0'] });
  });

  it('rejects bad encoder input', () => {
    expect(() => encodeIPv4({ src: '1.1.1', dst: '2.2.2.2', proto: 6 }, new Uint8Array(0))).toThrow(RangeError);
    expect(() => encodeIPv4({ src: '::1', dst: '2.2.2.2', proto: 6 }, new Uint8Array(0))).toThrow(RangeError);
    expect(() => encodeIPv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, options: new Uint8Array(41) }, new Uint8Array(0))).toThrow(RangeError);
    expect(() => encodeIPv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6 }, new Uint8Array(65516))).toThrow(RangeError);
  });
});

describe('IPv6', () => {
  it('round-trips the fixed header', () => {
    const pkt = encodeIPv6({ src: '2001:db8:0:0:1::1', dst: '::ffff:192.0.2.1', nextHeader: 58, hopLimit: 255, trafficClass: 0xe1, flowLabel: 0xabcde }, Uint8Array.of(128, 0));
    expect(ip(decodeIPv6(pkt))).toMatchObject({
      version: 6,
      src: '2001:db8::1:0:0:1',
      dst: '::ffff:192.0.2.1',
      proto: 58,
      ttl: 255,
      tos: 0xe1,
      flowLabel: 0xabcde,
      payloadOffset: 40,
      payloadEnd: 42,
      totalLength: 42,
      isFragment: false,
      notes: [],
    });
  });

  it('walks every extension header type to the upper layer', () => {
    const pkt = encodeIPv6(
      {
        src: '2001:db8::1',
        dst: '2001:db8::2',
        nextHeader: 17,
        extensionHeaders: [
          { type: 0, data: Uint8Array.of(5, 2, 0, 0) },
          { type: 43, data: Uint8Array.of(0, 0, 0, 0, 0, 0, ...new Uint8Array(16)) },
          { type: 60 },
          { type: 135, data: new Uint8Array(13) },
          { type: 139 },
          { type: 140 },
          { type: 51, data: new Uint8Array(20) },
          { type: 44, fragmentOffset: 0, more: false, id: 99 },
          { type: 60, data: new Uint8Array(7) },
        ],
      },
      encodeUdp(4341, 4342, LISP),
    );
    const h = ip(decodeIPv6(pkt));
    expect(h.notes).toEqual([]);
    expect(h.extensionHeaders!.map((e) => [e.type, e.length])).toEqual([
      [0, 8],
      [43, 24],
      [60, 8],
      [135, 16],
      [139, 8],
      [140, 8],
      [51, 24],
      [44, 8],
      [60, 16],
    ]);
    // The atomic fragment (offset 0, M 0) is not a fragment: the walk goes on.
    expect([h.proto, h.isFragment, h.id, h.payloadOffset]).toEqual([17, false, 99, 40 + 120]);
    expect(udp(decodeUdp(pkt, h.payloadOffset, h.payloadEnd))).toMatchObject({ srcPort: 4341, dstPort: 4342 });
    // PadN fills the Hop-by-Hop header: one 2-byte option then PadN of 2.
    expect(Array.from(pkt.subarray(40, 48))).toEqual([43, 0, 5, 2, 0, 0, 1, 0]);
  });

  it('stops at fragments, ESP and No Next Header', () => {
    const frag = encodeIPv6({ src: '::1', dst: '::2', nextHeader: 17, extensionHeaders: [{ type: 60 }, { type: 44, fragmentOffset: 3, more: true, id: 0xdeadbeef }] }, new Uint8Array(24));
    expect(ip(decodeIPv6(frag))).toMatchObject({ proto: 17, isFragment: true, moreFragments: true, fragmentOffset: 3, id: 0xdeadbeef, fragmentHeaderOffset: 48, payloadOffset: 56 });
    const esp = encodeIPv6({ src: '::1', dst: '::2', nextHeader: 50, extensionHeaders: [{ type: 0 }] }, new Uint8Array(16));
    expect(ip(decodeIPv6(esp))).toMatchObject({ proto: 50, payloadOffset: 48 });
    const none = encodeIPv6({ src: '::1', dst: '::2', nextHeader: 59 }, new Uint8Array(0));
    expect(ip(decodeIPv6(none))).toMatchObject({ proto: 59, payloadOffset: 40, notes: [] });
  });

  it('notes chains that are too long, run past the packet or misplace Hop-by-Hop', () => {
    const many = encodeIPv6({ src: '::1', dst: '::2', nextHeader: 17, extensionHeaders: Array.from({ length: 17 }, () => ({ type: 60 as const })) }, new Uint8Array(8));
    const h = ip(decodeIPv6(many));
    expect(h.extensionHeaders).toHaveLength(16);
    expect([h.proto, h.notes]).toEqual([60, ['more than 16 IPv6 extension headers; stopped at byte offset 168']]);
    const past = encodeIPv6({ src: '::1', dst: '::2', nextHeader: 17, extensionHeaders: [{ type: 60, data: new Uint8Array(20) }] }, new Uint8Array(0));
    const p = ip(decodeIPv6(past.subarray(0, 50)));
    expect(p.notes).toEqual(['IPv6 extension header 60 at byte offset 40 (24 bytes) runs past the end of the packet']);
    expect([p.proto, p.payloadOffset, p.truncated]).toEqual([60, 40, true]);
    expect(ip(decodeIPv6(past.subarray(0, 41))).notes).toEqual(['IPv6 extension header 60 at byte offset 40 runs past the end of the packet']);
    const hbh = encodeIPv6({ src: '::1', dst: '::2', nextHeader: 17, extensionHeaders: [{ type: 60 }, { type: 0 }] }, new Uint8Array(8));
    expect(ip(decodeIPv6(hbh)).warnings).toEqual(['IPv6 Hop-by-Hop Options header at byte offset 48 is not first']);
    const zero = encodeIPv6({ src: '::1', dst: '::2', nextHeader: 17, payloadLength: 0 }, new Uint8Array(8));
    expect(ip(decodeIPv6(zero))).toMatchObject({ payloadEnd: 48, notes: [], warnings: ['IPv6 Payload Length 0 at byte offset 4 with data following; using the captured length'] });
    expect(decodeIPv6(zero.subarray(0, 39))).toMatchObject({ ok: false, notes: ['IPv6 header at byte offset 0 is cut short (39 of 40 bytes)'] });
    expect(decodeIPv6(V4)).toMatchObject({ ok: false, version: 4 });
    expect(() => encodeIPv6({ src: '1.2.3.4', dst: '::2', nextHeader: 17 }, new Uint8Array(0))).toThrow(RangeError);
  });
});

describe('UDP', () => {
  it('decodes, bounds by the IP payload, and verifies checksums for IPv4 and IPv6', () => {
    for (const pkt of [V4, V6]) {
      const h = ip(decodeIp(pkt));
      const u = udp(decodeUdp(pkt, h.payloadOffset, h.payloadEnd));
      expect([u.length, u.payloadEnd - u.payloadOffset, u.truncated, u.notes]).toEqual([20, 12, false, []]);
      expect(u.checksum).not.toBe(0);
      expect(verifyUdpChecksum(pkt, h, u)).toBe(true);
      const bad = pkt.slice();
      bad[bad.length - 1]! ^= 0xff;
      expect(verifyUdpChecksum(bad, h, u)).toBe(false);
    }
    const none = encodeIpUdp({ src: '2001:db8::1', dst: '2001:db8::2', sport: 1, dport: 2, udpChecksum: false }, LISP);
    const h = ip(decodeIp(none));
    expect(verifyUdpChecksum(none, h, udp(decodeUdp(none, h.payloadOffset, h.payloadEnd)))).toBeUndefined();
  });

  it('sends a computed zero checksum as 0xffff', () => {
    // Choose a payload word that makes the sum come out at zero.
    const base = encodeUdp(1, 2, Uint8Array.of(0, 0), { checksum: { src: '10.0.0.1', dst: '10.0.0.2' } });
    const c = new DataView(base.buffer).getUint16(6);
    const fix = encodeUdp(1, 2, Uint8Array.of(c >> 8, c & 0xff), { checksum: { src: '10.0.0.1', dst: '10.0.0.2' } });
    expect(new DataView(fix.buffer).getUint16(6)).toBe(0xffff);
    expect(() => encodeUdp(1, 2, new Uint8Array(0), { checksum: { src: '10.0.0.1', dst: '::1' } })).toThrow(RangeError);
  });

  it('flags bad lengths', () => {
    const u = encodeUdp(5, 6, new Uint8Array(10));
    const withLen = (len: number): Uint8Array => {
      const c = u.slice();
      new DataView(c.buffer).setUint16(4, len);
      return c;
    };
    expect(udp(decodeUdp(withLen(4), 0, 18))).toMatchObject({ payloadEnd: 8, notes: ['UDP Length 4 at byte offset 4 is below 8'] });
    expect(udp(decodeUdp(withLen(30), 0, 18))).toMatchObject({ payloadEnd: 18, notes: ['UDP Length 30 at byte offset 4 exceeds the IP payload (18 bytes)'] });
    expect(udp(decodeUdp(withLen(0), 0, 18))).toMatchObject({ payloadEnd: 18, notes: [], warnings: ['UDP Length 0 at byte offset 4; using the IP payload length'] });
    expect(udp(decodeUdp(withLen(12), 0, 18))).toMatchObject({ payloadEnd: 12, notes: [], truncated: false });
    // Captured 14 of the 18 bytes the IP header declares.
    expect(udp(decodeUdp(u, 0, 14, 18))).toMatchObject({ payloadEnd: 14, truncated: true, notes: [] });
    // Bytes beyond the IP payload (padding) are never UDP.
    expect(udp(decodeUdp(Uint8Array.from([...u, 0, 0, 0]), 0, 21, 18))).toMatchObject({ payloadEnd: 18 });
    expect(decodeUdp(u, 0, 7)).toEqual({ ok: false, notes: ['UDP header at byte offset 0 is cut short (7 of 8 bytes)'] });
  });
});

describe('summarizeTransport', () => {
  it('gives ports, ICMP type/code and TCP flags as far as captured', () => {
    expect(summarizeTransport(6, Uint8Array.of(0, 80, 0x10, 0xe1, 0, 0, 1, 0, 0, 0, 0, 7, 0x50, 0x12), 0, 14)).toEqual({
      sport: 80,
      dport: 4321,
      tcpSeq: 256,
      tcpAck: 7,
      tcpHeaderLength: 20,
      tcpFlags: 0x12,
    });
    expect(summarizeTransport(6, Uint8Array.of(0, 80, 0x10, 0xe1), 0, 4)).toEqual({ sport: 80, dport: 4321 });
    expect(summarizeTransport(17, Uint8Array.of(0x10, 0xf5, 0x10, 0xf6), 0, 4)).toEqual({ sport: 4341, dport: 4342 });
    expect(summarizeTransport(17, Uint8Array.of(0x10, 0xf5, 0x10, 0xf6, 0, 12), 0, 6)).toEqual({ sport: 4341, dport: 4342, udpLength: 12 });
    // Echo request / reply (ICMP 8/0, ICMPv6 128/129): Identifier and Sequence Number.
    expect(summarizeTransport(1, Uint8Array.of(8, 0, 0xab, 0xcd, 0x0d, 0x7c, 0, 11), 0, 8)).toEqual({ icmpType: 8, icmpCode: 0, icmpId: 3452, icmpSeq: 11 });
    expect(summarizeTransport(58, Uint8Array.of(129, 0, 0, 0, 0, 1, 0, 2), 0, 8)).toEqual({ icmpType: 129, icmpCode: 0, icmpId: 1, icmpSeq: 2 });
    expect(summarizeTransport(1, Uint8Array.of(11, 0, 0, 0, 0, 1, 0, 2), 0, 8)).toEqual({ icmpType: 11, icmpCode: 0 });
    expect(summarizeTransport(132, Uint8Array.of(0, 1, 0, 2), 0, 4)).toEqual({ sport: 1, dport: 2 });
    expect(summarizeTransport(1, Uint8Array.of(3, 4), 0, 2)).toEqual({ icmpType: 3, icmpCode: 4 });
    expect(summarizeTransport(58, Uint8Array.of(9, 128, 0), 1, 3)).toEqual({ icmpType: 128, icmpCode: 0 });
    expect(summarizeTransport(17, Uint8Array.of(0, 1, 0), 0, 3)).toEqual({});
    expect(summarizeTransport(47, Uint8Array.of(0, 1, 0, 2), 0, 4)).toEqual({});
    expect(summarizeTransport(6, Uint8Array.of(0, 1), 0, 100)).toEqual({});
  });
});

describe('properties', () => {
  const v4addr = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
  const v6addr = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => g.map((x) => x.toString(16)).join(':'));

  it('IPv4/UDP encode → decode round-trips', () => {
    fc.assert(
      fc.property(v4addr, v4addr, fc.nat(0xffff), fc.nat(0xffff), fc.uint8Array({ maxLength: 100 }), fc.nat(255), (src, dst, sp, dp, payload, ttl) => {
        const pkt = encodeIpUdp({ src, dst, sport: sp, dport: dp, ttl }, payload);
        const h = ip(decodeIp(pkt));
        expect([h.src, h.dst, h.ttl, h.proto, h.checksumOk]).toEqual([src, dst, ttl, 17, true]);
        const u = udp(decodeUdp(pkt, h.payloadOffset, h.payloadEnd));
        expect([u.srcPort, u.dstPort, Array.from(pkt.subarray(u.payloadOffset, u.payloadEnd))]).toEqual([sp, dp, Array.from(payload)]);
        expect(verifyUdpChecksum(pkt, h, u)).toBe(true);
      }),
    );
  });

  it('IPv6/UDP encode → decode round-trips', () => {
    fc.assert(
      fc.property(v6addr, v6addr, fc.nat(0xfffff), fc.nat(255), fc.uint8Array({ maxLength: 100 }), (src, dst, flow, tc, payload) => {
        const pkt = encodeIPv6({ src, dst, nextHeader: 17, flowLabel: flow, trafficClass: tc }, encodeUdp(1, 2, payload, { checksum: { src, dst } }));
        const h = ip(decodeIp(pkt));
        expect([h.flowLabel, h.tos, h.payloadEnd]).toEqual([flow, tc, pkt.length]);
        expect(verifyUdpChecksum(pkt, h, udp(decodeUdp(pkt, h.payloadOffset, h.payloadEnd)))).toBe(true);
      }),
    );
  });

  it('decoders never throw and stay within bounds on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(20), fc.nat(255), (bytes, off, proto) => {
        const start = Math.min(off, bytes.length);
        for (const d of [decodeIp(bytes, start), decodeIPv4(bytes, start), decodeIPv6(bytes, start)]) {
          if (d.ok) {
            expect(d.payloadOffset).toBeGreaterThanOrEqual(start);
            expect(d.payloadEnd).toBeLessThanOrEqual(bytes.length);
            expect(d.payloadOffset).toBeLessThanOrEqual(Math.max(d.payloadEnd, d.payloadOffset));
          }
        }
        const u = decodeUdp(bytes, start, bytes.length);
        if (u.ok) expect(u.payloadEnd).toBeLessThanOrEqual(bytes.length);
        summarizeTransport(proto, bytes, start, bytes.length);
      }),
      { numRuns: 5000 },
    );
  });

  it('random bytes behind a valid IPv6 header with extension-header types never throw', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 43, 44, 51, 60, 135, 139, 140), fc.uint8Array({ maxLength: 300 }), (nh, rest) => {
        const pkt = encodeIPv6({ src: '::1', dst: '::2', nextHeader: nh }, rest);
        const d = ip(decodeIPv6(pkt));
        expect(d.payloadOffset).toBeLessThanOrEqual(pkt.length);
        expect((d.extensionHeaders ?? []).length).toBeLessThanOrEqual(16);
      }),
      { numRuns: 3000 },
    );
  });
});

const tools = toolsOrSkip('tshark');

describe.runIf(tools)('tshark agrees with our link, IP and UDP decoding', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lispscope-net-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function fields(file: string, names: string[], prefs: string[] = [], occurrence = 'f'): string[][] {
    const args = ['-n', '-r', file, ...prefs.flatMap((p) => ['-o', p]), '-T', 'fields', '-E', `occurrence=${occurrence}`, ...names.flatMap((n) => ['-e', n])];
    return run('tshark', args)
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t'));
  }

  it('on every framing our encoder makes', () => {
    const variants: [number, LinkEncodeOptions][] = [
      [1, {}],
      [1, { vlans: [100] }],
      [1, { vlans: [{ id: 10, tpid: 0x88a8 }, 20] }],
      [1, { vlans: [{ id: 30, tpid: 0x9100 }, 40] }],
      [1, { snap: true }],
      [1, { pad: true }],
      [113, {}],
      [276, {}],
      [0, {}],
      [0, { hostEndian: 'be' }],
      [108, {}],
      [101, {}],
    ];
    // One file (one tshark run) per link type, a frame per framing and IP version, a row per frame.
    for (const lt of new Set(variants.map(([t]) => t))) {
      const framings = variants.filter(([t]) => t === lt).flatMap(([, opts]) => [V4, V6].map((l3) => ({ opts, frame: encodeLink(lt, l3, opts) })));
      const file = join(dir, `v${lt}.pcap`);
      writeFileSync(file, writePcap(framings.map(({ frame }) => ({ tsSec: 1, tsNsec: 0, data: frame })), { linkType: lt }));
      // Wireshark shows 802.1ad tags as ieee8021ad, the others as vlan.
      const rows = fields(file, ['ieee8021ad.id', 'vlan.id', 'ip.src', 'ipv6.src', 'udp.srcport', 'udp.dstport', 'udp.checksum.status', 'ip.checksum.status'], [
        'udp.check_checksum:TRUE',
        'ip.check_checksum:TRUE',
      ], 'a');
      expect(rows, `link type ${lt}`).toHaveLength(framings.length);
      framings.forEach(({ opts, frame }, i) => {
        const row = rows[i]!;
        const tags = [row.shift(), row.shift()].filter((t) => t).join(',');
        const link = decodeLink(lt, frame);
        const h = ip(decodeIp(frame, link.offset));
        const u = udp(decodeUdp(frame, h.payloadOffset, h.payloadEnd));
        const ctx = `${lt} ${JSON.stringify(opts)} v${h.version}`;
        expect(tags, ctx).toBe((link.vlanIds ?? []).join(','));
        expect([ctx, ...row]).toEqual([
          ctx,
          h.version === 4 ? h.src : '',
          h.version === 6 ? h.src : '',
          String(u.srcPort),
          String(u.dstPort),
          '1', // Wireshark's "Good"
          h.version === 4 ? '1' : '',
        ]);
      });
    }
  }, 120_000);

  it('on the real captures', () => {
    const dirShared = join(import.meta.dirname, '../../../shared/captures');
    for (const name of readdirSync(dirShared).filter((f) => f.endsWith('.pcap'))) {
      const file = join(dirShared, name);
      const rows = fields(file, ['ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'udp.srcport', 'udp.dstport', 'ip.proto', 'ip.ttl', 'ip.id']);
      const frames = collect(readFileSync(file)).frames;
      expect(frames).toHaveLength(rows.length);
      frames.forEach((f, i) => {
        const link = decodeLink(f.linkType, f.data);
        const row = rows[i]!;
        if (link.next !== 'ipv4' && link.next !== 'ipv6') {
          expect([name, f.index, row[0], row[2]]).toEqual([name, f.index, '', '']);
          return;
        }
        const h = ip(decodeIp(f.data, link.offset));
        const mine = [h.version === 4 ? h.src : '', h.version === 4 ? h.dst : '', h.version === 6 ? h.src : '', h.version === 6 ? h.dst : ''];
        let ports = ['', ''];
        if (h.proto === 17) {
          const u = udp(decodeUdp(f.data, h.payloadOffset, h.payloadEnd, h.headerOffset + h.totalLength));
          ports = [String(u.srcPort), String(u.dstPort)];
        } else if (h.proto === 1 || h.proto === 58) {
          // An ICMP error: tshark's first UDP ports are those of the datagram it quotes.
          const q = decodeIcmpError(f.data, h.payloadOffset, h.payloadEnd, h.version).value?.quoted;
          if (q?.sport !== undefined) ports = [String(q.sport), String(q.dport)];
        }
        const v4extra = h.version === 4 ? [String(h.proto), String(h.ttl), `0x${h.id.toString(16).padStart(4, '0')}`] : ['', '', ''];
        expect([name, f.index, ...mine, ...ports, ...v4extra]).toEqual([name, f.index, ...row]);
      });
    }
  }, 120_000);
});
