// Prefix containment over LISP addresses (plain IPv4/IPv6/MAC, and Instance-ID LCAFs, which
// only match within the same instance).

import { parseIPv4, parseIPv6, parseMac } from './addr.js';
import type { Prefix } from './address.js';
import type { LispAddress } from './types.js';

interface Flat {
  family: string;
  iid: number;
  bytes: Uint8Array;
}

function flatten(a: LispAddress, iid = -1): Flat | undefined {
  switch (a.kind) {
    case 'ipv4':
      return { family: '4', iid, bytes: parseIPv4(a.addr)! };
    case 'ipv6':
      return { family: '6', iid, bytes: parseIPv6(a.addr)! };
    case 'mac':
      return { family: 'mac', iid, bytes: parseMac(a.addr)! };
    case 'lcaf':
      return a.lcaf.body.kind === 'instance-id' ? flatten(a.lcaf.body.address, a.lcaf.body.iid) : undefined;
    default:
      return undefined;
  }
}

function bitsEqual(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((a[whole]! ^ b[whole]!) & mask) === 0;
}

/** True when `inner` (an address with its own mask length) lies within `outer`. */
export function prefixCovers(outer: Prefix, inner: Prefix): boolean {
  const o = flatten(outer.address);
  const i = flatten(inner.address);
  if (!o || !i || o.family !== i.family || o.iid !== i.iid) return false;
  if (inner.maskLen < outer.maskLen) return false;
  return bitsEqual(o.bytes, i.bytes, Math.min(outer.maskLen, o.bytes.length * 8));
}

/** Same address family, instance and bits. */
export function sameAddress(a: LispAddress, b: LispAddress): boolean {
  const x = flatten(a);
  const y = flatten(b);
  if (!x || !y) return false;
  return x.family === y.family && x.iid === y.iid && bitsEqual(x.bytes, y.bytes, x.bytes.length * 8);
}
