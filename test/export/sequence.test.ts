// The order in which an export calls its sink while the first input is read as the sink opens:
// nothing may reach the sink (ending the input, closing) while its previous call still runs. A
// DuckDB connection closed during the DELETE of beginInput crashed the process.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportFiles } from '../../src/export/export.js';
import type { Sink } from '../../src/export/sink.js';
import { PCAPS } from '../cli/run.js';

/** A sink that notes its calls, each taking a few event-loop turns, and whether one overlapped another. */
function slowSink(): Sink & { calls: string[]; overlapped: string[] } {
  let busy: string | undefined;
  const calls: string[] = [];
  const overlapped: string[] = [];
  const call = (name: string) => async () => {
    if (busy) overlapped.push(`${name} during ${busy}`);
    busy = name;
    calls.push(name);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    busy = undefined;
  };
  return {
    label: 'slow',
    calls,
    overlapped,
    open: call('open'),
    beginInput: call('beginInput'),
    load: call('load'),
    endInput: call('endInput'),
    close: call('close'),
  };
}

describe('export sequence', () => {
  it('ends the input and closes only after the sink has begun it', async () => {
    const sink = slowSink();
    const out = await exportFiles([{ path: join(PCAPS, 'control-map-reply.pcap'), vantage: 'a' }], sink, { warning: () => {} });
    expect(out).toHaveLength(1);
    expect(sink.overlapped).toEqual([]);
    expect(sink.calls[0]).toBe('open');
    expect(sink.calls[1]).toBe('beginInput');
    expect(sink.calls.slice(-2)).toEqual(['endInput', 'close']);
  });

  it('closes only after the sink has begun the input, when reading the input fails at once', async () => {
    const sink = slowSink();
    await expect(exportFiles([{ path: join(PCAPS, 'no-such-capture.pcap'), vantage: 'a' }], sink, { warning: () => {} })).rejects.toThrow(/no-such-capture/);
    expect(sink.overlapped).toEqual([]);
    expect(sink.calls).toEqual(['open', 'beginInput', 'close']);
  });
});
