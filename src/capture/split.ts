// A capture cut into chunks of whole records (pcap) or whole blocks (pcapng), each decodable on its
// own given the decoder's state at its start: how several threads decode one file. The splitter
// walks record and block headers only (packet bodies are skipped), so it keeps up with any number
// of decoding threads. Frames come out of the chunks exactly as the single reader would deliver
// them: same indexes, same notes, same warnings, in the same order.

import { open } from 'node:fs/promises';
import { PcapDecoder, pcapMagicKind, type PcapState } from './pcap.js';
import { PcapngDecoder, type PcapngState } from './pcapng.js';
import { isCaptureMagic, truncatedText, type DecodeContext } from './reader.js';
import type { FrameSink } from './types.js';

export type ChunkState = PcapState | PcapngState;

/** Bytes of whole units and where the decoder stood before them. */
export interface Chunk {
  bytes: Uint8Array;
  /** File offset of bytes[0]. */
  base: number;
  /** Undefined: the chunk starts at the beginning of the capture (its file header). */
  state?: ChunkState;
}

/** What one call of ChunkSplitter.scan found. */
export interface Split {
  /** Bytes of `buf` from 0 that make whole units: the chunk to decode, when > 0. */
  used: number;
  chunk?: Chunk;
  /**
   * The capture cannot be read on (a corrupt record, the file ends inside one): this warning comes
   * after the chunk's frames, and nothing more.
   */
  end?: string;
  /** Bytes the next scan must see at once to make progress (the unit being waited for). */
  need: number;
}

type Decoder = PcapDecoder | PcapngDecoder;

/** The splitter's decoding context: warnings are the chunk decoders' to give, except the one that stops. */
class ScanContext implements DecodeContext {
  base = 0;
  delivered = 0;
  stopped = false;
  lastWarning: string | undefined;
  readonly sink: FrameSink = {
    frame: () => true,
    warning: (m) => {
      this.lastWarning = m;
    },
  };

  constructor(readonly name: string) {}

  stop(): void {
    this.stopped = true;
  }
}

class ChunkContext implements DecodeContext {
  delivered = 0;
  stopped = false;

  constructor(
    readonly name: string,
    readonly sink: FrameSink,
    public base: number,
  ) {}

  stop(): void {
    this.stopped = true;
  }
}

export class ChunkSplitter {
  private readonly ctx: ScanContext;
  private dec: Decoder | undefined;
  /** File offset of the first byte not yet in a chunk. */
  private offset = 0;

  constructor(name: string) {
    this.ctx = new ScanContext(name);
  }

  /**
   * Finds the whole units at the start of buf[0, end) (which begins where the previous chunk ended)
   * and returns them as a chunk. `eof`: nothing follows `end`.
   */
  scan(buf: Uint8Array, end: number, eof: boolean): Split {
    const ctx = this.ctx;
    if (ctx.stopped) return { used: 0, need: 0 };
    if (!this.dec) {
      // The caller checked the capture (probeCapture): a header we read is there.
      if (end < 8) return eof ? { used: 0, need: 8, end: `${ctx.name}: truncated: the file ends inside its header` } : { used: 0, need: 8 };
      const kind = pcapMagicKind(buf, 0);
      this.dec = buf[0] === 0x0a ? new PcapngDecoder(ctx) : new PcapDecoder(ctx, kind!);
      this.dec.scanOnly = true;
    }
    const dec = this.dec;
    const state = this.offset === 0 ? undefined : dec.snapshot();
    ctx.base = this.offset;
    const used = dec.decode(buf, 0, end);
    const out: Split = { used, need: dec.need };
    if (used > 0) {
      out.chunk = { bytes: buf.subarray(0, used), base: this.offset, ...(state ? { state } : {}) };
      this.offset += used;
    }
    if (ctx.stopped) out.end = ctx.lastWarning;
    else if (eof && used < end) out.end = truncatedText(ctx.name, dec, this.offset, end - used);
    return out;
  }
}

/**
 * Decodes one chunk into `sink`, as the reader of the whole file would have at that point. A
 * warning that stops the decoder (never expected: the splitter cut before it) ends the chunk.
 */
export function decodeChunk(chunk: Chunk, name: string, sink: FrameSink): void {
  const ctx = new ChunkContext(name, sink, chunk.base);
  const s = chunk.state;
  const b = chunk.bytes;
  const dec: Decoder =
    s === undefined
      ? b[0] === 0x0a
        ? new PcapngDecoder(ctx)
        : new PcapDecoder(ctx, pcapMagicKind(b, 0)!)
      : s.format === 'pcap'
        ? PcapDecoder.resume(ctx, s)
        : PcapngDecoder.resume(ctx, s);
  dec.decode(b, 0, b.length);
}

/** A plain (not gzipped) capture file of at least `minBytes`: worth cutting into chunks for several threads. */
export async function splittableFile(path: string, minBytes: number): Promise<boolean> {
  try {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile() || st.size < minBytes) return false;
      const head = new Uint8Array(4);
      await fh.read(head, 0, 4, 0);
      return isCaptureMagic(head, 0);
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}
