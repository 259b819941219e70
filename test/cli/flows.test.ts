import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/source.js';
import { writePcapng } from '../../src/capture/writer.js';
import { decodeIp } from '../../src/dissect/ip.js';
import { decodeLink } from '../../src/dissect/link.js';
import { jsonLines, lispscope, PCAPS, SHARED } from './run.js';

const demo = join(PCAPS, 'mn-handover.pcapng');
const keys = join(PCAPS, 'mn-handover.keys');
const tmp = mkdtempSync(join(tmpdir(), 'lispscope-flows-'));

describe('lispscope flows', () => {
  it('lists every exchange of the Mobile Node story, in order of start', () => {
    const r = lispscope(['flows', '--json', '--keys', keys, demo]);
    expect(r.code).toBe(0);
    const ex = jsonLines(r.stdout);
    expect(ex.map((e) => e.kind)).toEqual([
      'registration',
      'nat-info',
      'registration',
      'resolution',
      'resolution',
      'rloc-probe',
      'registration',
      'smr',
      'registration',
      'registration',
      'resolution',
    ]);
    const starts = ex.map((e) => e.start as number);
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    for (const e of ex) {
      for (const f of ['kind', 'eid', 'nonce', 'frames', 'start', 'requester', 'rtt_ms', 'retransmissions', 'outcome']) expect(e).toHaveProperty(f);
      expect(e.nonce).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(ex[7]).toMatchObject({ kind: 'smr', eid: '10.1.0.5/32', requester: '198.51.100.20', responder: '203.0.113.50', outcome: 'answered', rlocs: ['198.51.100.20'] });
    // Every retransmission repeats the nonce: the round trip runs from the last one, the time to
    // answer from the first.
    expect(ex[10]).toMatchObject({ eid: '10.3.0.9/32', outcome: 'negative', retransmissions: 3, rtt_ms: 2, time_to_answer_ms: 3002 });
  });

  it('prints a table for people', () => {
    const r = lispscope(['flows', demo]);
    expect(r.stdout).toMatch(/registration\s+│ 10\.1\.0\.5\/32\s+│ 192\.0\.2\.10\s+│ ⇄ │ 203\.0\.113\.1\s+│ 5\.000 ms\s+│\s+│ answered/);
    expect(r.stdout).toMatch(/smr\s+│ 10\.1\.0\.5\/32\s+│ 198\.51\.100\.20\s+│ → │ 203\.0\.113\.50/);
  });

  it('filters with -Y and fails on request with --fail-on', () => {
    const r = lispscope(['flows', '--json', '-Y', 'outcome == negative || kind == smr', demo]);
    expect(jsonLines(r.stdout).map((e) => e.kind)).toEqual(['smr', 'resolution']);
    expect(lispscope(['flows', '--fail-on', 'unanswered', demo]).code).toBe(0);
    const lost = lispscope(['flows', '--fail-on', 'unanswered', '--timeout', '0.5', demo]);
    expect(lost.code).toBe(1); // with a 0.5 s timeout the 1 s retransmissions each close unanswered
    // mappings and stats fail on the same exchanges (mappings hands them out only for --fail-on).
    expect(lispscope(['mappings', '--json', '--fail-on', 'unanswered', demo]).code).toBe(0);
    expect(lispscope(['mappings', '--json', '--fail-on', 'unanswered', '--timeout', '0.5', demo]).code).toBe(1);
    expect(lispscope(['stats', '--json', '--fail-on', 'unanswered', '--timeout', '0.5', demo]).code).toBe(1);
    expect(lispscope(['mappings', '--json', '--timeout', '0.5', demo]).code).toBe(0);
    const bad = lispscope(['flows', '-Y', 'rtt_ms > ', demo]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('lispscope: -Y: expected a value after ">" at column 10 (end of filter)');
  });

  it('merges captures from several vantage points into one story, counting duplicates once', async () => {
    // Split the demo as two observers would see it: the MN's side and the mapping system's side;
    // packets between the two are in both captures.
    const mnSide: { tsSec: number; tsNsec: number; data: Uint8Array }[] = [];
    const msSide: typeof mnSide = [];
    const MN_RLOCS = ['192.0.2.10', '198.51.100.20'];
    const MAPPING = ['203.0.113.1', '203.0.113.2'];
    await readCapture(demo, {
      frame: (f) => {
        const ip = decodeIp(f.data, decodeLink(f.linkType, f.data).offset);
        if (!ip.ok) return;
        const pkt = { tsSec: f.tsSec, tsNsec: f.tsNsec, data: f.data.slice() };
        if (MN_RLOCS.includes(ip.src) || MN_RLOCS.includes(ip.dst)) mnSide.push(pkt);
        if (MAPPING.includes(ip.src) || MAPPING.includes(ip.dst)) msSide.push(pkt);
        if (!MN_RLOCS.includes(ip.src) && !MN_RLOCS.includes(ip.dst) && !MAPPING.includes(ip.src) && !MAPPING.includes(ip.dst)) mnSide.push(pkt);
      },
      warning: () => {},
    });
    const a = join(tmp, 'mn-side.pcapng');
    const b = join(tmp, 'ms-side.pcapng');
    writeFileSync(a, writePcapng(mnSide, { linkType: 1 }));
    writeFileSync(b, writePcapng(msSide, { linkType: 1 }));
    const whole = jsonLines(lispscope(['flows', '--json', demo]).stdout);
    const merged = lispscope(['flows', '--json', a, b]);
    expect(merged.stderr).toMatch(/packets seen in more than one capture were counted once/);
    const strip = (e: Record<string, unknown>) => {
      const { frames: _f, files: _g, ...rest } = e;
      return rest;
    };
    const m = jsonLines(merged.stdout);
    expect(m.map(strip)).toEqual(whole.map(strip));
    expect(m[0]!.files).toBeDefined();
  });
});

describe('lispscope mappings', () => {
  it('tells when the MN moved, who was told, how long each peer took and the stale traffic', () => {
    const r = lispscope(['mappings', '--json', demo]);
    const maps = jsonLines(r.stdout);
    const mn = maps.find((m) => m.eid === '10.1.0.5/32')!;
    const h = (mn.handovers as Record<string, unknown>[])[0]!;
    expect(h).toMatchObject({ from: ['192.0.2.10'], to: ['198.51.100.20'] });
    const peer = (h.peers as Record<string, unknown>[])[0]!;
    expect(peer.peer).toBe('203.0.113.50');
    expect(peer.stale_data_packets).toBeGreaterThan(0);
    expect(peer.latency_ms).toBeGreaterThan(0);
    for (const k of ['smr_ts', 'updated_ts', 'first_data_ts']) expect(typeof peer[k]).toBe('number');
    const text = lispscope(['mappings', demo]).stdout;
    expect(text).toContain('handover at 10:00:30.450 (frame');
    expect(text).toMatch(/203\.0\.113\.50 │ \+11\.000 ms +│ \+304\.000 ms +│ \+350\.000 ms +│ 350\.000 ms +│ 1 /);
  });
});

describe('lispscope stats', () => {
  it('counts messages and exchanges, RTTs per Map-Resolver, sites', () => {
    const s = jsonLines(lispscope(['stats', '--json', demo]).stdout)[0]!;
    expect(s).toMatchObject({ handovers: 1, unanswered: 0, auth_failures: 0, malformed_frames: 0 });
    expect((s.resolvers as Record<string, unknown>[])[0]).toMatchObject({ resolver: '203.0.113.2', negative: 1 });
    expect(lispscope(['stats', demo]).stdout).toContain('Map-Resolver');
    // Counts read as English: one of a thing is singular.
    expect(lispscope(['stats', join(SHARED, 'tcpdump__lisp_eid_notify.pcap')]).stdout).toContain('\n1 unanswered exchange, 0 handovers\n');
  });

  it('reports malformed frames of a real capture and fails on them when asked', () => {
    const r = lispscope(['stats', '--json', '--fail-on', 'malformed', join(SHARED, 'tcpdump__lisp_invalid.pcap')]);
    expect(r.code).toBe(1);
    expect(jsonLines(r.stdout)[0]!.malformed_frames).toBe(2);
  });
});
