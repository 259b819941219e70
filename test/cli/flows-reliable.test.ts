// `lispscope flows|mappings|stats` on registrations over the Map-Server reliable transport (TCP
// 4342): the real binary on pcaps/reliable-registrations.pcap (one Registration per outcome) and on
// the Cisco IOS session of ../shared/captures/ndpi__lisp_registration.pcap.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, lispscope, PCAPS, SHARED } from './run.js';

const file = join(PCAPS, 'reliable-registrations.pcap');
const keys = join(PCAPS, 'keys');
const T0 = 1_714_557_600;

describe('lispscope flows over the reliable transport', () => {
  it('makes every Registration a registration exchange: ACK, Reject or none', () => {
    const r = lispscope(['flows', '--json', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const ex = jsonLines(r.stdout);
    const common = { kind: 'registration', requester: '192.0.2.10', responder: '203.0.113.1', transport: 'tcp', site: '4554522d410000000000000000000002' };
    expect(ex).toEqual([
      expect.objectContaining({ ...common, eid: '10.1.0.0/16', frames: [5, 7], start: T0 + 0.2, rtt_ms: 4, outcome: 'answered', rlocs: ['192.0.2.10'], message_id: 0, retransmissions: 0 }),
      expect.objectContaining({ ...common, eid: '10.9.0.0/16', frames: [5, 7], rtt_ms: 4, outcome: 'rejected', reject_reason: 'not-site-eid-prefix', message_id: 1 }),
      expect.objectContaining({ ...common, eid: '2001:db8:1::/48', frames: [5, 9], rtt_ms: null, outcome: 'unanswered', retransmissions: 1, message_id: 2 }),
      expect.objectContaining({ ...common, eid: '10.2.0.0/16', frames: [6, 7], rtt_ms: 3, outcome: 'rejected', reject_reason: 'authentication-failure', message_id: 3 }),
      expect.objectContaining({ ...common, eid: '10.1.0.0/16', frames: [10, 11], rtt_ms: 3, outcome: 'answered', rlocs: ['192.0.2.10', '192.0.2.11'], interval_ms: 9800 }),
    ]);
    for (const e of ex) expect(e.nonce).toMatch(/^[0-9a-f]{16}$/);
    expect(ex[0]).not.toHaveProperty('reject_reason');
  });

  it('with --keys the Registration signed with the wrong key is auth-failed', () => {
    const ex = jsonLines(lispscope(['flows', '--json', '--keys', keys, file]).stdout);
    expect(ex.map((e) => e.outcome)).toEqual(['answered', 'rejected', 'unanswered', 'auth-failed', 'answered']);
    expect(ex[3]).toMatchObject({ auth_error: 'authentication data does not match the key', reject_reason: 'authentication-failure' });
    expect(lispscope(['flows', '--fail-on', 'auth-failed', '--keys', keys, file]).code).toBe(1);
  });

  it('filters on transport and outcome, fails on the unanswered one, and prints it for people', () => {
    const r = lispscope(['flows', '--json', '-Y', 'transport == tcp && outcome == rejected', file]);
    expect(jsonLines(r.stdout).map((e) => e.eid)).toEqual(['10.9.0.0/16', '10.2.0.0/16']);
    expect(lispscope(['flows', '--fail-on', 'unanswered', file]).code).toBe(1);
    expect(lispscope(['flows', '--fail-on', 'rejected', file]).code).toBe(1);
    expect(lispscope(['flows', '--fail-on', 'rejected', join(PCAPS, 'mn-handover.pcapng')]).code).toBe(0);
    const text = lispscope(['flows', file]).stdout;
    expect(text).toMatch(/registration \(tcp\)\s+│ 10\.9\.0\.0\/16\s+│ 192\.0\.2\.10\s+│ ⇄ │ 203\.0\.113\.1\s+│ 4\.000 ms\s+│\s+│ rejected \(not-site-eid-prefix\)/);
  });

  it('puts the registered locator sets on the mapping timeline, with the handover', () => {
    const maps = jsonLines(lispscope(['mappings', '--json', file]).stdout);
    const m = maps.find((x) => x.eid === '10.1.0.0/16')!;
    expect(m.timeline).toEqual([
      { ts: T0 + 0.2, frame: 5, source: 'map-register', by: '192.0.2.10', rlocs: ['192.0.2.10'], transport: 'tcp' },
      { ts: T0 + 0.204, frame: 7, source: 'mapping-notification', by: '203.0.113.1', rlocs: ['192.0.2.10'], transport: 'tcp' },
      { ts: T0 + 10, frame: 10, source: 'map-register', by: '192.0.2.10', rlocs: ['192.0.2.10', '192.0.2.11'], transport: 'tcp' },
      { ts: T0 + 10.003, frame: 11, source: 'mapping-notification', by: '203.0.113.1', rlocs: ['192.0.2.10', '192.0.2.11'], transport: 'tcp' },
    ]);
    expect(m.handovers).toEqual([{ ts: T0 + 10, from: ['192.0.2.10'], to: ['192.0.2.10', '192.0.2.11'], frame: 10, baseline: 'registration', peers: [] }]);
  });

  it('counts them in stats with the UDP registrations: per outcome and per site', () => {
    const s = jsonLines(lispscope(['stats', '--json', file]).stdout)[0]!;
    expect(s.exchanges).toEqual({ registration: { answered: 2, rejected: 2, unanswered: 1 } });
    expect(s.unanswered).toBe(1);
    const sites = s.sites as Record<string, unknown>[];
    expect(sites.find((x) => x.eid === '10.1.0.0/16')).toMatchObject({ registrations: 2, answered: 2, rejected: 0, interval_ms: 9800 });
    expect(sites.find((x) => x.eid === '10.9.0.0/16')).toMatchObject({ registrations: 1, answered: 0, rejected: 1 });
  });

  it('on the Cisco IOS session: ten TCP registrations beside the eight UDP ones, two rejected', () => {
    const ex = jsonLines(lispscope(['flows', '--json', join(SHARED, 'ndpi__lisp_registration.pcap')]).stdout);
    const tcp = ex.filter((e) => e.transport === 'tcp');
    expect(tcp).toHaveLength(10);
    expect(ex.filter((e) => e.transport === undefined)).toHaveLength(8);
    expect(tcp.filter((e) => e.outcome === 'rejected').map((e) => e.eid)).toEqual(['192.168.103.0/26', 'fc00:192:168:103::/64']);
    expect(tcp.every((e) => e.outcome === 'rejected' || e.outcome === 'answered')).toBe(true);
  });
});
