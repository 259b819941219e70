import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePrefix } from '../../src/dissect/address.js';
import { prefixCovers } from '../../src/dissect/prefix.js';
import { mappingRecord, mapNotify, mapRegister, mapReply, mapRequest, ecm } from '../../src/dissect/build.js';
import { MappingTracker } from '../../src/flows/mappings.js';
import { analyze, Story } from '../support/story.js';

const MN = '10.1.0.5';
const A = '192.0.2.10';
const B = '198.51.100.20';
const MS = '203.0.113.1';
const MR = '203.0.113.2';
const P1 = '203.0.113.50';
const P2 = '203.0.113.60';
const key = { keyId: 1, key: 'k' };
const rec = (rloc: string) => mappingRecord({ eid: `${MN}/32`, locators: [{ rloc, local: true }] });

function register(s: Story, t: number, rloc: string, nonce: bigint) {
  s.control(t, rloc, 4342, MS, 4342, mapRegister({ nonce, records: [rec(rloc)], wantMapNotify: true, ...key }));
  s.control(t + 0.005, MS, 4342, rloc, 4342, mapNotify({ nonce, records: [rec(rloc)], ...key }));
}

function ping(s: Story, t: number, from: string, fromHost: string, to: string) {
  s.data(t, { src: from, dst: to, nonce: Math.floor(t * 1000) & 0xffffff, lsb: 1, inner: { src: fromHost, dst: MN, proto: 'icmp-echo-request' } });
}

function reResolve(s: Story, t: number, peer: string, nonce: bigint, rloc: string) {
  const req = ecm({ inner: { src: peer, dst: MN, sport: 61003 }, message: mapRequest({ nonce, smrInvoked: true, eids: [`${MN}/32`], itrRlocs: [peer] }) });
  s.control(t, peer, 61003, MR, 4342, req);
  s.control(t + 0.002, MR, 4342, MS, 4342, req);
  s.control(t + 0.004, MS, 4342, peer, 61003, mapReply({ nonce, records: [rec(rloc)] }));
}

/** MN at A talks with two peers; moves to B; SMRs both; P1 re-resolves fast, P2 slowly, P2 sends stale packets. */
function handoverStory(): Story {
  const s = new Story();
  register(s, 0, A, 1n);
  for (const t of [10, 11, 12]) {
    ping(s, t, P1, '10.2.0.7', A);
    ping(s, t + 0.1, P2, '10.4.0.9', A);
  }
  register(s, 20, B, 2n);
  s.control(20.01, B, 61502, P1, 4342, mapRequest({ nonce: 10n, smr: true, eids: [`${MN}/32`], itrRlocs: [B], sourceEid: MN }));
  s.control(20.02, B, 61502, P2, 4342, mapRequest({ nonce: 11n, smr: true, eids: [`${MN}/32`], itrRlocs: [B], sourceEid: MN }));
  reResolve(s, 20.05, P1, 20n, B);
  ping(s, 20.1, P1, '10.2.0.7', B);
  ping(s, 20.2, P2, '10.4.0.9', A);
  ping(s, 20.4, P2, '10.4.0.9', A);
  ping(s, 20.6, P2, '10.4.0.9', A);
  reResolve(s, 20.7, P2, 21n, B);
  ping(s, 21, P2, '10.4.0.9', B);
  return s;
}

describe('mappings and handovers', () => {
  it('keeps the timeline of RLOC sets announced and learned', () => {
    const { result } = analyze(handoverStory().packets);
    const m = result.mappings.find((x) => x.eid === '10.1.0.5/32')!;
    expect(m.timeline.map((e) => [e.source, e.by, e.rlocs.join()])).toEqual([
      ['map-register', A, A],
      ['map-notify', MS, A],
      ['map-register', B, B],
      ['map-notify', MS, B],
      ['map-reply', MS, B],
      ['map-reply', MS, B],
    ]);
  });

  it('tells the handover as one story: when, who was told, how long each peer took, stale traffic', () => {
    const { result } = analyze(handoverStory().packets);
    const m = result.mappings.find((x) => x.eid === '10.1.0.5/32')!;
    expect(m.handovers).toHaveLength(1);
    const h = m.handovers[0]!;
    expect(h).toMatchObject({ ts: 20, from: [A], to: [B], frame: { frame: 9, file: 0 } });
    expect(h.peers).toEqual([
      { peer: P1, smrTs: 20.01, updatedTs: 20.054, firstDataTs: 20.1, latencyMs: 100, staleDataPackets: 0 },
      { peer: P2, smrTs: 20.02, updatedTs: 20.704, firstDataTs: 21, latencyMs: 1000, staleDataPackets: 3 },
    ]);
    expect(result.stats.handovers).toBe(1);
  });

  it('a peer that never moves has no latency', () => {
    const s = handoverStory();
    const packets = s.packets.filter((p) => !(p.data && p.ip?.src === P2 && p.ip.dst === B));
    const h = analyze(packets).result.mappings.find((x) => x.eid === '10.1.0.5/32')!.handovers[0]!;
    expect(h.peers.find((p) => p.peer === P2)).toMatchObject({ latencyMs: null, staleDataPackets: 3 });
  });

  it('follows every peer of a busy EID, in the order they first sent to it', () => {
    // More peers than a short list holds: the last time of each is found by a map beyond it.
    const s = new Story();
    const peers = Array.from({ length: 40 }, (_, i) => `203.0.113.${100 + i}`);
    register(s, 0, A, 1n);
    peers.forEach((p, i) => ping(s, 10 + i * 0.01, p, `10.2.0.${i + 1}`, A));
    peers.forEach((p, i) => ping(s, 11 + i * 0.01, p, `10.2.0.${i + 1}`, A));
    register(s, 20, B, 2n);
    peers.forEach((p, i) => i % 2 === 0 && ping(s, 20.5, p, `10.2.0.${i + 1}`, A));
    peers.forEach((p, i) => ping(s, 21 + i * 0.01, p, `10.2.0.${i + 1}`, B));
    const h = analyze(s.packets).result.mappings.find((x) => x.eid === '10.1.0.5/32')!.handovers[0]!;
    expect(h.peers.map((p) => p.peer)).toEqual(peers);
    expect(h.peers.map((p) => p.latencyMs)).toEqual(peers.map((_, i) => 1000 + 10 * i));
    expect(h.peers.map((p) => p.staleDataPackets)).toEqual(peers.map((_, i) => (i % 2 === 0 ? 1 : 0)));
  });

  it('re-registering the same RLOC set is no handover', () => {
    const s = new Story();
    register(s, 0, A, 1n);
    register(s, 60, A, 2n);
    expect(analyze(s.packets).result.mappings[0]!.handovers).toEqual([]);
  });

  it('says why there was no handover as things stand whenever asked, without a copy in between', () => {
    const m = new MappingTracker();
    m.announce(0, { frame: 1, file: 0 }, 'map-register', A, '10.1.0.5/32', [A]);
    const list = m.mappingList();
    expect(list[0]!.noHandover).toMatch(/^one registration and nothing earlier/);
    m.announce(60, { frame: 2, file: 0 }, 'map-register', A, '10.1.0.5/32', [A]);
    m.announce(60, { frame: 3, file: 0 }, 'map-register', B, '10.1.0.6/32', [B]);
    expect(m.mappingList()).toBe(list);
    expect(list.map((x) => x.noHandover)).toEqual(['the RLOC set did not change over 2 registrations', expect.stringMatching(/^one registration and nothing earlier/)]);
    expect(m.mappings()).toEqual(list);
    expect(m.mappings()).not.toBe(list);
    // Registered elsewhere: the line given before the move no longer holds.
    m.announce(120, { frame: 4, file: 0 }, 'map-register', B, '10.1.0.5/32', [B]);
    expect(m.mappingList()[0]!.handovers).toHaveLength(1);
    expect('noHandover' in list[0]!).toBe(false);
  });

  it('an SMR naming no EID under a handover reaches every handover, also one begun after an earlier such SMR', () => {
    const m = new MappingTracker();
    const [mn1, mn2] = ['10.1.0.5/32', '10.1.0.6/32'];
    m.announce(0, { frame: 1, file: 0 }, 'map-register', A, mn1, [A]);
    m.announce(0, { frame: 2, file: 0 }, 'map-register', A, mn2, [A]);
    m.data(5, P1, A, '10.1.0.5');
    m.data(5, P1, A, '10.1.0.6');
    m.announce(10, { frame: 3, file: 0 }, 'map-register', B, mn1, [B]);
    // The SMRs name the sender's own EID, which no handover is about: they concern each one under way.
    m.smr(10.01, P1, ['10.9.0.1/32']);
    m.smr(10.02, P1, ['10.9.0.1/32']);
    m.announce(11, { frame: 4, file: 0 }, 'map-register', B, mn2, [B]);
    m.smr(11.01, P1, ['10.9.0.1/32']);
    const smrTs = (eid: string) => m.mappings().find((x) => x.eid === eid)!.handovers[0]!.peers.map((p) => [p.peer, p.smrTs]);
    expect(smrTs(mn1)).toEqual([[P1, 10.01]]);
    expect(smrTs(mn2)).toEqual([[P1, 11.01]]);
  });
});

describe('EIDs by text', () => {
  // The tracker finds most EIDs through the prefix table (by the numbers of a canonical text), the
  // others by text. Whatever the texts, each is one EID of its own; data goes to the EID of the most
  // specific prefix covering its destination (the one added last among equal prefixes), or is kept
  // for the destination until an EID covering it comes, which takes it over.
  it('keeps one mapping per text, and the data to each EID, whatever the texts', () => {
    const oneOf = <T>(...xs: T[]) => fc.constantFrom(...xs);
    // Few enough values that texts meet: the same prefix written differently, a network and an address in it.
    const eid = fc
      .tuple(oneOf('', '[0]', '[7]', '[07]'), oneOf('10.1.2.0', '10.1.2.5', '010.1.2.0', '10.1.0.0', '192.0.2.128', '0.0.0.0'), oneOf('', '/32', '/24', '/024', '/16', '/0'))
      .map(([iid, a, len]) => iid + a + len);
    const anEid = fc.oneof({ weight: 8, arbitrary: eid }, { weight: 1, arbitrary: oneOf('2001:db8::/32', '(none)') });
    const dst = fc.tuple(oneOf('', '[0]', '[7]'), oneOf('10.1.2.5', '10.1.2.0', '10.1.9.9', '10.7.0.1', '192.0.2.130')).map(([iid, a]) => iid + a);
    const event = fc.oneof(anEid.map((t) => ({ t })), fc.tuple(dst, fc.boolean()).map(([d, numbers]) => ({ d, numbers })));
    const v4 = (a: string) => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 40 }), (events) => {
        const texts = events.flatMap((e) => ('t' in e ? [e.t] : []));
        const distinct = [...new Set(texts)];
        const runs = [new MappingTracker(), new MappingTracker({ handoversOnly: true })].map((m) => {
          events.forEach((e, i) => {
            if ('t' in e) return m.announce(i / 100, { frame: i, file: 0 }, 'map-reply', MS, e.t, []);
            const etr = `198.51.100.${i}`;
            const iid = e.d.startsWith('[') ? Number(e.d.slice(1, e.d.indexOf(']'))) : -1;
            if (e.numbers) m.dataV4(1, i * 1000, v4('192.0.2.1') | 0, v4(etr) | 0, iid, v4(e.d.slice(e.d.indexOf(']') + 1)) | 0);
            else m.data(1 + i / 1e6, '192.0.2.1', etr, e.d);
          });
          distinct.forEach((t, i) => m.announce(20 + i / 100, { frame: 100 + i, file: 0 }, 'map-reply', MS, t, ['198.18.0.1']));
          return m;
        });
        // The model: the ETRs each EID's data went through, and each destination's until an EID takes it.
        const etrs = new Map<string, string[]>();
        const hosts = new Map<string, string[]>();
        const covers = (t: string, d: string) => {
          const p = parsePrefix(t);
          return p !== undefined && prefixCovers(p, parsePrefix(d)!) ? p.maskLen : -1;
        };
        events.forEach((e, i) => {
          if ('t' in e) {
            if (etrs.has(e.t)) return;
            const taken: string[] = [];
            for (const [d, list] of hosts) {
              if (covers(e.t, d) < 0) continue;
              taken.push(...list);
              hosts.delete(d);
            }
            etrs.set(e.t, taken);
            return;
          }
          const etr = `198.51.100.${i}`;
          let best: string | undefined;
          let bestLen = -1;
          for (const t of etrs.keys()) {
            const len = covers(t, e.d);
            if (len >= 0 && len >= bestLen) {
              best = t;
              bestLen = len;
            }
          }
          if (best !== undefined) etrs.get(best)!.push(etr);
          else {
            const list = hosts.get(e.d) ?? [];
            // A destination keeps 8 ETRs at most.
            if (list.length < 8) list.push(etr);
            hosts.set(e.d, list);
          }
        });
        const mappings = runs[0]!.mappings();
        expect(mappings.map((m) => m.eid)).toEqual(distinct);
        for (const m of mappings) {
          const n = texts.filter((t) => t === m.eid).length;
          expect(m.timeline.map((e) => e.rlocs.length)).toEqual([...Array(n).fill(0), 1]);
          const used = etrs.get(m.eid)!.sort();
          expect(m.handovers.map((h) => [h.from, h.to, h.baseline])).toEqual(used.length ? [[used, ['198.18.0.1'], 'data-plane']] : []);
        }
        expect(runs[1]!.handoverCount()).toBe(runs[0]!.handoverCount());
        expect(runs[1]!.mappings()).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });
});
