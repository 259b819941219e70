// What `stats --fail-on` fails on: the names of the failures a capture's statistics show.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failuresIn, StatsCollector } from '../../src/flows/stats.js';
import type { ExchangeSummary } from '../../src/flows/types.js';

describe('failuresIn', () => {
  const empty = () => new StatsCollector().result(0);

  it('names nothing for a capture without exchanges or failures', () => {
    expect([...failuresIn(empty())]).toEqual([]);
  });

  it('names every outcome seen, and the failures counted per message', () => {
    const st = { ...empty(), exchanges: { registration: { answered: 3, rejected: 1 }, resolution: { answered: 2 } }, authFailures: 1, malformedFrames: 2 };
    expect([...failuresIn(st)].sort()).toEqual(['answered', 'auth-failed', 'malformed', 'rejected']);
  });

  it('names unanswered from the counter even when no exchange outcome says so', () => {
    expect([...failuresIn({ ...empty(), unanswered: 1 })]).toEqual(['unanswered']);
  });
});

describe('StatsCollector sites', () => {
  // The rows as they were first written: one object of counters per `${site} ${eid}` text, in a
  // Map in the order made, merged as siteList merges them. The collector must list the same sites.
  function reference(summaries: ExchangeSummary[]) {
    type Row = { site: string; eid: string; registrations: number; answered: number; unanswered: number; rejected: number; authFailed: number; rlocs: string[]; intervals: number[]; keyId: number | undefined; first: number; last: number };
    const rows = new Map<string, Row>();
    for (const e of summaries) {
      if (e.kind !== 'registration' || e.site === undefined || e.wantMapNotify === undefined) continue;
      const k = `${e.site} ${e.eid}`;
      let r = rows.get(k);
      if (!r) rows.set(k, (r = { site: e.site, eid: e.eid, registrations: 0, answered: 0, unanswered: 0, rejected: 0, authFailed: 0, rlocs: [], intervals: [], keyId: e.keyId, first: e.start, last: e.start }));
      r.registrations++;
      r.last = e.start;
      if (e.outcome === 'answered') r.answered++;
      else if (e.outcome === 'unanswered') r.unanswered++;
      else if (e.outcome === 'rejected') r.rejected++;
      else if (e.outcome === 'auth-failed') r.authFailed++;
      if (e.intervalMs !== undefined) r.intervals.push(e.intervalMs);
      if (e.rlocs) r.rlocs = e.rlocs;
    }
    const groups: { rows: Row[]; last: number }[] = [];
    const latest = new Map<string, { rows: Row[]; last: number }>();
    for (const r of [...rows.values()].sort((a, b) => a.first - b.first)) {
      const g = latest.get(`${r.eid} ${r.keyId ?? ''}`);
      if (g && g.last < r.first) {
        g.rows.push(r);
        g.last = r.last;
        continue;
      }
      const fresh = { rows: [r], last: r.last };
      latest.set(`${r.eid} ${r.keyId ?? ''}`, fresh);
      groups.push(fresh);
    }
    return groups
      .map(({ rows: [f, ...rest] }) => {
        const site = { site: f!.site, eid: f!.eid, registrations: f!.registrations, answered: f!.answered, unanswered: f!.unanswered, rejected: f!.rejected, authFailed: f!.authFailed, rlocs: f!.rlocs, xtrIds: [f!.site] };
        const intervals = [...f!.intervals];
        for (const r of rest) {
          site.site = r.site;
          site.xtrIds.push(r.site);
          site.registrations += r.registrations;
          site.answered += r.answered;
          site.unanswered += r.unanswered;
          site.rejected += r.rejected;
          site.authFailed += r.authFailed;
          if (r.rlocs.length) site.rlocs = r.rlocs;
          intervals.push(...r.intervals);
        }
        intervals.sort((a, b) => a - b);
        return { ...site, intervalMs: intervals.length ? intervals[Math.floor(intervals.length / 2)]! : null };
      })
      .sort((a, b) => (a.site < b.site ? -1 : a.site > b.site ? 1 : a.eid < b.eid ? -1 : a.eid > b.eid ? 1 : 0));
  }

  const summary: fc.Arbitrary<ExchangeSummary> = fc.record({
    kind: fc.constantFrom('registration' as const, 'registration' as const, 'resolution' as const),
    site: fc.option(fc.constantFrom('192.0.2.1', '192.0.2.2', '00aa', '2001:db8::1'), { nil: undefined }),
    eid: fc.constantFrom('10.0.0.1/32', '10.0.0.2/32', '(10.0.0.0/8, 10.1.0.0/16)', '[7]10.0.0.1/32'),
    wantMapNotify: fc.option(fc.boolean(), { nil: undefined }),
    keyId: fc.option(fc.constantFrom(1, 2), { nil: undefined }),
    // Few distinct times: rows that start together keep the order they were made in.
    start: fc.integer({ min: 0, max: 5 }),
    rttMs: fc.constant(null),
    retransmissions: fc.constant(0),
    outcome: fc.constantFrom('answered' as const, 'unanswered' as const, 'rejected' as const, 'auth-failed' as const),
    intervalMs: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    rlocs: fc.option(fc.constantFrom([], ['192.0.2.10'], ['192.0.2.10', '192.0.2.11']), { nil: undefined }),
  });

  it('lists the sites as one row of counters per site and EID text did', () => {
    fc.assert(
      fc.property(fc.array(summary, { maxLength: 60 }), (summaries) => {
        const c = new StatsCollector();
        for (const e of summaries) c.exchange(e);
        expect(c.result(0).sites).toStrictEqual(reference(summaries));
        expect(c.result(0).sites.map((x) => Object.keys(x))).toEqual(reference(summaries).map((x) => Object.keys(x)));
      }),
      { numRuns: 1000 },
    );
  });
});
