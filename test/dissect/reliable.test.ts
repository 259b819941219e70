// LISP Map-Server reliable transport (TCP 4342): decoding real messages, the round trip of every
// type, notes on broken messages, and the framer that cuts a stream into messages.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex } from '../../src/dissect/addr.js';
import { encodeControl } from '../../src/dissect/control.js';
import { mapRequest } from '../../src/dissect/build.js';
import {
  decodeReliable,
  encodeReliable,
  RELIABLE_END_MARKER,
  reliableBody,
  ReliableFramer,
  refreshScopeSlug,
  rejectReasonSlug,
  reliableTypeSlug,
  type FramerEvent,
  type ReliableMessage,
} from '../../src/dissect/reliable.js';
import type { LispAddress } from '../../src/dissect/types.js';
import { noOverrun, notHung } from '../support/hang.js';
import { address, controlMessage, mappingRecord } from '../support/arbitraries.js';

const hex = (s: string) => fromHex(s.replace(/\s+/g, ''))!;

// Frames 27 and 29 of ndpi__lisp_registration.pcap (Cisco IOS), TCP payloads.
const REFRESH = hex('0014000f00000000 000000 9facade9');
const ACK = hex('0012001f00000001 20 4003 00000220000a 00000000 0001 0a000003 9facade9');
const REJECT = hex('0013002200000002 01 0000 1a 4003 00000220000a 00000000 0001 c0a86700 9facade9');
const NOTIFICATION = hex(
  '0015004000000003 59eb3fb9fa991d3fef005289c97f3b7d 0000000000000000' +
    '000005a0 01 20 0000 0000 0001 0a000003 21212121 0001 0001 0a007b03 9facade9',
);

const iid = (id: number, inner: LispAddress): LispAddress => ({
  kind: 'lcaf',
  afi: 16387,
  lcaf: { type: 2, rsvd1: 0, flags: 0, rsvd2: 32, body: { kind: 'instance-id', iid: id, address: inner } },
});

describe('reliable-transport messages from a real session', () => {
  it('decodes a Registration Refresh, ACK, Reject and Mapping Notification as tshark does', () => {
    expect(decodeReliable(REFRESH)).toEqual({ value: { type: 20, messageId: 0, scope: 0, rejectedOnly: false }, notes: [] });
    expect(decodeReliable(ACK)).toEqual({
      value: { type: 18, messageId: 1, eidMaskLen: 32, eid: iid(0, { kind: 'ipv4', afi: 1, addr: '10.0.0.3' }) },
      notes: [],
    });
    const reject = decodeReliable(REJECT);
    expect(reject.notes).toEqual([]);
    expect(reject.value).toMatchObject({ type: 19, messageId: 2, reason: 1, eidMaskLen: 26 });
    expect(rejectReasonSlug(1)).toBe('not-site-eid-prefix');
    const n = decodeReliable(NOTIFICATION);
    expect(n.notes).toEqual([]);
    expect(n.value).toMatchObject({
      type: 21,
      messageId: 3,
      record: { ttl: 1440, eidMaskLen: 32, eid: { addr: '10.0.0.3' }, locators: [{ priority: 33, reachable: true, rloc: { addr: '10.0.123.3' } }] },
    });
    for (const m of [REFRESH, ACK, REJECT, NOTIFICATION]) expect(encodeReliable(decodeReliable(m).value)).toEqual(m);
  });

  it('names every type, reason and scope, and says unknown for the rest', () => {
    expect([16, 17, 18, 19, 20, 21, 22, 30].map(reliableTypeSlug)).toEqual([
      'error-notification',
      'registration',
      'registration-ack',
      'registration-reject',
      'registration-refresh',
      'mapping-notification',
      'rloc-membership-subscribe',
      'rloc-membership-refresh-end',
    ]);
    expect(reliableTypeSlug(99)).toBe('unknown');
    expect([0, 1, 2, 3, 4, 9].map(refreshScopeSlug)).toEqual(['all', 'instance', 'instance-afi', 'covered', 'prefix', 'scope-9']);
    expect([2, 3, 4, 7].map(rejectReasonSlug)).toEqual(['authentication-failure', 'locator-set-not-allowed', 'reason-not-defined', 'reason-7']);
  });

  it('gives the Map-Register of a Registration as its body', () => {
    const reg = encodeReliable({ type: 17, messageId: 9, mapRegister: { type: 15, subType: 1, data: Uint8Array.of(1, 2, 3) } });
    expect(reliableBody(reg)).toEqual(Uint8Array.of(0xf0, 0x01, 1, 2, 3));
    expect(reliableBody(reg.subarray(0, 10))).toEqual(new Uint8Array(0));
  });
});

// ---- round trip ------------------------------------------------------------------------------

const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (max = 24) => fc.uint8Array({ maxLength: max });
const nonzero = (a: fc.Arbitrary<number>) => fc.option(a.filter((x) => x !== 0), { nil: undefined });
const trailing = fc.option(fc.uint8Array({ minLength: 1, maxLength: 6 }), { nil: undefined });

function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

const common = { messageId: u32, endMarker: fc.option(u32.filter((x) => x !== RELIABLE_END_MARKER), { nil: undefined }) };

const reliableMessage: fc.Arbitrary<ReliableMessage> = fc.oneof(
  fc
    .record({
      ...common,
      errorCode: u8,
      reserved: nonzero(fc.integer({ min: 0, max: 0xffffff })),
      offendingType: u16,
      offendingLength: u16,
      offendingId: u32,
      offendingData: bytes(),
    })
    .map((r): ReliableMessage => compact({ type: 16 as const, ...r })),
  fc.record({ ...common, mapRegister: controlMessage }).map((r): ReliableMessage => compact({ type: 17 as const, ...r })),
  fc.record({ ...common, eidMaskLen: u8, eid: address, trailing }).map((r): ReliableMessage => compact({ type: 18 as const, ...r })),
  fc
    .record({ ...common, reason: u8, reserved: nonzero(u16), eidMaskLen: u8, eid: address, trailing })
    .map((r): ReliableMessage => compact({ type: 19 as const, ...r })),
  fc
    .record({
      ...common,
      scope: u8,
      rejectedOnly: fc.boolean(),
      reserved: nonzero(fc.integer({ min: 0, max: 0x7fff })),
      prefix: fc.option(fc.record({ eidMaskLen: u8, eid: address, trailing }), { nil: undefined }),
    })
    .map(({ prefix, ...r }): ReliableMessage => compact({ type: 20 as const, ...r, ...prefix })),
  fc
    .record({
      ...common,
      xtrId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      siteId: fc.uint8Array({ minLength: 8, maxLength: 8 }),
      record: mappingRecord,
      trailing,
    })
    .map((r): ReliableMessage => compact({ type: 21 as const, ...r })),
  fc
    .record({ ...common, type: fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 22, max: 0xffff })), body: bytes(40) })
    .map((r): ReliableMessage => compact(r)),
);

describe('reliable-transport messages: decode(encode(x)) = x', () => {
  it('holds for every type, and the bytes are reproduced exactly', () => {
    fc.assert(
      fc.property(reliableMessage, (m) => {
        const b = encodeReliable(m);
        expect((b[2]! << 8) | b[3]!).toBe(b.length);
        const { value } = decodeReliable(b);
        expect(value).toEqual(m);
        expect(encodeReliable(value)).toEqual(b);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses to encode what the fields cannot carry', () => {
    const big = { type: 99, messageId: 0, body: new Uint8Array(0x10000) };
    expect(() => encodeReliable(big)).toThrow(/at most 65535/);
  });
});

// ---- broken messages -------------------------------------------------------------------------

const msgs = (d: { notes: { message: string; offset: number }[] }) => d.notes.map((n) => `${n.offset}: ${n.message}`);

describe('reliable-transport messages that are wrong', () => {
  it('reports a wrong End Marker, and keeps it', () => {
    const b = ACK.slice();
    b[b.length - 1] = 0;
    const d = decodeReliable(b);
    expect(msgs(d)).toEqual(['27: Registration ACK: End Marker 0x9facad00 is not 0x9facade9']);
    expect(d.value.endMarker).toBe(0x9facad00);
  });

  it('reports a message cut anywhere', () => {
    fc.assert(
      fc.property(reliableMessage, fc.nat(), (m, at) => {
        const b = encodeReliable(m);
        const d = decodeReliable(b.subarray(0, at % b.length));
        expect(d.notes.length).toBeGreaterThan(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('reports a Length shorter than the header, and bytes beyond the Length', () => {
    expect(msgs(decodeReliable(hex('0012000800000001')))).toContain('2: Registration ACK: Length 8 is below 12 (Type, Length, Message ID and End Marker)');
    const extra = new Uint8Array(REFRESH.length + 2);
    extra.set(REFRESH);
    expect(msgs(decodeReliable(extra))).toEqual(['15: Registration Refresh: 2 bytes after the message\'s Length 15']);
    expect(msgs(decodeReliable(hex('00')))).toEqual(['0: truncated reliable-transport message Type and Length: needs 4 bytes, 1 left']);
  });

  it('keeps a body that does not decode as bytes, with the reason', () => {
    const d = decodeReliable(hex('0012000e00000001 2000 9facade9'));
    expect(d.value).toEqual({ type: 18, messageId: 1, body: Uint8Array.of(0x20, 0x00) });
    expect(msgs(d)).toEqual(['9: truncated Registration ACK EID-Prefix AFI: needs 2 bytes, 1 left']);
  });

  it('says when a Registration does not carry a Map-Register', () => {
    const req = mapRequest({ nonce: 1n, eids: ['10.0.0.0/8'], itrRlocs: ['192.0.2.1'] });
    const d = decodeReliable(encodeReliable({ type: 17, messageId: 4, mapRegister: req }));
    expect(msgs(d)).toEqual(['8: Registration carries a Map-Request, not a Map-Register']);
    expect(d.value).toMatchObject({ type: 17, mapRegister: { type: 1 } });
    expect(encodeControl(req).length + 12).toBe(encodeReliable(d.value).length);
  });

  it('says when a scoped Registration Refresh lacks its prefix, and when a prefix is too long', () => {
    expect(msgs(decodeReliable(encodeReliable({ type: 20, messageId: 1, scope: 3, rejectedOnly: true })))).toEqual([
      '11: Registration Refresh scope 3 (covered) without the EID prefix it is about',
    ]);
    const ack = encodeReliable({ type: 18, messageId: 1, eidMaskLen: 33, eid: { kind: 'ipv4', afi: 1, addr: '10.0.0.0' } });
    expect(msgs(decodeReliable(ack))).toEqual(['8: Registration ACK EID-Prefix: prefix length 33 exceeds 32 for AFI 1']);
  });

  it('never throws nor dawdles on random or mutated bytes', () => {
    const timed = (b: Uint8Array) => void noOverrun(notHung(() => decodeReliable(b)));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), timed), { numRuns: 3000 });
    fc.assert(
      fc.property(reliableMessage, fc.nat(), fc.integer({ min: 0, max: 255 }), (m, at, v) => {
        const b = encodeReliable(m);
        b[at % b.length] = v;
        timed(b);
      }),
      { numRuns: 3000 },
    );
  });
});

// ---- framing ---------------------------------------------------------------------------------

const messagesOf = (events: FramerEvent[]) => events.filter((e) => e.kind === 'message').map((e) => e.offset);
const skipsOf = (events: FramerEvent[]) =>
  events.filter((e): e is Extract<FramerEvent, { kind: 'skipped' }> => e.kind === 'skipped').map((e) => [e.offset, e.length]);


const STREAM = concatBytes(REFRESH, ACK, REJECT, NOTIFICATION); // 15 + 31 + 34 + 64 bytes
const STARTS = [0, 15, 46, 80];

describe('ReliableFramer', () => {
  it('cuts a segment carrying several messages by their Length', () => {
    const f = new ReliableFramer({ synced: true });
    const ev = f.push(STREAM);
    expect(messagesOf(ev)).toEqual(STARTS);
    expect((ev[1] as { bytes: Uint8Array }).bytes).toEqual(ACK);
    expect(f.held).toBe(0);
    expect(f.offset).toBe(STREAM.length);
  });

  it('gathers a message split over three pushes, and the same stream fed byte by byte', () => {
    const f = new ReliableFramer({ synced: true });
    expect(f.push(NOTIFICATION.subarray(0, 3))).toEqual([]);
    expect(f.pendingLength).toBeUndefined();
    expect(f.push(NOTIFICATION.subarray(3, 40))).toEqual([]);
    expect(f.pendingLength).toBe(64);
    expect(f.held).toBe(40);
    expect(f.push(NOTIFICATION.subarray(40))).toEqual([{ kind: 'message', offset: 0, bytes: NOTIFICATION }]);
    const g = new ReliableFramer({ synced: true });
    const all: FramerEvent[] = [];
    for (let i = 0; i < STREAM.length; i++) all.push(...g.push(STREAM.subarray(i, i + 1)));
    expect(messagesOf(all)).toEqual(STARTS);
  });

  it('delivers the same messages however the stream is cut (property)', () => {
    fc.assert(
      fc.property(fc.array(reliableMessage, { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (ms, cuts) => {
        const parts = ms.map((m) => encodeReliable({ ...m, endMarker: undefined } as ReliableMessage));
        const stream = concatBytes(...parts);
        const f = new ReliableFramer({ synced: true });
        const got: Uint8Array[] = [];
        for (let o = 0, i = 0; o < stream.length; i++) {
          const n = cuts[i % cuts.length]!;
          for (const e of f.push(stream.subarray(o, o + n))) if (e.kind === 'message') got.push(e.bytes);
          o += n;
        }
        expect(got).toEqual(parts);
      }),
      { numRuns: 500 },
    );
  });

  it('after a loss inside a message of known Length, skips to the next boundary', () => {
    const f = new ReliableFramer({ synced: true });
    f.push(STREAM.subarray(0, 20)); // the Refresh, and 5 bytes of the ACK (its Length is known)
    const gap = f.gap(10); // bytes 20..30 lost, the ACK ends at 46
    expect(gap).toEqual([{ kind: 'skipped', offset: 15, length: 31, reason: 'message of 31 bytes broken by 10 stream bytes lost' }]);
    expect(f.offset).toBe(46);
    const ev = f.push(STREAM.subarray(30));
    expect(messagesOf(ev)).toEqual([46, 80]);
  });

  it('after a loss it cannot measure, finds the next boundary after an End Marker', () => {
    const f = new ReliableFramer({ synced: true });
    f.push(STREAM.subarray(0, 17)); // the Refresh, and 2 bytes of the ACK: its Length unknown
    expect(f.gap(3)).toEqual([{ kind: 'skipped', offset: 15, length: 2, reason: '2 bytes before 3 stream bytes lost' }]);
    const ev = f.push(STREAM.subarray(20));
    expect(skipsOf(ev)).toEqual([[20, 26]]); // the rest of the ACK, up to its End Marker
    expect(messagesOf(ev)).toEqual([46, 80]);
  });

  it('joins a stream in the middle (no SYN): resyncs, then trusts what verifies', () => {
    const f = new ReliableFramer({ synced: false, offset: 1000 });
    const ev = f.push(STREAM.subarray(20));
    expect(skipsOf(ev)).toEqual([[1000, 26]]);
    expect(messagesOf(ev)).toEqual([1026, 1060]);
    // A stream that does start at a boundary is taken as is.
    expect(messagesOf(new ReliableFramer().push(STREAM))).toEqual(STARTS);
  });

  it('delivers a message with a wrong End Marker, then checks the next one', () => {
    const bad = ACK.slice();
    bad[bad.length - 1] = 0;
    const f = new ReliableFramer({ synced: true });
    const ev = f.push(concatBytes(bad, hex('deadbeef'), REJECT));
    expect(messagesOf(ev)).toEqual([0, 35]);
    expect(skipsOf(ev)).toEqual([[31, 4]]);
  });

  it('waits for a candidate header to be whole before judging it', () => {
    const f = new ReliableFramer({ synced: false });
    expect(skipsOf(f.push(concatBytes(hex('ffff'), NOTIFICATION.subarray(0, 30))))).toEqual([[0, 2]]);
    expect(f.held).toBe(30);
    expect(messagesOf(f.push(NOTIFICATION.subarray(30)))).toEqual([2]);
  });

  it('resyncs when a Length cannot even cover the header', () => {
    const f = new ReliableFramer({ synced: true });
    const ev = f.push(concatBytes(hex('00120002'), REFRESH, ACK));
    expect(messagesOf(ev)).toEqual([4, 19]);
    expect(skipsOf(ev)).toEqual([[0, 4]]);
  });

  it('holds at most 3 bytes while hunting through garbage, and reports what the stream ended in', () => {
    const f = new ReliableFramer({ synced: false });
    const junk = new Uint8Array(100_000).fill(0x41);
    const ev = f.push(junk);
    expect(skipsOf(ev)).toEqual([[0, 99_997]]);
    expect(f.held).toBe(3);
    const g = new ReliableFramer({ synced: true });
    g.push(NOTIFICATION.subarray(0, 50));
    expect(g.end('ended (FIN)')).toEqual([
      { kind: 'skipped', offset: 0, length: 50, reason: '50 of the 64 bytes of a message when the stream ended (FIN)' },
    ]);
    expect(g.held).toBe(0);
    expect(g.offset).toBe(50);
  });
});
