// Capture-file writers for pcap and pcapng. They can produce every variant the reader accepts
// (byte orders, µs/ns/modified pcap, pcapng sections, IDB options, EPB/SPB/PB and blocks the
// reader must skip) so tests, fixtures, the lab and `sniff -w` all share one encoder.
//
// Two forms: build a whole file in memory (writePcap, writePcapng, writePcapngSections), or
// stream to a path with bounded buffering (PcapFileWriter, PcapngFileWriter, openCaptureWriter).

import { closeSync, openSync, writeSync } from 'node:fs';
import { parseIPv4, parseIPv6 } from '../dissect/addr.js';
import { LT_FCS_PRESENT, PCAP_MAGIC_MODIFIED, PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC } from './pcap.js';
import {
  BT_CB_COPY,
  BT_CB_NOCOPY,
  BT_DSB,
  BT_EPB,
  BT_IDB,
  BT_ISB,
  BT_NRB,
  BT_PB,
  BT_SHB,
  BT_SPB,
  BYTE_ORDER_MAGIC,
  OPT_IF_NAME,
  OPT_IF_TSOFFSET,
  OPT_ISB_IFDROP,
  OPT_ISB_IFRECV,
  OPT_ISB_OSDROP,
  OPT_ISB_USRDELIV,
  OPT_IF_TSRESOL,
} from './pcapng.js';

export type Endian = 'le' | 'be';

/** One packet to write. */
export interface CapturePacket {
  tsSec: number;
  /** 0..999,999,999; formats with coarser units keep the floor. */
  tsNsec: number;
  /** Captured bytes; cut further if longer than the snaplen. */
  data: Uint8Array;
  /** Original length on the wire; defaults to data.length. */
  len?: number;
  /** pcapng interface (index into the section's IDBs); ignored by pcap. */
  interfaceId?: number;
}

const DEFAULT_SNAPLEN = 262144;

/** Growable output buffer with a switchable byte order (pcapng sections may differ). */
class ByteBuilder {
  buf = new Uint8Array(64 * 1024);
  dv = new DataView(this.buf.buffer);
  pos = 0;
  le = true;

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.pos + n, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.reserve(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.reserve(2);
    this.dv.setUint16(this.pos, v, this.le);
    this.pos += 2;
  }
  u32(v: number): void {
    this.reserve(4);
    this.dv.setUint32(this.pos, v >>> 0, this.le);
    this.pos += 4;
  }
  u64(v: bigint): void {
    this.reserve(8);
    this.dv.setBigUint64(this.pos, BigInt.asUintN(64, v), this.le);
    this.pos += 8;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  pad4(): void {
    while (this.pos % 4 !== 0) this.u8(0);
  }
  /** Overwrites a u32 written earlier (block lengths are known only at the end). */
  patch32(at: number, v: number): void {
    this.dv.setUint32(at, v >>> 0, this.le);
  }
  take(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

function checkPacket(p: CapturePacket): void {
  if (!Number.isInteger(p.tsSec) || !Number.isInteger(p.tsNsec) || p.tsNsec < 0 || p.tsNsec > 999_999_999) {
    throw new RangeError(`bad packet timestamp ${p.tsSec}.${p.tsNsec}`);
  }
}

// ---------------------------------------------------------------------------------------------
// pcap

export interface PcapWriteOptions {
  /** Default 'le'. */
  endian?: Endian;
  /** Timestamp fraction units; default 'us'. Ignored with `modified` (always µs). */
  precision?: 'us' | 'ns';
  /** Kuznetsov's modified pcap: 24-byte record headers (ifindex, protocol, pkt_type zeroed). */
  modified?: boolean;
  /** Header snaplen, also the cut applied to longer packets; default 262144. */
  snaplen?: number;
  /** LINKTYPE; default 1 (EN10MB). */
  linkType?: number;
  /**
   * FCS bytes at the end of every packet, declared in the link-type field (even, ≤ 30). The packet
   * data must already end with them.
   */
  fcsLen?: number;
  /** Header version; default 2.4. */
  version?: [number, number];
}

class PcapEncoder {
  private readonly w: ByteBuilder;
  private readonly ns: boolean;
  private readonly modified: boolean;
  private readonly snaplen: number;

  constructor(w: ByteBuilder, opts: PcapWriteOptions) {
    this.w = w;
    this.modified = opts.modified ?? false;
    this.ns = !this.modified && opts.precision === 'ns';
    this.snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    w.le = (opts.endian ?? 'le') === 'le';
    const fcs = opts.fcsLen ?? 0;
    if (fcs % 2 !== 0 || fcs < 0 || fcs > 30) throw new RangeError(`pcap FCS length ${fcs} is not an even number ≤ 30`);
    const [vmaj, vmin] = opts.version ?? [2, 4];
    w.u32(this.modified ? PCAP_MAGIC_MODIFIED : this.ns ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC);
    w.u16(vmaj);
    w.u16(vmin);
    w.u32(0); // thiszone: timestamps are UTC
    w.u32(0); // sigfigs
    w.u32(this.snaplen);
    w.u32(((opts.linkType ?? 1) & 0xffff) | (fcs ? LT_FCS_PRESENT | ((fcs / 2) << 28) : 0));
  }

  packet(p: CapturePacket): void {
    checkPacket(p);
    const w = this.w;
    const caplen = this.snaplen > 0 ? Math.min(p.data.length, this.snaplen) : p.data.length;
    w.u32(p.tsSec);
    w.u32(this.ns ? p.tsNsec : Math.floor(p.tsNsec / 1000));
    w.u32(caplen);
    w.u32(p.len ?? p.data.length);
    if (this.modified) {
      w.u32(0); // ifindex
      w.u16(0); // protocol
      w.u8(0); // pkt_type
      w.u8(0); // pad
    }
    w.bytes(caplen === p.data.length ? p.data : p.data.subarray(0, caplen));
  }
}

/** A whole pcap file in memory. */
export function writePcap(packets: Iterable<CapturePacket>, opts: PcapWriteOptions = {}): Uint8Array {
  const w = new ByteBuilder();
  const enc = new PcapEncoder(w, opts);
  for (const p of packets) enc.packet(p);
  return w.take();
}

// ---------------------------------------------------------------------------------------------
// pcapng

export interface PcapngOption {
  code: number;
  value: Uint8Array;
}

export interface PcapngInterface {
  linkType: number;
  /** Default 262144; 0 means no limit. */
  snaplen?: number;
  /**
   * Raw if_tsresol byte: v for 10^-v s, 0x80|v for 2^-v s. Omitted: no option is written and
   * readers assume µs.
   */
  tsresol?: number;
  /** if_tsoffset: seconds the reader adds to every timestamp. */
  tsoffset?: number | bigint;
  /** if_name. */
  name?: string;
  /** Any further options, written as given. */
  options?: PcapngOption[];
}

export type PcapngBlock =
  | { type: 'epb'; packet: CapturePacket; options?: PcapngOption[] }
  /** Interface 0, no timestamp; truncation can only be expressed by the interface snaplen. */
  | { type: 'spb'; packet: CapturePacket }
  /** The obsolete Packet Block (type 2). */
  | { type: 'pb'; packet: CapturePacket; drops?: number }
  /** An IDB later in the section: it gets the next interface id. */
  | { type: 'idb'; iface: PcapngInterface }
  | { type: 'nrb'; records: Array<{ ip: string; names: string[] }> }
  | {
      type: 'isb';
      interfaceId: number;
      tsSec: number;
      tsNsec: number;
      /** isb_ifrecv, isb_ifdrop (by the interface), isb_osdrop (by the OS, e.g. a full kernel buffer), isb_usrdeliv. */
      received?: bigint;
      dropped?: bigint;
      osDropped?: bigint;
      delivered?: bigint;
    }
  | { type: 'dsb'; secretsType: number; data: Uint8Array }
  | { type: 'custom'; pen: number; data: Uint8Array; copyable?: boolean }
  /** Any block type with a caller-made body (padded to 4). */
  | { type: 'raw'; blockType: number; body: Uint8Array };

export interface PcapngSectionOptions {
  /** Default 'le'. */
  endian?: Endian;
  /** IDBs written right after the SHB (ids 0, 1, ...). Default: one EN10MB interface. */
  interfaces?: PcapngInterface[];
  /** shb_userappl; default "lispscope". */
  userAppl?: string;
}

export interface PcapngSection extends PcapngSectionOptions {
  /** Blocks in order; a bare packet becomes an EPB. */
  blocks: Iterable<PcapngBlock | CapturePacket>;
}

const TEXT = new TextEncoder();

function u8(v: number): Uint8Array {
  return Uint8Array.of(v);
}

class PcapngEncoder {
  private ifaces: PcapngInterface[] = [];

  constructor(private readonly w: ByteBuilder) {}

  section(opts: PcapngSectionOptions): void {
    const w = this.w;
    w.le = (opts.endian ?? 'le') === 'le';
    this.ifaces = [];
    const at = this.open(BT_SHB);
    w.u32(BYTE_ORDER_MAGIC);
    w.u16(1);
    w.u16(0);
    w.u64(-1n); // section length not specified: lets the file be streamed
    this.options([{ code: 4, value: TEXT.encode(opts.userAppl ?? 'lispscope') }]);
    this.close(at);
    for (const iface of opts.interfaces ?? [{ linkType: 1 }]) this.interface(iface);
  }

  /** Writes an IDB and returns its interface id. */
  interface(iface: PcapngInterface): number {
    const w = this.w;
    const at = this.open(BT_IDB);
    w.u16(iface.linkType);
    w.u16(0);
    w.u32(iface.snaplen ?? DEFAULT_SNAPLEN);
    const opts: PcapngOption[] = [];
    if (iface.name !== undefined) opts.push({ code: OPT_IF_NAME, value: TEXT.encode(iface.name) });
    if (iface.tsresol !== undefined) opts.push({ code: OPT_IF_TSRESOL, value: u8(iface.tsresol) });
    if (iface.tsoffset !== undefined) {
      const v = new Uint8Array(8);
      new DataView(v.buffer).setBigInt64(0, BigInt(iface.tsoffset), w.le);
      opts.push({ code: OPT_IF_TSOFFSET, value: v });
    }
    this.options([...opts, ...(iface.options ?? [])]);
    this.close(at);
    this.ifaces.push(iface);
    return this.ifaces.length - 1;
  }

  block(b: PcapngBlock | CapturePacket): void {
    if (!('type' in b)) return this.packet(b, BT_EPB, 0, undefined);
    const w = this.w;
    switch (b.type) {
      case 'epb':
        return this.packet(b.packet, BT_EPB, 0, b.options);
      case 'pb':
        return this.packet(b.packet, BT_PB, b.drops ?? 0, undefined);
      case 'spb':
        return this.simplePacket(b.packet);
      case 'idb':
        this.interface(b.iface);
        return;
      case 'nrb': {
        const at = this.open(BT_NRB);
        for (const r of b.records) {
          const v4 = parseIPv4(r.ip);
          const addr = v4 ?? parseIPv6(r.ip);
          if (!addr) throw new RangeError(`NRB address ${r.ip} is neither IPv4 nor IPv6`);
          const names = r.names.map((n) => TEXT.encode(`${n}\0`));
          const len = addr.length + names.reduce((s, n) => s + n.length, 0);
          w.u16(v4 ? 1 : 2);
          w.u16(len);
          w.bytes(addr);
          for (const n of names) w.bytes(n);
          w.pad4();
        }
        w.u32(0); // nrb_record_end
        this.close(at);
        return;
      }
      case 'isb': {
        const at = this.open(BT_ISB);
        w.u32(b.interfaceId);
        this.timestamp(b.interfaceId, b.tsSec, b.tsNsec);
        const opts: PcapngOption[] = [];
        const u64 = (v: bigint): Uint8Array => {
          const o = new Uint8Array(8);
          new DataView(o.buffer).setBigUint64(0, v, w.le);
          return o;
        };
        if (b.received !== undefined) opts.push({ code: OPT_ISB_IFRECV, value: u64(b.received) });
        if (b.dropped !== undefined) opts.push({ code: OPT_ISB_IFDROP, value: u64(b.dropped) });
        if (b.osDropped !== undefined) opts.push({ code: OPT_ISB_OSDROP, value: u64(b.osDropped) });
        if (b.delivered !== undefined) opts.push({ code: OPT_ISB_USRDELIV, value: u64(b.delivered) });
        this.options(opts);
        this.close(at);
        return;
      }
      case 'dsb': {
        const at = this.open(BT_DSB);
        w.u32(b.secretsType);
        w.u32(b.data.length);
        w.bytes(b.data);
        w.pad4();
        this.close(at);
        return;
      }
      case 'custom': {
        const at = this.open(b.copyable === false ? BT_CB_NOCOPY : BT_CB_COPY);
        w.u32(b.pen);
        w.bytes(b.data);
        w.pad4();
        this.close(at);
        return;
      }
      case 'raw': {
        const at = this.open(b.blockType);
        w.bytes(b.body);
        w.pad4();
        this.close(at);
        return;
      }
    }
  }

  private packet(p: CapturePacket, type: number, drops: number, options: PcapngOption[] | undefined): void {
    checkPacket(p);
    const w = this.w;
    const ifid = p.interfaceId ?? 0;
    const snaplen = this.ifaces[ifid]?.snaplen ?? DEFAULT_SNAPLEN;
    const caplen = snaplen > 0 ? Math.min(p.data.length, snaplen) : p.data.length;
    const at = this.open(type);
    if (type === BT_PB) {
      w.u16(ifid);
      w.u16(drops);
    } else {
      w.u32(ifid);
    }
    this.timestamp(ifid, p.tsSec, p.tsNsec);
    w.u32(caplen);
    w.u32(p.len ?? p.data.length);
    w.bytes(caplen === p.data.length ? p.data : p.data.subarray(0, caplen));
    w.pad4();
    if (options) this.options(options);
    this.close(at);
  }

  private simplePacket(p: CapturePacket): void {
    const w = this.w;
    const iface = this.ifaces[0];
    if (!iface) throw new RangeError('a simple packet block needs interface 0');
    const snaplen = iface.snaplen ?? DEFAULT_SNAPLEN;
    const caplen = snaplen > 0 ? Math.min(p.data.length, snaplen) : p.data.length;
    const len = p.len ?? p.data.length;
    // Readers take min(block room, snaplen, original length): a cut anywhere else is not representable.
    if (caplen < len && caplen !== snaplen) {
      throw new RangeError(`a simple packet block cannot hold ${caplen} of ${len} bytes unless the snaplen is ${caplen}`);
    }
    const at = this.open(BT_SPB);
    w.u32(len);
    w.bytes(caplen === p.data.length ? p.data : p.data.subarray(0, caplen));
    w.pad4();
    this.close(at);
  }

  /** ts_high, ts_low in the interface's units after removing its if_tsoffset. */
  private timestamp(ifid: number, tsSec: number, tsNsec: number): void {
    const iface = this.ifaces[ifid];
    const raw = iface?.tsresol ?? 6;
    const v = BigInt(raw & 0x7f);
    const sec = BigInt(tsSec) - BigInt(iface?.tsoffset ?? 0);
    const ns = BigInt(tsNsec);
    let units: bigint;
    let frac: bigint;
    if (raw & 0x80) {
      units = 1n << v;
      // Rounding up makes the reader's floor return the exact ns once 2^v ≥ 10^9.
      frac = v >= 30n ? (ns * units + 999_999_999n) / 1_000_000_000n : (ns * units) / 1_000_000_000n;
    } else {
      units = 10n ** v;
      frac = v <= 9n ? ns / 10n ** (9n - v) : ns * 10n ** (v - 9n);
    }
    const t = sec * units + frac;
    if (t < 0n || t >= 1n << 64n) throw new RangeError(`timestamp ${tsSec}.${tsNsec} does not fit interface ${ifid}`);
    this.w.u32(Number(t >> 32n));
    this.w.u32(Number(t & 0xffffffffn));
  }

  private options(opts: PcapngOption[]): void {
    if (opts.length === 0) return;
    const w = this.w;
    for (const o of opts) {
      w.u16(o.code);
      w.u16(o.value.length);
      w.bytes(o.value);
      w.pad4();
    }
    w.u16(0); // opt_endofopt
    w.u16(0);
  }

  private open(type: number): number {
    const at = this.w.pos;
    this.w.u32(type);
    this.w.u32(0);
    return at;
  }

  private close(at: number): void {
    const total = this.w.pos + 4 - at;
    this.w.u32(total);
    this.w.patch32(at + 4, total);
  }
}

export interface PcapngWriteOptions extends PcapngSectionOptions {
  /** Shorthand for a single interface of this link type (default 1), used when `interfaces` is absent. */
  linkType?: number;
  snaplen?: number;
  tsresol?: number;
  tsoffset?: number | bigint;
}

/** A one-section pcapng file in memory; packets become EPBs. */
export function writePcapng(packets: Iterable<CapturePacket>, opts: PcapngWriteOptions = {}): Uint8Array {
  return writePcapngSections([{ ...sectionOptions(opts), blocks: packets }]);
}

/** A pcapng file with full control over sections and blocks. */
export function writePcapngSections(sections: Iterable<PcapngSection>): Uint8Array {
  const w = new ByteBuilder();
  const enc = new PcapngEncoder(w);
  for (const s of sections) {
    enc.section(s);
    for (const b of s.blocks) enc.block(b);
  }
  return w.take();
}

function sectionOptions(opts: PcapngWriteOptions): PcapngSectionOptions {
  const { linkType, snaplen, tsresol, tsoffset, ...section } = opts;
  if (!section.interfaces) {
    const iface: PcapngInterface = { linkType: linkType ?? 1 };
    if (snaplen !== undefined) iface.snaplen = snaplen;
    if (tsresol !== undefined) iface.tsresol = tsresol;
    if (tsoffset !== undefined) iface.tsoffset = tsoffset;
    section.interfaces = [iface];
  }
  return section;
}

// ---------------------------------------------------------------------------------------------
// Streaming to a file

/** Flush once this much is buffered: bounded memory, few system calls. */
const FLUSH_AT = 1024 * 1024;

/**
 * Buffered file output with synchronous writes: order is guaranteed, memory stays bounded, and a
 * live capture (`sniff -w`) can flush() whenever it wants the file readable up to now.
 */
abstract class FileWriterBase {
  protected readonly w = new ByteBuilder();
  private fd: number | undefined;
  private readonly ownFd: boolean;
  /** Packets written so far. */
  packets = 0;

  /** `target`: a path, '-' for stdout, or an open file descriptor (left open by close()). */
  constructor(target: string | number) {
    this.ownFd = typeof target === 'string' && target !== '-';
    this.fd = typeof target === 'number' ? target : target === '-' ? 1 : openSync(target, 'w');
  }

  /** Writes buffered bytes to the file. */
  flush(): void {
    if (this.fd === undefined) throw new Error('capture writer is closed');
    let off = 0;
    while (off < this.w.pos) off += writeSync(this.fd, this.w.buf, off, this.w.pos - off);
    this.w.pos = 0;
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    if (this.ownFd) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Throws once closed, before anything is encoded. */
  protected open(): void {
    if (this.fd === undefined) throw new Error('capture writer is closed');
  }

  protected maybeFlush(): void {
    if (this.w.pos >= FLUSH_AT) this.flush();
  }

  abstract write(p: CapturePacket): void;
}

/** Streams a pcap file to a path, '-' (stdout) or an open fd. */
export class PcapFileWriter extends FileWriterBase {
  private readonly enc: PcapEncoder;

  constructor(target: string | number, opts: PcapWriteOptions = {}) {
    super(target);
    this.enc = new PcapEncoder(this.w, opts);
  }

  write(p: CapturePacket): void {
    this.open();
    this.enc.packet(p);
    this.packets++;
    this.maybeFlush();
  }
}

/** Streams a pcapng file to a path, '-' (stdout) or an open fd; the first section starts at once. */
export class PcapngFileWriter extends FileWriterBase {
  private readonly enc: PcapngEncoder;

  constructor(target: string | number, opts: PcapngWriteOptions = {}) {
    super(target);
    this.enc = new PcapngEncoder(this.w);
    this.enc.section(sectionOptions(opts));
  }

  /** Writes an EPB. */
  write(p: CapturePacket): void {
    this.writeBlock(p);
  }

  writeBlock(b: PcapngBlock | CapturePacket): void {
    this.open();
    this.enc.block(b);
    if (!('type' in b) || b.type === 'epb' || b.type === 'spb' || b.type === 'pb') this.packets++;
    this.maybeFlush();
  }

  /** Adds an IDB to the current section and returns its interface id. */
  addInterface(iface: PcapngInterface): number {
    this.open();
    const id = this.enc.interface(iface);
    this.maybeFlush();
    return id;
  }

  /** Starts a new section: interface ids restart at 0. */
  newSection(opts: PcapngWriteOptions = {}): void {
    this.open();
    this.enc.section(sectionOptions(opts));
    this.maybeFlush();
  }
}

export type CaptureFileWriter = PcapFileWriter | PcapngFileWriter;

/**
 * Opens a writer chosen by extension: `.pcapng` (any case) → pcapng with one interface of
 * `linkType` at µs resolution, anything else → pcap µs little-endian.
 */
export function openCaptureWriter(path: string, opts: { linkType?: number; snaplen?: number } = {}): CaptureFileWriter {
  if (/\.pcapng$/i.test(path)) return new PcapngFileWriter(path, opts);
  return new PcapFileWriter(path, opts);
}
