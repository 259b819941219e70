import { describe, expect, it } from 'vitest';
import { lispscope } from './run.js';

describe('lispscope start (npm start)', () => {
  it('runs the whole lab scenario on loopback and tells the story', () => {
    const r = lispscope(['start', '-n']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/scenario all: (\d+) of \1 steps passed/);
    expect(r.stdout).toContain('Exchanges');
    expect(r.stdout).toMatch(/handover at .* → /);
    expect(r.stdout).toMatch(/smr +│ 10\.1\.0\.5\/32/);
    expect(r.stdout).toContain('0 unanswered exchanges');
    expect(r.stdout).toMatch(/authentication: [1-9]\d* verified, 0 failed/);
  }, 60_000);
});
