// Longest-prefix match of addresses (as text, as the flow engine has them) against EID prefixes:
// one hash table per family, instance and mask length, probed from the longest mask down. Data
// packets are looked up one by one, so IPv4, the common case, is parsed without allocating.

import { parseIPv6, parseMac } from '../dissect/addr.js';
import { parsePrefix } from '../dissect/address.js';
import type { LispAddress } from '../dissect/types.js';

/** Dotted quad (from `start`) → unsigned 32-bit value, or -1. */
export function ipv4Value(s: string, start: number): number {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < s.length; i++) {
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

interface Family {
  /** Mask lengths present, longest first. */
  lengths: number[];
  /** Per mask length: masked network key → value. */
  tables: Map<number, Map<string | number, string>>;
}

function maskV4(v: number, len: number): number {
  if (len === 0) return 0;
  return len >= 32 ? v : v - (v % 2 ** (32 - len));
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

export class PrefixTable {
  private readonly families = new Map<string, Family>();
  /** The IPv4 families again, by Instance ID (-1: none), for lookups on numbers. */
  private readonly v4ByIid = new Map<number, Family>();
  size = 0;

  /** Adds an EID prefix (text as `prefixText` writes it); returns false when it is not an address prefix. */
  add(prefix: string): boolean {
    const p = parsePrefix(prefix);
    const s = p && split(p.address);
    if (!p || !s) return false;
    let f = this.families.get(s.fam);
    if (!f) {
      f = { lengths: [], tables: new Map() };
      this.families.set(s.fam, f);
      if (s.v4 !== undefined) this.v4ByIid.set(s.iid, f);
    }
    let t = f.tables.get(p.maskLen);
    if (!t) {
      t = new Map();
      f.tables.set(p.maskLen, t);
      f.lengths.push(p.maskLen);
      f.lengths.sort((a, b) => b - a);
    }
    const key = s.v4 !== undefined ? maskV4(s.v4, p.maskLen) : maskBytes(s.bytes!, p.maskLen);
    if (!t.has(key)) this.size++;
    t.set(key, prefix);
    return true;
  }

  /** The most specific prefix covering an IPv4 address given as its 32-bit value, in instance `iid` (-1: none). */
  lookupIPv4(v4: number, iid = -1): string | undefined {
    const f = this.v4ByIid.get(iid);
    if (!f) return undefined;
    for (const len of f.lengths) {
      const hit = f.tables.get(len)!.get(maskV4(v4, len));
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  /** The most specific prefix covering an address (`10.1.0.5`, `[223]10.1.0.5`, `2001:db8::1`). */
  lookup(addr: string): string | undefined {
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
