import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ecm,
  ecmLispSec,
  eidAd,
  infoReply,
  infoRequest,
  mapNotify,
  mapNotifyAck,
  mappingRecord,
  mapReferral,
  mapRegister,
  mapReply,
  mapReplyLispSec,
  mapRequest,
  negativeMapReply,
  referralRecord,
} from '../../src/dissect/build.js';
import { analyze, Story } from '../support/story.js';

const MN = '10.1.0.5';
const A = '192.0.2.10';
const B = '198.51.100.20';
const MS = '203.0.113.1';
const MR = '203.0.113.2';
const PEER = '203.0.113.50';
const PEER2 = '203.0.113.60';
const key = { keyId: 2, key: 'mn-secret' };
const rec = (rloc: string) => mappingRecord({ eid: `${MN}/32`, locators: [{ rloc, local: true }] });

/** The peer resolves the MN through the MR; the MS proxy-replies. */
function resolve(s: Story, t: number, nonce: bigint, from = PEER, sport = 61001, rloc = A, opts: { smrInvoked?: boolean } = {}) {
  const req = mapRequest({ nonce, eids: [`${MN}/32`], itrRlocs: [from], sourceEid: '10.2.0.7', ...opts });
  const wrapped = ecm({ inner: { src: from, dst: MN, sport }, message: req });
  s.control(t, from, sport, MR, 4342, wrapped);
  s.control(t + 0.002, MR, 4342, MS, 4342, wrapped);
  s.control(t + 0.004, MS, 4342, from, sport, mapReply({ nonce, records: [rec(rloc)] }));
}

describe('registration', () => {
  it('Map-Register → Map-Notify by nonce, with RTT, RLOCs and the site', () => {
    const s = new Story();
    s.control(1, A, 4342, MS, 4342, mapRegister({ nonce: 1n, records: [rec(A)], wantMapNotify: true, xtrId: 7n, ...key }));
    s.control(1.005, MS, 4342, A, 4342, mapNotify({ nonce: 1n, records: [rec(A)], xtrId: 7n, ...key }));
    const { exchanges } = analyze(s.packets);
    expect(exchanges).toEqual([
      expect.objectContaining({
        kind: 'registration',
        eid: '10.1.0.5/32',
        nonce: '0000000000000001',
        frames: [
          { frame: 1, file: 0 },
          { frame: 2, file: 0 },
        ],
        requester: A,
        responder: MS,
        rttMs: 5,
        retransmissions: 0,
        outcome: 'answered',
        rlocs: [A],
        site: '00000000000000000000000000000007',
      }),
    ]);
  });

  it('registrations of one locator share its list; of several, each has its own, sorted and each once', () => {
    const s = new Story();
    const two = mappingRecord({ eid: '10.1.0.6/32', locators: [{ rloc: B, local: true }, { rloc: A }, { rloc: B }] });
    s.control(1, A, 4342, MS, 4342, mapRegister({ nonce: 1n, records: [rec(A)], ...key }));
    s.control(2, B, 4342, MS, 4342, mapRegister({ nonce: 2n, records: [mappingRecord({ eid: '10.1.0.7/32', locators: [{ rloc: A, local: true }] })], ...key }));
    s.control(3, A, 4342, MS, 4342, mapRegister({ nonce: 3n, records: [two], ...key }));
    s.control(4, B, 4342, MS, 4342, mapRegister({ nonce: 4n, records: [two], ...key }));
    const [a, b, c, d] = analyze(s.packets).exchanges;
    expect([a!.rlocs, b!.rlocs, c!.rlocs, d!.rlocs]).toEqual([[A], [A], [A, B], [A, B]]);
    expect(a!.rlocs).toBe(b!.rlocs);
    expect(c!.rlocs).not.toBe(d!.rlocs);
  });

  it('counts retransmissions with the same nonce and with a fresh one; RTT from the echoed one, time to answer from the first', () => {
    const s = new Story();
    s.control(1, A, 4342, MS, 4342, mapRegister({ nonce: 1n, records: [rec(A)], wantMapNotify: true, ...key }));
    s.control(2, A, 4342, MS, 4342, mapRegister({ nonce: 1n, records: [rec(A)], wantMapNotify: true, ...key }));
    s.control(3, A, 4342, MS, 4342, mapRegister({ nonce: 2n, records: [rec(A)], wantMapNotify: true, ...key }));
    s.control(3.01, MS, 4342, A, 4342, mapNotify({ nonce: 2n, records: [rec(A)], ...key }));
    const [e, ...rest] = analyze(s.packets).exchanges;
    expect(rest).toEqual([]);
    // The Map-Notify echoes nonce 2, sent at 3 s: 10 ms of round trip, 2.01 s since the first try.
    expect(e).toMatchObject({ retransmissions: 2, rttMs: 10, timeToAnswerMs: 2010, outcome: 'answered', nonce: '0000000000000001' });
    expect(e!.frames.map((f) => f.frame)).toEqual([1, 2, 3, 4]);
  });

  it('is unanswered after the timeout, and unacknowledged when no Map-Notify was asked', () => {
    const s = new Story();
    s.control(1, A, 4342, MS, 4342, mapRegister({ nonce: 1n, records: [rec(A)], wantMapNotify: true, ...key }));
    s.control(2, B, 4342, MS, 4342, mapRegister({ nonce: 2n, records: [rec(B)], wantMapNotify: false, ...key }));
    s.control(10, B, 4342, MS, 4342, mapRegister({ nonce: 3n, records: [rec(B)], wantMapNotify: false, ...key }));
    const { exchanges, result } = analyze(s.packets, { timeout: 3 });
    expect(exchanges.map((e) => [e.nonce.slice(-1), e.outcome, e.rttMs])).toEqual([
      ['1', 'unanswered', null],
      ['2', 'unacknowledged', null],
      ['3', 'unacknowledged', null],
    ]);
    expect(exchanges[2]!.intervalMs).toBe(8000);
    expect(result.stats.unanswered).toBe(1);
  });

  it('is auth-failed when the key does not verify', () => {
    const s = new Story(() => 'mn-secret');
    s.control(1, A, 4342, MS, 4342, mapRegister({ nonce: 1n, records: [rec(A)], wantMapNotify: true, keyId: 2, key: 'wrong' }));
    const [e] = analyze(s.packets).exchanges;
    expect(e).toMatchObject({ outcome: 'auth-failed', authError: 'authentication data does not match the key' });
  });

  it('an unsolicited Map-Notify is answered by its Map-Notify-Ack; its retransmission counts', () => {
    const s = new Story();
    s.control(1, MS, 4342, A, 4342, mapNotify({ nonce: 9n, records: [rec(A)], ...key }));
    s.control(3, MS, 4342, A, 4342, mapNotify({ nonce: 9n, records: [rec(A)], ...key }));
    s.control(3.002, A, 4342, MS, 4342, mapNotifyAck({ nonce: 9n, records: [rec(A)], ...key }));
    const [e] = analyze(s.packets).exchanges;
    expect(e).toMatchObject({ kind: 'registration', requester: MS, responder: A, retransmissions: 1, rttMs: 2, timeToAnswerMs: 2002, outcome: 'answered' });
  });

  it('a message echoing the nonce on the way the request went is not its answer', () => {
    // tcpdump's lisp_ipv6 test capture: a Map-Register and then a Map-Notify with its nonce, both
    // from the xTR to the Map-Server. The Map-Server answers back to the xTR, never onward.
    const s = new Story();
    s.control(1, A, 4342, MS, 4342, mapRegister({ nonce: 1n, records: [rec(A)], wantMapNotify: true, ...key }));
    s.control(4, A, 4342, MS, 4342, mapNotify({ nonce: 1n, records: [rec(A)], ...key }));
    const { exchanges } = analyze(s.packets);
    expect(exchanges.map((e) => [e.frames.map((f) => f.frame), e.requester, e.responder, e.outcome])).toEqual([
      [[1], A, MS, 'unanswered'],
      [[2], A, MS, 'unanswered'],
    ]);
  });

  it('a Data-Map-Register through an RTR, its relay and the Map-Notify are one registration', () => {
    const RTR = '203.0.113.3';
    const s = new Story();
    const reg = mapRegister({ nonce: 5n, records: [rec(RTR)], wantMapNotify: true, builtForRtr: true, xtrId: 1n, ...key });
    s.control(1, A, 4341, RTR, 4342, ecm({ inner: { src: A, dst: MS, sport: 4341 }, message: reg, toEtr: true, toMs: true }));
    s.control(1.001, RTR, 4342, MS, 4342, reg);
    s.control(1.005, MS, 4342, RTR, 4342, mapNotify({ nonce: 5n, records: [rec(RTR)], ...key }));
    const [e, ...rest] = analyze(s.packets).exchanges;
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ kind: 'registration', requester: A, responder: MS, via: RTR, retransmissions: 0, outcome: 'answered', rttMs: 5 });
    expect(e!.frames).toHaveLength(3);
  });
});

describe('resolution', () => {
  it('ECM Map-Request via the MR, its forward and the Map-Reply are one exchange', () => {
    const s = new Story();
    resolve(s, 5, 0xabn);
    const [e, ...rest] = analyze(s.packets).exchanges;
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ kind: 'resolution', eid: '10.1.0.5/32', requester: PEER, responder: MS, via: MR, rttMs: 4, retransmissions: 0, outcome: 'answered', rlocs: [A] });
    expect(e!.frames.map((f) => f.frame)).toEqual([1, 2, 3]);
  });

  it('says whether a resolution the ITR asked to protect with LISP-SEC got a protected answer', () => {
    const s = new Story();
    const otk = new Uint8Array(16).fill(7);
    const ask = (t: number, nonce: bigint, sport: number, secure: boolean) =>
      s.control(t, PEER, sport, MR, 4342, ecm({ ...(secure ? { lispSec: ecmLispSec({ otk }) } : {}), inner: { src: PEER, dst: MN, sport }, message: mapRequest({ nonce, eids: [`${MN}/32`], itrRlocs: [PEER] }) }));
    const protectedAnswer = mapReplyLispSec({ eidAd: eidAd({ kdfId: 2, eids: ['10.1.0.0/16'], eidHmacId: 2, otk }) });
    ask(1, 1n, 61001, true);
    s.control(1.01, A, 4342, PEER, 61001, mapReply({ nonce: 1n, records: [rec(A)], lispSec: protectedAnswer }));
    ask(2, 2n, 61002, true);
    s.control(2.01, A, 4342, PEER, 61002, mapReply({ nonce: 2n, records: [rec(A)] }));
    ask(3, 3n, 61003, false);
    s.control(3.01, A, 4342, PEER, 61003, mapReply({ nonce: 3n, records: [rec(A)] }));
    ask(4, 4n, 61004, true);
    const ex = analyze(s.packets, { timeout: 3 }).exchanges;
    expect(ex.map((e) => [e.nonce.slice(-1), e.outcome, e.lispSec])).toEqual([
      ['1', 'answered', 'protected'],
      // An ITR doing LISP-SEC discards this answer: it carries no EID-AD and PKT-AD.
      ['2', 'answered', 'unprotected'],
      ['3', 'answered', undefined],
      ['4', 'unanswered', 'requested'],
    ]);
  });

  it('retransmissions (same nonce) are counted, forwards are not; a negative reply is negative', () => {
    const s = new Story();
    const req = ecm({ inner: { src: B, dst: '10.3.0.9', sport: 61503 }, message: mapRequest({ nonce: 7n, eids: ['10.3.0.9/32'], itrRlocs: [B] }) });
    for (const t of [95, 96, 97]) s.control(t, B, 61503, MR, 4342, req);
    s.control(97.002, MR, 4342, B, 61503, negativeMapReply({ nonce: 7n, eid: '10.3.0.0/16', action: 1, ttl: 15 }));
    const [e] = analyze(s.packets).exchanges;
    // Every copy has nonce 7: the round trip runs from the latest, at 97 s.
    expect(e).toMatchObject({ outcome: 'negative', action: 'native-forward', retransmissions: 2, rttMs: 2, timeToAnswerMs: 2002, responder: MR, rlocs: [] });
  });

  it('a Map-Reply whose request was not captured is still reported', () => {
    const s = new Story();
    s.control(1, MS, 4342, PEER, 61001, mapReply({ nonce: 3n, records: [rec(A)] }));
    const { exchanges, engine } = analyze(s.packets);
    expect(exchanges[0]).toMatchObject({ kind: 'resolution', requester: PEER, responder: MS, requestSeen: false, rttMs: null, timeToAnswerMs: null, outcome: 'reply-only' });
    expect(engine.exchanges.counters.orphanAnswers).toBe(1);
  });

  it('an answer after the exchange closed is counted as late, not made a new exchange', () => {
    const s = new Story();
    s.control(1, PEER, 61001, MS, 4342, mapRequest({ nonce: 4n, eids: [`${MN}/32`], itrRlocs: [PEER] }));
    s.control(9, MS, 4342, PEER, 61001, mapReply({ nonce: 4n, records: [rec(A)] }));
    const { exchanges, engine } = analyze(s.packets, { timeout: 3 });
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.outcome).toBe('unanswered');
    expect(engine.exchanges.counters.lateAnswers).toBe(1);
  });

  it('RLOC-probe → probe reply, with the probed locator', () => {
    const s = new Story();
    s.control(10, PEER, 61002, A, 4342, mapRequest({ nonce: 8n, probe: true, eids: [`${MN}/32`], itrRlocs: [PEER] }));
    s.control(10.002, A, 4342, PEER, 61002, mapReply({ nonce: 8n, probe: true, records: [mappingRecord({ eid: `${MN}/32`, locators: [{ rloc: A, local: true, probed: true }] })] }));
    expect(analyze(s.packets).exchanges[0]).toMatchObject({ kind: 'rloc-probe', requester: PEER, responder: A, probedRloc: A, rttMs: 2, outcome: 'answered' });
  });

  it('Info-Request → Info-Reply with the NAT details', () => {
    const s = new Story();
    s.control(1, A, 4341, MS, 4342, infoRequest({ nonce: 6n, eid: `${MN}/32`, ...key }));
    const nat = { etrUdpPort: 61000, globalEtrRloc: '203.0.113.77', msRloc: MS, privateEtrRloc: A, rtrRlocs: ['203.0.113.3'] };
    s.control(1.003, MS, 4342, '203.0.113.77', 61000, infoReply({ nonce: 6n, eid: `${MN}/32`, nat, ...key }));
    expect(analyze(s.packets).exchanges[0]).toMatchObject({
      kind: 'nat-info',
      outcome: 'answered',
      rttMs: 3,
      nat: { globalEtrRloc: '203.0.113.77', etrUdpPort: 61000, msUdpPort: 4342, msRloc: MS, privateEtrRloc: A, rtrRlocs: ['203.0.113.3'] },
    });
  });

  it('DDT: each Map-Request → Map-Referral step is a referral, the last request → reply a resolution', () => {
    const DDT1 = '192.0.2.101';
    const DDT2 = '192.0.2.102';
    const s = new Story();
    const req = (n: bigint) => ecm({ inner: { src: MR, dst: MN, sport: 4342 }, message: mapRequest({ nonce: n, eids: [`${MN}/32`], itrRlocs: [MR] }) });
    s.control(1, MR, 4342, DDT1, 4342, req(20n));
    s.control(1.01, DDT1, 4342, MR, 4342, mapReferral({ nonce: 20n, records: [referralRecord({ eid: '10.0.0.0/8', action: 0, referrals: [{ rloc: DDT2 }] })] }));
    s.control(1.02, MR, 4342, DDT2, 4342, req(20n));
    s.control(1.03, DDT2, 4342, MR, 4342, mapReferral({ nonce: 20n, records: [referralRecord({ eid: '10.1.0.0/16', action: 1, referrals: [{ rloc: MS }] })] }));
    s.control(1.04, MR, 4342, MS, 4342, req(21n));
    s.control(1.05, MS, 4342, MR, 4342, mapReply({ nonce: 21n, records: [rec(A)] }));
    const ex = analyze(s.packets).exchanges;
    expect(ex.map((e) => [e.kind, e.responder, e.referralAction ?? e.outcome])).toEqual([
      ['referral', DDT1, 'node-referral'],
      ['referral', DDT2, 'ms-referral'],
      ['resolution', MS, 'answered'],
    ]);
  });
});

describe('smr', () => {
  for (const style of ['EID record = peer prefix, source EID = MN (lispers.net)', 'EID record = MN (RFC 9301 §6.1)'] as const) {
    it(`links the SMR, the SMR-invoked request via the MR and its reply: ${style}`, () => {
      const s = new Story();
      const eids = style.startsWith('EID record = peer') ? ['10.2.0.0/24'] : [`${MN}/32`];
      s.control(30.457, B, 61502, PEER, 4342, mapRequest({ nonce: 0x5an, smr: true, eids, itrRlocs: [B], sourceEid: MN }));
      resolve(s, 30.75, 0x5bn, PEER, 61003, B, { smrInvoked: true });
      const [e, ...rest] = analyze(s.packets).exchanges;
      expect(rest).toEqual([]);
      expect(e).toMatchObject({
        kind: 'smr',
        eid: '10.1.0.5/32',
        nonce: '000000000000005a',
        requester: B,
        responder: PEER,
        invokedNonce: '000000000000005b',
        invokedMs: 293,
        // The Map-Reply echoes the SMR-invoked request's nonce (sent at 30.75): 4 ms; 297 ms since the SMR.
        rttMs: 4,
        timeToAnswerMs: 297,
        outcome: 'answered',
        rlocs: [B],
        via: MR,
      });
      expect(e!.frames).toHaveLength(4);
    });
  }

  it("links an SMR-invoked request for a host within the SMR's EID prefix, not one outside it", () => {
    const s = new Story();
    s.control(1, B, 61502, PEER, 4342, mapRequest({ nonce: 1n, smr: true, eids: ['10.1.0.0/16'], itrRlocs: [B] }));
    s.control(1.1, B, 61503, PEER2, 4342, mapRequest({ nonce: 2n, smr: true, eids: ['10.3.0.0/16'], itrRlocs: [B] }));
    resolve(s, 1.2, 3n, PEER, 61003, B, { smrInvoked: true });
    resolve(s, 1.3, 4n, PEER2, 61004, B, { smrInvoked: true });
    const ex = analyze(s.packets).exchanges;
    expect(ex.map((e) => [e.kind, e.invokedNonce, e.smrInvoked])).toEqual([
      ['smr', '0000000000000003', undefined],
      ['smr', undefined, undefined],
      ['resolution', undefined, true],
    ]);
  });

  it('an SMR nobody answers is unanswered', () => {
    const s = new Story();
    s.control(1, B, 61502, PEER, 4342, mapRequest({ nonce: 1n, smr: true, eids: [`${MN}/32`], itrRlocs: [B], sourceEid: MN }));
    expect(analyze(s.packets).exchanges[0]).toMatchObject({ kind: 'smr', outcome: 'unanswered', rttMs: null });
  });
});

describe('engine bounds and order', () => {
  it('hands exchanges out in order of start, whatever order they close in', () => {
    const s = new Story();
    s.control(1, PEER, 61001, MS, 4342, mapRequest({ nonce: 1n, eids: [`${MN}/32`], itrRlocs: [PEER] }));
    s.control(2, A, 4342, MS, 4342, mapRegister({ nonce: 2n, records: [rec(A)], wantMapNotify: true, ...key }));
    s.control(2.001, MS, 4342, A, 4342, mapNotify({ nonce: 2n, records: [rec(A)], ...key }));
    s.control(3.5, MS, 4342, PEER, 61001, mapReply({ nonce: 1n, records: [rec(A)] }));
    expect(analyze(s.packets).exchanges.map((e) => e.start)).toEqual([1, 2]);
  });

  it('closes the oldest exchange early beyond the cap, and counts it', () => {
    const s = new Story();
    for (let i = 0; i < 10; i++) s.control(1 + i * 0.01, PEER, 61001, MS, 4342, mapRequest({ nonce: BigInt(i + 1), eids: [`10.9.0.${i}/32`], itrRlocs: [PEER] }));
    const { exchanges, engine } = analyze(s.packets, { maxOpen: 4 });
    expect(exchanges).toHaveLength(10);
    expect(engine.exchanges.counters.dropped).toBe(6);
  });

  it('interleaving unrelated exchanges does not change any of them', () => {
    // Each exchange is a short list of timed packets; the interleaving keeps each one's own order.
    type Step = (s: Story, t: number) => void;
    const scripts: { name: string; steps: [number, Step][] }[] = [
      {
        name: 'registration',
        steps: [
          [0, (s, t) => s.control(t, A, 4342, MS, 4342, mapRegister({ nonce: 1n, records: [rec(A)], wantMapNotify: true, ...key }))],
          [0.005, (s, t) => s.control(t, MS, 4342, A, 4342, mapNotify({ nonce: 1n, records: [rec(A)], ...key }))],
        ],
      },
      {
        name: 'resolution',
        steps: [
          [0, (s, t) => s.control(t, PEER2, 61001, MS, 4342, mapRequest({ nonce: 2n, eids: ['10.7.0.1/32'], itrRlocs: [PEER2] }))],
          [1, (s, t) => s.control(t, PEER2, 61001, MS, 4342, mapRequest({ nonce: 2n, eids: ['10.7.0.1/32'], itrRlocs: [PEER2] }))],
          [1.01, (s, t) => s.control(t, MS, 4342, PEER2, 61001, mapReply({ nonce: 2n, records: [mappingRecord({ eid: '10.7.0.0/16', locators: [{ rloc: '192.0.2.77' }] })] }))],
        ],
      },
      {
        name: 'probe',
        steps: [
          [0, (s, t) => s.control(t, PEER, 61002, A, 4342, mapRequest({ nonce: 3n, probe: true, eids: [`${MN}/32`], itrRlocs: [PEER] }))],
          [0.02, (s, t) => s.control(t, A, 4342, PEER, 61002, mapReply({ nonce: 3n, probe: true, records: [rec(A)] }))],
        ],
      },
    ];
    const run = (offsets: number[]) => {
      const events: [number, Step][] = [];
      scripts.forEach((sc, i) => sc.steps.forEach(([dt, f]) => events.push([offsets[i]! + dt, f])));
      events.sort((x, y) => x[0] - y[0]);
      const s = new Story();
      for (const [t, f] of events) f(s, t);
      // Compare without frame numbers (they follow the interleaving) and start times (shifted).
      return analyze(s.packets)
        .exchanges.map(({ frames, start, ...e }) => ({ ...e, packets: frames.length }))
        .sort((x, y) => x.nonce.localeCompare(y.nonce));
    };
    const reference = run([0, 0, 0]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 3, maxLength: 3 }), (ms) => {
        expect(run(ms.map((x) => 1 + x / 100))).toEqual(reference);
      }),
      { numRuns: 200 },
    );
  });
});

describe('closing on time', () => {
  const request = mapRequest({ nonce: 1n, eids: [`${MN}/32`], itrRlocs: [PEER] });
  const reply = mapReply({ nonce: 1n, records: [rec(A)] });
  const tracker = async () => {
    const { ExchangeTracker } = await import('../../src/flows/exchanges.js');
    const reported: string[] = [];
    const t = new ExchangeTracker({ onExchange: (e) => reported.push(e.outcome) });
    t.control({ ts: 0, src: PEER, dst: MS, sport: 61001, dport: 4342, m: request }, { frame: 1, file: 0 });
    return { t, reported };
  };

  it('closes an answered exchange LINGER seconds after its answer, whenever the answer came', async () => {
    const { t, reported } = await tracker();
    t.sweep(5);
    t.control({ ts: 5.2, src: MS, dst: PEER, sport: 4342, dport: 61001, m: reply }, { frame: 2, file: 0 });
    t.sweep(8.1);
    expect(reported).toEqual([]);
    t.sweep(8.7);
    expect(reported).toEqual(['answered']);
  });

  it('closes on time after a packet stamped earlier than the one before it', async () => {
    // The answer's time stamp goes back (captures are not always in time order): the exchange is
    // over at 1 + LINGER, not 10 s after its request.
    const { t, reported } = await tracker();
    t.sweep(5);
    t.control({ ts: 1, src: MS, dst: PEER, sport: 4342, dport: 61001, m: reply }, { frame: 2, file: 0 });
    t.sweep(7.9);
    expect(reported).toEqual(['answered']);
  });
});

describe('bounded state on endless input', () => {
  it('keeps open exchanges to the timeout window however long the capture runs', async () => {
    const { ExchangeTracker } = await import('../../src/flows/exchanges.js');
    let closed = 0;
    const t = new ExchangeTracker({ timeout: 3, onExchange: () => closed++ });
    let maxOpen = 0;
    const m = mapRequest({ nonce: 0n, eids: ['10.9.0.1/32'], itrRlocs: [PEER] });
    for (let i = 0; i < 100_000; i++) {
      // 1,000 new unanswered requests per second of capture time, each with its own nonce and EID.
      m.nonce = BigInt(i + 1);
      m.eids[0]!.prefix = { kind: 'ipv4', afi: 1, addr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` };
      t.control({ ts: i / 1000, src: PEER, dst: MS, sport: 61001, dport: 4342, m }, { frame: i + 1, file: 0 });
      maxOpen = Math.max(maxOpen, t.open);
    }
    t.finish();
    expect(closed).toBe(100_000);
    expect(maxOpen).toBeLessThan(4_000); // ≈ 3 s × 1,000/s plus one sweep interval
  });
});

describe('Publish/Subscribe', () => {
  it('a publication of the registered prefix covering the host subscribed to is that subscription\'s', () => {
    // The xTR subscribes to the MN's host; the Map-Server publishes the site's registered /28.
    const s = new Story();
    const sub = mapRequest({ nonce: 0x10n, eids: [`${MN}/32`], itrRlocs: [PEER], xtrId: 9n, siteId: 1n, subscribe: true });
    s.control(1, PEER, 4342, MS, 4342, ecm({ inner: { src: PEER, dst: MN, sport: 4342 }, message: sub }));
    const site = (rloc: string) => mappingRecord({ eid: '10.1.0.0/28', locators: [{ rloc }] });
    s.control(1.001, MS, 4342, PEER, 4342, mapNotify({ nonce: 0x10n, records: [site(A)], xtrId: 9n, siteId: 1n, ...key }));
    s.control(1.002, PEER, 4342, MS, 4342, mapNotifyAck({ nonce: 0x10n, records: [site(A)], xtrId: 9n, siteId: 1n, ...key }));
    s.control(5, MS, 4342, PEER, 4342, mapNotify({ nonce: 0x11n, records: [site(B)], xtrId: 9n, siteId: 1n, ...key }));
    s.control(5.001, PEER, 4342, MS, 4342, mapNotifyAck({ nonce: 0x11n, records: [site(B)], xtrId: 9n, siteId: 1n, ...key }));
    const { exchanges } = analyze(s.packets);
    expect(exchanges.map((e) => [e.kind, e.eid, e.outcome, e.subscriptionNonce ?? null])).toEqual([
      ['subscription', '10.1.0.5/32', 'answered', null],
      ['publication', '10.1.0.0/28', 'answered', '0000000000000010'],
    ]);
  });
});
