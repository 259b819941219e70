// flows, mappings, stats and read -Y on Open Overlay Router captures (../shared/captures/oor__*),
// from every vantage point and merged. The expected exchanges were read off the packets (see the
// captures' .txt and `tshark -r`); times come from tshark, so every RTT is checked against the
// capture's own timestamps.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { haveTshark, requireTool } from '../support/tshark.js';
import { jsonLines, lispscope, SHARED } from './run.js';

const HO = (v: string) => join(SHARED, `oor__03-mn-handover-rloc-change.${v}.pcap`);
const present = existsSync(HO('mn'));
if (!present && process.env.CI === 'true') throw new Error(`${SHARED} is required in CI: the OOR captures are missing`);
const ready = present && requireTool('tshark', haveTshark());
if (!present) console.warn(`skipping: ${SHARED} (the shared OOR captures) is not there`);

/** Capture time of each frame, in microseconds, as tshark reads it. */
function times(file: string, filter?: string): Map<number, bigint> {
  const r = spawnSync('tshark', ['-r', file, ...(filter ? ['-Y', filter] : []), '-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_epoch'], { encoding: 'utf8' });
  const out = new Map<number, bigint>();
  for (const line of r.stdout.trim().split('\n')) {
    if (!line) continue;
    const [n, t] = line.split('\t');
    const [s, frac = ''] = t!.split('.');
    out.set(Number(n), BigInt(s!) * 1_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 6)));
  }
  return out;
}

/** Milliseconds between two frames, as lispscope rounds them (to the microsecond). */
const between = (t: Map<number, bigint>, from: number, to: number) => Number(t.get(to)! - t.get(from)!) / 1000;

const flows = (...files: string[]) => jsonLines(lispscope(['flows', '--json', ...files]).stdout);
const mappings = (...files: string[]) => jsonLines(lispscope(['mappings', '--json', ...files]).stdout);

describe.skipIf(!ready)('OOR: a Mobile Node moves from 10.10.3.2 to 10.10.5.2 (oor__03)', () => {
  it('at the Mobile Node: its registration, and its SMR answered through the Map-Server', () => {
    const t = times(HO('mn'));
    expect(flows(HO('mn'))).toEqual([
      expect.objectContaining({ kind: 'registration', eid: '3.0.0.3/32', frames: [464, 466], requester: '10.10.4.2', responder: '10.10.1.2', outcome: 'answered', rtt_ms: between(t, 464, 466), retransmissions: 0 }),
      // The SMR has nonce 0; the xTR's SMR-invoked Map-Request reaches the MN forwarded by the
      // Map-Server (467), the MN answers it straight to the xTR (468).
      expect.objectContaining({
        kind: 'smr',
        eid: '3.0.0.3/32',
        nonce: '0000000000000000',
        frames: [465, 467, 468],
        requester: '10.10.4.2',
        responder: '10.10.2.2',
        outcome: 'answered',
        invoked_nonce: 'adfe176be615fa2c',
        rtt_ms: between(t, 467, 468),
        time_to_answer_ms: between(t, 465, 468),
      }),
    ]);
  });

  it('at the Map-Server: the SMR-invoked request it forwards to the MN is forwarded, not unanswered', () => {
    const t = times(HO('ms'));
    expect(flows(HO('ms'))).toEqual([
      expect.objectContaining({ kind: 'registration', eid: '3.0.0.3/32', frames: [1, 3], outcome: 'answered', rtt_ms: between(t, 1, 3) }),
      expect.objectContaining({ kind: 'resolution', eid: '3.0.0.3/32', frames: [2, 4], requester: '10.10.2.2', via: '10.10.1.2', outcome: 'forwarded', rtt_ms: null, smr_invoked: true }),
      expect.objectContaining({ kind: 'registration', eid: '4.0.0.0/24', frames: [9, 10], requester: '10.10.2.2', outcome: 'answered', rtt_ms: between(t, 9, 10) }),
    ]);
    expect(lispscope(['stats', '--fail-on', 'unanswered', HO('ms')]).code).toBe(0);
  });

  it('at the xTR: the SMR, its own SMR-invoked request and the reply', () => {
    const t = times(HO('xtr'));
    expect(flows(HO('xtr'))).toEqual([
      expect.objectContaining({ kind: 'smr', frames: [44, 45, 46], requester: '10.10.4.2', responder: '10.10.2.2', via: '10.10.1.2', outcome: 'answered', rtt_ms: between(t, 45, 46), time_to_answer_ms: between(t, 44, 46) }),
      expect.objectContaining({ kind: 'registration', eid: '4.0.0.0/24', frames: [135, 136], outcome: 'answered', rtt_ms: between(t, 135, 136) }),
    ]);
  });

  it('merged from the three vantage points: every exchange answered, each packet once', () => {
    const ex = flows(HO('mn'), HO('ms'), HO('xtr'));
    expect(ex.map((e) => [e.kind, e.eid, e.outcome])).toEqual([
      ['registration', '3.0.0.3/32', 'answered'],
      ['smr', '3.0.0.3/32', 'answered'],
      ['registration', '4.0.0.0/24', 'answered'],
    ]);
    // The SMR as the MN sent it, the request as the xTR sent it and as the MS forwarded it, the reply.
    expect(ex[1]).toMatchObject({ frames: [465, 45, 4, 468], files: [1, 3, 2, 1] });
  });

  for (const [vantage, frame, smr, reply] of [
    ['mn', 464, 465, 468],
    ['xtr', 46, 44, 46],
  ] as const) {
    it(`at the ${vantage}: the handover is found from the data plane, though the old registration is before the capture`, () => {
      const file = HO(vantage);
      const t = times(file);
      // The xTR's data to the MN: to the old RLOC before, to the new one after.
      const [firstNew] = times(file, 'ip.src == 10.10.2.2 && ip.dst == 10.10.5.2 && udp.dstport == 4341').values();
      const stale = [...times(file, 'ip.src == 10.10.2.2 && ip.dst == 10.10.3.2 && udp.dstport == 4341').values()].filter((x) => x > t.get(frame)!).length;
      const m = mappings(file).find((x) => x.eid === '3.0.0.3/32')!;
      expect(m.handovers).toEqual([
        {
          ts: Number(t.get(frame)!) / 1e6,
          frame,
          from: ['10.10.3.2'],
          to: ['10.10.4.2', '10.10.5.2'],
          baseline: 'data-plane',
          peers: [
            {
              peer: '10.10.2.2',
              smr_ts: Number(t.get(smr)!) / 1e6,
              updated_ts: Number(t.get(reply)!) / 1e6,
              first_data_ts: Number(firstNew!) / 1e6,
              latency_ms: Number(firstNew! - t.get(frame)!) / 1000,
              stale_data_packets: stale,
            },
          ],
        },
      ]);
    });
  }

  it('at the Map-Server, which sees one registration and no data, says why there is no handover', () => {
    const m = mappings(HO('ms')).find((x) => x.eid === '3.0.0.3/32')!;
    expect(m.handovers).toEqual([]);
    expect(m.no_handover).toMatch(/^one registration and nothing earlier to compare it with .*cannot be seen from here$/);
  });

  it('read -Y matches what it names, and nothing by accident', () => {
    const frames = (args: string[]) => jsonLines(lispscope(['read', '--json', ...args, HO('mn')]).stdout).map((p) => p.frame);
    expect(frames(['-Y', 'smr'])).toEqual([465]);
    expect(frames(['-Y', 'smr_invoked'])).toEqual([467]);
    expect(frames(['-Y', 'nonce == 0xadfe176be615fa2c'])).toEqual([467, 468]);
    // Outer source 10.10.4.2 and a port 4342, as tshark reads the outer headers.
    const outer = spawnSync('tshark', ['-r', HO('mn'), '-Y', 'udp.port == 4342', '-T', 'fields', '-E', 'occurrence=f', '-e', 'frame.number', '-e', 'ip.src'], { encoding: 'utf8' });
    const expected = outer.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'))
      .filter(([, src]) => src === '10.10.4.2')
      .map(([n]) => Number(n));
    expect(expected.length).toBeGreaterThan(0);
    expect(frames(['-Y', 'ip.src == 10.10.4.2 && udp.port == 4342'])).toEqual(expected);
    for (const bad of ['frobnicate', 'a && b', 'smr && frobnicate']) {
      const r = lispscope(['read', '-Y', bad, HO('mn')]);
      expect(r.code, bad).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^lispscope: -Y: unknown field "\w+" at column \d+; the fields of packets are: frame, ts, len, /);
    }
  });
});
