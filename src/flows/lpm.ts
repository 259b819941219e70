// Longest-prefix match of addresses (as text, or IPv4 as numbers) against EID prefixes, each with a value:
// one hash table per family, instance and mask length, probed from the longest mask down. Data
// packets are looked up one by one, so IPv4, the common case, is parsed without allocating.

import { parseIPv6, parseMac } from '../dissect/addr.js';
import { parsePrefix } from '../dissect/address.js';
import type { LispAddress } from '../dissect/types.js';

/** Dotted quad (from `start` up to `end`) → unsigned 32-bit value, or -1. */
export function ipv4Value(s: string, start: number, end = s.length): number {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0 || part > 255) return -1;
  return v * 256 + part;
}

interface Family<V> {
  /** Mask lengths present, longest first. */
  lengths: number[];
  /** Per mask length: masked network key → value. */
  tables: Map<number, Map<string | number, V>>;
}

/** The network of `v` (an IPv4 address as a 32-bit value) under a mask of `len` bits, as a signed value (a small integer to V8, unlike an unsigned one from 128.0.0.0 up). */
export function maskV4(v: number, len: number): number {
  return len === 0 ? 0 : v & (-1 << (32 - len));
}

function maskBytes(b: Uint8Array, len: number): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const keep = Math.max(0, Math.min(8, len - i * 8));
    s += ((b[i]! & ((0xff << (8 - keep)) & 0xff)) >>> 0).toString(16).padStart(2, '0');
  }
  return s;
}

/** The family key (with instance) and the raw address of an EID's address part. */
function split(a: LispAddress, iid = -1): { fam: string; iid: number; v4?: number; bytes?: Uint8Array } | undefined {
  const pre = iid < 0 ? '' : `[${iid}]`;
  switch (a.kind) {
    case 'ipv4':
      return { fam: `${pre}4`, iid, v4: ipv4Value(a.addr, 0) };
    case 'ipv6':
      return { fam: `${pre}6`, iid, bytes: parseIPv6(a.addr)! };
    case 'mac':
      return { fam: `${pre}m`, iid, bytes: parseMac(a.addr)! };
    case 'lcaf':
      return a.lcaf.body.kind === 'instance-id' ? split(a.lcaf.body.address, a.lcaf.body.iid) : undefined;
    default:
      return undefined;
  }
}

/** What readIPv4Prefix read last (one object, overwritten by the next call: read it at once). */
export const ipv4Prefix = {
  /** Instance ID, -1 for none. */
  iid: -1,
  /** The address, as a signed 32-bit value. */
  v4: 0,
  len: 32,
  /**
   * The text is the one `prefixText` writes for these numbers, and no other text reads as them: no
   * leading zero, the length given, no address bit set beyond it. Such a text and its numbers
   * stand for each other: the numbers can find what was kept for the text.
   */
  canonical: false,
};

/** A number of `start..end` written with a leading zero (`010`). */
function leadingZero(text: string, start: number, end: number): boolean {
  return end - start > 1 && text.charCodeAt(start) === 48;
}

/**
 * `[iid]a.b.c.d/len` (Instance ID and length optional) into `ipv4Prefix`, without the general
 * parser and without allocating: EID prefixes are mostly IPv4, and a busy capture announces tens
 * of thousands. False when it is not one.
 */
export function readIPv4Prefix(text: string): boolean {
  let start = 0;
  let iid = -1;
  let canonical = true;
  if (text.charCodeAt(0) === 91) {
    const end = text.indexOf(']');
    if (end < 2 || end > 11) return false;
    iid = 0;
    for (let i = 1; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) return false;
      iid = iid * 10 + (c - 48);
    }
    if (iid > 0xffffffff) return false;
    if (leadingZero(text, 1, end)) canonical = false;
    start = end + 1;
  }
  const slash = text.indexOf('/', start);
  let len = 32;
  if (slash >= 0) {
    const digits = text.length - slash - 1;
    if (digits < 1 || digits > 3) return false;
    len = 0;
    for (let i = slash + 1; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) return false;
      len = len * 10 + (c - 48);
    }
    if (len > 32) return false;
    if (leadingZero(text, slash + 1, text.length)) canonical = false;
  } else canonical = false;
  const addrEnd = slash >= 0 ? slash : text.length;
  const v4 = ipv4Value(text, start, addrEnd);
  if (v4 < 0) return false;
  if (canonical) {
    for (let i = start, from = start; i <= addrEnd; i++) {
      if (i < addrEnd && text.charCodeAt(i) !== 46) continue;
      if (leadingZero(text, from, i)) canonical = false;
      from = i + 1;
    }
  }
  const q = ipv4Prefix;
  q.iid = iid;
  q.v4 = v4 | 0;
  q.len = len;
  q.canonical = canonical && maskV4(v4, len) === (v4 | 0);
  return true;
}

/** EID prefixes, each with a value (by default its text). */
export class PrefixTable<V = string> {
  private readonly families = new Map<string, Family<V>>();
  /** The IPv4 families again, by Instance ID (-1: none), for lookups on numbers. */
  private readonly v4ByIid = new Map<number, Family<V>>();
  /** The IPv4 family without an Instance ID: most data packets' destinations. */
  private v4: Family<V> | undefined;
  size = 0;

  /** Adds an EID prefix (text as `prefixText` writes it); returns false when it is not an address prefix. */
  add(prefix: string, value: V = prefix as V): boolean {
    if (readIPv4Prefix(prefix)) {
      const q = ipv4Prefix;
      this.addIPv4(q.iid, q.v4, q.len, value);
      return true;
    }
    const p = parsePrefix(prefix);
    const s = p && split(p.address);
    if (!p || !s) return false;
    this.put(s.fam, s.v4 !== undefined ? s.iid : undefined, p.maskLen, s.v4 !== undefined ? maskV4(s.v4, p.maskLen) : maskBytes(s.bytes!, p.maskLen), value);
    return true;
  }

  /** `add` for an IPv4 prefix as numbers (`ipv4Prefix`'s); returns the value it replaced, that of the same prefix added before. */
  addIPv4(iid: number, v4: number, len: number, value: V): V | undefined {
    return this.put(iid < 0 ? '4' : `[${iid}]4`, iid, len, maskV4(v4, len), value);
  }

  /** The value of exactly this IPv4 prefix (not of one covering it), as numbers; undefined for none. */
  exactIPv4(iid: number, v4: number, len: number): V | undefined {
    const f = iid === -1 ? this.v4 : this.v4ByIid.get(iid);
    return f?.tables.get(len)?.get(maskV4(v4, len));
  }

  /** `v4Iid`: the Instance ID (-1: none) of an IPv4 family, undefined for the others. Returns the value replaced. */
  private put(fam: string, v4Iid: number | undefined, maskLen: number, key: string | number, value: V): V | undefined {
    let f = this.families.get(fam);
    if (!f) {
      f = { lengths: [], tables: new Map() };
      this.families.set(fam, f);
      if (v4Iid !== undefined) this.v4ByIid.set(v4Iid, f);
      if (v4Iid === -1) this.v4 = f;
    }
    let t = f.tables.get(maskLen);
    if (!t) {
      t = new Map();
      f.tables.set(maskLen, t);
      f.lengths.push(maskLen);
      f.lengths.sort((a, b) => b - a);
    }
    const was = t.get(key);
    if (was === undefined) this.size++;
    t.set(key, value);
    return was;
  }

  /** The most specific prefix covering an IPv4 address given as its 32-bit value, in instance `iid` (-1: none). */
  lookupIPv4(v4: number, iid = -1): V | undefined {
    const f = iid === -1 ? this.v4 : this.v4ByIid.get(iid);
    if (!f) return undefined;
    for (const len of f.lengths) {
      const hit = f.tables.get(len)!.get(maskV4(v4, len));
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  /** The most specific prefix covering an address (`10.1.0.5`, `[223]10.1.0.5`, `2001:db8::1`). */
  lookup(addr: string): V | undefined {
    let iid = '';
    let rest = 0;
    if (addr.charCodeAt(0) === 91) {
      const end = addr.indexOf(']');
      iid = addr.slice(0, end + 1);
      rest = end + 1;
    }
    const v4 = ipv4Value(addr, rest);
    if (v4 >= 0) return this.lookupIPv4(v4, iid ? Number(iid.slice(1, -1)) : -1);
    const text = addr.slice(rest);
    const v6 = parseIPv6(text);
    const fam = v6 ? `${iid}6` : `${iid}m`;
    const bytes = v6 ?? parseMac(text);
    const f = bytes && this.families.get(fam);
    if (!f) return undefined;
    for (const len of f.lengths) {
      const hit = f.tables.get(len)!.get(maskBytes(bytes!, len));
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
}
