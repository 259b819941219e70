// What `stats --fail-on` fails on: the names of the failures a capture's statistics show.

import { describe, expect, it } from 'vitest';
import { failuresIn, StatsCollector } from '../../src/flows/stats.js';

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
