import { describe, expect, it } from 'vitest';
import { TextPool } from '../../src/flows/text-pool.js';

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
});
