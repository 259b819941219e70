import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatMac } from '../../src/dissect/addr.js';

describe('formatMac', () => {
  it('writes six bytes as colon-separated lower-case hex pairs', () => {
    expect(formatMac(Uint8Array.of(0x00, 0x1b, 0xa0, 0xff, 0x0f, 0x10), 0)).toBe('00:1b:a0:ff:0f:10');
  });

  it('is each byte in two hex digits, from any offset (bytes beyond the buffer as 00)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), fc.nat(24), (b, off) => {
        const expected = Array.from({ length: 6 }, (_, i) => (b[off + i] ?? 0).toString(16).padStart(2, '0')).join(':');
        expect(formatMac(b, off)).toBe(expected);
      }),
    );
  });
});
