// LISP Canonical Address Format (RFC 8060; NAT-Traversal type 7 from the NAT draft; vendor 255 from
// RFC 9306). The body is parsed inside exactly `Length` bytes, so a body that disagrees with its
// Length never desynchronises the enclosing message.

import { decodeAddress, encodeAddress } from './address.js';
import type { Cursor, Writer } from './cursor.js';
import { LIMITS, LcafType, lcafSlug } from './registry.js';
import type { LcafBody, Lcaf, LispAddress, ElpHop, RleEntry } from './types.js';

/** Reads the LCAF header and body; the AFI (16387) has already been read. */
export function decodeLcaf(c: Cursor, depth: number, what: string): Lcaf | undefined {
  if (!c.need(6, `${what} LCAF header`)) return undefined;
  const headerAt = c.pos - 2;
  const rsvd1 = c.u8();
  const flags = c.u8();
  const type = c.u8();
  const rsvd2 = c.u8();
  const length = c.u16();
  const name = `${what} LCAF ${lcafSlug(type)}`;
  if (length > c.remaining) {
    c.note(`${name}: Length ${length} exceeds the ${c.remaining} bytes left`, headerAt);
  }
  const w = c.window(length);
  c.pos = w.end;
  let body: LcafBody | undefined;
  if (depth >= LIMITS.lcafDepth) {
    w.note(`${name}: nested deeper than ${LIMITS.lcafDepth} LCAFs, body not decoded`);
  } else {
    body = decodeBody(w, type, depth + 1, name);
  }
  if (!body) {
    // Truncated or refused: keep the body's bytes so nothing is lost; notes say why.
    w.pos = headerAt + 8;
    return { type, rsvd1, flags, rsvd2, body: { kind: 'raw', bytes: w.rest() } };
  }
  const lcaf: Lcaf = { type, rsvd1, flags, rsvd2, body };
  if (w.remaining > 0) {
    w.warn(`${name}: ${w.remaining} bytes inside Length not used by the body`);
    lcaf.trailing = w.rest();
  }
  return lcaf;
}

function decodeBody(w: Cursor, type: number, depth: number, name: string): LcafBody | undefined {
  const addr = (what: string) => decodeAddress(w, depth, `${name} ${what}`);
  switch (type) {
    case LcafType.Null:
      return { kind: 'null' };
    case LcafType.AfiList: {
      const addresses: LispAddress[] = [];
      while (w.remaining > 0) {
        const a = addr(`address ${addresses.length + 1}`);
        if (!a) return undefined;
        addresses.push(a);
      }
      return { kind: 'afi-list', addresses };
    }
    case LcafType.InstanceId: {
      if (!w.need(4, `${name} Instance ID`)) return undefined;
      const iid = w.u32();
      const address = addr('address');
      return address && { kind: 'instance-id', iid, address };
    }
    case LcafType.AsNumber: {
      if (!w.need(4, `${name} AS number`)) return undefined;
      const asn = w.u32();
      const address = addr('address');
      return address && { kind: 'as-number', asn, address };
    }
    case LcafType.ApplicationData: {
      if (!w.need(12, `${name} fields`)) return undefined;
      const tos = w.u24();
      const protocol = w.u8();
      const localPortLow = w.u16();
      const localPortHigh = w.u16();
      const remotePortLow = w.u16();
      const remotePortHigh = w.u16();
      const address = addr('address');
      return (
        address && {
          kind: 'application-data',
          tos,
          protocol,
          localPortLow,
          localPortHigh,
          remotePortLow,
          remotePortHigh,
          address,
        }
      );
    }
    case LcafType.GeoCoordinates:
      return decodeGeo(w, name, depth);
    case LcafType.OpaqueKey: {
      if (!w.need(2, `${name} key fields`)) return undefined;
      const keyFieldNum = w.u8();
      const keyWildcardFields = w.u8();
      return { kind: 'opaque-key', keyFieldNum, keyWildcardFields, key: w.rest() };
    }
    case LcafType.NatTraversal: {
      if (!w.need(4, `${name} ports`)) return undefined;
      const msUdpPort = w.u16();
      const etrUdpPort = w.u16();
      const globalEtrRloc = addr('Global ETR RLOC');
      if (!globalEtrRloc) return undefined;
      const msRloc = addr('MS RLOC');
      if (!msRloc) return undefined;
      const privateEtrRloc = addr('Private ETR RLOC');
      if (!privateEtrRloc) return undefined;
      const rtrRlocs: LispAddress[] = [];
      while (w.remaining > 0) {
        const a = addr(`RTR RLOC ${rtrRlocs.length + 1}`);
        if (!a) return undefined;
        rtrRlocs.push(a);
      }
      return { kind: 'nat-traversal', msUdpPort, etrUdpPort, globalEtrRloc, msRloc, privateEtrRloc, rtrRlocs };
    }
    case LcafType.NonceLocator: {
      if (!w.need(4, `${name} nonce`)) return undefined;
      const reserved = w.u8();
      const nonce = w.u24();
      const address = addr('address');
      return address && withReserved({ kind: 'nonce-locator', nonce, address }, reserved);
    }
    case LcafType.MulticastInfo: {
      if (!w.need(8, `${name} fields`)) return undefined;
      const iid = w.u32();
      const reserved = w.u16();
      const sourceMaskLen = w.u8();
      const groupMaskLen = w.u8();
      const source = addr('source');
      if (!source) return undefined;
      const group = addr('group');
      if (!group) return undefined;
      return withReserved(
        { kind: 'multicast-info', iid, sourceMaskLen, groupMaskLen, source, group },
        reserved,
      );
    }
    case LcafType.ExplicitLocatorPath: {
      const hops: ElpHop[] = [];
      while (w.remaining > 0) {
        if (!w.need(2, `${name} hop ${hops.length + 1} flags`)) return undefined;
        const flags = w.u16();
        const address = addr(`hop ${hops.length + 1}`);
        if (!address) return undefined;
        hops.push({ flags, address });
      }
      return { kind: 'elp', hops };
    }
    case LcafType.SecurityKey:
      return decodeSecurityKey(w, name, depth);
    case LcafType.SourceDest: {
      if (!w.need(4, `${name} mask lengths`)) return undefined;
      const reserved = w.u16();
      const sourceMaskLen = w.u8();
      const destMaskLen = w.u8();
      const source = addr('source');
      if (!source) return undefined;
      const dest = addr('destination');
      if (!dest) return undefined;
      return withReserved({ kind: 'source-dest', sourceMaskLen, destMaskLen, source, dest }, reserved);
    }
    case LcafType.ReplicationList: {
      const entries: RleEntry[] = [];
      while (w.remaining > 0) {
        if (!w.need(4, `${name} entry ${entries.length + 1}`)) return undefined;
        const reserved = w.u24();
        const level = w.u8();
        const address = addr(`entry ${entries.length + 1}`);
        if (!address) return undefined;
        entries.push(withReserved({ level, address }, reserved));
      }
      return { kind: 'rle', entries };
    }
    case LcafType.Json: {
      if (!w.need(2, `${name} JSON length`)) return undefined;
      const len = w.u16();
      if (!w.need(len, `${name} JSON text`)) return undefined;
      const json = w.take(len);
      const address = addr('address');
      return address && { kind: 'json', json, address };
    }
    case LcafType.KeyValue: {
      const key = addr('key');
      if (!key) return undefined;
      const value = addr('value');
      return value && { kind: 'key-value', key, value };
    }
    case LcafType.EncapsulationFormat: {
      if (!w.need(4, `${name} encapsulation bits`)) return undefined;
      const bits = w.u32();
      if (w.remaining === 0) return { kind: 'encapsulation-format', bits };
      const address = addr('address');
      return address && { kind: 'encapsulation-format', bits, address };
    }
    case LcafType.Vendor: {
      if (!w.need(4, `${name} OUI`)) return undefined;
      const reserved = w.u8();
      const oui = w.u24();
      return withReserved({ kind: 'vendor', oui, data: w.rest() }, reserved);
    }
    default:
      return { kind: 'raw', bytes: w.rest() };
  }
}

function decodeGeo(w: Cursor, name: string, depth: number): LcafBody | undefined {
  if (!w.need(12, `${name} coordinates`)) return undefined;
  const at = w.pos;
  const lat = w.u16();
  const latMinutes = w.u8();
  const latSeconds = w.u8();
  const lon = w.u16();
  const lonMinutes = w.u8();
  const lonSeconds = w.u8();
  const altitude = w.u32() | 0;
  const latDegrees = lat & 0x7fff;
  const lonDegrees = lon & 0x7fff;
  if (latDegrees > 90 || lonDegrees > 180 || latMinutes > 59 || lonMinutes > 59 || latSeconds > 59 || lonSeconds > 59) {
    w.warn(`${name}: coordinates out of range (lat ${latDegrees}°${latMinutes}'${latSeconds}", lon ${lonDegrees}°${lonMinutes}'${lonSeconds}")`, at);
  }
  const address = decodeAddress(w, depth, `${name} address`);
  return (
    address && {
      kind: 'geo-coordinates',
      north: (lat & 0x8000) !== 0,
      latDegrees,
      latMinutes,
      latSeconds,
      east: (lon & 0x8000) !== 0,
      lonDegrees,
      lonMinutes,
      lonSeconds,
      altitude,
      address,
    }
  );
}

function decodeSecurityKey(w: Cursor, name: string, depth: number): LcafBody | undefined {
  if (!w.need(4, `${name} fields`)) return undefined;
  const keyCount = w.u8();
  const rsvd3 = w.u8();
  const keyAlgorithm = w.u8();
  const last = w.u8();
  const keys: Uint8Array[] = [];
  for (let i = 0; i < keyCount; i++) {
    if (!w.need(2, `${name} key ${i + 1} length`)) return undefined;
    const len = w.u16();
    if (!w.need(len, `${name} key ${i + 1} material`)) return undefined;
    keys.push(w.take(len));
  }
  const address = decodeAddress(w, depth, `${name} locator`);
  if (!address) return undefined;
  const body: LcafBody = { kind: 'security-key', keyCount, keyAlgorithm, revoke: (last & 1) !== 0, keys, address };
  if (rsvd3) body.rsvd3 = rsvd3;
  if (last >> 1) body.rsvd4 = last >> 1;
  return body;
}

function withReserved<T extends LcafBody | RleEntry>(o: T, value: number): T {
  if (value) (o as { reserved?: number }).reserved = value;
  return o;
}

export function encodeLcaf(w: Writer, l: Lcaf): void {
  w.u8(l.rsvd1).u8(l.flags).u8(l.type).u8(l.rsvd2);
  const lenAt = w.len;
  w.u16(0);
  encodeBody(w, l.body);
  if (l.trailing) w.bytes(l.trailing);
  w.patch16(lenAt, w.len - lenAt - 2);
}

function encodeBody(w: Writer, b: LcafBody): void {
  const addr = (a: LispAddress) => encodeAddress(w, a);
  switch (b.kind) {
    case 'null':
      return;
    case 'afi-list':
      b.addresses.forEach(addr);
      return;
    case 'instance-id':
      w.u32(b.iid);
      addr(b.address);
      return;
    case 'as-number':
      w.u32(b.asn);
      addr(b.address);
      return;
    case 'application-data':
      w.u24(b.tos).u8(b.protocol).u16(b.localPortLow).u16(b.localPortHigh);
      w.u16(b.remotePortLow).u16(b.remotePortHigh);
      addr(b.address);
      return;
    case 'geo-coordinates':
      w.u16((b.north ? 0x8000 : 0) | b.latDegrees).u8(b.latMinutes).u8(b.latSeconds);
      w.u16((b.east ? 0x8000 : 0) | b.lonDegrees).u8(b.lonMinutes).u8(b.lonSeconds);
      w.u32(b.altitude >>> 0);
      addr(b.address);
      return;
    case 'opaque-key':
      w.u8(b.keyFieldNum).u8(b.keyWildcardFields).bytes(b.key);
      return;
    case 'nat-traversal':
      w.u16(b.msUdpPort).u16(b.etrUdpPort);
      addr(b.globalEtrRloc);
      addr(b.msRloc);
      addr(b.privateEtrRloc);
      b.rtrRlocs.forEach(addr);
      return;
    case 'nonce-locator':
      w.u8(b.reserved ?? 0).u24(b.nonce);
      addr(b.address);
      return;
    case 'multicast-info':
      w.u32(b.iid).u16(b.reserved ?? 0).u8(b.sourceMaskLen).u8(b.groupMaskLen);
      addr(b.source);
      addr(b.group);
      return;
    case 'elp':
      for (const h of b.hops) {
        w.u16(h.flags);
        addr(h.address);
      }
      return;
    case 'security-key':
      w.u8(b.keyCount).u8(b.rsvd3 ?? 0).u8(b.keyAlgorithm).u8(((b.rsvd4 ?? 0) << 1) | (b.revoke ? 1 : 0));
      for (const k of b.keys) w.u16(k.length).bytes(k);
      addr(b.address);
      return;
    case 'source-dest':
      w.u16(b.reserved ?? 0).u8(b.sourceMaskLen).u8(b.destMaskLen);
      addr(b.source);
      addr(b.dest);
      return;
    case 'rle':
      for (const e of b.entries) {
        w.u24(e.reserved ?? 0).u8(e.level);
        addr(e.address);
      }
      return;
    case 'json':
      w.u16(b.json.length).bytes(b.json);
      addr(b.address);
      return;
    case 'key-value':
      addr(b.key);
      addr(b.value);
      return;
    case 'encapsulation-format':
      w.u32(b.bits);
      if (b.address) addr(b.address);
      return;
    case 'vendor':
      w.u8(b.reserved ?? 0).u24(b.oui).bytes(b.data);
      return;
    case 'raw':
      w.bytes(b.bytes);
      return;
  }
}

/** Named flags of an ELP hop (RFC 8060 §4.7). */
export function elpHopFlags(flags: number): { lookup: boolean; rlocProbe: boolean; strict: boolean } {
  return { lookup: (flags & 4) !== 0, rlocProbe: (flags & 2) !== 0, strict: (flags & 1) !== 0 };
}

/** Encapsulation formats named by the type-16 bits (l = LISP is the lowest). */
export const ENCAP_FORMAT_BITS: ReadonlyArray<[number, string]> = [
  [0x01, 'LISP'],
  [0x02, 'VXLAN'],
  [0x04, 'VXLAN-GPE'],
  [0x08, 'NVGRE'],
  [0x10, 'GPE'],
  [0x20, 'UDP-GRE'],
];
