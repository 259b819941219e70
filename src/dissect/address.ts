// AFI-encoded addresses (RFC 9301 §5.2, RFC 8060): decode, encode, and their text forms.

import { formatIPv4, formatIPv6, formatMac, parseIPv4, parseIPv6, parseMac, toHex } from './addr.js';
import type { Cursor, Writer } from './cursor.js';
import { decodeLcaf, encodeLcaf } from './lcaf.js';
import { Afi, LIMITS } from './registry.js';
import type { LispAddress } from './types.js';

/**
 * Reads AFI + address. Returns undefined when the bytes ran out (a note says where). An AFI whose
 * length cannot be known swallows the rest of the cursor as `unknown`: the caller must stop, since
 * nothing after it can be located.
 */
export function decodeAddress(c: Cursor, depth: number, what: string): LispAddress | undefined {
  if (!c.need(2, `${what} AFI`)) return undefined;
  const at = c.pos;
  const afi = c.u16();
  switch (afi) {
    case Afi.None:
      return { kind: 'none', afi: 0 };
    case Afi.IPv4:
      if (!c.need(4, `${what} IPv4 address`)) return undefined;
      c.skip(4);
      return { kind: 'ipv4', afi: 1, addr: formatIPv4(c.bytes, c.pos - 4) };
    case Afi.IPv6:
      if (!c.need(16, `${what} IPv6 address`)) return undefined;
      c.skip(16);
      return { kind: 'ipv6', afi: 2, addr: formatIPv6(c.bytes, c.pos - 16) };
    case Afi.Mac:
    case Afi.Mac48:
      if (!c.need(6, `${what} MAC address`)) return undefined;
      c.skip(6);
      return { kind: 'mac', afi, addr: formatMac(c.bytes, c.pos - 6) };
    case Afi.DistinguishedName:
      return decodeDistinguishedName(c, what);
    case Afi.Lcaf: {
      const lcaf = decodeLcaf(c, depth, what);
      return lcaf && { kind: 'lcaf', afi: 16387, lcaf };
    }
    default:
      c.note(`${what}: unknown AFI ${afi}, cannot tell its length; ${c.remaining} bytes left undecoded`, at);
      return { kind: 'unknown', afi, raw: c.rest() };
  }
}

function decodeDistinguishedName(c: Cursor, what: string): LispAddress | undefined {
  const start = c.pos;
  const limit = Math.min(c.end, start + LIMITS.distinguishedName + 1);
  let i = start;
  while (i < limit && c.bytes[i] !== 0) i++;
  if (i >= limit) {
    if (limit === c.end) {
      c.note(`truncated ${what} distinguished name: no terminating NUL`);
      return undefined;
    }
    c.note(`${what} distinguished name longer than ${LIMITS.distinguishedName} bytes`);
    return undefined;
  }
  let name = '';
  for (let j = start; j < i; j++) name += String.fromCharCode(c.bytes[j]!);
  c.pos = i + 1;
  return { kind: 'dn', afi: 17, name };
}

export function encodeAddress(w: Writer, a: LispAddress): void {
  w.u16(a.afi);
  switch (a.kind) {
    case 'none':
      return;
    case 'ipv4':
      w.bytes(mustParse(parseIPv4(a.addr), a.addr, 'IPv4'));
      return;
    case 'ipv6':
      w.bytes(mustParse(parseIPv6(a.addr), a.addr, 'IPv6'));
      return;
    case 'mac':
      w.bytes(mustParse(parseMac(a.addr), a.addr, 'MAC'));
      return;
    case 'dn':
      for (let i = 0; i < a.name.length; i++) w.u8(a.name.charCodeAt(i));
      w.u8(0);
      return;
    case 'lcaf':
      encodeLcaf(w, a.lcaf);
      return;
    case 'unknown':
      w.bytes(a.raw);
      return;
  }
}

function mustParse(b: Uint8Array | undefined, text: string, fam: string): Uint8Array {
  // Encoding is driven by our own code and the user's input (already validated by parseAddress),
  // so a bad value here is a programming error, not packet content.
  if (!b) throw new Error(`not an ${fam} address: ${text}`);
  return b;
}

// ---- constructors and text forms -------------------------------------------------------------

export const NO_ADDRESS: LispAddress = { kind: 'none', afi: 0 };

/** An IPv4 or IPv6 address from its text; undefined when it is neither. */
export function ipAddress(text: string): LispAddress | undefined {
  const v4 = parseIPv4(text);
  if (v4) return { kind: 'ipv4', afi: 1, addr: formatIPv4(v4, 0) };
  const v6 = parseIPv6(text);
  if (v6) return { kind: 'ipv6', afi: 2, addr: formatIPv6(v6, 0) };
  return undefined;
}

/**
 * Address from user text: `1.2.3.4`, `2001:db8::1`, `aa:bb:cc:dd:ee:ff`, `[iid]addr`
 * (Instance-ID LCAF, `maskLen` becomes its IID mask-len), `'name'` (distinguished name).
 */
export function parseAddress(text: string, maskLen = 0): LispAddress | undefined {
  const iid = /^\[(\d+)\](.+)$/.exec(text);
  if (iid) {
    const id = Number(iid[1]);
    const inner = parseAddress(iid[2]!);
    if (!inner || id > 0xffffffff) return undefined;
    return {
      kind: 'lcaf',
      afi: 16387,
      lcaf: { type: 2, rsvd1: 0, flags: 0, rsvd2: maskLen, body: { kind: 'instance-id', iid: id, address: inner } },
    };
  }
  const dn = /^'(.*)'$/.exec(text);
  if (dn) return { kind: 'dn', afi: 17, name: dn[1]! };
  const ip = ipAddress(text);
  if (ip) return ip;
  if (parseMac(text)) return { kind: 'mac', afi: 16389, addr: formatMac(parseMac(text)!, 0) };
  return undefined;
}

export interface Prefix {
  address: LispAddress;
  maskLen: number;
}

/** `10.0.0.0/8`, `[223]10.1.0.0/16`, `2001:db8::/32`; a bare address is a host prefix. */
export function parsePrefix(text: string): Prefix | undefined {
  const m = /^(.*?)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) return undefined;
  const probe = parseAddress(m[1]!);
  if (!probe) return undefined;
  const full = addressBits(probe);
  const maskLen = m[2] === undefined ? full : Number(m[2]);
  if (maskLen > full) return undefined;
  const address = parseAddress(m[1]!, maskLen)!;
  return { address, maskLen };
}

/** Address size in bits, looking through an Instance-ID LCAF. */
export function addressBits(a: LispAddress): number {
  switch (a.kind) {
    case 'ipv4':
      return 32;
    case 'ipv6':
      return 128;
    case 'mac':
      return 48;
    case 'lcaf':
      return a.lcaf.body.kind === 'instance-id' ? addressBits(a.lcaf.body.address) : 0;
    default:
      return 0;
  }
}

/** Plain text of an address; LCAFs other than Instance-ID get a compact `type(...)` form. */
export function addressText(a: LispAddress): string {
  switch (a.kind) {
    case 'none':
      return '(none)';
    case 'ipv4':
    case 'ipv6':
    case 'mac':
      return a.addr;
    case 'dn':
      return `'${a.name}'`;
    case 'unknown':
      return `afi${a.afi}:${toHex(a.raw)}`;
    case 'lcaf':
      return lcafText(a, undefined);
  }
}

/** `addr/len`, with `[iid]` in front for Instance-ID EIDs (the mask applies to the inner address). */
export function prefixText(a: LispAddress, maskLen: number): string {
  switch (a.kind) {
    case 'ipv4':
    case 'ipv6':
    case 'mac':
      // join, not a template: a template makes a tree of concatenated strings (for texts of 13
      // characters or more), which the flow engine keeps for seconds as an exchange's EID, and
      // every read of which (a hash, the JSON writer) goes through the tree or flattens it.
      return [a.addr, maskLen].join('/');
    case 'lcaf':
      return lcafText(a, maskLen);
    default:
      return addressText(a);
  }
}

function lcafText(a: Extract<LispAddress, { kind: 'lcaf' }>, maskLen: number | undefined): string {
  const { body } = a.lcaf;
  const withLen = (x: LispAddress, len: number | undefined) => (len === undefined ? addressText(x) : prefixText(x, len));
  switch (body.kind) {
    case 'instance-id':
      return ['[', body.iid, ']', withLen(body.address, maskLen)].join(''); // flat, as prefixText's
    case 'source-dest':
      return `(${prefixText(body.source, body.sourceMaskLen)}, ${prefixText(body.dest, body.destMaskLen)})`;
    case 'afi-list':
      return `{${body.addresses.map(addressText).join(', ')}}`;
    case 'elp':
      return `elp(${body.hops.map((h) => addressText(h.address)).join(' -> ')})`;
    case 'rle':
      return `rle(${body.entries.map((e) => `${addressText(e.address)}@${e.level}`).join(', ')})`;
    case 'nat-traversal':
      return `nat(${addressText(body.globalEtrRloc)}:${body.etrUdpPort})`;
    case 'as-number':
      return `AS${body.asn}:${withLen(body.address, maskLen)}`;
    case 'nonce-locator':
    case 'application-data':
    case 'geo-coordinates':
    case 'security-key':
    case 'json':
      return `${body.kind}(${addressText(body.address)})`;
    case 'multicast-info':
      return `[${body.iid}](${prefixText(body.source, body.sourceMaskLen)}, ${prefixText(body.group, body.groupMaskLen)})`;
    case 'key-value':
      return `kv(${addressText(body.key)}=${addressText(body.value)})`;
    case 'encapsulation-format':
      return `encap(${body.address ? addressText(body.address) : ''})`;
    case 'null':
      return 'null-body';
    case 'opaque-key':
      return `opaque-key(${body.key.length} bytes)`;
    case 'vendor':
      return `vendor(${body.oui.toString(16).padStart(6, '0')})`;
    case 'raw':
      return `lcaf${a.lcaf.type}(${body.bytes.length} bytes)`;
  }
}

/**
 * The plain IP (or MAC) text at the heart of an address: itself, or the address inside an
 * Instance-ID, NAT-T (global RLOC), ELP (last hop) ... LCAF. Used where a locator must be compared
 * or reached (flows, MN).
 */
export function coreAddress(a: LispAddress): string | undefined {
  switch (a.kind) {
    case 'ipv4':
    case 'ipv6':
    case 'mac':
      return a.addr;
    case 'lcaf': {
      const b = a.lcaf.body;
      switch (b.kind) {
        case 'instance-id':
        case 'as-number':
        case 'nonce-locator':
        case 'application-data':
        case 'geo-coordinates':
        case 'security-key':
        case 'json':
          return coreAddress(b.address);
        case 'nat-traversal':
          return coreAddress(b.globalEtrRloc);
        case 'elp':
          return b.hops.length ? coreAddress(b.hops[b.hops.length - 1]!.address) : undefined;
        case 'afi-list':
          for (const x of b.addresses) {
            const c = coreAddress(x);
            if (c) return c;
          }
          return undefined;
        default:
          return undefined;
      }
    }
    default:
      return undefined;
  }
}
