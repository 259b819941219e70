import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import type { Frame } from '../../src/capture/types.js';
import { writeDataLineFast } from '../../src/output/line-fast.js';
import { LineClock, timeOfDay } from '../../src/output/time.js';
import { dataFrame } from '../support/arbitraries.js';
import { fastLine, lineCase } from '../support/fast-line.js';

describe('data-packet line fast path', () => {
  it('writes exactly the line the general path writes, whenever it accepts a frame', () => {
    const decoder = new PacketDecoder({});
    let accepted = 0;
    let index = 0;
    const echo = { tcp: 0, icmpEcho: 0, fragment: 0 };
    fc.assert(
      fc.property(dataFrame, lineCase, (frame, c) => {
        index += 1 + c.skip;
        const f: Frame = { index, ...frame };
        const fast = fastLine(f, c, writeDataLineFast);
        if (!fast) return;
        accepted++;
        const p = decoder.decode(f)!;
        expect(p).toBeDefined();
        if (p.data?.inner?.tcpFlags !== undefined) echo.tcp++;
        if (p.data?.inner?.icmpId !== undefined) echo.icmpEcho++;
        if (p.data?.inner?.fragment) echo.fragment++;
        expect(fast.text).toBe(fast.general(p));
      }),
      { numRuns: 8000 },
    );
    // Every lane is exercised, not just never taken. Some 425 frames are accepted per run (374..489
    // over 26 runs); ICMP echoes come some 15 to 20 times (9..30): more than 10 failed a run now and then.
    expect(accepted).toBeGreaterThan(200);
    expect(Math.min(echo.tcp, echo.icmpEcho, echo.fragment)).toBeGreaterThan(0);
  });

  it('keeps the time of day of the general path across seconds', () => {
    const clock = new LineClock(0);
    for (const [sec, ns] of [
      [1764000000, 37_000],
      [1764000000, 999_999_999],
      [1764000001, 0],
      [1764003600, 5_000],
    ] as const) {
      expect(clock.text(sec, ns)).toBe(timeOfDay(sec, ns));
    }
  });
});
