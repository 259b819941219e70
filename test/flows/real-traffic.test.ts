// The exchange and handover rules on the habits of real implementations, reproduced with our
// encoder: retransmissions with a new nonce each time (Open Overlay Router), timing jitter,
// back-off, SMRs with nonce 0, requests forwarded out of the capture's sight, a registration made
// before the capture started, a reused nonce. Expected values come from the timelines built here.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ecm, infoReply, infoRequest, mapNotify, mappingRecord, mapRegister, mapReply, mapRequest } from '../../src/dissect/build.js';
import { encodeControl } from '../../src/dissect/control.js';
import { WAIT_BASE } from '../../src/flows/exchanges.js';
import { analyze, Story } from '../support/story.js';

const MN = '3.0.0.3';
const OLD = '10.10.3.2';
const NEW = '10.10.5.2';
const MN2 = '10.10.4.2';
const MS = '10.10.1.2';
const XTR = '10.10.2.2';
const XTR_EID = '4.0.0.4';
const key = { keyId: 1, key: 'password' };
const rec = (...rlocs: string[]) => mappingRecord({ eid: `${MN}/32`, ttl: 10, locators: rlocs.map((rloc, i) => ({ rloc, priority: i + 1, local: true })) });

/** Times of `n` transmissions `interval` seconds apart, each interval scaled by its jitter factor. */
function times(start: number, intervals: number[], jitter: number[] = []): number[] {
  const out = [start];
  intervals.forEach((d, i) => out.push(out[i]! + d * (1 + (jitter[i] ?? 0))));
  return out;
}

const jitters = (n: number) => fc.array(fc.double({ min: -0.1, max: 0.1, noNaN: true }), { minLength: n, maxLength: n });

describe('the RTT comes from the transmission the answer echoes', () => {
  it('OOR: three Map-Registers 3 s apart with new nonces, the Map-Notify echoes the third', () => {
    const s = new Story();
    const [t1, t2, t3] = times(100, [3, 3]);
    s.control(t1!, MN2, 4342, MS, 4342, mapRegister({ nonce: 0x11n, records: [rec(MN2)], wantMapNotify: true, ...key }));
    s.control(t2!, MN2, 4342, MS, 4342, mapRegister({ nonce: 0x12n, records: [rec(MN2)], wantMapNotify: true, ...key }));
    s.control(t3!, MN2, 4342, MS, 4342, mapRegister({ nonce: 0x13n, records: [rec(MN2)], wantMapNotify: true, ...key }));
    s.control(t3! + 0.000205, MS, 4342, MN2, 4342, mapNotify({ nonce: 0x13n, records: [rec(MN2)], ...key }));
    const { exchanges } = analyze(s.packets);
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]).toMatchObject({ kind: 'registration', outcome: 'answered', retransmissions: 2, rttMs: 0.205, timeToAnswerMs: 6000.205 });
    expect(exchanges[0]!.frames.map((f) => f.frame)).toEqual([1, 2, 3, 4]);
  });

  it('where several transmissions share the echoed nonce, the latest before the answer counts', () => {
    const s = new Story();
    const req = mapRequest({ nonce: 0x21n, eids: [`${MN}/32`], itrRlocs: [XTR] });
    s.control(1, XTR, 4342, MS, 4342, req);
    s.control(2, XTR, 4342, MS, 4342, req);
    s.control(2.5, XTR, 4342, MS, 4342, mapRequest({ nonce: 0x22n, eids: [`${MN}/32`], itrRlocs: [XTR] }));
    s.control(2.503, MS, 4342, XTR, 4342, mapReply({ nonce: 0x21n, records: [rec(NEW)] }));
    const [e] = analyze(s.packets).exchanges;
    expect(e).toMatchObject({ retransmissions: 2, rttMs: 503, timeToAnswerMs: 1503 });
  });

  it('RTT percentiles in stats use rtt_ms', () => {
    const s = new Story();
    const ask = (t: number, nonce: bigint) =>
      s.control(t, XTR, 61001, MS, 4342, ecm({ inner: { src: XTR_EID, dst: MN, sport: 61001 }, message: mapRequest({ nonce, eids: [`${MN}/32`], itrRlocs: [XTR] }) }));
    ask(1, 1n);
    ask(2, 2n);
    s.control(2.004, MS, 4342, XTR, 61001, mapReply({ nonce: 2n, records: [rec(NEW)] }));
    const { result } = analyze(s.packets);
    expect(result.stats.resolvers).toEqual([expect.objectContaining({ resolver: MS, requests: 1, retransmissions: 1, rttP50: 4, rttMax: 4 })]);
  });
});

describe('separate requests stay separate', () => {
  it('a Map-Request to the Map-Server and another to an xTR, each with its nonce, are two exchanges; the xTR is no Map-Resolver', () => {
    const s = new Story();
    s.control(1, MN2, 61001, MS, 4342, ecm({ inner: { src: MN, dst: XTR_EID, sport: 61001 }, message: mapRequest({ nonce: 0x31n, eids: [`${XTR_EID}/32`], itrRlocs: [MN2] }) }));
    s.control(1.2, MN2, 4342, XTR, 4342, mapRequest({ nonce: 0x32n, eids: [`${XTR_EID}/32`], itrRlocs: [MN2] }));
    s.control(1.628, XTR, 4342, MN2, 4342, mapReply({ nonce: 0x32n, records: [mappingRecord({ eid: '4.0.0.0/24', locators: [{ rloc: XTR }] })] }));
    const { exchanges, result } = analyze(s.packets);
    expect(exchanges.map((e) => [e.nonce.slice(-2), e.outcome, e.retransmissions, e.rttMs, e.via ?? null])).toEqual([
      ['31', 'unanswered', 0, null, MS],
      ['32', 'answered', 0, 428, null],
    ]);
    expect(result.stats.resolvers.map((r) => r.resolver)).toEqual([MS]);
  });

  it('a nonce reused after its exchange closed starts a new exchange (a replayed, failed copy stays apart)', () => {
    const s = new Story(() => 'password');
    const signed = mapRegister({ nonce: 0x41n, records: [rec(MN2)], wantMapNotify: true, ...key });
    s.control(1, MN2, 4342, MS, 4342, signed);
    s.control(1.001, MS, 4342, MN2, 4342, mapNotify({ nonce: 0x41n, records: [rec(MN2)], ...key }));
    // `replay` sends a copy later; this one was signed with another key.
    s.control(30, MN2, 4342, MS, 4342, mapRegister({ nonce: 0x41n, records: [rec(MN2)], wantMapNotify: true, keyId: 1, key: 'wrong' }));
    const { exchanges } = analyze(s.packets);
    expect(exchanges.map((e) => [e.outcome, e.frames.map((f) => f.frame)])).toEqual([
      ['answered', [1, 2]],
      ['auth-failed', [3]],
    ]);
  });

  it('a request again after its answer is a new exchange, even with the same nonce', () => {
    const s = new Story();
    const req = mapRequest({ nonce: 0x51n, eids: [`${MN}/32`], itrRlocs: [XTR] });
    s.control(1, XTR, 4342, MS, 4342, req);
    s.control(1.001, MS, 4342, XTR, 4342, mapReply({ nonce: 0x51n, records: [rec(NEW)] }));
    s.control(1.5, XTR, 4342, MS, 4342, req);
    const { exchanges } = analyze(s.packets);
    expect(exchanges.map((e) => [e.outcome, e.retransmissions, e.frames.length])).toEqual([
      ['answered', 0, 2],
      ['unanswered', 0, 1],
    ]);
  });

  it('OOR SMRs carry nonce 0: SMRs to two peers are two exchanges, each linked to its own SMR-invoked request', () => {
    const P1 = '10.10.7.2';
    const s = new Story();
    for (const peer of [XTR, P1]) s.control(1, NEW, 4342, peer, 4342, mapRequest({ nonce: 0n, smr: true, eids: ['4.0.0.0/24'], itrRlocs: [NEW], sourceEid: MN }));
    s.control(1.001, XTR, 4342, NEW, 4342, mapRequest({ nonce: 0x61n, smrInvoked: true, eids: [`${MN}/32`], itrRlocs: [XTR] }));
    s.control(1.002, NEW, 4342, XTR, 4342, mapReply({ nonce: 0x61n, records: [rec(NEW)] }));
    const { exchanges } = analyze(s.packets);
    expect(exchanges.map((e) => [e.kind, e.responder, e.outcome, e.invokedNonce ?? null])).toEqual([
      ['smr', XTR, 'answered', '0000000000000061'],
      ['smr', P1, 'unanswered', null],
    ]);
  });
});

describe('periodic retransmissions are grouped the same whatever the jitter', () => {
  /** Groups of frame counts per exchange of a capture's exchanges. */
  const grouping = (s: Story) => analyze(s.packets).exchanges.map((e) => [e.kind, e.outcome, e.frames.length]);

  it('an OOR MN with a wrong key: 14 Map-Registers every 3 s with fresh nonces, never answered, are one exchange', () => {
    fc.assert(
      fc.property(jitters(13), (j) => {
        const s = new Story();
        times(10, Array(13).fill(3), j).forEach((t, i) =>
          s.control(t, MN2, 4342, MS, 4342, mapRegister({ nonce: BigInt(0x100 + i), records: [rec(MN2)], wantMapNotify: true, keyId: 1, key: 'wrong' })),
        );
        const ex = analyze(s.packets).exchanges;
        expect(ex).toHaveLength(1);
        expect(ex[0]).toMatchObject({ kind: 'registration', retransmissions: 13, rttMs: null });
      }),
      { numRuns: 60 },
    );
  });

  it('lispscope mn backs off 1, 2, 4 s: one exchange', () => {
    fc.assert(
      fc.property(jitters(3), (j) => {
        const s = new Story();
        const [a, b, c, d] = times(5, [1, 2, 4], j);
        for (const [i, t] of [a, b, c, d].entries()) {
          s.control(t!, MN2, 61001, MS, 4342, ecm({ inner: { src: MN, dst: XTR_EID, sport: 61001 }, message: mapRequest({ nonce: BigInt(0x200 + i), eids: [`${XTR_EID}/32`], itrRlocs: [MN2] }) }));
        }
        s.control(d! + 0.002, MS, 4342, MN2, 61001, mapReply({ nonce: 0x203n, records: [mappingRecord({ eid: '4.0.0.0/24', locators: [{ rloc: XTR }] })] }));
        expect(grouping(s)).toEqual([['resolution', 'answered', 5]]);
      }),
      { numRuns: 60 },
    );
  });

  it('OOR RLOC-probes every 5 s to a dead locator: one exchange', () => {
    fc.assert(
      fc.property(jitters(4), (j) => {
        const s = new Story();
        times(1, [5, 5, 5, 5], j).forEach((t, i) => s.control(t, XTR, 4342, OLD, 4342, mapRequest({ nonce: BigInt(0x300 + i), probe: true, eids: [`${MN}/32`], itrRlocs: [XTR] })));
        expect(grouping(s)).toEqual([['rloc-probe', 'unanswered', 5]]);
      }),
      { numRuns: 60 },
    );
  });

  it('Info-Request retransmissions about 300 ms apart with new nonces: one exchange', () => {
    fc.assert(
      fc.property(jitters(3), (j) => {
        const s = new Story();
        const ts = times(1, [0.3, 0.3, 0.3], j);
        ts.forEach((t, i) => s.control(t, MN2, 4342, MS, 4342, infoRequest({ nonce: BigInt(0x400 + i), eid: `${MN}/32`, ...key })));
        const nat = { etrUdpPort: 22667, globalEtrRloc: '10.10.9.1', msRloc: MS, rtrRlocs: ['10.10.6.2'] };
        s.control(ts[3]! + 0.0002, MS, 4342, MN2, 4342, infoReply({ nonce: 0x403n, eid: `${MN}/32`, nat, ...key }));
        const [e, ...rest] = analyze(s.packets).exchanges;
        expect(rest).toEqual([]);
        expect(e).toMatchObject({ kind: 'nat-info', outcome: 'answered', retransmissions: 3, rttMs: 0.2 });
      }),
      { numRuns: 60 },
    );
  });

  it("an SMR target's retried SMR-invoked Map-Requests belong to the smr exchange", () => {
    fc.assert(
      fc.property(jitters(2), (j) => {
        const s = new Story();
        s.control(1, NEW, 4342, XTR, 4342, mapRequest({ nonce: 0n, smr: true, eids: ['4.0.0.0/24'], itrRlocs: [NEW], sourceEid: MN }));
        const ts = times(1.001, [1, 1], j);
        ts.forEach((t, i) =>
          s.control(t, XTR, 4342, MS, 4342, ecm({ inner: { src: XTR_EID, dst: MN, sport: 4342 }, message: mapRequest({ nonce: BigInt(0x500 + i), smrInvoked: true, eids: [`${MN}/32`], itrRlocs: [XTR] }) })),
        );
        s.control(ts[2]! + 0.001, NEW, 4342, XTR, 4342, mapReply({ nonce: 0x502n, records: [rec(NEW)] }));
        const ex = analyze(s.packets).exchanges;
        expect(ex.map((e) => [e.kind, e.outcome, e.retransmissions, e.rttMs])).toEqual([['smr', 'answered', 2, 1]]);
      }),
      { numRuns: 40 },
    );
  });

  it('answered refreshes 60 s apart are separate exchanges, and so are unanswered ones', () => {
    fc.assert(
      fc.property(jitters(3), fc.boolean(), (j, answered) => {
        const s = new Story();
        times(0, [60, 60, 60], j).forEach((t, i) => {
          s.control(t, MN2, 4342, MS, 4342, mapRegister({ nonce: BigInt(0x600 + i), records: [rec(MN2)], wantMapNotify: true, ...key }));
          if (answered) s.control(t + 0.001, MS, 4342, MN2, 4342, mapNotify({ nonce: BigInt(0x600 + i), records: [rec(MN2)], ...key }));
        });
        expect(grouping(s)).toEqual(Array(4).fill(['registration', answered ? 'answered' : 'unanswered', answered ? 2 : 1]));
      }),
      { numRuns: 40 },
    );
  });

  it('each kind waits well above the retransmission intervals implementations use', () => {
    // OOR 3 s, lispscope mn 1-2-4 s, lispers.net Map-Notify 2 s: registrations; OOR probes 5 s,
    // lispers.net 10 s; RFC 9301 Map-Register refresh 60 s.
    expect(WAIT_BASE.registration).toBeGreaterThan(3 * 1.1 * 1.5);
    expect(WAIT_BASE.registration).toBeLessThan(60 * 0.9 * 0.5);
    expect(WAIT_BASE['rloc-probe']).toBeGreaterThan(10 * 1.1 * 1.5);
    expect(WAIT_BASE['rloc-probe']).toBeLessThan(30 * 0.9);
  });
});

describe('requests forwarded out of sight', () => {
  /** At the Map-Server: the xTR's ECM Map-Request arrives and is forwarded to the ETR (the MN). */
  function atMapServer(s: Story, t: number) {
    const req = ecm({ inner: { src: XTR_EID, dst: MN, sport: 4342 }, message: mapRequest({ nonce: 0x71n, smrInvoked: true, eids: [`${MN}/32`], itrRlocs: [XTR] }) });
    s.control(t, XTR, 4342, MS, 4342, req);
    s.control(t + 0.0003, MS, 4342, NEW, 4342, req);
  }

  it('are forwarded, not unanswered', () => {
    const s = new Story();
    atMapServer(s, 1);
    const { exchanges, result } = analyze(s.packets);
    expect(exchanges).toEqual([expect.objectContaining({ kind: 'resolution', outcome: 'forwarded', rttMs: null, via: MS })]);
    expect(exchanges[0]!.frames.map((f) => f.frame)).toEqual([1, 2]);
    expect(result.stats.unanswered).toBe(0);
  });

  it('are answered when a capture from another vantage point holds the reply', () => {
    const s = new Story();
    atMapServer(s, 1);
    s.control(1.0008, NEW, 4342, XTR, 4342, mapReply({ nonce: 0x71n, records: [rec(NEW)] }));
    const { exchanges } = analyze(s.packets);
    expect(exchanges).toEqual([expect.objectContaining({ kind: 'resolution', outcome: 'answered', rttMs: 0.8, responder: NEW })]);
  });
});

describe('answers without their request, and answers that do not fit', () => {
  it('a probe reply or an Info-Reply with no request in the capture is reply-only', () => {
    const s = new Story();
    s.control(1, XTR, 4342, NEW, 4342, mapReply({ nonce: 0x81n, probe: true, records: [rec(NEW)] }));
    s.control(2, MS, 4342, MN2, 4342, infoReply({ nonce: 0x82n, eid: `${MN}/32`, nat: { etrUdpPort: 4341, globalEtrRloc: MN2, msRloc: MS }, ...key }));
    const { exchanges, result } = analyze(s.packets);
    expect(exchanges.map((e) => [e.kind, e.outcome, e.rttMs])).toEqual([
      ['rloc-probe', 'reply-only', null],
      ['nat-info', 'reply-only', null],
    ]);
    expect(result.stats.unanswered).toBe(0);
  });

  it('a Map-Reply record that does not cover the requested EID gets a warning (OOR answered 10.99.0.1 with 11.64.0.0/10)', () => {
    const s = new Story();
    s.control(1, XTR, 4342, MS, 4342, mapRequest({ nonce: 0x91n, eids: ['10.99.0.1/32'], itrRlocs: [XTR] }));
    s.control(1.001, MS, 4342, XTR, 4342, mapReply({ nonce: 0x91n, records: [mappingRecord({ eid: '11.64.0.0/10', locators: [] })] }));
    s.control(2, XTR, 4342, MS, 4342, mapRequest({ nonce: 0x92n, eids: ['10.99.0.1/32'], itrRlocs: [XTR] }));
    s.control(2.001, MS, 4342, XTR, 4342, mapReply({ nonce: 0x92n, records: [mappingRecord({ eid: '10.0.0.0/8', locators: [] })] }));
    const [bad, good] = analyze(s.packets).exchanges;
    expect(bad!.notes).toEqual([{ level: 'warning', text: "the Map-Reply's record 11.64.0.0/10 does not cover the requested EID 10.99.0.1/32" }]);
    expect(good!.notes).toBeUndefined();
  });
});

describe('sites', () => {
  it('a Mobile Node that makes a new xTR-ID at each start is one site with the xTR-IDs seen; two xTRs at once are two', () => {
    const s = new Story();
    for (let run = 0; run < 3; run++) {
      for (let k = 0; k < 2; k++) {
        const t = run * 100 + k * 10;
        const nonce = BigInt(run * 10 + k + 1);
        s.control(t, MN2, 4342, MS, 4342, mapRegister({ nonce, records: [rec(MN2)], wantMapNotify: true, xtrId: BigInt(run + 1), ...key }));
        s.control(t + 0.001, MS, 4342, MN2, 4342, mapNotify({ nonce, records: [rec(MN2)], ...key }));
      }
    }
    // Another site's two xTRs register one prefix at the same time.
    const site = (rloc: string) => mappingRecord({ eid: '4.0.0.0/24', locators: [{ rloc }] });
    for (const t of [5, 65]) {
      s.control(t, XTR, 4342, MS, 4342, mapRegister({ nonce: BigInt(t * 1000), records: [site(XTR)], wantMapNotify: false, xtrId: 0xa1n, ...key }));
      s.control(t + 1, '10.10.2.3', 4342, MS, 4342, mapRegister({ nonce: BigInt(t * 1000 + 1), records: [site('10.10.2.3')], wantMapNotify: false, xtrId: 0xa2n, ...key }));
    }
    const sites = analyze(s.packets).result.stats.sites;
    const x = (n: number) => n.toString(16).padStart(32, '0');
    expect(sites.map((v) => [v.eid, v.site, v.xtrIds, v.registrations])).toEqual([
      [`${MN}/32`, x(3), [x(1), x(2), x(3)], 6],
      ['4.0.0.0/24', x(0xa1), [x(0xa1)], 2],
      ['4.0.0.0/24', x(0xa2), [x(0xa2)], 2],
    ]);
  });
});

describe('handovers that start before the capture', () => {
  /** The xTR pings the MN's EID through its old RLOC; the MN registers its new set and SMRs the xTR. */
  function move(s: Story, pingsBefore: number[], registerAt: number) {
    for (const t of pingsBefore) s.data(t, { src: XTR, dst: OLD, inner: { src: XTR_EID, dst: MN, proto: 'icmp-echo-reply' } });
    s.control(registerAt, NEW, 4342, MS, 4342, mapRegister({ nonce: 0xa1n, records: [rec(NEW, MN2)], wantMapNotify: true, ...key }));
    s.control(registerAt + 0.0004, MS, 4342, NEW, 4342, mapNotify({ nonce: 0xa1n, records: [rec(NEW, MN2)], ...key }));
    s.control(registerAt + 0.0002, NEW, 4342, XTR, 4342, mapRequest({ nonce: 0n, smr: true, eids: ['4.0.0.0/24'], itrRlocs: [NEW], sourceEid: MN }));
  }

  it('takes the previous RLOCs from the data plane and marks the handover so', () => {
    const s = new Story();
    move(s, [1, 1.5, 2, 2.5, 3], 8);
    s.data(8.5, { src: XTR, dst: NEW, inner: { src: XTR_EID, dst: MN, proto: 'icmp-echo-reply' } });
    const m = analyze(s.packets).result.mappings.find((x) => x.eid === `${MN}/32`)!;
    expect(m.handovers).toEqual([
      {
        ts: 8,
        frame: { frame: 6, file: 0 },
        from: [OLD],
        to: [MN2, NEW],
        baseline: 'data-plane',
        peers: [{ peer: XTR, smrTs: 8.0002, firstDataTs: 8.5, latencyMs: 500, staleDataPackets: 0 }],
      },
    ]);
  });

  it('a peer that sent nothing in the active window before the handover is idle: no latency', () => {
    const s = new Story();
    move(s, [1], 30);
    s.data(69.27, { src: XTR, dst: NEW, inner: { src: XTR_EID, dst: MN, proto: 'icmp-echo-reply' } });
    const h = analyze(s.packets).result.mappings.find((x) => x.eid === `${MN}/32`)!.handovers[0]!;
    expect(h.peers).toEqual([{ peer: XTR, smrTs: 30.0002, firstDataTs: 69.27, latencyMs: null, idle: true, staleDataPackets: 0 }]);
  });

  it('interface down, then up: both handovers, the first from the data plane', () => {
    const s = new Story();
    for (const t of [1, 2, 3]) s.data(t, { src: XTR, dst: OLD, inner: { src: XTR_EID, dst: MN, proto: 'icmp-echo-reply' } });
    const reg = (t: number, nonce: bigint, ...rlocs: string[]) => {
      s.control(t, rlocs[0]!, 4342, MS, 4342, mapRegister({ nonce, records: [rec(...rlocs)], wantMapNotify: true, ...key }));
      s.control(t + 0.0004, MS, 4342, rlocs[0]!, 4342, mapNotify({ nonce, records: [rec(...rlocs)], ...key }));
    };
    reg(5, 1n, MN2);
    for (const t of [6, 7]) s.data(t, { src: XTR, dst: MN2, inner: { src: XTR_EID, dst: MN, proto: 'icmp-echo-reply' } });
    reg(20, 2n, OLD, MN2);
    const m = analyze(s.packets).result.mappings.find((x) => x.eid === `${MN}/32`)!;
    expect(m.handovers.map((h) => [h.baseline, h.from, h.to])).toEqual([
      ['data-plane', [OLD], [MN2]],
      ['registration', [MN2], [OLD, MN2].sort()],
    ]);
  });

  it('says why when the capture cannot show a handover', () => {
    const s = new Story();
    s.control(1, NEW, 4342, MS, 4342, mapRegister({ nonce: 1n, records: [rec(NEW)], wantMapNotify: true, ...key }));
    const m = analyze(s.packets).result.mappings[0]!;
    expect(m.handovers).toEqual([]);
    expect(m.noHandover).toMatch(/^one registration and nothing earlier to compare it with/);
  });

  it('data relayed through an RTR is not taken for the previous RLOCs', () => {
    const RTR = '10.10.6.2';
    const s = new Story();
    s.control(0.5, MS, 4342, MN2, 4342, infoReply({ nonce: 5n, eid: `${MN}/32`, nat: { etrUdpPort: 4341, globalEtrRloc: MN2, msRloc: MS, rtrRlocs: [RTR] }, ...key }));
    for (const t of [1, 2]) s.data(t, { src: MN2, dst: RTR, inner: { src: MN, dst: XTR_EID, proto: 'icmp-echo-request' } });
    s.control(3, MS, 4342, RTR, 4342, mapReply({ nonce: 6n, records: [mappingRecord({ eid: '4.0.0.0/24', locators: [{ rloc: XTR }] })] }));
    const m = analyze(s.packets).result.mappings.find((x) => x.eid === '4.0.0.0/24')!;
    expect(m.handovers).toEqual([]);
  });
});

describe('one host, one address', () => {
  it('a Mobile Node and a Map-Server both on 127.0.0.1 are told apart by port: forward and answer found', () => {
    const L = '127.0.0.1';
    const s = new Story();
    s.control(1, L, 50001, L, 4342, mapRegister({ nonce: 0xb1n, records: [rec(L)], wantMapNotify: true, ...key }));
    s.control(1.0002, L, 4342, L, 50001, mapNotify({ nonce: 0xb1n, records: [rec(L)], ...key }));
    const req = ecm({ inner: { src: L, dst: XTR_EID, sport: 50002 }, message: mapRequest({ nonce: 0xb2n, eids: [`${XTR_EID}/32`], itrRlocs: [L] }) });
    s.control(2, L, 50002, L, 4342, req);
    s.control(2.0001, L, 4342, '127.0.0.2', 4342, req);
    s.control(2.0003, '127.0.0.2', 4342, L, 50002, mapReply({ nonce: 0xb2n, records: [mappingRecord({ eid: '4.0.0.0/24', locators: [{ rloc: '127.0.0.2' }] })] }));
    const { exchanges } = analyze(s.packets);
    expect(exchanges.map((e) => [e.kind, e.outcome, e.retransmissions, e.rttMs, e.frames.length])).toEqual([
      ['registration', 'answered', 0, 0.2, 2],
      ['resolution', 'answered', 0, 0.3, 3],
    ]);
  });
});

describe('seen on both sides of a NAT', () => {
  it('the copy a NAT translated joins its request; the same request later, after the answer, is new', () => {
    const PRIV = '10.10.4.2';
    const PUB = '10.10.9.1';
    const s = new Story();
    const info = infoRequest({ nonce: 0xc1n, eid: `${MN}/32`, ...key });
    s.control(1, PRIV, 4342, MS, 4342, info);
    s.control(1.0001, PUB, 22667, MS, 4342, info);
    const nat = { etrUdpPort: 22667, globalEtrRloc: PUB, msRloc: MS, rtrRlocs: ['10.10.6.2'] };
    s.control(1.0003, MS, 4342, PUB, 22667, infoReply({ nonce: 0xc1n, eid: `${MN}/32`, nat, ...key }));
    s.control(1.0004, MS, 4342, PRIV, 4342, infoReply({ nonce: 0xc1n, eid: `${MN}/32`, nat, ...key }));
    s.control(2, PUB, 30000, MS, 4342, info);
    const { exchanges } = analyze(s.packets);
    expect(exchanges.map((e) => [e.outcome, e.retransmissions, e.frames.map((f) => f.frame)])).toEqual([
      ['answered', 0, [1, 2, 3, 4]],
      ['unanswered', 0, [5]],
    ]);
  });
});

describe('what real deployments wrap their messages in', () => {
  it('a Map-Register answered by port unreachable is unreachable, with the ICMP error; one quoted only to its ports too', async () => {
    const { encodeIcmpError } = await import('../../src/dissect/icmp.js');
    const { lispUdpPacket } = await import('../../src/dissect/build.js');
    const s = new Story();
    const reg = lispUdpPacket({ src: MN2, dst: MS, sport: 4342, dport: 4342, payload: mapRegister({ nonce: 0xd1n, records: [rec(MN2)], wantMapNotify: true, ...key }) });
    s.raw(1, reg);
    s.raw(1.0001, encodeIcmpError({ src: MS, dst: MN2, type: 3, code: 3, original: reg }));
    const req = lispUdpPacket({ src: MN2, dst: '10.10.1.9', sport: 61001, dport: 4342, payload: encodeControl(mapRequest({ nonce: 0xd2n, eids: [`${XTR_EID}/32`], itrRlocs: [MN2] })) });
    s.raw(2, req);
    // RFC 792: the IP header and 8 bytes: the UDP header, no LISP byte.
    s.raw(2.0005, encodeIcmpError({ src: '10.10.3.1', dst: MN2, type: 3, code: 1, original: req, quote: 28 }));
    const { exchanges, result } = analyze(s.packets);
    expect(exchanges.map((e) => [e.kind, e.outcome, e.icmp, e.frames.length])).toEqual([
      ['registration', 'unreachable', { type: 3, code: 3, name: 'port-unreachable', from: MS }, 2],
      ['resolution', 'unreachable', { type: 3, code: 1, name: 'host-unreachable', from: '10.10.3.1' }, 2],
    ]);
    expect(result.stats.unanswered).toBe(0);
  });

  it('a Map-Notify an RTR hands to the Mobile Node inside LISP data answers its registration, through the RTR', async () => {
    const { dataPacket, lispUdpPacket } = await import('../../src/dissect/build.js');
    const RTR = '10.10.6.2';
    const s = new Story();
    const reg = mapRegister({ nonce: 0xe1n, records: [rec(MN2, RTR)], wantMapNotify: true, builtForRtr: true, xtrId: 5n, ...key });
    s.control(1, MN2, 4341, RTR, 4342, ecm({ inner: { src: MN2, dst: MS, sport: 4342 }, message: reg, toEtr: true, toMs: true }));
    const notify = mapNotify({ nonce: 0xe1n, records: [rec(MN2, RTR)], xtrId: 5n, ...key });
    const inner = lispUdpPacket({ src: MS, dst: MN2, sport: 4342, dport: 4342, payload: notify });
    s.raw(1.0013, dataPacket({ src: RTR, dst: MN2, sport: 4342, dport: 4341, iid: 0xffffff, inner }));
    const [e, ...rest] = analyze(s.packets).exchanges;
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ kind: 'registration', outcome: 'answered', requester: MN2, responder: MS, via: RTR, rttMs: 1.3 });
  });

  it('VXLAN data of a LISP fabric (VNI = Instance-ID) follows a handover like LISP data', async () => {
    const { innerPacket } = await import('../../src/dissect/build.js');
    const { encodeVxlan } = await import('../../src/dissect/vxlan.js');
    const { encodeIpUdp } = await import('../../src/dissect/ip.js');
    const { encodeLink, LINKTYPE_EN10MB } = await import('../../src/dissect/link.js');
    const iidRec = (rloc: string) => mappingRecord({ eid: `[4099]${MN}/32`, locators: [{ rloc, local: true }] });
    const vxlan = (t: number, etr: string) =>
      s.raw(t, encodeIpUdp({ src: XTR, dst: etr, sport: 50000, dport: 4789, udpChecksum: false }, encodeVxlan({ vni: 4099 }, encodeLink(LINKTYPE_EN10MB, innerPacket({ src: XTR_EID, dst: MN, proto: 'icmp-echo-reply' })))));
    const s = new Story();
    s.control(0, OLD, 4342, MS, 4342, mapRegister({ nonce: 1n, records: [iidRec(OLD)], wantMapNotify: true, ...key }));
    vxlan(1, OLD);
    s.control(2, NEW, 4342, MS, 4342, mapRegister({ nonce: 2n, records: [iidRec(NEW)], wantMapNotify: true, ...key }));
    vxlan(2.1, OLD);
    vxlan(2.4, NEW);
    const h = analyze(s.packets).result.mappings.find((m) => m.eid === `[4099]${MN}/32`)!.handovers;
    expect(h).toEqual([{ ts: 2, frame: { frame: 3, file: 0 }, from: [OLD], to: [NEW], baseline: 'registration', peers: [{ peer: XTR, firstDataTs: 2.4, latencyMs: 400, staleDataPackets: 1 }] }]);
  });
});
