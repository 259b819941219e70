// pcapng decoding (draft-ietf-opsawg-pcapng): a sequence of sections, each an SHB followed by
// blocks `type | total_len | body | total_len` in that section's byte order. Interface ids index
// the IDBs of the current section only.

import type { Frame } from './types.js';
import { CaptureError } from './types.js';
import { MAX_RECORD_BYTES } from './pcap.js';
import type { DecodeContext, FormatDecoder } from './reader.js';

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 0x00000001;
export const BT_PB = 0x00000002;
export const BT_SPB = 0x00000003;
export const BT_NRB = 0x00000004;
export const BT_ISB = 0x00000005;
export const BT_EPB = 0x00000006;
export const BT_SJE = 0x00000009;
export const BT_DSB = 0x0000000a;
export const BT_CB_COPY = 0x00000bad;
export const BT_CB_NOCOPY = 0x40000bad;

export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
export const PCAPNG_SHB_TYPE_BYTES: readonly number[] = [0x0a, 0x0d, 0x0d, 0x0a];

export const OPT_ENDOFOPT = 0;
export const OPT_IF_TSRESOL = 9;
export const OPT_IF_TSOFFSET = 14;
export const OPT_IF_NAME = 2;
/** Interface Statistics Block options: packets received, dropped by the interface, by the OS, delivered. */
export const OPT_ISB_IFRECV = 4;
export const OPT_ISB_IFDROP = 5;
export const OPT_ISB_OSDROP = 7;
export const OPT_ISB_USRDELIV = 8;

/**
 * Blocks that are not packets but that Wireshark (4.0) numbers as frames all the same: systemd
 * journal export, custom blocks, and sysdig event blocks. Counting them keeps our frame numbers
 * equal to tshark's, which the JSON output is compared against.
 */
const NUMBERED_NON_PACKETS = new Set([BT_SJE, BT_CB_COPY, BT_CB_NOCOPY, 0x204, 0x216, 0x221]);

/** A block may carry a maximal record plus headers and options. */
const MAX_BLOCK_BYTES = MAX_RECORD_BYTES + 65536;

// How an interface's timestamp units become seconds + nanoseconds (Iface.mode).
/** 10^-v with v ≤ 9: nsec = remainder × 10^(9−v). */
const TS_DECIMAL_MUL = 0;
/** 10^-v with v of 10 or 11: nsec = remainder / 10^(v−9). */
const TS_DECIMAL_DIV = 1;
/** 2^-v with v ≤ 32: exact in doubles, see convertTs. */
const TS_BINARY = 2;
/** Anything finer: BigInt. */
const TS_BIG = 3;

export interface Iface {
  linkType: number;
  snaplen: number;
  mode: number;
  /** Units per second, as a Number (exact: at most 2^37 for the non-Big modes). */
  units: number;
  /** Multiplier (DecimalMul), divisor (DecimalDiv) or v (Binary). */
  k: number;
  unitsBig: bigint;
  /** if_tsoffset: seconds added to every timestamp. */
  offsetSec: number;
  /** if_name, for messages. */
  name?: string;
  /** Drops the capturing tool last reported in an ISB (isb_ifdrop + isb_osdrop), to report growth once. */
  dropsReported?: bigint;
}

function timeBase(tsresol: number): Pick<Iface, 'mode' | 'units' | 'k' | 'unitsBig'> | undefined {
  const v = tsresol & 0x7f;
  if (tsresol & 0x80) {
    if (v > 63) return undefined;
    if (v <= 32) return { mode: TS_BINARY, units: 2 ** v, k: v, unitsBig: 1n << BigInt(v) };
    return { mode: TS_BIG, units: 2 ** v, k: v, unitsBig: 1n << BigInt(v) };
  }
  if (v > 19) return undefined; // 10^20 units per second no longer fits the 64-bit timestamp's purpose
  const unitsBig = 10n ** BigInt(v);
  if (v <= 9) return { mode: TS_DECIMAL_MUL, units: 10 ** v, k: 10 ** (9 - v), unitsBig };
  if (v <= 11) return { mode: TS_DECIMAL_DIV, units: 10 ** v, k: 10 ** (v - 9), unitsBig };
  return { mode: TS_BIG, units: 10 ** v, k: v, unitsBig };
}

const MICROSECONDS = timeBase(6)!;

/** Used for packets naming an interface the section never described. */
const UNKNOWN_IFACE: Iface = { linkType: -1, snaplen: 0, offsetSec: 0, ...MICROSECONDS };

// Results of splitUnits; module scope avoids an allocation per packet.
let splitSec = 0;
let splitRem = 0;

/**
 * (hi·2^32 + lo) / u as whole seconds and remaining units, for u ≤ 2^37. Timestamps at ns
 * resolution exceed 2^53, so they are divided in base-2^16 digits to keep every step exact.
 */
function splitUnits(hi: number, lo: number, u: number): void {
  if (hi < 0x100000) {
    const t = hi * 4294967296 + lo;
    let s = Math.floor(t / u);
    let r = t - s * u;
    if (r < 0) {
      s--;
      r += u;
    } else if (r >= u) {
      s++;
      r -= u;
    }
    splitSec = s;
    splitRem = r;
    return;
  }
  const q0 = Math.floor(hi / u);
  const r0 = hi - q0 * u;
  const x1 = r0 * 65536 + (lo >>> 16);
  let q1 = Math.floor(x1 / u);
  let r1 = x1 - q1 * u;
  if (r1 < 0) {
    q1--;
    r1 += u;
  } else if (r1 >= u) {
    q1++;
    r1 -= u;
  }
  const x2 = r1 * 65536 + (lo & 0xffff);
  let q2 = Math.floor(x2 / u);
  let r2 = x2 - q2 * u;
  if (r2 < 0) {
    q2--;
    r2 += u;
  } else if (r2 >= u) {
    q2++;
    r2 -= u;
  }
  splitSec = (q0 * 65536 + q1) * 65536 + q2;
  splitRem = r2;
}

let tsSecOut = 0;
let tsNsecOut = 0;

/** Converts a 64-bit timestamp in the interface's units, flooring to whole nanoseconds. */
function convertTs(iface: Iface, hi: number, lo: number): void {
  switch (iface.mode) {
    case TS_DECIMAL_MUL:
      splitUnits(hi, lo, iface.units);
      tsNsecOut = splitRem * iface.k;
      break;
    case TS_DECIMAL_DIV:
      splitUnits(hi, lo, iface.units);
      tsNsecOut = Math.floor(splitRem / iface.k);
      break;
    case TS_BINARY: {
      splitUnits(hi, lo, iface.units);
      // r·10^9 / 2^v with 10^9 = 2^9 · 1953125: r·1953125 < 2^53 for r < 2^32, and scaling by a
      // power of two is exact, so this is the true floor.
      const v = iface.k;
      const m = splitRem * 1953125;
      tsNsecOut = v >= 9 ? Math.floor(m / 2 ** (v - 9)) : m * 2 ** (9 - v);
      break;
    }
    default: {
      const t = (BigInt(hi) << 32n) | BigInt(lo);
      const u = iface.unitsBig;
      splitSec = Number(t / u);
      tsNsecOut = Number(((t % u) * 1000000000n) / u);
    }
  }
  tsSecOut = splitSec + iface.offsetSec;
}

function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

/** Where a PcapngDecoder stands between two blocks: enough to go on decoding elsewhere (a worker). */
export interface PcapngState {
  format: 'pcapng';
  le: boolean;
  sections: number;
  ifaces: Iface[];
  drops: number;
  index: number;
}

export class PcapngDecoder implements FormatDecoder {
  readonly format = 'pcapng' as const;
  need = 12;
  /**
   * Packet blocks are counted, not handed over (every other block is read as usual): finds where
   * blocks start, to split a file into chunks of whole blocks (capture/split.ts).
   */
  scanOnly = false;
  private le = true;
  private sections = 0;
  private ifaces: Iface[] = [];
  /** Packets the capturing tool said it lost (ISBs), over every interface and section. */
  drops = 0;
  private index = 0;
  private dvBuf: Uint8Array | undefined;
  private dv: DataView = new DataView(new ArrayBuffer(0));

  constructor(private readonly ctx: DecodeContext) {}

  pendingUnit(): string {
    return this.sections === 0 ? 'section header block' : 'block';
  }

  /** The state after the last block decoded. */
  snapshot(): PcapngState {
    return { format: 'pcapng', le: this.le, sections: this.sections, ifaces: this.ifaces.map((i) => ({ ...i })), drops: this.drops, index: this.index };
  }

  /** A decoder that goes on from `state` at the next block. */
  static resume(ctx: DecodeContext, state: PcapngState): PcapngDecoder {
    const d = new PcapngDecoder(ctx);
    d.le = state.le;
    d.sections = state.sections;
    d.ifaces = state.ifaces.map((i) => ({ ...i }));
    d.drops = state.drops;
    d.index = state.index;
    return d;
  }

  decode(buf: Uint8Array, off: number, end: number): number {
    if (buf !== this.dvBuf) {
      this.dvBuf = buf;
      this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    const dv = this.dv;
    const ctx = this.ctx;
    for (;;) {
      if (end - off < 12) {
        this.need = 12;
        return off;
      }
      let le = this.le;
      const type = dv.getUint32(off, le);
      if (type === BT_SHB) {
        // The SHB type reads the same in both orders; its byte-order magic decides the section's.
        const bom = dv.getUint32(off + 8, true);
        if (bom === BYTE_ORDER_MAGIC) le = true;
        else if (bom === 0x4d3c2b1a) le = false;
        else {
          this.fatal(`section header block at byte offset ${ctx.base + off} has a bad byte-order magic ${hex32(bom)}`);
          return off;
        }
      }
      const total = dv.getUint32(off + 4, le);
      if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK_BYTES || (type === BT_SHB && total < 28)) {
        this.fatal(`corrupt block (type ${hex32(type)}) at byte offset ${ctx.base + off}: invalid total length ${total}`);
        return off;
      }
      if (end - off < total) {
        this.need = total;
        return off;
      }
      const trailer = dv.getUint32(off + total - 4, le);
      if (trailer !== total) {
        this.fatal(
          `corrupt block (type ${hex32(type)}) at byte offset ${ctx.base + off}: total length ${total}` +
            ` does not match the trailing copy ${trailer}`,
        );
        return off;
      }
      if (this.scanOnly && (type === BT_EPB || type === BT_SPB || type === BT_PB)) {
        // Only whether it becomes a frame matters here: the blocks too short to be one do not.
        if (total >= (type === BT_SPB ? 16 : 32)) this.index++;
        off += total;
        continue;
      }
      switch (type) {
        case BT_EPB:
          this.packet(buf, dv, off, total, false);
          break;
        case BT_SPB:
          this.simplePacket(buf, dv, off, total);
          break;
        case BT_PB:
          this.packet(buf, dv, off, total, true);
          break;
        case BT_IDB:
          this.interfaceDescription(dv, off, total);
          break;
        case BT_SHB:
          this.sectionHeader(dv, off, le);
          break;
        case BT_ISB:
          this.interfaceStatistics(dv, off, total);
          break;
        default:
          // NRB, DSB, custom and unknown blocks carry nothing we need.
          if (NUMBERED_NON_PACKETS.has(type)) this.index++;
          break;
      }
      off += total;
      if (ctx.stopped) return off;
    }
  }

  /** Damage we cannot step over. In the first SHB it means this is no usable pcapng file. */
  private fatal(msg: string): void {
    if (this.sections === 0) throw new CaptureError(`${this.ctx.name}: not a valid pcapng file: ${msg}`);
    this.ctx.sink.warning(`${this.ctx.name}: ${msg}; stopping`);
    this.ctx.stop();
  }

  private sectionHeader(dv: DataView, off: number, le: boolean): void {
    const major = dv.getUint16(off + 12, le);
    const minor = dv.getUint16(off + 14, le);
    if (major !== 1) {
      this.fatal(`section header block at byte offset ${this.ctx.base + off} has unsupported version ${major}.${minor}`);
      return;
    }
    this.le = le;
    this.sections++;
    this.ifaces = [];
  }

  private interfaceDescription(dv: DataView, off: number, total: number): void {
    const ctx = this.ctx;
    const at = ctx.base + off;
    if (total < 20) {
      // Keep the slot so later interface ids still line up with the IDBs.
      this.ifaces.push(UNKNOWN_IFACE);
      ctx.sink.warning(`${ctx.name}: interface description block at byte offset ${at} is too short (${total} bytes)`);
      return;
    }
    const le = this.le;
    const iface: Iface = {
      linkType: dv.getUint16(off + 8, le),
      snaplen: dv.getUint32(off + 12, le),
      offsetSec: 0,
      ...MICROSECONDS,
    };
    this.eachOption(dv, off + 16, off + total - 4, 'interface description block', (code, p, len) => {
      if (code === OPT_IF_TSRESOL && len >= 1) {
        const raw = dv.getUint8(p);
        const base = timeBase(raw);
        if (base) Object.assign(iface, base);
        else ctx.sink.warning(`${ctx.name}: unusable if_tsresol 0x${raw.toString(16)} at byte offset ${ctx.base + p - 4}; assuming microseconds`);
      } else if (code === OPT_IF_TSOFFSET && len >= 8) {
        iface.offsetSec = Number(dv.getBigInt64(p, le));
      } else if (code === OPT_IF_NAME && len > 0) {
        iface.name = new TextDecoder().decode(new Uint8Array(dv.buffer, dv.byteOffset + p, len)).replace(/\0+$/, '');
      }
    });
    this.ifaces.push(iface);
  }

  /** Calls `fn` with each option's code, value offset and length, up to opt_endofopt or `end`. */
  private eachOption(dv: DataView, start: number, end: number, block: string, fn: (code: number, at: number, len: number) => void): void {
    for (let p = start; p + 4 <= end; ) {
      const code = dv.getUint16(p, this.le);
      const len = dv.getUint16(p + 2, this.le);
      if (code === OPT_ENDOFOPT) return;
      if (p + 4 + len > end) {
        this.ctx.sink.warning(`${this.ctx.name}: option ${code} at byte offset ${this.ctx.base + p} runs past its ${block}`);
        return;
      }
      fn(code, p + 4, len);
      p += 4 + ((len + 3) & ~3);
    }
  }

  /**
   * Interface Statistics Block: what the capturing tool says it lost (dumpcap and `sniff -w` write
   * one when they stop). Drops are no damage to the file, but a reader of it must know the
   * capture is incomplete: a warning when they are first seen or grow.
   */
  private interfaceStatistics(dv: DataView, off: number, total: number): void {
    const ctx = this.ctx;
    if (total < 24) {
      ctx.sink.warning(`${ctx.name}: interface statistics block at byte offset ${ctx.base + off} is too short (${total} bytes); skipped`);
      return;
    }
    const ifid = dv.getUint32(off + 8, this.le);
    const drops: Record<number, bigint> = {};
    this.eachOption(dv, off + 20, off + total - 4, 'interface statistics block', (code, p, len) => {
      if ((code === OPT_ISB_IFDROP || code === OPT_ISB_OSDROP) && len === 8) drops[code] = dv.getBigUint64(p, this.le);
    });
    const ifdrop = drops[OPT_ISB_IFDROP] ?? 0n;
    const osdrop = drops[OPT_ISB_OSDROP] ?? 0n;
    const iface = this.ifaces[ifid];
    if (!iface || ifdrop + osdrop <= (iface.dropsReported ?? 0n)) return;
    // ISB counters are cumulative: each interface adds what it lost since its previous ISB.
    this.drops += Number(ifdrop + osdrop - (iface.dropsReported ?? 0n));
    iface.dropsReported = ifdrop + osdrop;
    const parts = [osdrop && `${osdrop} by the operating system`, ifdrop && `${ifdrop} by the interface`].filter(Boolean).join(', ');
    const name = iface.name ? ` (${iface.name})` : '';
    const lost = ifdrop + osdrop;
    ctx.sink.warning(`${ctx.name}: interface ${ifid}${name} lost ${lost} packet${lost === 1n ? '' : 's'} while capturing (${parts}), as its interface statistics block at byte offset ${ctx.base + off} says`);
  }

  /** EPB, or with `obsolete` the Packet Block (16-bit interface id and drops count). */
  private packet(buf: Uint8Array, dv: DataView, off: number, total: number, obsolete: boolean): void {
    const ctx = this.ctx;
    if (total < 32) {
      ctx.sink.warning(`${ctx.name}: packet block at byte offset ${ctx.base + off} is too short (${total} bytes); skipped`);
      return;
    }
    const le = this.le;
    const ifid = obsolete ? dv.getUint16(off + 8, le) : dv.getUint32(off + 8, le);
    const hi = dv.getUint32(off + 12, le);
    const lo = dv.getUint32(off + 16, le);
    let caplen = dv.getUint32(off + 20, le);
    const len = dv.getUint32(off + 24, le);
    let notes: string[] | undefined;
    const room = total - 32;
    if (caplen > room) {
      notes = [`captured length ${caplen} exceeds the block at byte offset ${ctx.base + off} (${room} bytes of data)`];
      caplen = room;
    }
    let iface = this.ifaces[ifid];
    if (iface === undefined) {
      iface = UNKNOWN_IFACE;
      (notes ??= []).push(`interface id ${ifid} is not described in this section (${this.ifaces.length} interfaces)`);
    }
    convertTs(iface, hi, lo);
    const start = off + 28;
    this.deliver(buf.subarray(start, start + caplen), iface, ifid, tsSecOut, tsNsecOut, len, notes);
  }

  private simplePacket(buf: Uint8Array, dv: DataView, off: number, total: number): void {
    const ctx = this.ctx;
    if (total < 16) {
      ctx.sink.warning(`${ctx.name}: simple packet block at byte offset ${ctx.base + off} is too short (${total} bytes); skipped`);
      return;
    }
    const len = dv.getUint32(off + 8, this.le);
    let notes: string[] | undefined;
    let iface = this.ifaces[0];
    if (iface === undefined) {
      iface = UNKNOWN_IFACE;
      notes = ['simple packet block but the section describes no interface'];
    }
    let caplen = Math.min(total - 16, len);
    if (iface.snaplen > 0 && caplen > iface.snaplen) caplen = iface.snaplen;
    const start = off + 12;
    this.deliver(buf.subarray(start, start + caplen), iface, 0, 0, 0, len, notes);
  }

  private deliver(
    data: Uint8Array,
    iface: Iface,
    interfaceId: number,
    tsSec: number,
    tsNsec: number,
    len: number,
    notes: string[] | undefined,
  ): void {
    const frame: Frame = {
      index: ++this.index,
      tsSec,
      tsNsec,
      linkType: iface.linkType,
      len,
      data,
      interfaceId,
      notes,
    };
    this.ctx.delivered++;
    if (this.ctx.sink.frame(frame) === false) this.ctx.stop();
  }
}
