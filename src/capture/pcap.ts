// Classic pcap (libpcap) decoding: 24-byte file header, then records of
// ts_sec | ts_frac | incl_len | orig_len | data, in the writer's byte order.
// The "modified" format (Alexey Kuznetsov's patches) adds ifindex(4) protocol(2) pkt_type(1)
// pad(1) to every record header, making it 24 bytes.

import type { Frame } from './types.js';
import type { DecodeContext, FormatDecoder } from './reader.js';

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;

export const PCAP_FILE_HEADER_LEN = 24;

/**
 * Largest record either format will buffer. A header claiming more is treated as corruption rather
 * than trusted, so a damaged length cannot make us hold gigabytes.
 */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/** Link-type field: bits 28–31 FCS length in 16-bit words, bit 26 says that length is present. */
export const LT_FCS_PRESENT = 0x04000000;

/**
 * Wireshark's default maximum snapshot length. Some writers put a smaller snaplen in the header
 * than the records they write, so we only distrust incl_len beyond max(snaplen, this).
 */
const SNAPLEN_SLACK = 262144;

export interface PcapMagicKind {
  littleEndian: boolean;
  nanosecond: boolean;
  modified: boolean;
}

/** Interprets the 4 bytes at `off` as a pcap magic in either byte order. */
export function pcapMagicKind(b: Uint8Array, off: number): PcapMagicKind | undefined {
  const le = (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
  const be = ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
  for (const [v, littleEndian] of [
    [le, true],
    [be, false],
  ] as const) {
    if (v === PCAP_MAGIC_USEC) return { littleEndian, nanosecond: false, modified: false };
    if (v === PCAP_MAGIC_NSEC) return { littleEndian, nanosecond: true, modified: false };
    if (v === PCAP_MAGIC_MODIFIED) return { littleEndian, nanosecond: false, modified: true };
  }
  return undefined;
}

/** FCS bytes declared by the link-type field of a pcap header or an IDB's if_fcslen. */
export function pcapFcsBytes(linkTypeField: number): number {
  return linkTypeField & LT_FCS_PRESENT ? ((linkTypeField >>> 28) & 0xf) * 2 : 0;
}

/** Where a PcapDecoder stands between two records: enough to go on decoding elsewhere (a worker). */
export interface PcapState {
  format: 'pcap';
  kind: PcapMagicKind;
  linkType: number;
  fcsBytes: number;
  maxCaplen: number;
  index: number;
}

export class PcapDecoder implements FormatDecoder {
  readonly format = 'pcap' as const;
  need = PCAP_FILE_HEADER_LEN;
  /**
   * Walks records without handing frames over (only counting them): finds where records start,
   * to split a file into chunks of whole records (capture/split.ts).
   */
  scanOnly = false;
  private headerDone = false;
  private readonly le: boolean;
  private readonly fracPerSec: number;
  private readonly nsPerFrac: number;
  private readonly recHdrLen: number;
  private linkType = 0;
  private fcsBytes = 0;
  private maxCaplen = MAX_RECORD_BYTES;
  private index = 0;
  private dvBuf: Uint8Array | undefined;
  private dv: DataView = new DataView(new ArrayBuffer(0));

  constructor(
    private readonly ctx: DecodeContext,
    private readonly kind: PcapMagicKind,
  ) {
    this.le = kind.littleEndian;
    this.fracPerSec = kind.nanosecond ? 1e9 : 1e6;
    this.nsPerFrac = kind.nanosecond ? 1 : 1000;
    this.recHdrLen = kind.modified ? 24 : 16;
  }

  pendingUnit(): string {
    return this.headerDone ? 'record' : 'file header';
  }

  /** The state after the last record decoded (the file header must have been). */
  snapshot(): PcapState {
    return { format: 'pcap', kind: this.kind, linkType: this.linkType, fcsBytes: this.fcsBytes, maxCaplen: this.maxCaplen, index: this.index };
  }

  /** A decoder that goes on from `state` at the next record. */
  static resume(ctx: DecodeContext, state: PcapState): PcapDecoder {
    const d = new PcapDecoder(ctx, state.kind);
    d.headerDone = true;
    d.need = d.recHdrLen;
    d.linkType = state.linkType;
    d.fcsBytes = state.fcsBytes;
    d.maxCaplen = state.maxCaplen;
    d.index = state.index;
    return d;
  }

  decode(buf: Uint8Array, off: number, end: number): number {
    if (buf !== this.dvBuf) {
      this.dvBuf = buf;
      this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    const dv = this.dv;
    const le = this.le;
    if (!this.headerDone) {
      if (end - off < PCAP_FILE_HEADER_LEN) return off;
      this.readHeader(dv, off);
      off += PCAP_FILE_HEADER_LEN;
      this.headerDone = true;
    }
    const ctx = this.ctx;
    const sink = ctx.sink;
    const hl = this.recHdrLen;
    const maxCaplen = this.maxCaplen;
    const linkType = this.linkType;
    for (;;) {
      if (end - off < hl) {
        this.need = hl;
        return off;
      }
      const caplen = dv.getUint32(off + 8, le);
      if (caplen > maxCaplen) {
        sink.warning(
          `${ctx.name}: corrupt record at byte offset ${ctx.base + off}: captured length ${caplen} exceeds` +
            ` the limit ${maxCaplen}; stopping`,
        );
        ctx.stop();
        return off;
      }
      const total = hl + caplen;
      if (end - off < total) {
        this.need = total;
        return off;
      }
      if (this.scanOnly) {
        this.index++;
        off += total;
        continue;
      }
      let tsSec = dv.getUint32(off, le);
      let frac = dv.getUint32(off + 4, le);
      let len = dv.getUint32(off + 12, le);
      let notes: string[] | undefined;
      if (frac >= this.fracPerSec) {
        // Out-of-range fractions exist in the wild; carry them so tsNsec stays within a second.
        notes = [`timestamp fraction ${frac} is not below one second (record at byte offset ${ctx.base + off})`];
        tsSec += Math.floor(frac / this.fracPerSec);
        frac %= this.fracPerSec;
      }
      let dataLen = caplen;
      if (this.fcsBytes > 0) {
        len = Math.max(0, len - this.fcsBytes);
        if (dataLen > len) dataLen = len;
      } else if (len < caplen) {
        (notes ??= []).push(`original length ${len} is less than captured length ${caplen}`);
      }
      const start = off + hl;
      off += total;
      const frame: Frame = {
        index: ++this.index,
        tsSec,
        tsNsec: frac * this.nsPerFrac,
        linkType,
        len,
        data: buf.subarray(start, start + dataLen),
        interfaceId: 0,
        notes,
      };
      ctx.delivered++;
      if (sink.frame(frame) === false) {
        ctx.stop();
        return off;
      }
    }
  }

  private readHeader(dv: DataView, off: number): void {
    const ctx = this.ctx;
    const le = this.le;
    const vmaj = dv.getUint16(off + 4, le);
    const vmin = dv.getUint16(off + 6, le);
    const snaplen = dv.getUint32(off + 16, le);
    const lt = dv.getUint32(off + 20, le);
    if (vmaj !== 2) ctx.sink.warning(`${ctx.name}: unusual pcap version ${vmaj}.${vmin} in the file header`);
    this.linkType = lt & 0xffff;
    this.fcsBytes = pcapFcsBytes(lt);
    this.maxCaplen = Math.min(MAX_RECORD_BYTES, Math.max(snaplen, SNAPLEN_SLACK));
  }
}
