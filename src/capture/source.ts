// Feeds a capture file or stdin into a CaptureParser in large chunks, gunzipping on the fly when the
// data starts with the gzip magic. Memory stays at a few chunks whatever the file size.

import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CaptureParser, type CaptureFormat } from './reader.js';
import { CaptureError, type FrameSink } from './types.js';

export interface ReadCaptureOptions {
  /** Read size; default 1 MiB. */
  chunkSize?: number;
  /** Stream used for path '-'; default process.stdin. */
  stdin?: Readable;
  /** Name used in messages; default the path, or "stdin" for '-'. */
  name?: string;
  /**
   * Called after each chunk is parsed; a returned promise holds reading until it settles. This is
   * how a consumer that is slower than the reader (a merge of several captures) keeps memory flat.
   */
  pause?: () => Promise<void> | undefined;
  /**
   * Like `tail -f`: at the end of the file wait for it to grow instead of ending, until the signal
   * aborts (a record only partly written yet is simply waited for). Not for stdin or gzip.
   */
  follow?: { signal: AbortSignal; pollMs?: number };
}

export interface ReadCaptureResult {
  format: CaptureFormat | undefined;
  /** Frames handed to the sink. */
  frames: number;
  /** Capture bytes parsed (after decompression). */
  bytes: number;
  /** Packets the capturing tool said it lost (pcapng ISBs); undefined when the format cannot say. */
  drops?: number;
}

const DEFAULT_CHUNK = 1024 * 1024;

function waitOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

function describeError(name: string, e: unknown): CaptureError {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return new CaptureError(`${name}: no such file`);
    case 'EACCES':
    case 'EPERM':
      return new CaptureError(`${name}: permission denied`);
    case 'EISDIR':
      return new CaptureError(`${name}: is a directory`);
    default:
      return new CaptureError(`${name}: cannot read: ${(e as Error).message ?? String(e)}`);
  }
}

/**
 * Chunks of a file. The parser is done with a chunk when push() returns (it copies any record that
 * straddles chunks), so two buffers serve every read: the next chunk is read into one while the
 * other is parsed (the file system works while we decode, instead of the decoder waiting for it).
 * Gunzip, though, may still hold the previous chunk, so `reuse()` says when a fresh buffer is needed.
 */
async function* fileChunks(
  fh: FileHandle,
  chunkSize: number,
  name: string,
  reuse: () => boolean,
  follow?: ReadCaptureOptions['follow'],
): AsyncGenerator<Uint8Array> {
  // Settles with the byte count or the error, never rejects: a read fails while its chunk's
  // predecessor is being parsed, and is reported when its turn comes.
  const read = (b: Buffer): Promise<number | Error> =>
    fh.read(b, 0, chunkSize, null).then(
      (r) => r.bytesRead,
      (e: unknown) => describeError(name, e),
    );
  let buf: Buffer = Buffer.allocUnsafe(chunkSize);
  let spare: Buffer | undefined;
  let pending: Promise<number | Error> | undefined = read(buf);
  try {
    for (;;) {
      const n = await pending;
      pending = undefined;
      if (n instanceof Error) throw n;
      if (n === 0) {
        if (!follow || follow.signal.aborted) return;
        await waitOrAbort(follow.pollMs ?? 200, follow.signal);
        pending = read(buf);
        continue;
      }
      const next: Buffer = spare ?? Buffer.allocUnsafe(chunkSize);
      pending = read(next);
      // A plain Uint8Array view: subarrays of it (every frame) are cheaper than Buffer subarrays.
      yield new Uint8Array(buf.buffer, buf.byteOffset, n);
      spare = reuse() ? buf : undefined;
      buf = next;
    }
  } finally {
    // Stopped early: the read under way finishes before the file is closed.
    if (pending) await pending;
  }
}

async function* streamChunks(s: Readable, name: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const c of s) yield typeof c === 'string' ? Buffer.from(c, 'latin1') : (c as Uint8Array);
  } catch (e) {
    throw describeError(name, e);
  }
}

/**
 * Reads a whole capture ('-' = stdin) into `sink`. Problems with the file as a whole throw
 * CaptureError (missing, unreadable, not a capture); damage found later is reported through
 * `sink.warning` and the frames before it are kept. Reading stops as soon as the sink asks.
 */
export async function readCapture(path: string, sink: FrameSink, opts: ReadCaptureOptions = {}): Promise<ReadCaptureResult> {
  const isStdin = path === '-';
  const name = opts.name ?? (isStdin ? 'stdin' : path);
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  let fh: FileHandle | undefined;
  let gzipped = false;
  let input: AsyncGenerator<Uint8Array>;
  if (isStdin) {
    input = streamChunks(opts.stdin ?? process.stdin, name);
  } else {
    try {
      fh = await open(path, 'r');
    } catch (e) {
      throw describeError(name, e);
    }
    input = fileChunks(fh, chunkSize, name, () => !gzipped, opts.follow);
  }
  const parser = new CaptureParser(sink, { name });
  try {
    const first = await input.next();
    if (first.done) throw new CaptureError(`${name}: empty file`);
    const head = first.value;
    gzipped = head[0] === 0x1f && head[1] === 0x8b;
    if (gzipped && opts.follow) throw new CaptureError(`${name}: cannot follow a gzipped file as it grows`);
    if (gzipped) {
      await gunzipInto(parser, head, input, name, opts.pause);
    } else {
      parser.push(head);
      await opts.pause?.();
      while (!parser.stopped) {
        const r = await input.next();
        if (r.done) break;
        parser.push(r.value);
        await opts.pause?.();
      }
    }
    parser.end();
    const drops = parser.drops;
    return { format: parser.format, frames: parser.frames, bytes: parser.bytes, ...(drops !== undefined ? { drops } : {}) };
  } finally {
    await input.return(undefined);
    await fh?.close();
  }
}

/**
 * Decompresses `head` + `rest` into the parser. A gzip stream that ends early or is corrupt
 * becomes a warning saying how far it got (the frames before it are already delivered).
 */
async function gunzipInto(
  parser: CaptureParser,
  head: Uint8Array,
  rest: AsyncGenerator<Uint8Array>,
  name: string,
  pause: ReadCaptureOptions['pause'],
): Promise<void> {
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  let compressed = 0;
  let gzError: Error | undefined;
  let pumpError: unknown;
  gunzip.on('error', (e) => {
    gzError = e;
  });
  const feed = async (): Promise<void> => {
    try {
      let chunk: Uint8Array | undefined = head;
      while (chunk && !parser.stopped && !gzError) {
        compressed += chunk.length;
        if (!gunzip.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              gunzip.off('drain', done);
              gunzip.off('close', done);
              resolve();
            };
            gunzip.on('drain', done);
            gunzip.on('close', done);
          });
        }
        const r = await rest.next();
        chunk = r.done ? undefined : r.value;
      }
    } catch (e) {
      pumpError = e;
    }
    if (!gunzip.destroyed) gunzip.end();
  };
  const pump = feed();
  try {
    for await (const out of gunzip) {
      parser.push(out as Uint8Array);
      if (parser.stopped) break;
      await pause?.();
    }
  } catch (e) {
    // gunzip errors were recorded by the listener above and are reported below; others are ours.
    if (e instanceof CaptureError || !gzError) throw e;
  } finally {
    gunzip.destroy();
    await pump;
  }
  if (pumpError) throw pumpError;
  if (gzError && !parser.stopped) {
    const msg = (gzError.message || 'corrupt data').replace(/\s+/g, ' ');
    if (parser.bytes === 0) {
      throw new CaptureError(`${name}: damaged gzip data before any capture bytes (${compressed} compressed bytes read): ${msg}`);
    }
    parser.sink.warning(
      `${name}: gzip stream is cut short or corrupt after ${compressed} compressed bytes` +
        ` (${parser.bytes} bytes decompressed): ${msg}`,
    );
  }
}

/**
 * Checks that `path` is a capture that can be read, up to its first frame: a missing, unreadable or
 * not-a-capture file throws its one-line CaptureError here, before anything is printed. Returns the
 * first frame's link type (undefined for a capture without frames).
 */
export async function probeCapture(path: string): Promise<{ linkType?: number }> {
  let linkType: number | undefined;
  await readCapture(path, { frame: (f) => ((linkType = f.linkType), false), warning: () => {} }, { chunkSize: 64 * 1024 });
  return linkType === undefined ? {} : { linkType };
}

/** The link types of the capture files (stdin's is not known before it is read). */
export async function captureLinkTypes(files: readonly string[]): Promise<Set<number>> {
  const linkTypes = new Set<number>();
  for (const f of files) {
    if (f === '-') continue;
    const { linkType } = await probeCapture(f);
    if (linkType !== undefined) linkTypes.add(linkType);
  }
  return linkTypes;
}

/** A word that names a capture file rather than starting a capture filter. */
function looksLikeCaptureFile(word: string): boolean {
  return word === '-' || /[/\\]|\.(pcap|pcapng|cap|gz|dmp)$/i.test(word);
}

async function isCaptureFile(path: string): Promise<boolean> {
  try {
    await probeCapture(path);
    return true;
  } catch {
    // Only a readable capture counts here; what is wrong with a file is said when it is probed as one.
    return false;
  }
}

/**
 * tcpdump's order, files then the capture filter: the leading words that are capture files
 * (readable ones, or named like one) are the files, the rest the filter's expression.
 */
export async function captureFilesAndFilter(words: readonly string[]): Promise<{ files: string[]; expression: string }> {
  let n = 0;
  while (n < words.length) {
    const w = words[n]!;
    if (!looksLikeCaptureFile(w) && !(await isCaptureFile(w))) break;
    n++;
  }
  // The first word is a file whatever it looks like: "no such file" says more than a filter error.
  if (n === 0 && words.length) n = 1;
  return { files: words.slice(0, n), expression: words.slice(n).join(' ') };
}
