// `mappings` without --fail-on reads no exchange: the engine then follows only the exchanges the
// mapping tracker depends on (ExchangeOptions.mappingInputsOnly). Random stories of every kind of
// exchange, answered, retransmitted, orphaned, timed out and relayed, must give the same mappings
// as the whole engine, as long as no two kinds share a nonce (each kind draws from its own).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ecm,
  infoReply,
  infoRequest,
  mapNotify,
  mapNotifyAck,
  mappingRecord,
  mapReferral,
  mapRegister,
  mapReply,
  mapRequest,
  referralRecord,
} from '../../src/dissect/build.js';
import type { LispPacket } from '../../src/capture/packets.js';
import { FlowEngine, type FlowEngineOptions } from '../../src/flows/engine.js';
import { mappingJson } from '../../src/output/json-flows.js';
import { Story } from '../support/story.js';

const MN = '10.1.0.5';
const SITE = '10.1.0.0/28';
const A = '192.0.2.10';
const B = '198.51.100.20';
const RTR = '203.0.113.3';
const MS = '203.0.113.1';
const MR = '203.0.113.2';
const DDT = '192.0.2.101';
const PEERS = ['203.0.113.50', '203.0.113.60'];
const key = { keyId: 2, key: 'mn-secret' };

const record = (eid: string, rlocs: string[]) => mappingRecord({ eid, locators: rlocs.map((rloc) => ({ rloc, local: true })) });

/** Nonces of one kind: a base of its own, so that kinds never share one. */
const nonceOf = (base: number) => fc.integer({ min: 0, max: 3 }).map((k) => BigInt(base + k));

const step = fc.record({
  dt: fc.oneof(fc.constant(0.001), fc.double({ min: 0.001, max: 40, noNaN: true })),
  what: fc.constantFrom('register', 'notify', 'subscribe', 'confirm', 'publish', 'sub-reply', 'resolve', 'reply', 'referral', 'smr', 'info', 'info-reply', 'data', 'ack'),
  rlocs: fc.subarray([A, B, RTR], { minLength: 0, maxLength: 2 }),
  eid: fc.constantFrom(`${MN}/32`, SITE),
  peer: fc.constantFrom(...PEERS),
  reg: nonceOf(0x100),
  sub: nonceOf(0x200),
  pub: nonceOf(0x300),
  res: nonceOf(0x400),
  smr: nonceOf(0x600),
  info: nonceOf(0x700),
  flag: fc.boolean(),
});

type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

function tell(s: Story, t: number, x: Step): void {
  const rlocs = x.rlocs.length ? x.rlocs : [A];
  const from = rlocs[0]!;
  switch (x.what) {
    case 'register': {
      const m = mapRegister({ nonce: x.reg, records: [record(x.eid, rlocs)], wantMapNotify: x.flag, builtForRtr: from === RTR, xtrId: 7n, ...key });
      // Through the RTR: the Map-Register in an ECM, as OOR's NATed xTRs send it.
      if (from === RTR) s.control(t, RTR, 4342, MS, 4342, ecm({ inner: { src: A, dst: MS, sport: 4342 }, message: m }));
      else s.control(t, from, 4342, MS, 4342, m);
      return;
    }
    case 'notify':
      s.control(t, MS, 4342, from, 4342, mapNotify({ nonce: x.reg, records: [record(x.eid, rlocs)], xtrId: 7n, ...key }));
      return;
    case 'ack':
      s.control(t, x.peer, 4342, MS, 4342, mapNotifyAck({ nonce: x.flag ? x.pub : x.sub, records: [record(x.eid, rlocs)], ...key }));
      return;
    case 'subscribe': {
      // An ITR-RLOC of AFI 0 withdraws the subscription.
      const m = mapRequest({ nonce: x.sub, eids: [x.eid], itrRlocs: [x.flag ? x.peer : { kind: 'none', afi: 0 }], xtrId: 9n, siteId: 1n, subscribe: true });
      s.control(t, x.peer, 4342, MS, 4342, ecm({ inner: { src: x.peer, dst: MN, sport: 4342 }, message: m }));
      return;
    }
    case 'confirm':
      s.control(t, MS, 4342, x.peer, 4342, mapNotify({ nonce: x.sub, records: [record(x.eid, rlocs)], xtrId: 9n, siteId: 1n, ...key }));
      return;
    case 'publish':
      s.control(t, MS, 4342, x.peer, 4342, mapNotify({ nonce: x.pub, records: [record(x.eid, rlocs)], xtrId: 9n, siteId: 1n, ...key }));
      return;
    case 'sub-reply':
      s.control(t, MS, 4342, x.peer, 4342, mapReply({ nonce: x.sub, records: [record(x.eid, x.flag ? rlocs : [])] }));
      return;
    case 'resolve': {
      const m = mapRequest({ nonce: x.res, eids: [x.eid], itrRlocs: [x.peer], smrInvoked: x.flag, probe: !x.flag && x.rlocs.length === 0 });
      s.control(t, x.peer, 61001, MR, 4342, ecm({ inner: { src: x.peer, dst: MN, sport: 61001 }, message: m }));
      return;
    }
    case 'reply':
      s.control(t, MS, 4342, x.peer, 61001, mapReply({ nonce: x.res, records: [record(x.eid, x.flag ? rlocs : [])] }));
      return;
    case 'referral':
      s.control(t, DDT, 4342, x.flag ? MR : x.peer, 4342, mapReferral({ nonce: x.flag ? x.res : x.sub, records: [referralRecord({ eid: x.eid, action: 1, referrals: [{ rloc: MS }] })] }));
      return;
    case 'smr':
      s.control(t, from, 61502, x.peer, 4342, mapRequest({ nonce: x.smr, smr: true, eids: [x.eid], itrRlocs: [from], sourceEid: MN }));
      return;
    case 'info':
      s.control(t, A, 4341, MS, 4342, infoRequest({ nonce: x.info, eid: `${MN}/32`, ...key }));
      return;
    case 'info-reply': {
      const nat = { etrUdpPort: 61000, globalEtrRloc: B, msRloc: MS, privateEtrRloc: A, rtrRlocs: x.flag ? [RTR] : [] };
      s.control(t, MS, 4342, B, 61000, infoReply({ nonce: x.info, eid: `${MN}/32`, nat, ...key }));
      return;
    }
    case 'data':
      s.data(t, { src: x.peer, dst: from, nonce: Math.floor(t * 1000) & 0xffffff, lsb: 1, inner: { src: '10.2.0.7', dst: MN, proto: 'icmp-echo-request' } });
      return;
  }
}

function mappingsOf(packets: LispPacket[], opts: FlowEngineOptions) {
  const engine = new FlowEngine(opts);
  for (const p of packets) {
    engine.frame();
    engine.packet(p);
  }
  const { mappings, stats } = engine.finish();
  return { mappings: mappings.map((m) => mappingJson(m)), handovers: stats.handovers, started: engine.started };
}

describe('the engine for mappings alone (no exchange read)', () => {
  it('gives the mappings of the whole engine on random stories of every kind of exchange', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), fc.constantFrom(undefined, 1, 5), (steps, timeout) => {
        const s = new Story();
        let t = 1;
        for (const x of steps) tell(s, (t += x.dt), x);
        const base = timeout === undefined ? {} : { timeout };
        const whole = mappingsOf(s.packets, { ...base, onExchange: () => {} });
        const alone = mappingsOf(s.packets, { ...base, without: ['exchanges', 'exchange-stats'] });
        expect(alone.mappings).toEqual(whole.mappings);
        expect(alone.handovers).toBe(whole.handovers);
      }),
      { numRuns: 300 },
    );
  });

  it('still takes the RTRs of an Info-Reply whose request it never saw as relays', () => {
    // Data went to the RTR before the EID's first registration: relayed data is no RLOC of the EID,
    // so it is no data-plane baseline and there is no handover (docs/flows.md).
    const s = new Story();
    const x: Omit<Step, 'what'> = { rlocs: [RTR], eid: `${MN}/32`, peer: PEERS[0]!, reg: 0x100n, sub: 0x200n, pub: 0x300n, res: 0x400n, smr: 0x600n, info: 0x700n, flag: true, dt: 1 };
    tell(s, 1, { ...x, what: 'info-reply' });
    tell(s, 2, { ...x, what: 'data' });
    tell(s, 3, { ...x, what: 'register', rlocs: [A] });
    const whole = mappingsOf(s.packets, { onExchange: () => {} });
    expect(whole.handovers).toBe(0);
    const alone = mappingsOf(s.packets, { without: ['exchanges'] });
    expect(alone.mappings).toEqual(whole.mappings);
    expect(alone.handovers).toBe(0);
  });

  it('starts no resolution, RLOC probe, SMR or referral, and no orphan', () => {
    const s = new Story();
    const x: Omit<Step, 'what'> = { rlocs: [B], eid: `${MN}/32`, peer: PEERS[0]!, reg: 0x100n, sub: 0x200n, pub: 0x300n, res: 0x400n, smr: 0x600n, info: 0x700n, flag: true, dt: 1 };
    for (const what of ['resolve', 'reply', 'referral', 'smr'] as const) tell(s, 1, { ...x, what });
    tell(s, 2, { ...x, what: 'reply', res: 0x401n });
    // The referral answers the resolution (same nonce); the second Map-Reply answers nothing.
    const kinds: string[] = [];
    expect(mappingsOf(s.packets, { onExchange: (e) => kinds.push(`${e.kind} ${e.outcome}`) }).started).toBe(3);
    expect(kinds).toEqual(['referral answered', 'smr unanswered', 'resolution reply-only']);
    expect(mappingsOf(s.packets, { without: ['exchanges'] }).started).toBe(0);
    // A caller that takes exchanges gets them all the same.
    expect(mappingsOf(s.packets, { without: ['exchanges'], onSummary: () => {} }).started).toBe(3);
    // Subscriptions, registrations and NAT Info are still followed.
    const t = new Story();
    for (const what of ['subscribe', 'register', 'info'] as const) tell(t, 1, { ...x, what });
    expect(mappingsOf(t.packets, { without: ['exchanges'] }).started).toBe(3);
  });
});
