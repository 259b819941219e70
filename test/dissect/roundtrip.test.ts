import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeControl, encodeControl } from '../../src/dissect/control.js';
import { controlMessage } from '../support/arbitraries.js';

describe('control messages: decode(encode(x)) = x', () => {
  it('holds for every message type, record, locator and LCAF', () => {
    fc.assert(
      fc.property(controlMessage, (m) => {
        const bytes = encodeControl(m);
        const { value } = decodeControl(bytes);
        expect(value).toEqual(m);
        // and the bytes are reproduced exactly
        expect(encodeControl(value)).toEqual(bytes);
      }),
      { numRuns: 3000 },
    );
  });
});
