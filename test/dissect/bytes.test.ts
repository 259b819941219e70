import { describe, expect, it } from 'vitest';
import { u16, u32 } from '../../src/dissect/bytes.js';

describe('network-order reads', () => {
  // A Map-Request's first word (type 1, A bit set, record count 1), then words with the top bit set.
  const b = Uint8Array.of(0x18, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xfe, 0x80, 0x00);

  it('reads 16-bit words big-endian', () => {
    expect(u16(b, 0)).toBe(0x1800);
    expect(u16(b, 2)).toBe(1);
    expect(u16(b, 8)).toBe(0x8000);
  });

  it('reads 32-bit words big-endian and unsigned (the top bit does not make them negative)', () => {
    expect(u32(b, 0)).toBe(0x18000001);
    expect(u32(b, 4)).toBe(0xfffffffe);
    expect(u32(b, 6)).toBe(0xfffe8000);
  });
});
