// LISPSCOPE_EXPORT_TRACE: the timeline of an export.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Sink } from '../../src/export/sink.js';
import type { Batch } from '../../src/export/stage.js';
import { PCAPS } from '../cli/run.js';

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-trace-'));
const traceFile = join(tmp, 'trace');
// Read once, when the trace module loads: set before the export's modules are imported.
process.env.LISPSCOPE_EXPORT_TRACE = traceFile;
const { exportFiles } = await import('../../src/export/export.js');

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A sink whose loads take a few event-loop turns each. */
function slowSink(): Sink & { loaded: string[] } {
  const loaded: string[] = [];
  const turns = async () => {
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  };
  return {
    label: 'slow',
    loaded,
    open: turns,
    beginInput: turns,
    endInput: turns,
    close: turns,
    load: async (b: Batch) => {
      await turns();
      loaded.push(`${b.table} ${b.rows}`);
    },
  };
}

describe('LISPSCOPE_EXPORT_TRACE', () => {
  it('writes every batch pushed and loaded, and the steps of the tail, in order', async () => {
    const sink = slowSink();
    await exportFiles([{ path: join(PCAPS, 'control-map-reply.pcap'), vantage: 'a' }], sink, { warning: () => {}, batchBytes: 1 });
    const events = readFileSync(traceFile, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    const named = (e: string) => events.filter((x) => x[1] === e).map((x) => `${x[2]} ${x[3]}`);
    for (const l of events) {
      expect(Number(l[0])).toBeGreaterThan(0);
      expect(l.slice(-2)[0]).toBe('rss');
    }
    expect(named('push').length).toBeGreaterThan(2);
    expect(named('load')).toEqual(named('push'));
    expect(named('loaded')).toEqual(sink.loaded);
    // Every wait of the reader ends.
    expect(named('resume').length).toBe(named('pause').length);
    const steps = events.map((x) => (x[1] === 'last' || x[1] === 'engine' ? `${x[1]} ${x[2]}` : x[1])).filter((e) => !['push', 'load', 'loaded', 'opened', 'pause', 'resume'].includes(e));
    expect(steps).toEqual(['read', 'last packet', 'engine done', 'mappings', 'recorded', 'collected', 'drained', 'ended', 'close', 'closed']);
    const times = events.map((x) => Number(x[0]));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});
