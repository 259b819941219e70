// Shared test helpers: run the push parser over bytes, and find external tools (tshark & co.),
// which must be present in CI but may be missing on a developer machine.

import { execFile, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CaptureParser } from '../../src/capture/reader.js';
import type { Frame } from '../../src/capture/types.js';

export interface Collected {
  frames: Frame[];
  warnings: string[];
  format: string | undefined;
  error?: Error;
}

/** Copies what the parser hands over (frame.data is only valid during the callback). */
export function copyFrame(f: Frame): Frame {
  const c: Frame = { ...f, data: f.data.slice() };
  if (f.notes) c.notes = [...f.notes];
  else delete c.notes;
  return c;
}

/**
 * Parses `bytes`, split into chunks of the sizes `chunks` yields in turn (default: one chunk).
 * A thrown error is returned, not rethrown, so callers can assert on it.
 */
export function collect(bytes: Uint8Array, chunks?: () => number, opts: { stopAfter?: number; name?: string } = {}): Collected {
  const frames: Frame[] = [];
  const warnings: string[] = [];
  const p = new CaptureParser(
    {
      frame(f) {
        frames.push(copyFrame(f));
        return opts.stopAfter === undefined || frames.length < opts.stopAfter;
      },
      warning(m) {
        warnings.push(m);
      },
    },
    { name: opts.name ?? 'test.pcap' },
  );
  try {
    if (!chunks) p.push(bytes);
    else {
      for (let o = 0; o < bytes.length; ) {
        const n = Math.max(1, chunks());
        p.push(bytes.subarray(o, o + n));
        o += n;
      }
    }
    p.end();
  } catch (e) {
    return { frames, warnings, format: p.format, error: e as Error };
  }
  return { frames, warnings, format: p.format };
}

/** Frames without the object identity noise, for deep equality across parse runs. */
export function summary(frames: Frame[]): unknown[] {
  return frames.map((f) => ({ ...f, data: Array.from(f.data) }));
}

/** An executable of that name on the PATH; looked up, not run (tshark takes half a second of CPU to start). */
export function haveTool(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    const st = dir ? statSync(join(dir, name), { throwIfNoEntry: false }) : undefined;
    return !!st?.isFile() && (st.mode & 0o111) !== 0;
  });
}

/**
 * True when the tools are present. When some are missing the oracle tests are skipped with the
 * reason printed, except in CI (CI=true): there a test named after them fails instead.
 */
export function toolsOrSkip(...names: string[]): boolean {
  const missing = names.filter((n) => !haveTool(n));
  if (missing.length === 0) return true;
  if (process.env.CI === 'true') {
    it(`has the oracle tools (${names.join(', ')})`, () => {
      expect.fail(`required tools missing in CI: ${missing.join(', ')}`);
    });
  } else {
    console.warn(`skipping oracle tests: ${missing.join(', ')} not installed`);
  }
  return false;
}

function ran(cmd: string, args: string[], status: number | null, stdout: string, stderr: string): string {
  if (status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${status}): ${stderr}`);
  return stdout;
}

export function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return ran(cmd, args, r.status, r.stdout, r.stderr);
}

/** `run` without blocking: tools that start slowly (tshark) can run side by side. */
export function runAsync(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      try {
        resolve(ran(cmd, args, status, stdout, stderr));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

/** Deterministic PRNG (mulberry32) for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(r: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}
