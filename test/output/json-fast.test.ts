import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import type { Frame } from '../../src/capture/types.js';
import { encodeData } from '../../src/dissect/data.js';
import { encodeIPv4, encodeIPv6, encodeIpUdp } from '../../src/dissect/ip.js';
import { encodeLink } from '../../src/dissect/link.js';
import { packetJsonText } from '../../src/output/json.js';
import { writeDataJsonFast } from '../../src/output/json-fast.js';
import { OutBuffer } from '../../src/output/out-buffer.js';
import { tsNumber, tsText } from '../../src/output/time.js';
import { ipv4, ipv6 } from '../support/arbitraries.js';

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

const inner = fc.oneof(
  fc
    .record({ src: ipv4, dst: ipv4, proto: fc.constantFrom(1, 6, 17, 47, 58, 132), body: fc.uint8Array({ maxLength: 40 }), frag: fc.constantFrom(0, 0, 0, 3) })
    .map((r) => encodeIPv4({ src: r.src, dst: r.dst, proto: r.proto, fragmentOffset: r.frag }, r.body)),
  fc
    .record({ src: ipv6, dst: ipv6, proto: fc.constantFrom(1, 6, 17, 58, 0, 44), body: fc.uint8Array({ maxLength: 40 }) })
    .map((r) => encodeIPv6({ src: r.src, dst: r.dst, nextHeader: r.proto }, r.body)),
  fc.uint8Array({ maxLength: 30 }),
);

describe('data-packet JSON fast path', () => {
  it('writes exactly what the general path writes, whenever it accepts a frame', () => {
    const decoder = new PacketDecoder({});
    let accepted = 0;
    let index = 0;
    fc.assert(
      fc.property(
        fc.record({
          link: fc.constantFrom(1, 12, 101, 113, 228, 276, 0),
          src: ipv4,
          dst: ipv4,
          sport: fc.constantFrom(4341, 4342, 61000, 1234, 50001, 50002),
          dport: fc.constantFrom(4341, 4341, 4341, 4342, 80),
          flags: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 31 }).map((x) => x << 3) }, fc.integer({ min: 0, max: 255 })),
          word1: fc.integer({ min: 0, max: 0xffffff }),
          word2: fc.integer({ min: 0, max: 0xffffffff }),
          inner,
          tsSec: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          tsNsec: fc.integer({ min: 0, max: 999_999_999 }),
          cut: fc.constantFrom(0, 0, 0, 1, 5),
        }),
        (r) => {
          const lisp = encodeData({ flags: r.flags, word1: r.word1, word2: r.word2 }, r.inner);
          const ip = encodeIpUdp({ src: r.src, dst: r.dst, sport: r.sport, dport: r.dport }, lisp);
          const full = encodeLink(r.link, ip);
          const data = full.subarray(0, full.length - r.cut);
          const f: Frame = { index: ++index, tsSec: r.tsSec, tsNsec: r.tsNsec, linkType: r.link, len: full.length, data, interfaceId: 0 };
          const fast = fastText(f);
          if (fast === undefined) return;
          accepted++;
          const p = decoder.decode(f);
          expect(p).toBeDefined();
          expect(fast).toBe(`${packetJsonText(p!)}\n`);
        },
      ),
      { numRuns: 8000 },
    );
    // The lane must actually be exercised, not just never taken.
    expect(accepted).toBeGreaterThan(300);
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
