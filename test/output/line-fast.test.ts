import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import type { Frame } from '../../src/capture/types.js';
import { packetLine } from '../../src/output/line.js';
import { writeDataLineFast } from '../../src/output/line-fast.js';
import { OutBuffer } from '../../src/output/out-buffer.js';
import { PLAIN } from '../../src/output/style.js';
import { LineClock, timeOfDay, type TimeFormat } from '../../src/output/time.js';
import { dataFrame } from '../support/arbitraries.js';

describe('data-packet line fast path', () => {
  it('writes exactly the line the general path writes, whenever it accepts a frame', () => {
    const decoder = new PacketDecoder({});
    let accepted = 0;
    let index = 0;
    const echo = { tcp: 0, icmpEcho: 0, fragment: 0 };
    fc.assert(
      fc.property(
        dataFrame,
        fc.constantFrom<TimeFormat>(0, 1, 2, 3, 4, 5),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 2_000_000 }),
        (frame, format, numeric, number, skip) => {
          // Frame numbers of every width (the label is padded to 5).
          index += 1 + (skip % 3 === 0 ? skip : 0);
          const f: Frame = { index, ...frame };
          let text = '';
          const out = new OutBuffer((b) => {
            text += Buffer.from(b).toString('latin1');
            return true;
          }, 4096);
          // Two clocks of the stateful formats, each seeing this one frame from the same start.
          const fastClock = new LineClock(format);
          const clock = new LineClock(format);
          fastClock.text(f.tsSec - 1, 0);
          clock.text(f.tsSec - 1, 0);
          if (!writeDataLineFast(f, out, { numeric, number, clock: fastClock })) return;
          out.flush();
          accepted++;
          const p = decoder.decode(f)!;
          expect(p).toBeDefined();
          if (p.data?.inner?.tcpFlags !== undefined) echo.tcp++;
          if (p.data?.inner?.icmpId !== undefined) echo.icmpEcho++;
          if (p.data?.inner?.fragment) echo.fragment++;
          const line = packetLine(p, { numeric, style: PLAIN, time: clock.text(p.tsSec, p.tsNsec), ...(number ? { number: String(p.frame) } : {}) });
          expect(text).toBe(`${line}\n`);
        },
      ),
      { numRuns: 8000 },
    );
    // Every lane is exercised, not just never taken.
    expect(accepted).toBeGreaterThan(300);
    expect(Math.min(echo.tcp, echo.icmpEcho, echo.fragment)).toBeGreaterThan(10);
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
