// flows on what real deployments wrap their messages in: OOR's NAT traversal through an RTR (the
// shared oor__07 captures, from every vantage point, and the nat-rtr fixture), ICMP errors answering
// requests, Publish/Subscribe. Times of the shared captures come from tshark; the fixtures' layouts
// are in pcaps/README.md.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { haveTshark, requireTool } from '../support/tshark.js';
import { jsonLines, lispscope, PCAPS, SHARED } from './run.js';

const NAT = (v: string) => join(SHARED, `oor__07-mn-nat-traversal.${v}.pcap`);
const present = existsSync(NAT('mn'));
if (!present && process.env.CI === 'true') throw new Error(`${SHARED} is required in CI: the OOR captures are missing`);
if (!present) console.warn(`skipping: ${SHARED} (the shared OOR captures) is not there`);
const ready = present && requireTool('tshark', haveTshark());

const keys = join(mkdtempSync(join(tmpdir(), 'lispscope-wrapped-')), 'oor.keys');
writeFileSync(keys, '* password\n');

/** Capture time of each frame in microseconds, as tshark reads it. */
function times(file: string): Map<number, bigint> {
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_epoch'], { encoding: 'utf8' });
  const out = new Map<number, bigint>();
  for (const line of r.stdout.trim().split('\n')) {
    const [n, t] = line.split('\t');
    const [s, frac = ''] = t!.split('.');
    out.set(Number(n), BigInt(s!) * 1_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 6)));
  }
  return out;
}
const between = (t: Map<number, bigint>, from: number, to: number) => Number(t.get(to)! - t.get(from)!) / 1000;
// OOR signed everything with "password": with the key, every exchange must still read as it does.
const flows = (...args: string[]) => jsonLines(lispscope(['flows', '--json', '--keys', keys, ...args]).stdout);
const fixture = (name: string) => jsonLines(lispscope(['flows', '--json', join(PCAPS, name)]).stdout);

describe.skipIf(!ready)('OOR: a Mobile Node behind a NAT registers through an RTR (oor__07)', () => {
  it('at the Mobile Node: the Map-Notify the RTR hands on inside LISP data answers the registration', () => {
    const t = times(NAT('mn'));
    expect(flows(NAT('mn'))).toEqual([
      expect.objectContaining({ kind: 'nat-info', frames: [3, 4], outcome: 'answered', rtt_ms: between(t, 3, 4) }),
      expect.objectContaining({ kind: 'registration', eid: '3.0.0.3/32', frames: [5, 7], requester: '10.10.4.2', responder: '10.10.1.2', via: '10.10.6.2', outcome: 'answered', rtt_ms: between(t, 5, 7) }),
      // OOR's SMR to the RTR for 0.0.0.0/0: the RTR does not answer it.
      expect.objectContaining({ kind: 'smr', frames: [6], requester: '10.10.4.2', responder: '10.10.6.2', outcome: 'unanswered' }),
    ]);
  });

  it("at the RTR: the MN's ECM through the NAT, its relay, the Map-Server's ECM and the relay back are one registration", () => {
    const t = times(NAT('rtr'));
    const ex = flows(NAT('rtr'));
    // The round trip runs to the Map-Notify that leaves for the Mobile Node (frame 9, to the NAT).
    expect(ex[0]).toMatchObject({ kind: 'registration', frames: [3, 7, 8, 9], requester: '10.10.4.2', responder: '10.10.1.2', via: '10.10.6.2', outcome: 'answered', rtt_ms: between(t, 3, 9) });
    expect(ex.map((e) => [e.kind, e.outcome])).toEqual([
      ['registration', 'answered'],
      ['smr', 'unanswered'],
      ['resolution', 'answered'],
    ]);
    expect(ex[2]).toMatchObject({ eid: '4.0.0.4/32', frames: [11, 12], requester: '10.10.6.2', responder: '10.10.2.2', rtt_ms: between(t, 11, 12) });
  });

  it("at the Map-Server: the RTR's registration answered, the request it forwards to the xTR forwarded", () => {
    const t = times(NAT('ms'));
    expect(flows(NAT('ms'))).toEqual([
      expect.objectContaining({ kind: 'nat-info', frames: [1, 2], requester: '10.10.9.1', outcome: 'answered' }),
      expect.objectContaining({ kind: 'registration', frames: [3, 4], requester: '10.10.4.2', via: '10.10.6.2', outcome: 'answered', rtt_ms: between(t, 3, 4) }),
      expect.objectContaining({ kind: 'resolution', eid: '4.0.0.4/32', frames: [7, 8], outcome: 'forwarded', rtt_ms: null }),
      expect.objectContaining({ kind: 'resolution', eid: '3.0.0.3/32', frames: [9, 10], responder: '10.10.1.2', outcome: 'answered', rtt_ms: between(t, 9, 10) }),
    ]);
  });

  it('merged from the four vantage points: one registration, answered; --fail-on unanswered fails only on the SMR', () => {
    const ex = flows(NAT('mn'), NAT('ms'), NAT('rtr'), NAT('xtr'));
    expect(ex.filter((e) => e.kind === 'registration').map((e) => [e.eid, e.outcome, e.via])).toEqual([['3.0.0.3/32', 'answered', '10.10.6.2']]);
    expect(ex.filter((e) => e.outcome !== 'answered').map((e) => e.kind)).toEqual(['smr']);
  });
});

describe('fixtures of wrapped messages', () => {
  it('nat-rtr: a registration through an RTR behind a NAT, its round trip to the Map-Notify that reaches the NAT', () => {
    const [reg] = fixture('nat-rtr.pcap');
    // 0 ms: ECM from the NAT to the RTR; 3 ms: the RTR's Map-Notify in LISP data to the NAT's port.
    expect(reg).toMatchObject({ kind: 'registration', frames: [1, 2, 3, 4, 5], requester: '192.168.1.5', via: '203.0.113.3', outcome: 'answered', rtt_ms: 3 });
  });

  it('icmp-errors: requests answered by ICMP errors are unreachable, with the error; the data packets draw none of them', () => {
    const ex = fixture('icmp-errors.pcap');
    expect(ex.map((e) => [e.kind, e.outcome, e.icmp])).toEqual([
      ['registration', 'unreachable', { type: 3, code: 3, name: 'port-unreachable', from: '203.0.113.1' }],
      // Quoted only to its UDP header: found by addresses and ports.
      ['resolution', 'unreachable', { type: 3, code: 1, name: 'host-unreachable', from: '198.51.100.1' }],
      ['resolution', 'unreachable', { type: 1, code: 4, name: 'port-unreachable', from: '2001:db8::2' }],
    ]);
    expect(lispscope(['stats', '--fail-on', 'unanswered', join(PCAPS, 'icmp-errors.pcap')]).code).toBe(0);
  });

  it('pubsub: the subscription, each publication acknowledged or not, the withdrawal; publications move the mapping', () => {
    const ex = fixture('pubsub.pcap');
    expect(ex.map((e) => [e.kind, e.eid, e.outcome, e.frames, e.retransmissions, e.subscription_nonce ?? null, e.withdraw ?? false])).toEqual([
      ['subscription', '10.2.0.0/24', 'answered', [1, 2, 3], 0, null, false],
      // nonce + 1, sent twice, then acknowledged
      ['publication', '10.2.0.0/24', 'answered', [4, 5, 6], 1, 'cb41dd2bfe0bb7a3', false],
      // nonce + 2, three times, never acknowledged
      ['publication', '10.2.0.0/24', 'unanswered', [7, 8, 9], 2, 'cb41dd2bfe0bb7a3', false],
      ['subscription', '2001:db8:2::/48', 'answered', [10, 11], 0, null, false],
      ['subscription', '10.2.0.0/24', 'unacknowledged', [12], 0, null, true],
    ]);
    const m = jsonLines(lispscope(['mappings', '--json', join(PCAPS, 'pubsub.pcap')]).stdout).find((x) => x.eid === '10.2.0.0/24')!;
    expect((m.handovers as { from: string[]; to: string[]; baseline: string }[]).map((h) => [h.from, h.to, h.baseline])).toEqual([
      [['203.0.113.50'], ['198.51.100.20'], 'publication'],
      [['198.51.100.20'], ['203.0.113.50'], 'publication'],
    ]);
  });
});
