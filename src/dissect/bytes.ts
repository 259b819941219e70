// Network-order integer reads for the hot decode paths: callers have checked the bounds (the `!`
// says so), so these are a load and a shift, cheap enough for V8 to inline everywhere.

/** The big-endian 16-bit word at `o`. */
export function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** The big-endian 32-bit word at `o`, unsigned. */
export function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
