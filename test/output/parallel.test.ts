// Decoding over several threads writes byte for byte what one thread writes: stdout and stderr, on
// random captures with IP fragments, reliable-transport TCP split over segments, frames that are
// not LISP or cut short, and damage to the file itself, cut into chunks at every possible place.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { memoryIo } from '../../src/output/io.js';
import { defaultThreads, readParallel } from '../../src/output/parallel.js';
import type { PacketStreamSettings } from '../../src/output/packet-stream.js';
import { eachAtOnce, lispscopeAsync, ROOT } from '../cli/run.js';
import { capture, caseArb, pool, type Event } from '../support/random-captures.js';

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-parallel-'));

const MODES: { name: string; argv: string[]; settings: Partial<PacketStreamSettings> }[] = [
  { name: 'json', argv: ['--json'], settings: { json: true } },
  { name: 'lines -V -x --all -#', argv: ['-V', '-x', '--all', '-#'], settings: { verbose: true, hex: true, all: true, number: true } },
  // One line a packet: plain data packets take the line fast path (line-fast.ts).
  { name: 'lines -n -# -tt', argv: ['-n', '-#', '-tt'], settings: { numeric: true, number: true, time: 2 } },
];

function settingsFor(file: string, extra: Partial<PacketStreamSettings>): PacketStreamSettings {
  return {
    json: false,
    verbose: false,
    hex: false,
    number: false,
    time: 0,
    numeric: false,
    color: false,
    showKeys: false,
    all: false,
    decodeAs: { control: [], data: [], vxlan: [] },
    failOn: [],
    name: file,
    ...extra,
  };
}

describe('read over several threads', () => {
  for (const mode of MODES) {
    it(`writes what one thread writes, wherever the chunks are cut (${mode.name})`, async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(caseArb, fc.integer({ min: 40, max: 3000 }), fc.integer({ min: 0, max: 3 }), fc.array(fc.nat(4), { minLength: 1, maxLength: 4 }), async (c, chunkBytes, lanes, delays) => {
          const file = join(tmp, `case-${n++}.${c.pcapng ? 'pcapng' : 'pcap'}`);
          capture(c, file);
          const one = memoryIo({ env: { TZ: 'UTC', NO_COLOR: '1' } });
          const code = await main(['read', '--threads', '0', ...mode.argv, file], one);
          // Not even one whole record (a file header cut short): refused before any reading.
          if (code === 2) return;
          const settings = settingsFor(file, mode.settings);
          const many = memoryIo();
          await readParallel(file, settings, many, { threads: 0, pool: pool(settings, lanes, delays), chunkBytes });
          await many.idle();
          expect(many.stdoutText()).toBe(one.stdoutText());
          expect(many.stderrText()).toBe(one.stderrText());
        }),
        { numRuns: 60 },
      );
    }, 300_000);
  }
});

describe('the default number of decoding threads', () => {
  it('is one per other core that the load leaves free, at most 8', () => {
    expect(defaultThreads(2, 0)).toBe(1);
    expect(defaultThreads(2, 0.4)).toBe(1);
    expect(defaultThreads(2, 0.6)).toBe(0);
    expect(defaultThreads(2, 7.5)).toBe(0);
    expect(defaultThreads(1, 0)).toBe(0);
    expect(defaultThreads(8, 2)).toBe(5);
    expect(defaultThreads(32, 0)).toBe(8);
  });
});

describe('read --threads N (worker threads)', () => {
  it('writes what --threads 0 writes, and says the same', async () => {
    // Several chunks of 2 MiB: fragments, TCP and damage among thousands of packets.
    const events: Event[] = [];
    for (let i = 0; i < 40_000; i++) {
      const k = i % 50;
      if (k === 7) events.push({ kind: 'fragments', n: i, size: 24, order: [2, 0, 1, 3, 4, 5, 6, 7, 8, 9] });
      else if (k === 19) events.push({ kind: 'tcp', n: i, cuts: [i % 97, (i * 7) % 150], drop: i % 400 === 19 ? 1 : -1 });
      else if (k === 31) events.push({ kind: 'cut', n: i, keep: 30 });
      else if (k % 3 === 0) events.push({ kind: 'control', n: i });
      else events.push({ kind: 'data', n: i });
    }
    const file = join(tmp, 'big.pcapng');
    capture({ events, pcapng: true, damage: 'truncated', gaps: [false, false, false, false, false, false, false, false, false, true] }, file);
    const modes = [['--json'], ['-n', '-V'], ['-#']];
    const runs = await eachAtOnce(
      modes.flatMap((argv) => [['0', argv], ['2', argv]] as const),
      ([threads, argv]) => lispscopeAsync(['read', '--threads', threads, ...argv, file]),
    );
    for (let i = 0; i < modes.length; i++) {
      const [one, many] = [runs[2 * i]!, runs[2 * i + 1]!];
      expect(one.stdout.length).toBeGreaterThan(1_000_000);
      expect(many.stdout).toBe(one.stdout);
      expect(many.stderr).toBe(one.stderr);
      expect(many.code).toBe(one.code);
    }
    expect(ROOT).toBeTruthy();
  }, 120_000);
});
