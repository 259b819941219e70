// The packet filter over worker threads (FileSource.scanParallel, `read -Y` cut into chunks) finds
// the matches the scan packet by packet finds, in the same order: on random captures with IP
// fragments, reliable-transport TCP, frames cut short and damaged files, cut into chunks anywhere
// and decoded by decoders that answer in any order; and with real worker threads on captures of
// thousands of packets.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { keyLookup } from '../../src/capture/keys.js';
import { KeyRing } from '../../src/dissect/keyring.js';
import { compileFilterAmongPlan } from '../../src/flows/filter.js';
import { FileSource, type FileSourceOptions } from '../../src/tui/file-source.js';
import { PacketFilter } from '../../src/tui/packet-filter.js';
import { plainDataTest } from '../../src/tui/plain-filter.js';
import { PCAPS } from '../cli/run.js';
import { capture, caseArb, pool } from '../support/random-captures.js';
import { writeBigCapture } from './big-capture.js';
import { writeContextCapture } from './context-capture.js';
import { caughtUp, until } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-tui-parallel-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Filters whose verdict on a data packet the type does not decide: those that read only what a
 * plain data packet's bytes give in place (plain-filter.ts) scan on the main thread, the others
 * (`ts`, `nonce`, `flags`, `inner.len`: `ts > 0` holds for every packet) go over threads.
 */
const FILTERS = ['eid in 10.0.0.0/8', 'eid in 10.1.0.0/16 && ts > 0', 'rloc == 192.0.2.1', 'udp.port == 4342 || inner.len > 1000', 'malformed || flags == N', 'nonce == 0x3', 'frame > 10', 'transport == tcp', 'eid in 10.1.0.0/16 || map-register', '!(eid in 10.9.0.0/16) && ts > 0', 'len > 100 || !data'];

/** The scans over threads a filter makes: none when the data packets are read in place. */
const threadRuns = (text: string) => (plainDataTest(compileFilterAmongPlan(text, 'packet', ['exchange'])) ? 0 : 1);

/** The source once loaded; undefined for a file that is not a capture at all (its header cut short). */
async function loaded(file: string, opts: FileSourceOptions): Promise<FileSource | undefined> {
  const source = new FileSource([file], opts);
  try {
    await source.start();
  } catch {
    await source.stop();
    return undefined;
  }
  await until(source, () => source.status().state !== 'loading', 60_000);
  if (source.status().state === 'done') return source;
  await source.stop();
  return undefined;
}

async function matches(source: FileSource, text: string): Promise<number[]> {
  const f = new PacketFilter(source, text);
  await caughtUp(f);
  const p = f.progress();
  const out: number[] = [];
  for (let n = p.first; n < p.end; n++) out.push(f.at(n)!);
  f.stop();
  return out;
}

/** Counts the scans the source ran over threads (so that a test cannot pass by never using them). */
function counted(source: FileSource): { runs: number } {
  const c = { runs: 0 };
  const real = source.scanParallel.bind(source);
  source.scanParallel = (...args) => {
    const r = real(...args);
    if (r) c.runs++;
    return r;
  };
  return c;
}

describe('the packet filter over worker threads', () => {
  it('finds what the scan packet by packet finds, on random captures cut into chunks anywhere', async () => {
    let n = 0;
    let ran = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, fc.integer({ min: 40, max: 3000 }), fc.integer({ min: 1, max: 3 }), fc.array(fc.nat(4), { minLength: 1, maxLength: 4 }), fc.constantFrom(...FILTERS), async (c, chunkBytes, lanes, delays, text) => {
        const file = join(tmp, `case-${n++}.${c.pcapng ? 'pcapng' : 'pcap'}`);
        capture(c, file);
        const one = await loaded(file, { scan: { threads: 0 } });
        if (!one) return;
        const many = (await loaded(file, { scan: { threads: 0, minBytes: 0, chunkBytes, pool: (s) => pool(s, lanes, delays) } }))!;
        const runs = counted(many);
        try {
          expect({ text, got: await matches(many, text) }).toEqual({ text, got: await matches(one, text) });
          expect(runs.runs).toBe(threadRuns(text));
          ran += runs.runs;
        } finally {
          await one.stop();
          await many.stop();
        }
      }),
      { numRuns: 80 },
    );
    // 5 of the 11 filters go over threads: some 35 cases of the 80 per run, 25..45 over 26 runs. At
    // more than 20, one run in 1,600 failed by chance; at more than 5, fewer than one in 10^11.
    expect(ran).toBeGreaterThan(5);
  }, 300_000);

  it('finds what the scan packet by packet finds, with worker threads, on captures of thousands of packets and the samples', async () => {
    const big = join(tmp, 'big.pcap');
    writeBigCapture(big, 5_000);
    const context = join(tmp, 'context.pcap');
    writeContextCapture(context);
    const files = [big, context, ...readdirSync(PCAPS).filter((f) => /\.(pcap|pcapng)$/.test(f)).map((f) => join(PCAPS, f))];
    let found = 0;
    for (const file of files) {
      const one = await loaded(file, { scan: { threads: 0 } });
      const many = await loaded(file, { scan: { threads: 1, minBytes: 0 } });
      if (!one || !many) throw new Error(`${file} did not load`);
      const runs = counted(many);
      try {
        for (const text of ['eid in 10.0.0.0/8 && ts > 0', 'udp.port == 4342 || inner.len > 1000', 'transport == tcp || malformed || flags == N']) {
          const want = await matches(one, text);
          found += want.length;
          expect({ file, text, got: await matches(many, text) }).toEqual({ file, text, got: want });
        }
        expect(runs.runs).toBe(3);
      } finally {
        await one.stop();
        await many.stop();
      }
    }
    expect(found).toBeGreaterThan(5_000);
  }, 120_000);

  it('verifies authentication as the scan packet by packet does, given the key file', async () => {
    const keysPath = join(PCAPS, 'keys');
    const keys = { text: readFileSync(keysPath, 'utf8'), path: keysPath };
    const ring = KeyRing.parse(keys.text, keysPath);
    if ('error' in ring) throw new Error(ring.error);
    const decoder = { keyFor: keyLookup(ring) };
    const file = join(PCAPS, 'control-map-register.pcap');
    const one = (await loaded(file, { decoder, scan: { threads: 0 } }))!;
    const many = (await loaded(file, { decoder, keys, scan: { threads: 1, minBytes: 0 } }))!;
    const without = (await loaded(file, { decoder, scan: { threads: 1, minBytes: 0 } }))!;
    const runs = counted(many);
    const none = counted(without);
    try {
      for (const text of ['auth_ok && ts > 0', '!auth_ok && ts > 0']) {
        const want = await matches(one, text);
        expect(want.length).toBeGreaterThan(0);
        expect({ text, got: await matches(many, text) }).toEqual({ text, got: want });
        expect({ text, got: await matches(without, text) }).toEqual({ text, got: want });
      }
      expect(runs.runs).toBe(2);
      // Without the key file's text the lookup cannot cross to a thread: packet by packet.
      expect(none.runs).toBe(0);
    } finally {
      await Promise.all([one.stop(), many.stop(), without.stop()]);
    }
  });

  it('says how far it got while few packets match', async () => {
    const file = join(tmp, 'progress.pcap');
    writeBigCapture(file, 3_000);
    const source = (await loaded(file, { scan: { threads: 0, minBytes: 0, chunkBytes: 8192, pool: (s) => pool(s, 1, [1]) } }))!;
    const runs = counted(source);
    try {
      const f = new PacketFilter(source, 'rloc == 203.0.113.99 && ts > 0');
      const seen: number[] = [];
      f.subscribe(() => {
        const p = f.progress();
        if (!p.caughtUp) seen.push(p.scanned);
      });
      await caughtUp(f);
      const p = f.progress();
      f.stop();
      expect(p.scanned).toBe(p.of);
      expect(seen.some((n) => n > 0 && n < p.of)).toBe(true);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      expect(p.end).toBe(p.first);
      expect(runs.runs).toBe(1);
    } finally {
      await source.stop();
    }
  });

  it('leaves to the scan packet by packet what the type decides, several files, and small files', async () => {
    const big = join(tmp, 'small.pcap');
    writeBigCapture(big, 200);
    const source = (await loaded(big, {}))!;
    const runs = counted(source);
    try {
      await matches(source, 'map-register && eid in 10.0.0.0/8');
      await matches(source, 'eid in 10.0.0.0/8');
      expect(runs.runs).toBe(0);
    } finally {
      await source.stop();
    }
  });
});
