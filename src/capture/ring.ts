// Capture files as sniff -w writes them: one, or a ring of N that rotates at SIZE bytes (as
// tcpdump -C/-W and dumpcap's ring buffer do), every file a complete capture.

import { closeSync, fstatSync, openSync, renameSync, rmSync } from 'node:fs';
import type { Frame } from './types.js';
import { PcapFileWriter, PcapngFileWriter, type CaptureFileWriter } from './writer.js';

export interface CaptureRingOptions {
  linkType: number;
  snaplen: number;
  /** Times in nanoseconds (kernel timestamps): the file keeps them whole. */
  nanoseconds?: boolean;
  /** Interface name, written in pcapng's IDB. */
  iface?: string;
  /**
   * libpcap's counters when they are known: each pcapng file ends with an Interface Statistics
   * Block carrying them (cumulative since the capture started, as dumpcap writes them).
   */
  statistics?: () => { received: number; interfaceDrops: number; kernelDrops: number } | undefined;
  /** Rotate: keep this many files (FILE newest, then FILE.1, ...) of at most maxBytes each. */
  ring?: { files: number; maxBytes: number };
}

/**
 * Writes frames to FILE (pcapng when it ends in .pcapng, else pcap; nanosecond timestamps when the
 * capture has them, else microseconds).
 * With a ring, FILE is always the newest: when the next frame would take it past SIZE, the files
 * shift (FILE.k → FILE.k+1, the oldest is removed; FILE → FILE.1) and a fresh FILE starts, so
 * every file is a complete capture.
 */
export class CaptureFileRing {
  /** Frames written, over every file. */
  packets = 0;
  /** Files started (1 without rotation). */
  filesStarted = 0;
  private w: CaptureFileWriter;
  private size = 0;
  private inFile = 0;
  private readonly pcapng: boolean;

  constructor(
    readonly path: string,
    private readonly opts: CaptureRingOptions,
  ) {
    this.pcapng = /\.pcapng$/i.test(path);
    // Files of an older ring would be shuffled in with this one's: they go first.
    if (opts.ring) for (let k = 1; k < opts.ring.files; k++) rmSync(`${path}.${k}`, { force: true });
    this.w = this.start();
  }

  private start(): CaptureFileWriter {
    const { linkType, snaplen, iface, nanoseconds } = this.opts;
    const w = this.pcapng
      ? new PcapngFileWriter(this.path, { interfaces: [{ linkType, snaplen, ...(iface ? { name: iface } : {}), ...(nanoseconds ? { tsresol: 9 } : {}) }] })
      : new PcapFileWriter(this.path, { linkType, snaplen, ...(nanoseconds ? { precision: 'ns' as const } : {}) });
    w.flush();
    const fd = openSync(this.path, 'r');
    try {
      this.size = fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
    this.inFile = 0;
    this.filesStarted++;
    return w;
  }

  /** Bytes a frame takes in the file: pcap record header 16, pcapng EPB 32 plus padding. */
  private recordBytes(caplen: number): number {
    return this.pcapng ? 32 + ((caplen + 3) & ~3) : 16 + caplen;
  }

  write(f: Frame): void {
    const rec = this.recordBytes(Math.min(f.data.length, this.opts.snaplen));
    const ring = this.opts.ring;
    if (ring && this.inFile > 0 && this.size + rec > ring.maxBytes) this.rotate(ring.files);
    this.w.write({ tsSec: f.tsSec, tsNsec: f.tsNsec, data: f.data, len: f.len });
    this.size += rec;
    this.inFile++;
    this.packets++;
  }

  private rotate(files: number): void {
    this.finishFile();
    rmSync(`${this.path}.${files - 1}`, { force: true });
    for (let k = files - 2; k >= 1; k--) {
      try {
        renameSync(`${this.path}.${k}`, `${this.path}.${k + 1}`);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    renameSync(this.path, `${this.path}.1`);
    this.w = this.start();
  }

  /** Makes the file readable up to the last frame. */
  flush(): void {
    this.w.flush();
  }

  close(): void {
    this.finishFile();
  }

  private finishFile(): void {
    const stats = this.pcapng ? this.opts.statistics?.() : undefined;
    if (stats && this.w instanceof PcapngFileWriter) {
      const now = Date.now();
      const tsSec = Math.floor(now / 1000);
      this.w.writeBlock({
        type: 'isb',
        interfaceId: 0,
        tsSec,
        tsNsec: (now - tsSec * 1000) * 1e6,
        received: BigInt(stats.received),
        dropped: BigInt(stats.interfaceDrops),
        osDropped: BigInt(stats.kernelDrops),
        delivered: BigInt(this.packets),
      });
    }
    this.w.close();
  }
}
