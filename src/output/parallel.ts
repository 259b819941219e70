// Decoding over several threads, output in frame order. The main thread cuts the input into
// chunks of whole records (capture/split.ts: a file; sniff: batches of captured frames); worker
// threads, and the main thread itself when they are all busy and it may, decode and write each
// chunk (chunk-decode.ts); the main thread puts the chunks' output back in order, and decodes in
// that order the frames that need state kept across frames (IP fragments, reliable-transport TCP)
// with its one stateful decoder. The output is byte for byte what one thread writes.
//
// Chunks and output travel in shared memory: nothing is copied between threads, and no ArrayBuffer
// is ever detached (which would make V8 check every typed-array access of the thread for it).
// Memory stays bounded: a few chunks are in flight, and the input waits while the output is
// congested.

import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ChunkSplitter, type Chunk } from '../capture/split.js';
import { CaptureError } from '../capture/types.js';
import { ChunkDecoder, type ChunkJob, type ChunkResult } from './chunk-decode.js';
import type { Io } from './io.js';
import { PacketStream, type PacketKinds, type PacketStreamSettings } from './packet-stream.js';

/**
 * Decoding threads besides the main one unless told: one per other core that is free by the
 * 1-minute load average, at most 8. A worker pays off only on a core of its own: where the cores
 * are busy it costs without gaining time (every thread compiles and warms up the decoders again, and
 * the threads take turns on the same cores; `read --json` on a loaded 2-core machine took 1.4 times
 * the CPU of one thread, and longer).
 */
export function defaultThreads(cores = availableParallelism(), load = loadavg()[0]!): number {
  return Math.max(0, Math.min(8, cores - 1, Math.round(cores - load) - 1));
}

/**
 * Below this size a file is decoded by the main thread alone: a worker costs some 0.5 s of CPU
 * before it runs at full speed (loading, and compiling the decoders again), which a smaller file
 * does not pay back.
 */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;

export interface PipelineOptions {
  /** Worker threads. */
  threads: number;
  /** The main thread decodes a chunk itself when every worker has its next one waiting. */
  local: boolean;
  /**
   * Decoders to use instead of worker threads (tests): each takes a job and resolves with its
   * result, at whatever pace.
   */
  pool?: ((job: ChunkJob) => Promise<ChunkResult>)[];
}

/** A decoding thread: the jobs it was given and not yet answered. */
interface Lane {
  run(job: ChunkJob): void;
  busy: number;
  /** Output buffers of this lane written out, handed back with its next job. */
  free: Uint8Array[];
  close(): Promise<void>;
}

/** The worker's module: next to this one (dist/), else the build's when running from sources. */
function workerUrl(): URL {
  const here = new URL('./decode-worker.js', import.meta.url);
  if (existsSync(here)) return here;
  return new URL('../../dist/src/output/decode-worker.js', import.meta.url);
}

/** An item of the output order: a chunk (its result once decoded) or a warning of the reader's own. */
interface Slot {
  result?: ChunkResult;
  warning?: string;
  lane?: Lane;
  /** The input buffer the chunk lies in, reused once the chunk is decoded. */
  input?: Uint8Array;
}

/** Shared memory of `n` bytes (plain memory when no other thread needs to see it). */
function sharedBytes(n: number, shared: boolean): Uint8Array {
  return new Uint8Array(shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
}

/**
 * Chunks in, output out in order. `push` a chunk (in a buffer from `inputBuffer`), `emit` writes
 * what is ready; `finish` waits for the rest.
 */
export class DecodePipeline {
  /** The decoder of the frames that need state, writing to the output in order. */
  readonly stateful: PacketStream;
  private chunkShown = 0;
  private chunkFound = false;
  private readonly chunkKinds = { lisp: 0, control: 0, data: 0, reliable: 0 };
  private readonly lanes: Lane[];
  private readonly slots = new Map<number, Slot>();
  private seq = 0;
  private next = 0;
  private local: ChunkDecoder | undefined;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly spareInputs: Uint8Array[] = [];
  private readonly shared: boolean;

  constructor(
    private readonly settings: PacketStreamSettings,
    private readonly io: Io,
    private readonly opts: PipelineOptions,
    /** Size of input buffers handed out. */
    private readonly inputBytes = 2 * 1024 * 1024,
  ) {
    this.stateful = new PacketStream(settings, io.buffer, { warning: (m) => io.warn(m) });
    this.shared = !opts.pool && opts.threads > 0;
    this.lanes = opts.pool ? opts.pool.map((d) => this.poolLane(d)) : Array.from({ length: opts.threads }, () => this.workerLane());
  }

  /** Packets shown so far (written out). */
  get shown(): number {
    return this.chunkShown + this.stateful.shown;
  }

  /** A packet shown so far is one --fail-on names. */
  get found(): boolean {
    return this.chunkFound || this.stateful.found;
  }

  /** LISP messages by kind decoded so far. */
  get kinds(): PacketKinds {
    const a = this.chunkKinds;
    const b = this.stateful.kinds;
    return { lisp: a.lisp + b.lisp, control: a.control + b.control, data: a.data + b.data, reliable: a.reliable + b.reliable };
  }

  /** Chunks pushed and not yet written out. */
  get inFlight(): number {
    return this.seq - this.next;
  }

  /** Enough in flight to keep every thread busy: the input should wait (see `news`). */
  get full(): boolean {
    return this.inFlight >= 2 * this.lanes.length + (this.opts.local ? 2 : 0);
  }

  /** A buffer for the next chunk, of at least `n` bytes. */
  inputBuffer(n: number): Uint8Array {
    if (n <= this.inputBytes) return this.spareInputs.pop() ?? sharedBytes(this.inputBytes, this.shared);
    return sharedBytes(n, this.shared);
  }

  /** Queues a chunk lying in `input` (from inputBuffer): a worker decodes it, or this thread. */
  push(chunk: Chunk, input: Uint8Array): void {
    this.check();
    const job: ChunkJob = { seq: this.seq++, chunk };
    const slot: Slot = { input };
    this.slots.set(job.seq, slot);
    let lane: Lane | undefined;
    for (const l of this.lanes) if (l.busy < 2 && (!lane || l.busy < lane.busy)) lane = l;
    if (lane || !this.opts.local) {
      // Without a free lane and without local decoding, the least busy worker queues it.
      lane ??= this.lanes.reduce((a, b) => (b.busy < a.busy ? b : a));
      slot.lane = lane;
      if (lane.free.length) job.free = lane.free.splice(0);
      lane.run(job);
      return;
    }
    // Every worker has its next chunk waiting: this thread decodes one meanwhile.
    this.local ??= new ChunkDecoder(this.settings);
    slot.result = this.local.decode(job);
    this.release(slot);
  }

  /** Queues a warning of the reader's own, after everything pushed so far. */
  warning(text: string): void {
    this.slots.set(this.seq++, { warning: text });
  }

  /** Writes out what is ready, in order. */
  emit(): void {
    this.check();
    const io = this.io;
    for (;;) {
      const slot = this.slots.get(this.next);
      if (!slot) return;
      if (slot.warning !== undefined) io.warn(slot.warning);
      else if (!slot.result) return;
      else {
        const r = slot.result;
        const lane = slot.lane;
        const local = this.local;
        for (const piece of r.pieces) {
          if (piece instanceof Uint8Array) {
            // A decoder's own buffer (a view on part of it; a copy is all of its own) goes back to it once written.
            const lent = piece.byteLength < piece.buffer.byteLength;
            if (!lent) io.bytes(piece);
            else if (lane) io.bytes(piece, () => lane.free.push(new Uint8Array(piece.buffer)));
            else io.bytes(piece, () => local?.recycle(new Uint8Array(piece.buffer)));
          } else if ('frame' in piece) this.stateful.frame(piece.frame);
          else io.warn(piece.warning);
        }
        this.chunkShown += r.shown;
        this.chunkFound ||= r.found;
        const c = this.chunkKinds;
        c.lisp += r.kinds.lisp;
        c.control += r.kinds.control;
        c.data += r.kinds.data;
        c.reliable += r.kinds.reliable;
      }
      this.slots.delete(this.next++);
    }
  }

  /** Resolves when a chunk was decoded or a worker failed. */
  news(): Promise<void> {
    this.check();
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  /** Waits for every chunk and writes it out; the stateful decoder reports what it still waits for. */
  async finish(): Promise<void> {
    for (;;) {
      this.emit();
      if (this.inFlight === 0) break;
      await this.news();
    }
    this.stateful.finish();
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.close()));
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  private arrived(r: ChunkResult): void {
    const slot = this.slots.get(r.seq);
    if (!slot) return;
    slot.result = r;
    slot.lane!.busy--;
    this.release(slot);
    this.poke();
  }

  /** The chunk is decoded: its input buffer serves again. */
  private release(slot: Slot): void {
    const b = slot.input;
    slot.input = undefined;
    if (b && b.buffer.byteLength === this.inputBytes && this.spareInputs.length < 4) this.spareInputs.push(new Uint8Array(b.buffer));
  }

  private failed(e: Error): void {
    this.failure ??= e;
    this.poke();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private workerLane(): Lane {
    const w = new Worker(workerUrl(), { workerData: this.settings });
    let closing = false;
    const lane: Lane = {
      busy: 0,
      free: [],
      run(job) {
        lane.busy++;
        w.postMessage(job);
      },
      async close() {
        closing = true;
        await w.terminate();
      },
    };
    w.on('message', (r: ChunkResult) => this.arrived(r));
    w.on('error', (e) => this.failed(e));
    w.on('exit', (code) => {
      if (!closing) this.failed(new Error(`a decoding thread ended (exit code ${code})`));
    });
    return lane;
  }

  private poolLane(decode: (job: ChunkJob) => Promise<ChunkResult>): Lane {
    const lane: Lane = {
      busy: 0,
      free: [],
      run: (job) => {
        lane.busy++;
        decode(job).then(
          (r) => this.arrived(r),
          (e: Error) => this.failed(e),
        );
      },
      close: async () => {},
    };
    return lane;
  }
}

/**
 * Reads `path` as `read` does, writing to `io`; returns how many packets were shown and whether
 * one is what --fail-on names. Throws CaptureError as readCapture does.
 */
export async function readParallel(
  path: string,
  settings: PacketStreamSettings,
  io: Io,
  /** `signal`: reading stops (the chunks read are still decoded and written out). */
  opts: Omit<PipelineOptions, 'local'> & { chunkBytes?: number; signal?: AbortSignal },
): Promise<{ shown: number; found: boolean }> {
  // Small chunks: the few in flight, their input and output, are what the threads hold.
  const chunkBytes = opts.chunkBytes ?? 512 * 1024;
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new CaptureError(`${path}: cannot read: ${(e as Error).message}`);
  }
  const pipe = new DecodePipeline(settings, io, { ...opts, local: true }, chunkBytes + 65536);
  try {
    const splitter = new ChunkSplitter(settings.name);
    let buf = pipe.inputBuffer(chunkBytes);
    let have = 0;
    let eof = false;
    while (!eof && !opts.signal?.aborted) {
      const { bytesRead } = await fh.read(buf, have, Math.min(buf.length, Math.max(chunkBytes, have + 65536)) - have, null);
      have += bytesRead;
      eof = bytesRead === 0;
      if (!eof && have < chunkBytes) continue;
      const split = splitter.scan(buf, have, eof);
      // What is left (part of a unit) starts the next buffer, which holds at least that unit.
      const rest = have - split.used;
      const next = pipe.inputBuffer(Math.max(split.need, rest + 65536));
      next.set(buf.subarray(split.used, have));
      if (split.chunk) pipe.push(split.chunk, buf);
      buf = next;
      have = rest;
      if (split.end) {
        pipe.warning(split.end);
        eof = true;
      }
      pipe.emit();
      // A slow reader of the output holds the reading back, as do chunks still being decoded.
      while (io.congested || pipe.full) {
        const ready = io.ready();
        await (ready ?? pipe.news());
        pipe.emit();
      }
    }
    await pipe.finish();
  } finally {
    await fh.close();
    await pipe.close();
  }
  return { shown: pipe.shown, found: pipe.found };
}
