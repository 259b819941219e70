import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import type { Frame } from '../../src/capture/types.js';
import { encodeControl } from '../../src/dissect/control.js';
import { encodeIpUdp } from '../../src/dissect/ip.js';
import { encodeLink } from '../../src/dissect/link.js';
import { AUTH_ALGORITHMS } from '../../src/dissect/registry.js';
import type { ControlMessage, EidPrefix, LispAddress, Locator, MappingRecord, ReferralRecord } from '../../src/dissect/types.js';
import { writeControlJsonFast } from '../../src/output/json-control-fast.js';
import { packetJsonText } from '../../src/output/json.js';
import { OutBuffer } from '../../src/output/out-buffer.js';
import { controlMessage, ipAddress, ipv4 } from '../support/arbitraries.js';

function fastText(f: Frame): string | undefined {
  let text = '';
  const out = new OutBuffer((b) => {
    text += Buffer.from(b).toString('latin1');
    return true;
  }, 1 << 16);
  if (!writeControlJsonFast(f, out)) return undefined;
  out.flush();
  return text;
}

// Messages as LISP sites send them (IPv4/IPv6 addresses, masks that fit), so that the fast path
// is taken often; the mutations and the general arbitrary below take it off its path.
const u8 = fc.integer({ min: 0, max: 255 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const nonce = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const none: LispAddress = { kind: 'none', afi: 0 };
// Now and then a mask one longer than the address: noted, so the general path's.
const prefix: fc.Arbitrary<EidPrefix> = ipAddress.chain((a) => fc.integer({ min: 0, max: a.kind === 'ipv4' ? 33 : 129 }).map((maskLen) => ({ prefix: a, maskLen })));
const loc: fc.Arbitrary<Locator> = fc.record({ priority: u8, weight: u8, mpriority: u8, mweight: u8, local: fc.boolean(), probed: fc.boolean(), reachable: fc.boolean(), rloc: ipAddress });
const header = { ttl: u32, action: fc.integer({ min: 0, max: 7 }), authoritative: fc.boolean(), mapVersion: fc.integer({ min: 0, max: 0xfff }) };
const record: fc.Arbitrary<MappingRecord> = fc
  .tuple(prefix, fc.record({ ...header, locators: fc.array(loc, { maxLength: 3 }) }))
  .map(([p, r]) => ({ ...r, eid: p.prefix, eidMaskLen: p.maskLen }));
const referral: fc.Arbitrary<ReferralRecord> = fc
  .tuple(prefix, fc.record({ ...header, incomplete: fc.boolean(), referrals: fc.array(loc, { maxLength: 3 }) }))
  .map(([p, r]) => ({ ...r, eid: p.prefix, eidMaskLen: p.maskLen, signatures: [] }));
const auth = fc
  .tuple(u8, fc.constantFrom(0, 1, 2, 9), fc.boolean(), fc.uint8Array({ maxLength: 40 }))
  .map(([keyId, algorithmId, full, raw]) => {
    const a = AUTH_ALGORITHMS.get(algorithmId);
    return { keyId, algorithmId, authData: a ? new Uint8Array(full ? a.macLength : a.truncatedLength).fill(raw[0] ?? 0) : raw };
  });
const records = fc.array(record, { minLength: 1, maxLength: 3 });
const flag = fc.boolean();

const typical: fc.Arbitrary<ControlMessage> = fc.oneof(
  fc
    .record({ authoritative: flag, mapDataPresent: fc.constant(false), probe: flag, smr: flag, pitr: flag, smrInvoked: flag, xtrIdPresent: fc.constant(false), localXtr: flag, dontMapReply: flag, nonce })
    .chain((h) =>
      fc
        .record({ sourceEid: fc.oneof(ipAddress, fc.constant(none)), itrRlocs: fc.array(ipAddress, { minLength: 1, maxLength: 3 }), eids: fc.array(prefix, { minLength: 1, maxLength: 3 }) })
        .map((r): ControlMessage => ({ type: 1, ...h, ...r })),
    ),
  fc.record({ probe: flag, echoNonceCapable: flag, security: fc.constant(false), nonce, records }).map((r): ControlMessage => ({ type: 2, ...r })),
  fc
    .record({ proxyReply: flag, security: flag, xtrIdPresent: fc.constant(false), builtForRtr: flag, eidNotify: flag, ttlTimeout: flag, merge: flag, mobileNode: flag, wantMapNotify: flag, nonce, auth, records })
    .map(({ auth: a, ...r }): ControlMessage => ({ type: 3, ...r, ...a })),
  fc
    .record({ type: fc.constantFrom(4 as const, 5 as const), xtrIdPresent: fc.constant(false), msRtrAuthPresent: fc.constant(false), nonce, auth, records })
    .map(({ auth: a, ...r }): ControlMessage => ({ ...r, ...a })),
  fc.record({ nonce, records: fc.array(referral, { maxLength: 3 }) }).map((r): ControlMessage => ({ type: 6, ...r })),
  fc
    .record({ nonce, auth, ttl: u32, eid: fc.oneof(prefix, fc.constant({ prefix: none, maskLen: 0 })) })
    .map(({ auth: a, eid, ...r }): ControlMessage => ({ type: 7, reply: false, ...r, ...a, eidMaskLen: eid.maskLen, eid: eid.prefix, address: none })),
);

const typicalEcm: fc.Arbitrary<ControlMessage> = fc
  .record({ ddt: flag, toEtr: flag, toMs: flag, rtrProcess: fc.constantFrom(true, undefined), rtrRelayed: fc.constantFrom(true, undefined), inner: fc.tuple(ipAddress, ipAddress, fc.integer({ min: 0, max: 0xffff }), typical) })
  .map(({ inner: [s, d, sport, message], rtrProcess, rtrRelayed, ...r }): ControlMessage => {
    const v6 = s.kind === 'ipv6';
    const addr = (a: LispAddress) => (a.kind === (v6 ? 'ipv6' : 'ipv4') && 'addr' in a ? a.addr : v6 ? '::1' : '10.0.0.1');
    return {
      type: 8,
      security: false,
      ...r,
      ...(rtrProcess ? { rtrProcess } : {}),
      ...(rtrRelayed ? { rtrRelayed } : {}),
      inner: { ipVersion: v6 ? 6 : 4, src: addr(s), dst: addr(d), ttl: 64, sport, dport: 4342, udpChecksum: 0, message },
    };
  });

/** A control frame, sometimes with a byte changed or cut short (each path must make the same of it). */
const controlFrame: fc.Arbitrary<Omit<Frame, 'index'>> = fc
  .record({
    link: fc.constantFrom(1, 1, 1, 101, 113, 276, 0),
    src: ipv4,
    dst: ipv4,
    sport: fc.constantFrom(4342, 4342, 40000, 4341, 4789),
    dport: fc.constantFrom(4342, 4342, 61000, 4341),
    message: fc.oneof({ weight: 4, arbitrary: typical }, { weight: 2, arbitrary: typicalEcm }, { weight: 2, arbitrary: controlMessage }),
    change: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(fc.nat(), u8) }),
    cut: fc.constantFrom(0, 0, 0, 0, 1, 7),
    tsSec: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    tsNsec: fc.integer({ min: 0, max: 999_999_999 }),
  })
  .map((r) => {
    const lisp = encodeControl(r.message);
    if (r.change && lisp.length) lisp[r.change[0] % lisp.length] = r.change[1];
    const full = encodeLink(r.link, encodeIpUdp({ src: r.src, dst: r.dst, sport: r.sport, dport: r.dport }, lisp));
    return { tsSec: r.tsSec, tsNsec: r.tsNsec, linkType: r.link, len: full.length, data: full.subarray(0, full.length - r.cut), interfaceId: 0 };
  });

describe('control-message JSON fast path', () => {
  it('writes exactly what the general path writes, whenever it accepts a frame', () => {
    const decoder = new PacketDecoder({});
    let accepted = 0;
    let ecms = 0;
    let index = 0;
    fc.assert(
      fc.property(controlFrame, (frame) => {
        const f: Frame = { index: ++index, ...frame };
        const fast = fastText(f);
        if (fast === undefined) return;
        accepted++;
        const p = decoder.decode(f);
        expect(p?.control).toBeDefined();
        if (p!.control!.type === 8) ecms++;
        expect(fast).toBe(`${packetJsonText(p!)}\n`);
        // Again: the runs kept from this frame are reused, and must match.
        expect(fastText(f)).toBe(fast);
      }),
      { numRuns: 6000 },
    );
    // The lane must actually be exercised, not just never taken.
    expect(accepted).toBeGreaterThan(700);
    expect(ecms).toBeGreaterThan(150);
  });

  it('leaves a message with notes to the general path', () => {
    // A Map-Request with Record Count 0 is warned about.
    const m: ControlMessage = { type: 1, authoritative: false, mapDataPresent: false, probe: false, smr: false, pitr: false, smrInvoked: false, xtrIdPresent: false, localXtr: false, dontMapReply: false, nonce: 1n, sourceEid: none, itrRlocs: [{ kind: 'ipv4', afi: 1, addr: '192.0.2.1' }], eids: [] };
    const data = encodeLink(1, encodeIpUdp({ src: '192.0.2.1', dst: '192.0.2.2', sport: 4342, dport: 4342 }, encodeControl(m)));
    const f: Frame = { index: 1, tsSec: 0, tsNsec: 0, linkType: 1, len: data.length, data, interfaceId: 0 };
    expect(new PacketDecoder({}).decode(f)?.notes.length).toBeGreaterThan(0);
    expect(fastText(f)).toBeUndefined();
  });
});
