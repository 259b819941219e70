// A coverage-guided fuzzer for the decoders, in-process. Inputs are mutated corpus entries (bit
// flips, cuts, inserts, splices, and structure-aware edits of LISP counts and lengths); V8's
// precise coverage, read through node:inspector, keeps each input that reaches new code on its own. Any
// exception out of a decoder is a crash; any input that takes more than the hang limit is a hang.
// (@jazzer.js cannot load on this glibc; this needs nothing but Node.)

import { Session } from 'node:inspector/promises';
import { concatBytes } from '../../src/dissect/addr.js';

export interface Target {
  name: string;
  /** Must never throw on any bytes. */
  run(input: Uint8Array): void;
  seeds: Uint8Array[];
}

export interface Finding {
  target: string;
  kind: 'crash' | 'hang';
  message: string;
  input: Uint8Array;
}

export interface FuzzOptions {
  inputs: number;
  seed: number;
  hangMs?: number;
  /** Coverage is taken once per this many inputs (a batch reaching new code is replayed one by one). */
  batch?: number;
  /** Keep the inputs that reach new code (the default); false mutates the seeds only, as a baseline. */
  guided?: boolean;
  /** Only scripts whose URL contains this count as coverage. */
  coverageFilter?: string;
  onProgress?: (r: FuzzReport) => void;
  maxInputLength?: number;
}

export interface FuzzReport {
  inputs: number;
  corpus: number;
  /** Inputs kept for reaching new code, each credited with blocks of its own. */
  kept: number;
  /** Distinct covered blocks of our code: after the seeds, and in the end. */
  seedBlocks: number;
  blocks: number;
  findings: Finding[];
  seconds: number;
  perTarget: Record<string, { inputs: number; corpus: number }>;
}

/** xorshift32: a run is reproducible from its seed. */
class Rng {
  constructor(private x: number) {
    if (this.x === 0) this.x = 0x9e3779b9;
  }
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
  pick<T>(a: T[]): T {
    return a[this.below(a.length)]!;
  }
}

const INTERESTING = [0, 1, 2, 0x0f, 0x10, 0x1f, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0xfe, 0xff];

/** Offsets where a LISP control message keeps counts and lengths a decoder trusts. */
function lengthSpots(b: Uint8Array): number[] {
  const spots = [3, 14, 15]; // Record Count (or IRC/count byte), Auth Data Length
  for (let i = 0; i + 8 <= b.length; i++) {
    // LCAF header: AFI 0x4003, then rsvd1, flags, type, rsvd2, Length (16).
    if (b[i] === 0x40 && b[i + 1] === 0x03) spots.push(i + 6, i + 7);
    // LISP-SEC AD Type word (1, reserved 0): the AD Type and the OTK-AD / EID-AD Length after it;
    // in a Map-Reply it sits after the records, so it is found by its shape.
    if (b[i] === 1 && b[i + 1] === 0 && b[i + 2] === 0 && b[i + 3] === 0) spots.push(i, i + 4, i + 5);
  }
  // S=1 ECM: the AD follows the 4-byte header; the EID-AD Length and Record Count follow the OTK-AD.
  if (b.length > 12 && (b[0]! & 0xf8) === 0x88) {
    const otkEnd = 8 + ((b[8]! << 8) | b[9]!);
    spots.push(4, 8, 9, otkEnd, otkEnd + 1, otkEnd + 4);
  }
  return spots.filter((s) => s < b.length);
}

function mutate(rng: Rng, input: Uint8Array, other: Uint8Array, max: number): Uint8Array {
  let b: Uint8Array = input.slice();
  const rounds = 1 + rng.below(4);
  for (let r = 0; r < rounds; r++) {
    const op = rng.below(9);
    if (b.length === 0 && op !== 4) {
      b = Uint8Array.of(rng.below(256));
      continue;
    }
    switch (op) {
      case 0: {
        const i = rng.below(b.length);
        b[i]! ^= 1 << rng.below(8);
        break;
      }
      case 1:
        b[rng.below(b.length)] = rng.pick(INTERESTING);
        break;
      case 2:
        b = b.slice(0, rng.below(b.length + 1));
        break;
      case 3: {
        const at = rng.below(b.length + 1);
        const n = 1 + rng.below(8);
        const ins = Uint8Array.from({ length: n }, () => rng.below(256));
        b = concatBytes(b.subarray(0, at), ins, b.subarray(at));
        break;
      }
      case 4: {
        // Splice with another corpus entry.
        const at = rng.below(b.length + 1);
        const from = rng.below(other.length + 1);
        b = concatBytes(b.subarray(0, at), other.subarray(from));
        break;
      }
      case 5: {
        // Inflate or zero a count/length the decoder trusts.
        const spots = lengthSpots(b);
        const i = rng.pick(spots.length ? spots : [0]);
        b[i] = rng.pick([0, 1, 0x7f, 0xff, b[i]! + 1, b[i]! + 16]) & 0xff;
        break;
      }
      case 6: {
        // Duplicate a chunk (repeated records/locators).
        const s = rng.below(b.length);
        const e = Math.min(b.length, s + 1 + rng.below(32));
        const at = rng.below(b.length + 1);
        b = concatBytes(b.subarray(0, at), b.subarray(s, e), b.subarray(at));
        break;
      }
      case 7: {
        // Change the message type nibble.
        b[0] = (rng.below(16) << 4) | (b[0]! & 0x0f);
        break;
      }
      default: {
        const i = rng.below(Math.max(1, b.length - 1));
        if (i + 1 < b.length) {
          const v = rng.below(0x10000);
          b[i] = v >> 8;
          b[i + 1] = v & 0xff;
        }
      }
    }
  }
  return b.length > max ? b.subarray(0, max) : b;
}


/**
 * Block coverage of our code, keyed by the source ranges of V8's blocks. V8 reports a block only
 * while its count differs from the enclosing one's (a block run as often as its function is merged
 * into it), so the ranges of one report depend on the counts. Every range ever reported is kept as
 * a known block of its function; a known block ran in an interval when its function ran and no
 * range reported with count 0 contains it. Keys are then the same whatever the counts were.
 */
class Coverage {
  /** Covered blocks, committed: what an input must add to to be kept. */
  private readonly seen = new Set<string>();
  /** Known blocks per function (`url:start`), as `start:end` ranges. */
  private readonly known = new Map<string, Map<string, [number, number]>>();
  constructor(
    private readonly session: Session,
    private readonly filter: string,
  ) {}

  static async start(filter: string): Promise<Coverage> {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
    return new Coverage(session, filter);
  }

  /** The blocks run since the last call that are not committed yet (counts reset on every take). */
  async take(): Promise<Set<string>> {
    const { result } = await this.session.post('Profiler.takePreciseCoverage');
    const fresh = new Set<string>();
    for (const script of result) {
      if (!script.url.includes(this.filter)) continue;
      for (const fn of script.functions) {
        const whole = fn.ranges[0];
        if (!whole) continue;
        const id = `${script.url}:${whole.startOffset}`;
        let blocks = this.known.get(id);
        if (!blocks) this.known.set(id, (blocks = new Map()));
        const zero: [number, number][] = [];
        for (const r of fn.ranges) {
          blocks.set(`${r.startOffset}:${r.endOffset}`, [r.startOffset, r.endOffset]);
          if (r.count === 0) zero.push([r.startOffset, r.endOffset]);
        }
        if (whole.count === 0) continue;
        for (const [k, [a, b]] of blocks) {
          if (zero.some(([za, zb]) => za <= a && b <= zb)) continue;
          const key = `${id}:${k}`;
          if (!this.seen.has(key)) fresh.add(key);
        }
      }
    }
    return fresh;
  }

  commit(blocks: Iterable<string>): void {
    for (const b of blocks) this.seen.add(b);
  }

  get blocks(): number {
    return this.seen.size;
  }

  async stop(): Promise<void> {
    await this.session.post('Profiler.stopPreciseCoverage');
    this.session.disconnect();
  }
}

export async function fuzz(targets: Target[], opts: FuzzOptions): Promise<FuzzReport> {
  const rng = new Rng(opts.seed);
  const hangMs = opts.hangMs ?? 100;
  const guided = opts.guided ?? true;
  const batch = opts.batch ?? 256;
  const max = opts.maxInputLength ?? 4096;
  const cov = await Coverage.start(opts.coverageFilter ?? '/src/');
  const corpora = targets.map((t) => (t.seeds.length ? t.seeds.slice() : [new Uint8Array(0)]));
  const perTarget: FuzzReport['perTarget'] = Object.fromEntries(targets.map((t) => [t.name, { inputs: 0, corpus: 0 }]));
  const findings: Finding[] = [];
  const t0 = performance.now();
  let done = 0;

  /** Runs one input; `again` when it is run a second time for its coverage (already judged). */
  const runOne = (ti: number, input: Uint8Array, again = false): void => {
    const t = targets[ti]!;
    const start = performance.now();
    try {
      t.run(input);
    } catch (e) {
      if (!again) findings.push({ target: t.name, kind: 'crash', message: (e as Error)?.stack ?? String(e), input: input.slice() });
    }
    const took = performance.now() - start;
    if (took > hangMs && !again) findings.push({ target: t.name, kind: 'hang', message: `${took.toFixed(0)} ms`, input: input.slice() });
  };

  // The seeds themselves first: they set the baseline coverage.
  targets.forEach((t, ti) => t.seeds.forEach((s) => runOne(ti, s)));
  cov.commit(await cov.take());
  const seedBlocks = cov.blocks;

  // The targets take turns, a batch each: a short run (npm test's) still gives every target its share.
  for (let turn = 0; done < opts.inputs; turn++) {
    const ti = turn % targets.length;
    const corpus = corpora[ti]!;
    const n = Math.min(batch, opts.inputs - done);
    const inputs: Uint8Array[] = [];
    for (let i = 0; i < n; i++) inputs.push(mutate(rng, rng.pick(corpus), rng.pick(corpus), max));
    for (const input of inputs) runOne(ti, input);
    done += n;
    perTarget[targets[ti]!.name]!.inputs += n;
    const found = await cov.take();
    if (found.size > 0 && guided) {
      // Somewhere in the batch are inputs reaching new code: each is run alone, and kept when it
      // adds blocks to what is committed (so the first to reach a block is the one credited).
      for (const input of inputs) {
        runOne(ti, input, true);
        const mine = await cov.take();
        if (mine.size === 0) continue;
        cov.commit(mine);
        corpus.push(input);
        perTarget[targets[ti]!.name]!.corpus++;
      }
    }
    // What no input reproduced alone (state a stateful target carried between inputs) counts too.
    cov.commit(found);
    if (opts.onProgress && done % (batch * 64) < batch) opts.onProgress(report());
  }
  await cov.stop();
  return report();

  function report(): FuzzReport {
    const kept = Object.values(perTarget).reduce((n, t) => n + t.corpus, 0);
    return { inputs: done, corpus: corpora.reduce((n, c) => n + c.length, 0), kept, seedBlocks, blocks: cov.blocks, findings, seconds: (performance.now() - t0) / 1000, perTarget };
  }
}
