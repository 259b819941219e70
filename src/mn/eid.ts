// EID prefixes as the control plane uses them: text forms, containment, longest match, and the
// widest prefix around an EID that overlaps no LISP prefix (a Map-Resolver's negative answer,
// RFC 9301 §8.4).

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../dissect/addr.js';
import { addressBits, parsePrefix, prefixText, type Prefix } from '../dissect/address.js';
import { prefixCovers } from '../dissect/prefix.js';
import type { LispAddress, MappingRecord } from '../dissect/types.js';

export type { Prefix };

/** A prefix from text ('10.1.0.0/16', '10.1.0.5', '[7]10.0.0.0/8') or as given. Throws on bad text. */
export function toPrefix(p: string | Prefix): Prefix {
  if (typeof p !== 'string') return p;
  const parsed = parsePrefix(p);
  if (!parsed) throw new RangeError(`not an EID prefix: ${p}`);
  return parsed;
}

export function prefixKey(p: Prefix): string {
  return prefixText(p.address, p.maskLen);
}

/** The prefix of a mapping record. */
export function recordPrefix(r: MappingRecord): Prefix {
  return { address: r.eid, maskLen: r.eidMaskLen };
}

/** The host prefix (/32, /128) of an address. */
export function hostPrefix(a: string | LispAddress): Prefix {
  if (typeof a === 'string') return toPrefix(a.replace(/\/\d+$/, ''));
  return { address: a, maskLen: addressBits(a) };
}

/** Does `outer` contain `inner` (same family and instance)? */
export function covers(outer: Prefix, inner: Prefix): boolean {
  return prefixCovers(outer, inner);
}

/** Do the two prefixes share any address? */
export function overlaps(a: Prefix, b: Prefix): boolean {
  return prefixCovers(a, b) || prefixCovers(b, a);
}

/** The most specific prefix in `list` (by `key`) that contains `eid`. */
export function longestMatch<T>(list: Iterable<T>, eid: Prefix, key: (t: T) => Prefix): T | undefined {
  let best: T | undefined;
  let bestLen = -1;
  for (const t of list) {
    const p = key(t);
    if (p.maskLen > bestLen && prefixCovers(p, eid)) {
      best = t;
      bestLen = p.maskLen;
    }
  }
  return best;
}

/** The address with the bits after `len` cleared (IPv4, IPv6, also inside an Instance-ID LCAF). */
export function maskAddress(a: LispAddress, len: number): LispAddress {
  switch (a.kind) {
    case 'ipv4':
    case 'ipv6': {
      const b = a.kind === 'ipv4' ? parseIPv4(a.addr)! : parseIPv6(a.addr)!;
      for (let i = 0; i < b.length; i++) {
        const keep = Math.max(0, Math.min(8, len - i * 8));
        b[i] = b[i]! & (0xff00 >> keep) & 0xff;
      }
      return a.kind === 'ipv4' ? { kind: 'ipv4', afi: 1, addr: formatIPv4(b, 0) } : { kind: 'ipv6', afi: 2, addr: formatIPv6(b, 0) };
    }
    case 'lcaf':
      if (a.lcaf.body.kind === 'instance-id') {
        return { ...a, lcaf: { ...a.lcaf, rsvd2: len, body: { ...a.lcaf.body, address: maskAddress(a.lcaf.body.address, len) } } };
      }
      return a;
    default:
      return a;
  }
}

/**
 * The shortest prefix containing `eid`, no shorter than `min` bits, that overlaps none of `lisp`:
 * what a Map-Resolver answers negatively for an EID nobody registered. Falls back to the host
 * prefix when every shorter one overlaps.
 */
export function widestUncovered(eid: Prefix, lisp: Prefix[], min = 0): Prefix {
  const bits = addressBits(eid.address);
  for (let len = Math.min(min, eid.maskLen); len <= eid.maskLen; len++) {
    const cand: Prefix = { address: maskAddress(eid.address, len), maskLen: len };
    if (!lisp.some((p) => overlaps(p, cand))) return cand;
  }
  return { address: maskAddress(eid.address, Math.min(eid.maskLen, bits)), maskLen: Math.min(eid.maskLen, bits) };
}

/** The plain IP text of an EID (through an Instance-ID LCAF), for inner IP headers. */
export function eidIp(a: LispAddress): string | undefined {
  if (a.kind === 'ipv4' || a.kind === 'ipv6') return a.addr;
  if (a.kind === 'lcaf' && a.lcaf.body.kind === 'instance-id') return eidIp(a.lcaf.body.address);
  return undefined;
}
