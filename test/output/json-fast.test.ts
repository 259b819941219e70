import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import type { Frame } from '../../src/capture/types.js';
import { packetJsonText } from '../../src/output/json.js';
import { writeDataJsonFast } from '../../src/output/json-fast.js';
import { OutBuffer } from '../../src/output/out-buffer.js';
import { tsNumber, tsText } from '../../src/output/time.js';
import { dataFrame } from '../support/arbitraries.js';

function fastText(f: Frame): string | undefined {
  let text = '';
  const out = new OutBuffer((b) => {
    text += Buffer.from(b).toString('latin1');
    return true;
  }, 4096);
  if (!writeDataJsonFast(f, out)) return undefined;
  out.flush();
  return text;
}

describe('data-packet JSON fast path', () => {
  it('writes exactly what the general path writes, whenever it accepts a frame', () => {
    const decoder = new PacketDecoder({});
    let accepted = 0;
    let index = 0;
    fc.assert(
      fc.property(dataFrame, (frame) => {
        const f: Frame = { index: ++index, ...frame };
        const fast = fastText(f);
        if (fast === undefined) return;
        accepted++;
        const p = decoder.decode(f);
        expect(p).toBeDefined();
        expect(fast).toBe(`${packetJsonText(p!)}\n`);
        // Again: what the writer kept of this frame (its second, its addresses) is reused, and must match.
        expect(fastText(f)).toBe(fast);
      }),
      { numRuns: 8000 },
    );
    // The lane must actually be exercised, not just never taken: some 425 frames per run, 379..471
    // over 26 runs, so the bound sits 11 standard deviations below.
    expect(accepted).toBeGreaterThan(200);
  });
});

describe('ts', () => {
  it('is microseconds, and the number JSON prints is the same text', () => {
    expect(tsText(1764000000, 37_000)).toBe('1764000000.000037');
    expect(tsText(1764000000, 500_000_000)).toBe('1764000000.5');
    expect(tsText(1764000000, 0)).toBe('1764000000');
    expect(tsText(1764000000, 999_999_600)).toBe('1764000001');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 33 - 1 }), fc.integer({ min: 0, max: 999_999_999 }), (s, ns) => {
        expect(JSON.stringify(tsNumber(s, ns))).toBe(tsText(s, ns));
      }),
      { numRuns: 20000 },
    );
  });
});
