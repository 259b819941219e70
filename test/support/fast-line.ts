// The harness of the line fast paths' property tests (line-fast, line-control-fast): each line
// option, a frame number of every width, and the general path's line for the same options.

import fc from 'fast-check';
import type { LispPacket } from '../../src/capture/packets.js';
import type { Frame } from '../../src/capture/types.js';
import { packetLine } from '../../src/output/line.js';
import type { FastLineOptions } from '../../src/output/line-fast.js';
import { OutBuffer } from '../../src/output/out-buffer.js';
import { PLAIN } from '../../src/output/style.js';
import { LineClock, type TimeFormat } from '../../src/output/time.js';

export interface LineCase {
  format: TimeFormat;
  numeric: boolean;
  number: boolean;
  /** Frame numbers skipped before this one. */
  skip: number;
}

export const lineCase: fc.Arbitrary<LineCase> = fc.record({
  format: fc.constantFrom<TimeFormat>(0, 1, 2, 3, 4, 5),
  numeric: fc.boolean(),
  number: fc.boolean(),
  // Now and then a jump, so that labels of every width (padded to 5) are written.
  skip: fc.integer({ min: 0, max: 2_000_000 }).map((n) => (n % 3 === 0 ? n : 0)),
});

/**
 * What `write` writes for the frame with these options, or undefined when it refuses the frame;
 * and the general path's line for its decoded packet. Each path has a clock of its own that saw
 * the second before the frame (the stateful formats count from there).
 */
export function fastLine(f: Frame, c: LineCase, write: (f: Frame, out: OutBuffer, o: FastLineOptions) => boolean): { text: string; general: (p: LispPacket) => string } | undefined {
  let text = '';
  const out = new OutBuffer((b) => {
    text += Buffer.from(b).toString('latin1');
    return true;
  }, 1 << 16);
  const fastClock = new LineClock(c.format);
  const clock = new LineClock(c.format);
  fastClock.text(f.tsSec - 1, 0);
  clock.text(f.tsSec - 1, 0);
  if (!write(f, out, { numeric: c.numeric, number: c.number, clock: fastClock })) return undefined;
  out.flush();
  const general = (p: LispPacket) =>
    `${packetLine(p, { numeric: c.numeric, style: PLAIN, time: clock.text(p.tsSec, p.tsNsec), ...(c.number ? { number: String(p.frame) } : {}) })}\n`;
  return { text, general };
}
