// One chunk of a capture (capture/split.ts) decoded and written as `read` writes it, by any
// thread: the output bytes, with the frames that need the one stateful decoder (IP fragments,
// reliable-transport TCP) and the reader's warnings left in their places, for the main thread to
// put back in order.

import { decodeChunk, type Chunk } from '../capture/split.js';
import type { Frame } from '../capture/types.js';
import { OutBuffer } from './out-buffer.js';
import { PacketStream, type PacketKinds, type PacketStreamSettings } from './packet-stream.js';

export interface ChunkJob {
  seq: number;
  chunk: Chunk;
  /** Output buffers (shared memory) the main thread has written out: the decoder's to reuse. */
  free?: Uint8Array[];
}

/** In order: output bytes, a frame for the stateful decoder, or a warning of the reader. */
export type ChunkPiece = Uint8Array | { frame: Frame } | { warning: string };

export interface ChunkResult {
  seq: number;
  pieces: ChunkPiece[];
  /** Packets the chunk showed (deferred frames not counted: the main thread shows those). */
  shown: number;
  /** A shown packet is one --fail-on names. */
  found: boolean;
  kinds: PacketKinds;
}

/**
 * Output buffers: small, so that the few chunks in flight hold little memory; one is handed over
 * as it is (and comes back once written), not copied, unless a deferred frame or the chunk's end
 * cut it below COPY_BELOW bytes (copying those is cheap, and keeps a capture full of IP fragments
 * from taking a buffer per fragment).
 */
const OUT_BYTES = 256 * 1024;
const COPY_BELOW = 32 * 1024;

export class ChunkDecoder {
  private readonly out: OutBuffer;
  private readonly stream: PacketStream;
  private pieces: ChunkPiece[] = [];
  /** Output buffers the main thread gave back. */
  private readonly spare: Uint8Array[] = [];

  /**
   * `shared`: output buffers in shared memory (a worker's, read by the main thread without a
   * copy); else plain memory (the main thread decoding a chunk itself). Either way a buffer handed
   * over is the decoder's again once `recycle`d (or given back with a job).
   */
  constructor(
    private readonly settings: PacketStreamSettings,
    shared = false,
    /** Output buffer sizes (tests make them small, so that buffers go round often). */
    sizes = { out: OUT_BYTES, copyBelow: COPY_BELOW },
  ) {
    const fresh = () => this.spare.pop() ?? new Uint8Array(shared ? new SharedArrayBuffer(sizes.out) : new ArrayBuffer(sizes.out));
    this.out = new OutBuffer(
      (b) => {
        if (b.length >= sizes.copyBelow) {
          this.pieces.push(b);
          return false;
        }
        this.pieces.push(b.slice());
        return true;
      },
      sizes.out,
      fresh,
    );
    this.stream = new PacketStream(settings, this.out, {
      deferStateful: true,
      warning: (m) => this.warning(m),
    });
  }

  decode(job: ChunkJob): ChunkResult {
    if (job.free) for (const b of job.free) this.recycle(b);
    this.pieces = [];
    const stream = this.stream;
    const shown0 = stream.shown;
    const k0 = { ...stream.kinds };
    stream.found = false;
    decodeChunk(job.chunk, this.settings.name, {
      frame: (f) => {
        if (!stream.frame(f)) return;
        this.out.flush();
        this.pieces.push({ frame: { ...f, data: f.data.slice() } });
      },
      warning: (m) => this.warning(m),
    });
    this.out.flush();
    const k = stream.kinds;
    return {
      seq: job.seq,
      pieces: this.pieces,
      shown: stream.shown - shown0,
      found: stream.found,
      kinds: { lisp: k.lisp - k0.lisp, control: k.control - k0.control, data: k.data - k0.data, reliable: k.reliable - k0.reliable },
    };
  }

  /** An output buffer handed over (a piece's whole buffer) was written: it serves again. */
  recycle(b: Uint8Array): void {
    this.spare.push(b);
  }

  private warning(m: string): void {
    this.out.flush();
    this.pieces.push({ warning: m });
  }
}
