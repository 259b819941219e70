// ICMP/ICMPv6 errors quoting LISP packets, and LISP inside LISP data: decoded as far as there are
// bytes, with offsets, levels and the request an error is about.

import { describe, expect, it } from 'vitest';
import { ecm, lispUdpPacket, mapNotify, mapRegister, mapRequest, mappingRecord } from '../../src/dissect/build.js';
import { encodeControl } from '../../src/dissect/control.js';
import { dataHeader, decodeData, encodeData } from '../../src/dissect/data.js';
import { decodeIcmpError, encodeIcmpError, icmpErrorName, isIcmpError, quotedMessage, quotesLisp } from '../../src/dissect/icmp.js';
import { decodeIp, encodeIpUdp } from '../../src/dissect/ip.js';
import type { IcmpError } from '../../src/dissect/types.js';

const XTR = '192.0.2.10';
const MS = '203.0.113.1';
const ROUTER = '198.51.100.1';

/** Decodes the ICMP part of an IP packet carrying an error. */
function icmpOf(ip: Uint8Array) {
  const h = decodeIp(ip);
  if (!h.ok) throw new Error(h.notes.join('; '));
  return decodeIcmpError(ip, h.payloadOffset, h.payloadEnd, h.version, h.totalLength - (h.payloadOffset - h.headerOffset));
}

function value(d: ReturnType<typeof icmpOf>): IcmpError {
  if (!d.value) throw new Error('no ICMP error decoded');
  return d.value;
}

const register = mapRegister({
  nonce: 0x1122334455667788n,
  keyId: 1,
  key: 'k',
  wantMapNotify: true,
  records: [mappingRecord({ eid: '10.1.0.0/24', locators: [{ rloc: XTR, local: true, reachable: true }] })],
});
const regPacket = lispUdpPacket({ src: XTR, dst: MS, sport: 4342, dport: 4342, payload: register });

describe('ICMP errors about LISP packets', () => {
  it('names types and codes of both families, and knows which are errors', () => {
    expect([icmpErrorName(4, 3, 3), icmpErrorName(4, 3, 4), icmpErrorName(4, 11, 0), icmpErrorName(4, 3, 99)]).toEqual([
      'port-unreachable',
      'fragmentation-needed',
      'ttl-exceeded',
      'unreachable-99',
    ]);
    expect([icmpErrorName(6, 2, 0), icmpErrorName(6, 1, 4), icmpErrorName(6, 3, 0), icmpErrorName(6, 200, 1)]).toEqual([
      'packet-too-big',
      'port-unreachable',
      'hop-limit-exceeded',
      'icmpv6-200-1',
    ]);
    expect([isIcmpError(4, 8), isIcmpError(4, 0), isIcmpError(6, 128), isIcmpError(4, 11), isIcmpError(6, 2)]).toEqual([false, false, false, true, true]);
  });

  it('port unreachable from a Map-Server quoting a whole Map-Register: every field, no note', () => {
    const d = icmpOf(encodeIcmpError({ src: MS, dst: XTR, type: 3, code: 3, original: regPacket }));
    const e = value(d);
    expect(e).toMatchObject({ version: 4, type: 3, code: 3, name: 'port-unreachable', length: 8 + regPacket.length });
    expect(e.quoted).toMatchObject({ ipVersion: 4, src: XTR, dst: MS, sport: 4342, dport: 4342, cut: false, totalLength: regPacket.length, quotedLength: regPacket.length, offset: 8 });
    expect(e.quoted.lisp).toMatchObject({ kind: 'control', offset: 8 + 28, length: register.length, control: { type: 3, nonce: 0x1122334455667788n } });
    expect([d.notes, d.frameNotes]).toEqual([[], []]);
    expect(quotedMessage(e)).toMatchObject({ nonce: 0x1122334455667788n, inEcm: false });
  });

  it('a quote cut inside the message: decoded as far as quoted, and the cut is a note, not damage', () => {
    const d = icmpOf(encodeIcmpError({ src: ROUTER, dst: XTR, type: 11, code: 0, original: regPacket, quote: 28 + 40 }));
    const e = value(d);
    expect(e.quoted).toMatchObject({ cut: true, quotedLength: 68 });
    expect(e.quoted.lisp?.control).toMatchObject({ type: 3, nonce: 0x1122334455667788n });
    expect(d.notes.length).toBeGreaterThan(0);
    expect(d.notes.every((n) => n.level === 'note')).toBe(true);
  });

  it('a router quoting only IP header + 8 bytes: the ports, no LISP, still about LISP', () => {
    const req = lispUdpPacket({ src: XTR, dst: '203.0.113.2', sport: 61000, dport: 4342, payload: mapRequest({ nonce: 5n, eids: ['10.2.0.7/32'], itrRlocs: [XTR] }) });
    const e = value(icmpOf(encodeIcmpError({ src: ROUTER, dst: XTR, type: 3, code: 1, original: req, quote: 28 })));
    expect(e.quoted).toMatchObject({ sport: 61000, dport: 4342, cut: true });
    expect(e.quoted.lisp).toBeUndefined();
    expect(quotesLisp(e)).toBe(true);
    expect(quotedMessage(e)).toBeUndefined();
    // Not LISP by its ports (DNS): decoded, but not about LISP.
    const dns = encodeIpUdp({ src: XTR, dst: '192.0.2.53', sport: 53000, dport: 53 }, new Uint8Array(20));
    expect(quotesLisp(value(icmpOf(encodeIcmpError({ src: '192.0.2.53', dst: XTR, type: 3, code: 3, original: dns }))))).toBe(false);
  });

  it('fragmentation needed and Packet Too Big carry the MTU; the request inside an ECM is found', () => {
    const e4 = value(icmpOf(encodeIcmpError({ src: ROUTER, dst: XTR, type: 3, code: 4, mtu: 1400, original: regPacket })));
    expect([e4.name, e4.mtu]).toEqual(['fragmentation-needed', 1400]);
    const inner = mapRequest({ nonce: 0xabcn, eids: ['2001:db8:2::7/128'], itrRlocs: ['2001:db8:a::10'] });
    const req6 = lispUdpPacket({ src: '2001:db8:a::10', dst: '2001:db8::2', sport: 61011, dport: 4342, payload: ecm({ inner: { src: '2001:db8:a::10', dst: '2001:db8:2::7', sport: 61011 }, message: inner }) });
    const e6 = value(icmpOf(encodeIcmpError({ src: '2001:db8:ffff::1', dst: '2001:db8:a::10', type: 2, code: 0, mtu: 1280, original: req6 })));
    expect([e6.version, e6.name, e6.mtu, e6.quoted.ipVersion]).toEqual([6, 'packet-too-big', 1280, 6]);
    expect(quotedMessage(e6)).toMatchObject({ nonce: 0xabcn, inEcm: true, message: { type: 1 } });
  });

  it('an RFC 4884 length bounds the original datagram; a checksum and pointer are read where they are', () => {
    const ip = encodeIcmpError({ src: ROUTER, dst: XTR, type: 12, code: 0, original: regPacket, quote: 200 });
    ip[20 + 4] = 9; // pointer
    ip[20 + 5] = 64 / 4; // the original datagram is 64 bytes; the rest would be extensions
    const e = value(icmpOf(ip));
    expect(e).toMatchObject({ name: 'parameter-problem', pointer: 9, originalLength: 64 });
    expect(e.quoted.quotedLength).toBe(64);
  });

  it('echo requests, and errors about what is not UDP, are not LISP errors', () => {
    const echo = encodeIcmpError({ src: ROUTER, dst: XTR, type: 8, code: 0, original: regPacket });
    expect(icmpOf(echo).value).toBeUndefined();
    const tcpOrig = regPacket.slice();
    tcpOrig[9] = 6;
    expect(icmpOf(encodeIcmpError({ src: ROUTER, dst: XTR, type: 3, code: 3, original: tcpOrig })).value).toBeUndefined();
  });
});

describe('LISP inside LISP data', () => {
  const notify = mapNotify({ nonce: 0x42n, keyId: 1, key: 'k', xtrId: 1n, records: [mappingRecord({ eid: '10.1.0.5/32', locators: [{ rloc: XTR }] })] });

  it("an RTR's Map-Notify in a data packet with IID 0xFFFFFF: decoded, offsets in the outer message", () => {
    const inner = lispUdpPacket({ src: MS, dst: XTR, sport: 4342, dport: 4342, payload: notify });
    const d = decodeData(encodeData(dataHeader({ iid: 0xffffff }), inner));
    expect(d.notes).toEqual([]);
    expect(d.value!.inner).toMatchObject({ sport: 4342, dport: 4342, ipOffset: 8, ipHeaderLength: 20, payloadLen: notify.length });
    expect(d.value!.inner!.lisp).toMatchObject({ kind: 'control', offset: 8 + 28, length: notify.length, control: { type: 4, nonce: 0x42n } });
  });

  it('data in data (inner UDP 4341), and a damaged inner message noted at its outer offset', () => {
    const innermost = encodeData(dataHeader({ nonce: 7 }), encodeIpUdp({ src: '10.2.0.7', dst: '10.1.0.5', sport: 1, dport: 2 }, new Uint8Array(4)));
    const d = decodeData(encodeData(dataHeader({}), encodeIpUdp({ src: XTR, dst: MS, sport: 50000, dport: 4341 }, innermost)));
    expect(d.value!.inner!.lisp).toMatchObject({ kind: 'data', data: { inner: { src: '10.2.0.7', sport: 1, dport: 2 } } });
    const broken = encodeControl(mapRequest({ nonce: 1n, eids: ['10.2.0.7/32'], itrRlocs: [XTR] })).subarray(0, 20);
    const e = decodeData(encodeData(dataHeader({}), encodeIpUdp({ src: MS, dst: XTR, sport: 4342, dport: 4342 }, broken)));
    expect(e.notes).toHaveLength(1);
    expect(e.notes[0]).toMatchObject({ level: 'error', offset: 8 + 28 + 20 });
  });

  it('a LISP data header with nothing after it is an error', () => {
    expect(decodeData(encodeData(dataHeader({ nonce: 1 }), new Uint8Array(0))).notes).toEqual([
      { offset: 8, message: 'LISP data header with no packet after it', level: 'error' },
    ]);
  });
});
