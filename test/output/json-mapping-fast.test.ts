import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Mapping } from '../../src/flows/types.js';
import { mappingJson } from '../../src/output/json-flows.js';
import { mappingLineBytes, writeMappingJson } from '../../src/output/json-mapping-fast.js';
import { OutBuffer } from '../../src/output/out-buffer.js';

/** What writeMappingJson writes, as text (lines longer than the buffer take the slow path). */
function written(m: Mapping, multi: boolean, size = 1 << 16, before = ''): string {
  const chunks: Buffer[] = [];
  const out = new OutBuffer((b) => {
    chunks.push(Buffer.from(b));
    return true;
  }, size);
  out.text(before);
  writeMappingJson(out, m, multi);
  out.flush();
  return Buffer.concat(chunks).toString('utf8');
}

// Text that needs no escaping (addresses, prefixes, slugs), which the fast path writes itself.
const plainText = fc.string({ unit: fc.constantFrom('1', '0', '.', ':', '/', '[', ']', 'a', 'f', '-', ' ', '~') });
// Any text, quotes, backslashes, control characters, non-ASCII and lone surrogates included.
const text = fc.oneof(plainText, fc.string(), fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0001', 'é', '\ud800', 'a') }));
// Capture times as they come (any double), and as a capture's microseconds make them.
const time = fc.oneof(fc.double(), fc.integer({ min: 0, max: 2 ** 34 * 1e6 }).map((k) => k / 1e6), fc.constantFrom(0, -0, 1764000000.000037, 2 ** 33));
const frame = fc.record({ frame: fc.nat(), file: fc.nat({ max: 9 }) });

function mappingOf(text: fc.Arbitrary<string>): fc.Arbitrary<Mapping> {
  const peer = fc.record(
    { peer: text, smrTs: time, updatedTs: time, firstDataTs: time, latencyMs: fc.option(time, { nil: null }), idle: fc.boolean(), staleDataPackets: fc.nat() },
    { requiredKeys: ['peer', 'latencyMs', 'staleDataPackets'] },
  );
  const entry = fc.record(
    { ts: time, frame, source: text, by: text, rlocs: fc.array(text, { maxLength: 4 }), transport: fc.constant('tcp' as const) },
    { requiredKeys: ['ts', 'frame', 'source', 'by', 'rlocs'] },
  );
  const handover = fc.record({
    ts: time,
    frame,
    from: fc.array(text, { maxLength: 3 }),
    to: fc.array(text, { maxLength: 3 }),
    baseline: fc.constantFrom('registration', 'map-reply', 'publication', 'data-plane'),
    peers: fc.array(peer, { maxLength: 4 }),
  });
  return fc.record(
    { eid: text, timeline: fc.array(entry, { maxLength: 6 }), handovers: fc.array(handover, { maxLength: 3 }), timelineDropped: fc.nat(), noHandover: text },
    { requiredKeys: ['eid', 'timeline', 'handovers'] },
  ) as fc.Arbitrary<Mapping>;
}

describe('writeMappingJson', () => {
  it('writes what JSON.stringify writes of mappingJson, for any mapping, one capture or several', () => {
    fc.assert(
      fc.property(mappingOf(text), fc.boolean(), (m, multi) => {
        expect(written(m, multi)).toBe(JSON.stringify(mappingJson(m, multi)) + '\n');
      }),
      { numRuns: 2000 },
    );
  });

  it('writes every field itself when no string needs escaping', () => {
    fc.assert(
      fc.property(mappingOf(plainText), fc.boolean(), (m, multi) => {
        const bytes = mappingLineBytes(m, multi);
        expect(bytes).toBeDefined();
        expect(Buffer.from(bytes!).toString('latin1')).toBe(JSON.stringify(mappingJson(m, multi)) + '\n');
      }),
      { numRuns: 1000 },
    );
  });

  it('leaves a mapping with a string that needs escaping to JSON.stringify', () => {
    const m: Mapping = { eid: '10.0.0.1/32', timeline: [{ ts: 1, frame: { frame: 1, file: 0 }, source: 'map-register', by: 'a"b', rlocs: [] }], handovers: [] };
    expect(mappingLineBytes(m)).toBeUndefined();
    expect(written(m, false)).toBe(JSON.stringify(mappingJson(m)) + '\n');
  });

  it('writes a mapping longer than what is left of the buffer, or than the buffer, whole', () => {
    const timeline = Array.from({ length: 400 }, (_, i) => ({ ts: 1764000000 + i / 1e3, frame: { frame: i, file: 0 }, source: 'map-register', by: '192.0.2.1', rlocs: ['198.51.100.1', '198.51.100.2'] }));
    const m: Mapping = { eid: '10.0.0.1/32', timeline, handovers: [], noHandover: 'the RLOC set did not change over 400 registrations' };
    const line = JSON.stringify(mappingJson(m)) + '\n';
    expect(written(m, false, 1 << 12)).toBe(line);
    expect(written(m, false, 1 << 16, 'x'.repeat(60_000))).toBe('x'.repeat(60_000) + line);
  });
});
