// A bug planted for the fuzzer to find: it throws only on inputs that begin with "LISP", checked a
// byte at a time. Each byte that matches reaches a block the one before did not, so a fuzzer that
// keeps inputs reaching new code climbs to it; blind mutation of the seed needs all four at once.

import type { Target } from '../../scripts/fuzz/engine.js';

export const PLANTED_MAGIC = [0x4c, 0x49, 0x53, 0x50];

function planted(b: Uint8Array): number {
  let depth = 0;
  if (b[0] === 0x4c) {
    depth = 1;
    if (b[1] === 0x49) {
      depth = 2;
      if (b[2] === 0x53) {
        depth = 3;
        if (b[3] === 0x50) throw new Error('planted bug reached');
      }
    }
  }
  return depth;
}

export const plantedTarget: Target = { name: 'planted', seeds: [new Uint8Array(4)], run: (b) => void planted(b) };
