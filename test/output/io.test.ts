// The one output queue of every command: order of stdout and stderr, its bound, waiting for the
// reader, and a reader that goes away.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryIo, Output, type ByteWriter } from '../../src/output/io.js';
import { ROOT } from '../cli/run.js';

/** A writer that holds every write until `release()`: a reader that does not read. */
function stalledWriter() {
  const held: { fd: 1 | 2; bytes: Uint8Array; done: () => void }[] = [];
  const out: Record<1 | 2, number[]> = { 1: [], 2: [] };
  const order: string[] = [];
  const writer: ByteWriter = {
    write(fd, bytes, done) {
      held.push({ fd, bytes: bytes.slice(), done: () => done() });
    },
  };
  return {
    writer,
    held,
    order,
    out,
    /** Completes the oldest held write. */
    release(): boolean {
      const w = held.shift();
      if (!w) return false;
      out[w.fd].push(...w.bytes);
      order.push(`${w.fd}:${new TextDecoder().decode(w.bytes)}`);
      w.done();
      return true;
    },
  };
}

describe('Output', () => {
  it('keeps stdout and stderr in the order they were written', async () => {
    const io = memoryIo();
    io.line('one');
    io.warn('careful');
    io.line('two');
    io.error('bad');
    io.out('three\n');
    await io.idle();
    expect(io.stdoutText()).toBe('one\ntwo\nthree\n');
    expect(io.stderrText()).toBe('lispscope: warning: careful\nlispscope: bad\n');
    const w = stalledWriter();
    const o = new Output({ writer: w.writer });
    o.line('a');
    o.warn('w');
    o.line('b');
    o.flush();
    while (w.release());
    expect(w.order).toEqual(['1:a\n', '2:lispscope: warning: w\n', '1:b\n']);
  });

  it('holds a bounded amount: a producer that waits for ready() never queues more than the limit and one piece', async () => {
    const w = stalledWriter();
    const limit = 64 * 1024;
    const o = new Output({ writer: w.writer, limit, bufferSize: 4096 });
    const piece = new Uint8Array(1000).fill(0x61);
    let produced = 0;
    let waited = 0;
    const producer = (async () => {
      for (let i = 0; i < 1000; i++) {
        o.bytes(piece.slice());
        produced++;
        const r = o.ready();
        if (r) {
          waited++;
          await r;
        }
      }
    })();
    // The reader is slow: a write completes now and then.
    for (let tick = 0; produced < 1000 && tick < 100_000; tick++) {
      await new Promise((r) => setImmediate(r));
      if (tick % 3 === 0) w.release();
      expect(o.queued).toBeLessThanOrEqual(limit + piece.length);
    }
    while (w.release()) await new Promise((r) => setImmediate(r));
    await producer;
    await o.idle();
    expect(produced).toBe(1000);
    expect(waited).toBeGreaterThan(0);
    expect(o.waits).toBe(waited);
    expect(o.peak).toBeLessThanOrEqual(limit + piece.length);
    expect(w.out[1]).toHaveLength(1000 * piece.length);
  });

  it('tells the owner of bytes when they have left, so that their memory serves again', async () => {
    const w = stalledWriter();
    const o = new Output({ writer: w.writer });
    const left: number[] = [];
    o.bytes(new Uint8Array(100_000), () => left.push(1));
    o.bytes(new Uint8Array(100_000), () => left.push(2));
    expect(left).toEqual([]);
    w.release();
    expect(left).toEqual([1]);
    w.release();
    expect(left).toEqual([1, 2]);
  });

  it('reports a reader that went away once, and writes nothing more', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lispscope-io-'));
    const mod = JSON.stringify(join(ROOT, 'dist/src/output/io.js'));
    const script = join(dir, 'epipe.mjs');
    writeFileSync(
      script,
      `import { processIo } from ${mod};
       const io = processIo();
       let n = 0;
       io.onError((e) => { process.stderr.write('error ' + e.code + '\\n'); n++; clearInterval(t); });
       const t = setInterval(() => io.bytes(new Uint8Array(65536)), 5);`,
    );
    const p = spawnSync('sh', ['-c', `'${process.execPath}' '${script}' | true`], { encoding: 'utf8', timeout: 20_000 });
    expect(p.stderr).toBe('error EPIPE\n');
  });
});
