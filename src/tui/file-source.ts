// Capture files as a data source. Two things run in the background, neither holding up the UI:
//  - the index (file-index.ts): every frame's offset and time, chunk by chunk; with several files
//    their frames are merged by time into one packet list as the indexes grow;
//  - the analysis: the flow engine over the same files merged exactly as `lispscope flows` merges
//    them (mergeCaptures: by time, a packet seen in two captures counted once), one chunk at a time.
// The first screen needs only the first chunk of each file. Packets are decoded when shown, as
// `read` decodes them: the index learns which frames need earlier ones (IP fragments, TCP 4342
// segments; frame-context.ts) and those are replayed first (replay.ts).

import type { PacketDecoderOptions } from '../capture/packets.js';
import { plainControlType } from '../capture/plain-control.js';
import { CaptureError, type Frame } from '../capture/types.js';
import { splittableFile } from '../capture/split.js';
import { FlowEngine } from '../flows/engine.js';
import { mergeCaptures } from '../flows/merge.js';
import { Output } from '../output/io.js';
import { defaultThreads, PARALLEL_MIN_BYTES, readParallel, type PipelineOptions } from '../output/parallel.js';
import type { PacketStreamSettings } from '../output/packet-stream.js';
import type { FrameRef } from '../flows/types.js';
import { FileIndex } from './file-index.js';
import { FrameContext } from './frame-context.js';
import { FrameTypes, packetType } from './frame-types.js';
import { ContextDecoder } from './replay.js';
import { SourceCore, type Counters, type DataSource, type PacketRef, type PacketView, type SourceStatus } from './source.js';
import { namesPorts } from '../dissect/classify.js';

export interface FileSourceOptions {
  decoder?: Omit<PacketDecoderOptions, 'warning' | 'all'>;
  /** Seconds after which an unanswered request closes (default 3, as `flows`). */
  timeout?: number;
  /**
   * The packet filter over worker threads (scanParallel): how many (default as `read`'s: one per
   * other core that is free by the load average when the scan starts, at most 8; 0: never) and
   * from what file size (default as `read`'s); tests give
   * the pipeline's chunk size and in-process decoders instead of threads (`pool`).
   */
  scan?: { threads?: number; minBytes?: number; chunkBytes?: number; pool?: (settings: PacketStreamSettings) => PipelineOptions['pool'] };
  /** The key file behind `decoder.keyFor` (a function cannot cross to worker threads; its text can). */
  keys?: { text: string; path: string };
}

/**
 * Output that reads the frame numbers a PacketStream writes with `numbers` (4 bytes each, little
 * endian; the top bit set for a packet refused) as they come, in order; warnings are dropped (the
 * index gave them already).
 */
function numbersIo(onFrames: (frames: Uint32Array) => void): Output {
  let carry = new Uint8Array(0);
  return new Output({
    writer: {
      write(fd, bytes, done) {
        if (fd === 1) {
          let b = bytes;
          if (carry.length) {
            b = new Uint8Array(carry.length + bytes.length);
            b.set(carry);
            b.set(bytes, carry.length);
          }
          const whole = b.length & ~3;
          const frames = new Uint32Array(whole / 4);
          const view = new DataView(b.buffer, b.byteOffset, whole);
          for (let k = 0; k < frames.length; k++) frames[k] = view.getUint32(k * 4, true);
          carry = b.slice(whole);
          if (frames.length) onFrames(frames);
        }
        done();
      },
    },
  });
}

/** The merged order of several files' frames, extended as their indexes grow. */
class MergedOrder {
  count = 0;
  private fileOf = new Uint16Array(0);
  private indexOf = new Uint32Array(0);
  /** Per file: merged position of each of its frames (+1; 0 = not merged yet). */
  private readonly pos: Uint32Array[];
  private readonly next: number[];

  constructor(private readonly files: FileIndex[]) {
    this.pos = files.map(() => new Uint32Array(0));
    this.next = files.map(() => 0);
  }

  /** Merges what can be merged: the earliest head while every unfinished file has one. */
  advance(): boolean {
    let moved = false;
    for (;;) {
      let best = -1;
      let bestTs = Infinity;
      for (let f = 0; f < this.files.length; f++) {
        const ix = this.files[f]!;
        if (this.next[f]! < ix.count) {
          const t = ix.ts(this.next[f]!);
          if (t < bestTs) {
            bestTs = t;
            best = f;
          }
        } else if (!ix.done) return moved;
      }
      if (best < 0) return moved;
      this.push(best, this.next[best]!++);
      moved = true;
    }
  }

  private push(file: number, i: number): void {
    if (this.count === this.fileOf.length) {
      const cap = Math.max(4096, this.count * 2);
      const f = new Uint16Array(cap);
      f.set(this.fileOf);
      const x = new Uint32Array(cap);
      x.set(this.indexOf);
      this.fileOf = f;
      this.indexOf = x;
    }
    let p = this.pos[file]!;
    if (i >= p.length) {
      const q = new Uint32Array(Math.max(4096, p.length * 2, i + 1));
      q.set(p);
      p = this.pos[file] = q;
    }
    p[i] = this.count + 1;
    this.fileOf[this.count] = file;
    this.indexOf[this.count] = i;
    this.count++;
  }

  at(seq: number): { file: number; i: number } | undefined {
    if (seq < 0 || seq >= this.count) return undefined;
    return { file: this.fileOf[seq]!, i: this.indexOf[seq]! };
  }

  seqOf(file: number, i: number): number | undefined {
    const v = this.pos[file]?.[i];
    return v ? v - 1 : undefined;
  }
}

export class FileSource extends SourceCore implements DataSource {
  readonly kind = 'file' as const;
  readonly title: string;
  readonly multiFile: boolean;
  private readonly indexes: FileIndex[];
  private readonly contexts: FrameContext[];
  /** Per file: the types the analysis found (the packet filter's shortcut). */
  private readonly types: FrameTypes[];
  /** Per file: for the screen, and for scans over the whole capture (the packet filter), each with its own cursors. */
  private readonly decoders: ContextDecoder[];
  private readonly scanDecoders: ContextDecoder[];
  private readonly merged: MergedOrder | undefined;
  private readonly abort = new AbortController();
  private readonly seenWarnings = new Set<string>();
  private analysing = false;
  private analysed = false;
  private duplicates = 0;
  private failure: string | undefined;
  private stopped = false;
  private work: Promise<unknown>[] = [];

  constructor(
    readonly files: string[],
    private readonly opts: FileSourceOptions = {},
  ) {
    super();
    this.title = files.join(' + ');
    this.multiFile = files.length > 1;
    // The context learns from the frames as they are indexed, with the decoder's bounds; keys only
    // change authentication verdicts, never what a frame depends on.
    const { keyFor: _keyFor, ...bounds } = opts.decoder ?? {};
    this.contexts = files.map((_, n) => new FrameContext(bounds, (frame) => this.indexes[n]!.entryOf(frame)));
    this.types = files.map(() => new FrameTypes());
    this.indexes = files.map((f, n) => new FileIndex(f, (m) => this.warnOnce(m), (i, fr) => this.contexts[n]!.observe(i, fr)));
    const decoder = { ...opts.decoder, all: true };
    this.decoders = this.indexes.map((ix, n) => new ContextDecoder(this.contexts[n]!, (i) => ix.frame(i), decoder, 32, () => this.changed('packets')));
    this.scanDecoders = this.indexes.map((ix, n) => new ContextDecoder(this.contexts[n]!, (i) => ix.frame(i), decoder, 1024));
    this.merged = this.multiFile ? new MergedOrder(this.indexes) : undefined;
  }

  private warnOnce(m: string): void {
    if (this.seenWarnings.has(m)) return;
    this.seenWarnings.add(m);
    this.warn(m);
  }

  async start(): Promise<void> {
    const onChunk = () => {
      this.merged?.advance();
      this.changed('packets');
      this.changed('status');
    };
    // Each file must get through its first chunk (it is a capture) before the UI starts.
    const firsts = this.indexes.map((ix, n) => {
      let first!: () => void;
      const reached = new Promise<void>((r) => (first = r));
      const built = ix
        .build(() => {
          // The last call (from build's finally, done set) may follow an error: not a first chunk.
          if (!ix.done) first();
          onChunk();
        }, this.abort.signal)
        .finally(() => this.contexts[n]!.end());
      this.work.push(
        built.catch((e: unknown) => {
          this.failure = (e as Error).message;
          this.changed('status');
        }),
      );
      return Promise.race([reached, built]);
    });
    await Promise.all(firsts);
    this.engine = new FlowEngine({ ...(this.opts.timeout !== undefined ? { timeout: this.opts.timeout } : {}), order: 'close', onExchange: this.addExchange });
    this.work.push(this.analyse());
  }

  private async analyse(): Promise<void> {
    const engine = this.engine!;
    this.analysing = true;
    let frames = 0;
    try {
      const r = await mergeCaptures(
        this.files,
        {
          decoder: { ...this.opts.decoder },
          warning: (m) => this.warnOnce(m),
          onFrame: () => {
            engine.frame();
            if ((++frames & 4095) === 0) {
              this.changed('mappings');
              this.changed('status');
            }
          },
          // Plain data packets teach the engine without being decoded (roles come from control messages).
          onPlainData: (f, d) => {
            if (this.stopped) return false;
            engine.plainData(f, d);
            this.types[0]!.set(f.index, 'data');
            return true;
          },
          // Common control messages likewise: the engine's view of them teaches the roles too.
          onPlainControl: (f, c) => {
            if (this.stopped) return false;
            this.observeControl(engine.plainControl(f, c));
            this.types[0]!.set(f.index, plainControlType(c));
            return true;
          },
        },
        (p, file) => {
          if (this.stopped) return false;
          this.observe(p);
          const type = packetType(p);
          if (type !== undefined) this.types[file]!.set(p.frame, type);
          engine.packet(p, file);
          return true;
        },
      );
      this.duplicates = r.duplicates;
      if (!this.stopped) engine.finish();
    } catch (e) {
      if (!(e instanceof CaptureError)) throw e;
      this.failure = e.message;
    } finally {
      this.analysing = false;
      this.analysed = true;
      this.settled();
      this.changed('sessions');
      this.changed('mappings');
      this.changed('status');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    for (const d of this.decoders) d.close();
    await Promise.allSettled(this.work);
    for (const ix of this.indexes) ix.close();
  }

  private locate(seq: number): { file: number; i: number } | undefined {
    if (this.merged) return this.merged.at(seq);
    return seq >= 0 && seq < this.indexes[0]!.count ? { file: 0, i: seq } : undefined;
  }

  packetRange(): { first: number; end: number } {
    return { first: 0, end: this.merged ? this.merged.count : this.indexes[0]!.count };
  }

  packetRef(seq: number): PacketRef | undefined {
    const at = this.locate(seq);
    if (!at) return undefined;
    const ix = this.indexes[at.file]!;
    return { seq, ref: { frame: ix.frameNumber(at.i), file: at.file }, ts: ix.ts(at.i) };
  }

  seqOf(ref: FrameRef): number | undefined {
    const i = this.indexes[ref.file]?.entryOf(ref.frame) ?? -1;
    if (i < 0) return undefined;
    return this.merged ? this.merged.seqOf(ref.file, i) : ref.file === 0 ? i : undefined;
  }

  protected decodeAt(seq: number, scan: boolean): PacketView | undefined {
    const at = this.locate(seq);
    if (!at) return undefined;
    const d = scan ? this.scanDecoders[at.file]!.decode(at.i) : this.decoders[at.file]!.decode(at.i, false);
    if (!d) return undefined;
    return { seq, ref: { frame: this.indexes[at.file]!.frameNumber(at.i), file: at.file }, packet: d.packet, bytes: d.bytes };
  }

  scanFrame(seq: number): Frame | undefined {
    const at = this.locate(seq);
    return at && this.indexes[at.file]!.peek(at.i);
  }

  plainInPlace(): boolean {
    return !namesPorts(this.opts.decoder?.decodeAs);
  }

  knownType(seq: number): string | undefined {
    const at = this.locate(seq);
    return at && this.types[at.file]!.get(this.indexes[at.file]!.frameNumber(at.i));
  }

  /**
   * `read -Y FILTER --all` over worker threads (output/parallel.ts), each packet that passes
   * written as its frame number: one file, indexed, not gzipped (split.ts cuts plain files), with
   * no decoder options a thread cannot be given (a key lookup without its key file's text).
   */
  scanParallel(filter: string, found: (seqs: number[], scanned: number) => void, signal: AbortSignal): Promise<number> | undefined {
    const ix = this.indexes[0]!;
    const { threads = defaultThreads(), minBytes = PARALLEL_MIN_BYTES, chunkBytes, pool } = this.opts.scan ?? {};
    const { decodeAs, keyFor, ...other } = this.opts.decoder ?? {};
    if (this.multiFile || !ix.done || ix.gzipped || this.failure || (threads < 1 && !pool) || ix.size < minBytes || Object.keys(other).length || (keyFor && !this.opts.keys)) return undefined;
    const end = ix.count;
    const settings: PacketStreamSettings = {
      json: false,
      verbose: false,
      hex: false,
      number: false,
      time: 0,
      numeric: true,
      color: false,
      showKeys: false,
      all: true,
      decodeAs: { control: [...(decodeAs?.control ?? [])], data: [...(decodeAs?.data ?? [])], vxlan: [...(decodeAs?.vxlan ?? [])] },
      filter,
      failOn: [],
      name: this.files[0]!,
      numbers: true,
      ...(keyFor && this.opts.keys ? { keys: this.opts.keys } : {}),
    };
    return (async () => {
      // The index was built from this file: cutting it must find the same capture.
      if (!(await splittableFile(this.files[0]!, 0))) throw new CaptureError(`${this.files[0]}: cannot be cut into chunks`);
      const io = numbersIo((frames) => {
        const seqs: number[] = [];
        let last = -1;
        for (const n of frames) {
          const i = ix.entryOf(n & 0x7fffffff);
          if (i < 0 || i >= end) continue;
          if (!(n & 0x80000000)) seqs.push(i);
          last = i;
        }
        if (last >= 0) found(seqs, last + 1);
      });
      const lanes = pool?.(settings);
      await readParallel(this.files[0]!, settings, io, { threads, signal, ...(chunkBytes ? { chunkBytes } : {}), ...(lanes ? { pool: lanes } : {}) });
      io.flush();
      return end;
    })();
  }

  counters(): Counters {
    return { ...this.engineCounters(), drops: 0, duplicates: this.duplicates, evictedPackets: 0 };
  }

  status(): SourceStatus {
    const warnings = this.warningList;
    if (this.failure) return { state: 'error', text: this.failure, warnings };
    const read = this.indexes.reduce((n, ix) => n + ix.bytesRead, 0);
    const size = this.indexes.reduce((n, ix) => n + ix.size, 0);
    const indexed = this.indexes.every((ix) => ix.done);
    const frames = this.packetRange().end;
    const analysedFrames = this.engine?.stats.frames ?? 0;
    if (indexed && this.analysed) {
      return { state: 'done', text: `${frames.toLocaleString('en-US')} frames, ${this.sessionTotal.toLocaleString('en-US')} sessions`, warnings };
    }
    const parts: string[] = [];
    const progress = size ? Math.min(1, read / size) : 0;
    if (!indexed) parts.push(`reading ${Math.floor(progress * 100)}% (${frames.toLocaleString('en-US')} frames)`);
    else parts.push(`${frames.toLocaleString('en-US')} frames`);
    if (this.analysing || !this.analysed) {
      const of = indexed ? frames : 0;
      parts.push(`analysing${of ? ` ${Math.floor((analysedFrames / Math.max(1, of)) * 100)}%` : ` ${analysedFrames.toLocaleString('en-US')} frames`}`);
    }
    return { state: 'loading', text: parts.join(', '), progress, warnings };
  }
}
