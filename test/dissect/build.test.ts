import { describe, expect, it } from 'vitest';
import { verifyAuth } from '../../src/dissect/auth.js';
import {
  dataPacket,
  ecm,
  infoReply,
  infoRequest,
  innerPacket,
  lispDataHeader,
  lispUdpPacket,
  mapNotify,
  mapNotifyAck,
  mapReferral,
  mapRegister,
  mapRegisterMessage,
  mapReply,
  mapRequest,
  mappingRecord,
  natTraversal,
  negativeMapReply,
  randomNonce,
  referralRecord,
  seededNonces,
  signed,
} from '../../src/dissect/build.js';
import { decodeControl, encodeControl } from '../../src/dissect/control.js';
import { dataHeaderFields, decodeData } from '../../src/dissect/data.js';
import { decodeIp, decodeUdp, internetChecksum, transportChecksum, verifyUdpChecksum, type IpHeader, type UdpHeader } from '../../src/dissect/ip.js';
import type { ControlMessage, InfoMessage, LispAddress, MapNotify, MapRegister, MapRequest } from '../../src/dissect/types.js';

const NONCE = 0x0123456789abcdefn;

function decode(bytes: Uint8Array): ControlMessage {
  const d = decodeControl(bytes);
  expect(d.notes).toEqual([]);
  return d.value;
}

/** IP + UDP headers of a datagram, asserting they decode cleanly. */
function ipUdp(b: Uint8Array): { ip: IpHeader; udp: UdpHeader; payload: Uint8Array } {
  const ip = decodeIp(b);
  if (!ip.ok) throw new Error(ip.notes.join('; '));
  expect(ip.notes).toEqual([]);
  const udp = decodeUdp(b, ip.payloadOffset, ip.payloadEnd);
  if (!udp.ok) throw new Error(udp.notes.join('; '));
  return { ip, udp, payload: b.subarray(udp.payloadOffset, udp.payloadEnd) };
}

describe('nonces', () => {
  it('seededNonces is deterministic and 64-bit', () => {
    const a = seededNonces(7);
    const b = seededNonces(7n);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect(new Set(xs).size).toBe(3);
    for (const x of xs) expect(x >= 0n && x < 1n << 64n).toBe(true);
    expect(seededNonces(8)()).not.toBe(xs[0]);
  });

  it('randomNonce gives distinct 64-bit values', () => {
    const xs = Array.from({ length: 8 }, randomNonce);
    expect(new Set(xs).size).toBe(8);
    for (const x of xs) expect(x >= 0n && x < 1n << 64n).toBe(true);
  });
});

describe('mapping records', () => {
  it('builds from prefix text with defaults', () => {
    const r = mappingRecord({ eid: '10.1.0.5/32', locators: [{ rloc: '192.0.2.10', local: true }] });
    expect(r).toEqual({
      ttl: 1440,
      eidMaskLen: 32,
      action: 0,
      authoritative: true,
      mapVersion: 0,
      eid: { kind: 'ipv4', afi: 1, addr: '10.1.0.5' },
      locators: [
        { priority: 1, weight: 100, mpriority: 255, mweight: 0, local: true, probed: false, reachable: true, rloc: { kind: 'ipv4', afi: 1, addr: '192.0.2.10' } },
      ],
    });
  });

  it('takes Instance-ID text, IPv6 and LispAddress EIDs/RLOCs', () => {
    const iid = mappingRecord({ eid: '[223]10.0.0.0/8', locators: [{ rloc: '2001:db8::1', priority: 2, weight: 50 }] });
    expect(iid.eidMaskLen).toBe(8);
    expect(iid.eid).toMatchObject({ kind: 'lcaf', lcaf: { type: 2, rsvd2: 8, body: { kind: 'instance-id', iid: 223 } } });
    expect(iid.locators[0]!.rloc).toEqual({ kind: 'ipv6', afi: 2, addr: '2001:db8::1' });

    const list: LispAddress = {
      kind: 'lcaf',
      afi: 16387,
      lcaf: { type: 1, rsvd1: 0, flags: 0, rsvd2: 0, body: { kind: 'afi-list', addresses: [{ kind: 'ipv4', afi: 1, addr: '192.0.2.1' }] } },
    };
    const r = mappingRecord({ eid: { address: list, maskLen: 0 }, locators: [{ rloc: list }] });
    expect(r.eid).toBe(list);
    expect(r.locators[0]!.rloc).toBe(list);
    expect(mappingRecord({ eid: { kind: 'ipv4', afi: 1, addr: '10.0.0.1' } }).eidMaskLen).toBe(32);
  });

  it('rejects text that is not a prefix or address', () => {
    expect(() => mappingRecord({ eid: 'not-a-prefix' })).toThrow(RangeError);
    expect(() => mappingRecord({ eid: '10.0.0.0/33' })).toThrow(RangeError);
    expect(() => mappingRecord({ eid: '10.0.0.0/8', locators: [{ rloc: '300.1.1.1' }] })).toThrow(RangeError);
  });
});

describe('Map-Request and Map-Reply', () => {
  it('Map-Request flags, IRC, records and M=1 map-data decode back', () => {
    const own = mappingRecord({ eid: '10.1.0.5/32', locators: [{ rloc: '192.0.2.10', local: true }] });
    const m = mapRequest({
      nonce: NONCE,
      eids: ['10.2.0.0/24', '[223]10.0.0.0/8', '2001:db8:1::/48'],
      itrRlocs: ['192.0.2.10', '2001:db8::10'],
      sourceEid: '10.1.0.5',
      authoritative: true,
      probe: true,
      smr: true,
      pitr: true,
      smrInvoked: true,
      localXtr: true,
      dontMapReply: true,
      mapReply: own,
    });
    const bytes = encodeControl(m);
    expect(bytes[0]! >> 4).toBe(1);
    expect((bytes[2]! & 0x1f) + 1).toBe(2); // IRC is zero-based
    expect(bytes[3]).toBe(3);
    const d = decode(bytes);
    expect(d).toEqual(m);
    expect(d).toMatchObject({ mapDataPresent: true, smr: true, smrInvoked: true, probe: true, pitr: true, authoritative: true });
  });

  it('plain Map-Request has no flags and AFI 0 source EID', () => {
    const d = decode(encodeControl(mapRequest({ nonce: 1n, eids: ['10.1.0.5/32'], itrRlocs: ['192.0.2.1'] })));
    expect(d).toMatchObject({
      type: 1,
      authoritative: false,
      mapDataPresent: false,
      probe: false,
      smr: false,
      pitr: false,
      smrInvoked: false,
      sourceEid: { kind: 'none', afi: 0 },
      nonce: 1n,
    });
  });

  it("a subscription Map-Request ending with the xTR-ID alone (lispers.net's form) decodes with a warning, not as damage", () => {
    const full = encodeControl(mapRequest({ nonce: NONCE, eids: ['10.1.0.0/16'], itrRlocs: ['192.0.2.1'], xtrId: 0xabcdefn, siteId: 7n, subscribe: true }));
    const lispersNet = full.subarray(0, full.length - 8);
    const d = decodeControl(lispersNet);
    expect(d.notes.map((n) => [n.level, n.offset])).toEqual([['warning', lispersNet.length - 16]]);
    const m = d.value as MapRequest;
    expect(m.xtrIdPresent).toBe(true);
    expect(m.xtrId).toEqual(full.subarray(full.length - 24, full.length - 8));
    expect(m.siteId).toBeUndefined();
    expect(m.trailing).toBeUndefined();
    // Written back as it came.
    expect(encodeControl(m)).toEqual(lispersNet);
  });

  it('Map-Request needs 1..32 ITR-RLOCs', () => {
    expect(() => encodeControl(mapRequest({ nonce: 1n, eids: ['10.0.0.0/8'], itrRlocs: [] }))).toThrow(RangeError);
  });

  it('positive, probe and echo-nonce Map-Replies decode back', () => {
    const m = mapReply({
      nonce: NONCE,
      probe: true,
      echoNonceCapable: true,
      records: [
        mappingRecord({ eid: '10.1.0.5/32', mapVersion: 7, locators: [{ rloc: '192.0.2.10', local: true, probed: true }, { rloc: '198.51.100.20', priority: 2 }] }),
        mappingRecord({ eid: '2001:db8:5::/48', ttl: 60, authoritative: false, locators: [{ rloc: '2001:db8::1', reachable: false }] }),
      ],
    });
    const d = decode(encodeControl(m));
    expect(d).toEqual(m);
    expect(d).toMatchObject({ probe: true, echoNonceCapable: true, security: false });
  });

  it('negative Map-Reply: no locators, action, TTL 15 by default', () => {
    for (let action = 0; action <= 5; action++) {
      const d = decode(encodeControl(negativeMapReply({ nonce: NONCE, eid: '10.3.0.0/16', action })));
      expect(d).toMatchObject({ type: 2, records: [{ ttl: 15, action, authoritative: false, eidMaskLen: 16, locators: [] }] });
    }
    expect(negativeMapReply({ nonce: 1n, eid: '10.3.0.0/16' }).records[0]!.action).toBe(1);
  });
});

describe('authenticated messages', () => {
  const records = [mappingRecord({ eid: '10.1.0.5/32', locators: [{ rloc: '192.0.2.10', local: true }] })];

  for (const [keyId, len, alg] of [
    [1, 20, 'HMAC-SHA-1-96'],
    [2, 32, 'HMAC-SHA-256-128'],
  ] as const) {
    it(`Map-Register with key id ${keyId}: ${len}-byte auth, verifies with the right key only`, () => {
      const bytes = mapRegister({
        nonce: NONCE,
        records,
        keyId,
        key: 'site-key',
        wantMapNotify: true,
        proxyReply: true,
        merge: true,
        xtrId: 0x000102030405060708090a0b0c0d0e0fn,
        siteId: 42n,
      });
      const d = decode(bytes) as MapRegister;
      expect(d).toMatchObject({ type: 3, keyId: 0, algorithmId: keyId, wantMapNotify: true, proxyReply: true, merge: true, xtrIdPresent: true, records });
      expect(d.authData.length).toBe(len);
      expect(d.authData.some((b) => b !== 0)).toBe(true);
      expect(Array.from(d.xtrId!)).toEqual(Array.from({ length: 16 }, (_, i) => i));
      expect(Array.from(d.siteId!)).toEqual([0, 0, 0, 0, 0, 0, 0, 42]);
      expect(verifyAuth(bytes, 'site-key')).toEqual({ ok: true, algorithm: alg });
      expect(verifyAuth(bytes, 'wrong-key')).toMatchObject({ ok: false, algorithm: alg });
      // Tampering anywhere after the auth data breaks it too (the xTR-ID trailer is covered).
      const t = bytes.slice();
      t[t.length - 1]! ^= 1;
      expect(verifyAuth(t, 'site-key').ok).toBe(false);
    });

    it(`Map-Notify and Map-Notify-Ack with key id ${keyId} verify`, () => {
      for (const [build, type] of [
        [mapNotify, 4],
        [mapNotifyAck, 5],
      ] as const) {
        const bytes = build({ nonce: NONCE, records, keyId, key: 'k', xtrId: 1n });
        const d = decode(bytes) as MapNotify;
        expect(d).toMatchObject({ type, nonce: NONCE, keyId: 0, algorithmId: keyId, xtrIdPresent: true, records });
        expect(d.authData.length).toBe(len);
        expect(verifyAuth(bytes, 'k').ok).toBe(true);
        expect(verifyAuth(bytes, 'K').ok).toBe(false);
      }
    });

    it(`Info-Request and Info-Reply with key id ${keyId} verify`, () => {
      const req = infoRequest({ nonce: NONCE, eid: '10.1.0.5/32', keyId, key: 'k' });
      const dq = decode(req) as InfoMessage;
      expect(dq).toMatchObject({ type: 7, reply: false, ttl: 0, eidMaskLen: 32, address: { kind: 'none' } });
      expect(verifyAuth(req, 'k').ok).toBe(true);
      expect(verifyAuth(req, 'x').ok).toBe(false);
      const rep = infoReply({
        nonce: NONCE,
        eid: '10.1.0.5/32',
        keyId,
        key: 'k',
        nat: { etrUdpPort: 61000, globalEtrRloc: '203.0.113.77', msRloc: '203.0.113.1', privateEtrRloc: '192.168.1.5', rtrRlocs: ['203.0.113.3', '2001:db8::3'] },
      });
      const dr = decode(rep) as InfoMessage;
      expect(dr).toMatchObject({ type: 7, reply: true, ttl: 1440, nonce: NONCE });
      expect(dr.address).toEqual(
        natTraversal({ etrUdpPort: 61000, globalEtrRloc: '203.0.113.77', msRloc: '203.0.113.1', privateEtrRloc: '192.168.1.5', rtrRlocs: ['203.0.113.3', '2001:db8::3'] }),
      );
      expect(dr.address).toMatchObject({ lcaf: { type: 7, body: { msUdpPort: 4342, etrUdpPort: 61000 } } });
      expect(verifyAuth(rep, 'k').ok).toBe(true);
      expect(verifyAuth(rep, 'x').ok).toBe(false);
    });
  }

  it('verifies Buffer views of a frame (how the capture reader hands bytes over) without changing them', () => {
    const bytes = mapRegister({ nonce: 5n, records, keyId: 2, key: 'k' });
    const frame = Buffer.concat([Buffer.alloc(42, 0xee), Buffer.from(bytes)]);
    const view = frame.subarray(42);
    expect(verifyAuth(view, 'k').ok).toBe(true);
    expect(Buffer.from(view).equals(Buffer.from(bytes))).toBe(true);
    expect(verifyAuth(view, 'wrong').ok).toBe(false);
  });

  it('a truncated Authentication Data Length is honoured and still verifies', () => {
    const bytes = mapRegister({ nonce: 5n, records, keyId: 1, key: 'k', authLength: 12 });
    expect((decode(bytes) as MapRegister).authData.length).toBe(12);
    expect(verifyAuth(bytes, 'k').ok).toBe(true);
    expect(() => mapRegister({ nonce: 5n, records, keyId: 1, key: 'k', authLength: 21 })).toThrow(RangeError);
    expect(() => mapRegister({ nonce: 5n, records, keyId: 0, key: 'k' })).toThrow(RangeError);
  });

  it('signed() equals the one-call builder, and unset flags stay clear', () => {
    const spec = { nonce: 9n, records, keyId: 2, key: 'k' };
    expect(signed(mapRegisterMessage(spec), 'k')).toEqual(mapRegister(spec));
    expect(decode(mapRegister(spec))).toMatchObject({ proxyReply: false, wantMapNotify: false, xtrIdPresent: false, builtForRtr: false });
    expect(() => mapRegister({ ...spec, xtrId: new Uint8Array(15) })).toThrow(RangeError);
  });
});

describe('Map-Referral', () => {
  it('every referral action, with referrals and a signature', () => {
    const sig = { originalTtl: 1440, expiration: 1_800_000_000, inception: 1_700_000_000, keyTag: 7, algorithm: 1, signature: Uint8Array.of(1, 2, 3, 4) };
    const records = [0, 1, 2, 3, 4, 5].map((action) =>
      referralRecord({ eid: '10.0.0.0/8', action, incomplete: action === 4, referrals: action < 2 ? [{ rloc: '192.0.2.53' }] : [], signatures: action === 0 ? [sig] : [] }),
    );
    const m = mapReferral({ nonce: NONCE, records });
    const d = decode(encodeControl(m));
    expect(d).toEqual(m);
  });
});

describe('ECM', () => {
  const req = mapRequest({ nonce: NONCE, eids: ['10.1.0.5/32'], itrRlocs: ['203.0.113.50'] });

  it('IPv4 and IPv6 inner headers, flags, checksum', () => {
    for (const [src, dst, v] of [
      ['203.0.113.50', '10.1.0.5', 4],
      ['2001:db8::50', '2001:db8:1::5', 6],
    ] as const) {
      // S=1 needs LISP-SEC data before the inner header (test/dissect/lispsec.test.ts): left out here.
      const e = ecm({ inner: { src, dst, sport: 61001, ttl: 128 }, message: req, ddt: true, toEtr: true, toMs: true });
      const d = decode(encodeControl(e));
      expect(d).toEqual(e);
      expect(d).toMatchObject({ type: 8, ddt: true, toEtr: true, toMs: true, security: false, inner: { ipVersion: v, src, dst, sport: 61001, dport: 4342, ttl: 128, message: req } });
      // The inner UDP checksum verifies against the inner pseudo-header.
      const bytes = encodeControl(e);
      const { ip, udp } = ipUdp(bytes.subarray(4));
      expect(udp.checksum).not.toBe(0);
      expect(verifyUdpChecksum(bytes.subarray(4), ip, udp)).toBe(true);
    }
    expect(ecm({ inner: { src: '192.0.2.1', dst: '10.0.0.1', sport: 1, udpChecksum: false }, message: req }).inner?.udpChecksum).toBe(0);
    expect(() => ecm({ inner: { src: '192.0.2.1', dst: '2001:db8::1', sport: 1 }, message: req })).toThrow(RangeError);
  });

  it('carries encoded bytes (signed Map-Register) and nests', () => {
    const reg = mapRegister({ nonce: 3n, keyId: 2, key: 'k', records: [mappingRecord({ eid: '10.1.0.5/32', locators: [{ rloc: '203.0.113.3' }] })] });
    const inner = ecm({ inner: { src: '192.168.1.5', dst: '203.0.113.1', sport: 4341 }, message: reg, toEtr: true, toMs: true });
    const outer = ecm({ inner: { src: '203.0.113.2', dst: '203.0.113.1', sport: 4342 }, message: inner, ddt: true });
    const d = decode(encodeControl(outer));
    expect(d).toMatchObject({ type: 8, ddt: true, inner: { message: { type: 8, toEtr: true, toMs: true, inner: { sport: 4341, message: { type: 3, nonce: 3n } } } } });
    // The signature survives encapsulation byte for byte.
    const bytes = encodeControl(inner);
    const { payload } = ipUdp(bytes.subarray(4));
    expect(payload).toEqual(reg);
    expect(verifyAuth(payload, 'k').ok).toBe(true);
  });
});

describe('packets', () => {
  it('lispUdpPacket: IPv4/IPv6 datagram with a valid UDP checksum', () => {
    const m = mapRequest({ nonce: NONCE, eids: ['10.1.0.5/32'], itrRlocs: ['192.0.2.1'] });
    for (const [src, dst] of [
      ['192.0.2.1', '203.0.113.2'],
      ['2001:db8::1', '2001:db8::2'],
    ] as const) {
      const b = lispUdpPacket({ src, dst, sport: 61000, dport: 4342, payload: m, id: 9 });
      const { ip, udp, payload } = ipUdp(b);
      expect(ip).toMatchObject({ src, dst, ttl: 64 });
      expect(udp).toMatchObject({ srcPort: 61000, dstPort: 4342 });
      expect(verifyUdpChecksum(b, ip, udp)).toBe(true);
      expect(decode(payload)).toEqual(m);
    }
    const raw = lispUdpPacket({ src: '192.0.2.1', dst: '192.0.2.2', sport: 1, dport: 4342, payload: Uint8Array.of(0x90, 0, 0, 0), udpChecksum: false });
    expect(ipUdp(raw).udp.checksum).toBe(0);
  });

  it('innerPacket: ICMP echo (v4/v6), UDP, TCP with correct checksums', () => {
    const e4 = innerPacket({ src: '10.2.0.7', dst: '10.1.0.5', proto: 'icmp-echo-request', icmpId: 0x1234, seq: 3 });
    const ip4 = decodeIp(e4) as IpHeader;
    expect(ip4).toMatchObject({ ok: true, proto: 1, checksumOk: true, totalLength: 20 + 8 + 32 });
    expect(e4[20]).toBe(8);
    expect(internetChecksum(e4, 20)).toBe(0);
    const r4 = innerPacket({ src: '10.1.0.5', dst: '10.2.0.7', proto: 'icmp-echo-reply' });
    expect(r4[20]).toBe(0);

    const e6 = innerPacket({ src: '2001:db8:1::5', dst: '2001:db8:2::7', proto: 'icmp-echo-reply', ttl: 9 });
    const ip6 = decodeIp(e6) as IpHeader;
    expect(ip6).toMatchObject({ proto: 58, ttl: 9 });
    expect(e6[40]).toBe(129);
    expect(transportChecksum(e6.subarray(8, 24), e6.subarray(24, 40), 58, e6, 40)).toBe(0);

    const u = innerPacket({ src: '10.2.0.7', dst: '10.1.0.5', proto: 'udp', sport: 5000, dport: 53, payload: Uint8Array.of(1, 2, 3) });
    const ipu = decodeIp(u) as IpHeader;
    const udp = decodeUdp(u, ipu.payloadOffset, ipu.payloadEnd) as UdpHeader;
    expect(udp).toMatchObject({ srcPort: 5000, dstPort: 53, length: 11 });
    expect(verifyUdpChecksum(u, ipu, udp)).toBe(true);

    const t = innerPacket({ src: '2001:db8:2::7', dst: '2001:db8:1::5', proto: 'tcp', sport: 40000, dport: 80, tcpSeq: 1000 });
    expect(decodeIp(t)).toMatchObject({ proto: 6, totalLength: 60 });
    expect(t[40 + 13]).toBe(0x02);
    expect(transportChecksum(t.subarray(8, 24), t.subarray(24, 40), 6, t, 40)).toBe(0);
  });

  it('dataPacket: header flags and inner packet decode back', () => {
    const inner = { src: '10.2.0.7', dst: '10.1.0.5', proto: 'icmp-echo-request' as const, icmpId: 1, seq: 1 };
    const b = dataPacket({ src: '203.0.113.50', dst: '192.0.2.10', nonce: 0xa1b2c3, echoNonce: true, lsb: 1, inner });
    const { ip, udp, payload } = ipUdp(b);
    expect(ip.src).toBe('203.0.113.50');
    expect(udp.dstPort).toBe(4341);
    expect(udp.checksum).toBe(0);
    expect(udp.srcPort).toBeGreaterThanOrEqual(0xc000);
    // Same inner flow, same entropy port.
    expect(ipUdp(dataPacket({ src: '203.0.113.50', dst: '192.0.2.10', inner })).udp.srcPort).toBe(udp.srcPort);
    const d = decodeData(payload);
    expect(d.notes).toEqual([]);
    expect(d.value!.header.flags).toBe(0x80 | 0x40 | 0x20);
    expect(dataHeaderFields(d.value!.header)).toEqual({ keyId: 0, nonce: 0xa1b2c3, lsb: 1 });
    expect(d.value!.inner).toMatchObject({ ipVersion: 4, src: '10.2.0.7', dst: '10.1.0.5', proto: 1, icmpType: 8 });
  });

  it('data header variants: V, I, K, GPE', () => {
    expect(dataHeaderFields(lispDataHeader({ mapVersion: { source: 5, dest: 4095 } }))).toEqual({ keyId: 0, srcMapVersion: 5, dstMapVersion: 4095 });
    expect(dataHeaderFields(lispDataHeader({ iid: 0xabcdef, lsb: 3, nonce: 7 }))).toEqual({ keyId: 0, nonce: 7, iid: 0xabcdef, lsb: 3 });
    expect(dataHeaderFields(lispDataHeader({ keyId: 2, nonce: 1 }))).toEqual({ keyId: 2, nonce: 1 });
    const gpe = lispDataHeader({ nonce: 0x12345, gpeNextProtocol: 3 });
    expect(gpe.flags).toBe(0x80 | 0x04);
    expect(dataHeaderFields(gpe)).toEqual({ keyId: 0, nonce: 0x2345, gpeNextProtocol: 3 });

    // K != 0: the payload is opaque; GPE Ethernet: not parsed as IP.
    const k = ipUdp(dataPacket({ src: '192.0.2.1', dst: '192.0.2.2', keyId: 1, nonce: 1, inner: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) })).payload;
    expect(decodeData(k).value!.inner).toBeUndefined();
    const inner = { src: '2001:db8:2::7', dst: '2001:db8:1::5', proto: 'udp' as const, sport: 1, dport: 2 };
    const g = ipUdp(dataPacket({ src: '2001:db8::50', dst: '2001:db8::10', nonce: 1, gpeNextProtocol: 3, inner })).payload;
    const dg = decodeData(g).value!;
    expect(dg.inner).toBeUndefined();
    expect(g.length).toBe(8 + 14 + 40 + 8);
    expect((g[8 + 12]! << 8) | g[8 + 13]!).toBe(0x86dd);
  });
});
