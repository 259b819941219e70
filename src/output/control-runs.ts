// What the two writers of control messages straight from frame bytes (json-control-fast.ts,
// line-control-fast.ts) share: runs of text cut from the general writers once per value seen, and
// the addresses capture/plain-control.ts found.

import { formatIPv6 } from '../dissect/addr.js';
import { u16, u32 } from '../dissect/bytes.js';
import { Afi } from '../dissect/registry.js';
import { bytesOf, putAscii, putIPv4, putUint, putUint53 } from './out-buffer.js';

/** Runs of text by the bits they are made from, made once per value; a crafted capture's thousands of values start the cache over. */
export class Runs {
  private readonly made = new Map<number, Uint8Array>();
  constructor(private readonly make: (v: number) => string) {}

  get(v: number): Uint8Array {
    let r = this.made.get(v);
    if (r === undefined) {
      if (this.made.size >= 4096) this.made.clear();
      r = bytesOf(this.make(v));
      this.made.set(v, r);
    }
    return r;
  }
}

/**
 * The IPv4 or IPv6 address whose AFI is at `a`, `[iid]` first when it is in an Instance-ID LCAF,
 * with `/maskLen` when that is not negative.
 */
export function putScannedAddress(buf: Uint8Array, p: number, b: Uint8Array, a: number, maskLen: number): number {
  if (u16(b, a) === Afi.Lcaf) {
    buf[p++] = 91;
    p = putUint53(buf, p, u32(b, a + 8));
    buf[p++] = 93;
    a += 12;
  }
  p = u16(b, a) === Afi.IPv4 ? putIPv4(buf, p, b, a + 2) : putAscii(buf, p, formatIPv6(b, a + 2));
  if (maskLen >= 0) {
    buf[p++] = 47;
    p = putUint(buf, p, maskLen);
  }
  return p;
}
