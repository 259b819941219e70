import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIPv4 } from '../../src/dissect/addr.js';
import { clearPools, lists, ListPool, texts, TextPool } from '../../src/flows/text-pool.js';

// JavaScript cannot tell two equal strings apart: what is checked is that the pool keeps one entry
// per distinct text, hands back equal text, and stays bounded.

describe('TextPool', () => {
  it('keeps one entry per distinct text and hands back equal text', () => {
    const pool = new TextPool();
    expect(pool.get('192.0.2.1')).toBe('192.0.2.1');
    expect(pool.get(['192', '0', '2', '1'].join('.'))).toBe('192.0.2.1');
    expect(pool.size).toBe(1);
    expect(pool.get('192.0.2.2')).toBe('192.0.2.2');
    expect(pool.size).toBe(2);
  });

  it('replaces the texts of a list in place, by equal ones', () => {
    const pool = new TextPool();
    pool.get('198.51.100.1');
    const list = ['198.51.100.1', '198.51.100.2', '198.51.100.1'];
    pool.list(list);
    expect(list).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.1']);
    expect(pool.size).toBe(2);
  });

  it('starts over beyond 65,536 texts instead of growing', () => {
    const pool = new TextPool();
    for (let i = 0; i < 65_536; i++) pool.get(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    expect(pool.size).toBe(65_536);
    expect(pool.get('10.0.0.0')).toBe('10.0.0.0');
    expect(pool.size).toBe(65_536);
    expect(pool.get('203.0.113.1')).toBe('203.0.113.1');
    expect(pool.size).toBe(1);
  });

  it('gives the text of an IPv4 address from its bytes, one entry for each, over its restarts', () => {
    const pool = new TextPool();
    const b = new Uint8Array([0, 192, 0, 2, 1, 255, 254, 0, 128]);
    expect(pool.ipv4(b, 1)).toBe('192.0.2.1');
    expect(pool.ipv4(b, 5)).toBe('255.254.0.128');
    expect(pool.ipv4(b, 1)).toBe('192.0.2.1');
    expect(pool.get('192.0.2.1')).toBe('192.0.2.1');
    expect(pool.size).toBe(2);
    for (let i = 0; i < 65_536; i++) pool.get(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    expect(pool.ipv4(b, 1)).toBe('192.0.2.1');
    expect(pool.ipv4(b, 5)).toBe('255.254.0.128');
    expect(pool.size).toBeLessThanOrEqual(65_536);
  });

  it('gives each address its own text', () => {
    const pool = new TextPool();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => {
        expect(pool.ipv4(b, 0)).toBe(formatIPv4(b, 0));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('ListPool', () => {
  it('hands back the same list for the same texts in the same order', () => {
    const pool = new ListPool();
    const a = pool.with(pool.of('192.0.2.1'), '192.0.2.2');
    expect(a).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(pool.with(pool.of(['192', '0', '2', '1'].join('.')), '192.0.2.2')).toBe(a);
    expect(pool.with(pool.of('192.0.2.2'), '192.0.2.1')).toEqual(['192.0.2.2', '192.0.2.1']);
    expect(pool.with(pool.of('192.0.2.2'), '192.0.2.1')).not.toBe(a);
  });

  it('adds a text once, and never changes a list it handed out', () => {
    const pool = new ListPool();
    const one = pool.of('198.51.100.1');
    expect(pool.with(one, '198.51.100.1')).toBe(one);
    const two = pool.with(one, '198.51.100.2');
    expect(one).toEqual(['198.51.100.1']);
    expect(pool.with(two, '198.51.100.3')).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3']);
    expect(two).toEqual(['198.51.100.1', '198.51.100.2']);
    expect(pool.with([], '198.51.100.1')).toBe(one);
  });

  it('starts over beyond 65,536 lists, and still extends a list made before', () => {
    const pool = new ListPool();
    const kept = pool.of('203.0.113.1');
    for (let i = 0; i < 65_535; i++) pool.of(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    expect(pool.of('203.0.113.1')).toBe(kept);
    const longer = pool.with(kept, '203.0.113.2');
    expect(longer).toEqual(['203.0.113.1', '203.0.113.2']);
    expect(pool.of('203.0.113.1')).not.toBe(kept);
    expect(pool.with(kept, '203.0.113.2')).toBe(longer);
  });
});

describe('clearPools', () => {
  // An export clears them once its input's engine is garbage: the pools would otherwise hold that
  // input's texts while DuckDB writes its last batches.
  it('lets go of every text and list the engine pools held', () => {
    const b = Uint8Array.of(192, 0, 2, 7);
    const text = texts.ipv4(b, 0);
    const list = lists.of('198.51.100.7');
    expect(texts.size).toBeGreaterThan(0);
    clearPools();
    expect(texts.size).toBe(0);
    // Made again, not found: the pools held nothing.
    expect(lists.of('198.51.100.7')).not.toBe(list);
    expect(texts.ipv4(b, 0)).toBe(text);
    expect(texts.size).toBe(1);
  });
});
