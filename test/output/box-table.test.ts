import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoxTable, boxTable } from '../../src/output/box-table.js';
import { table } from '../../src/output/flows-text.js';
import { chooseStyle, PLAIN } from '../../src/output/style.js';

const colour = chooseStyle({ isTTY: true }, {});
const cell = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'Z', '0', '.', '/', ' ', '-', ':', '→', '⇄'), maxLength: 20 }),
  fc.string({ unit: fc.constantFrom('1', 'b'), maxLength: 6 }).map((s) => colour.bad(s)),
);

describe('box tables', () => {
  it('draw a whole table as cli-table3 does, empty or not', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((cols) =>
          fc.record({ head: fc.array(cell, { minLength: cols, maxLength: cols }), rows: fc.array(fc.array(cell, { minLength: cols, maxLength: cols }), { maxLength: 8 }) }),
        ),
        fc.boolean(),
        ({ head, rows }, dim) => {
          const style = dim ? colour : PLAIN;
          const t = table(head, style);
          for (const r of rows) t.push(r);
          expect(boxTable(head.map((h) => style.dim(h)), rows)).toBe(t.toString());
        },
      ),
      { numRuns: 500 },
    );
  });

  it('streams a block at a time, widening columns for later blocks', () => {
    const out: string[] = [];
    const t = new BoxTable(['a', 'b'], (text) => out.push(text), 2);
    t.push(['1', '2']);
    t.push(['333', '4']);
    expect(out).toHaveLength(1);
    t.push(['55555', '6']);
    t.end();
    expect(out.join('\n').split('\n')).toEqual([
      '┌─────┬───┐',
      '│ a   │ b │',
      '│ 1   │ 2 │',
      '│ 333 │ 4 │',
      '│ 55555 │ 6 │',
      '└───────┴───┘',
    ]);
  });
});
