// LISP Canonical Address Format (RFC 8060; NAT-Traversal type 7 from the NAT draft; vendor 255 from
// RFC 9306). The body is parsed inside exactly `Length` bytes, so a body that disagrees with its
// Length never desynchronises the enclosing message.

import { decodeAddress, encodeAddress } from './address.js';
import type { Cursor, Writer } from './cursor.js';
import { readStruct, writeStruct, type Struct } from './field.js';
import {
  LCAF_APPLICATION_DATA,
  LCAF_AS_NUMBER,
  LCAF_ELP_HOP,
  LCAF_ENCAPSULATION_FORMAT,
  LCAF_GEO,
  LCAF_HEADER,
  LCAF_INSTANCE_ID,
  LCAF_JSON,
  LCAF_MULTICAST_INFO,
  LCAF_NAT_TRAVERSAL,
  LCAF_NONCE_LOCATOR,
  LCAF_OPAQUE_KEY,
  LCAF_RLE_ENTRY,
  LCAF_SECURITY_KEY,
  LCAF_SOURCE_DEST,
  LCAF_VENDOR,
} from './fields.js';
import { LIMITS, LcafType, lcafSlug } from './registry.js';
import type { LcafBody, Lcaf, LispAddress, ElpHop, RleEntry } from './types.js';

/** Reads the LCAF header and body; the AFI (16387) has already been read. */
export function decodeLcaf(c: Cursor, depth: number, what: string): Lcaf | undefined {
  const headerAt = c.pos - 2;
  const h: Lcaf = { type: 0, rsvd1: 0, flags: 0, rsvd2: 0, body: { kind: 'null' } };
  const counts = readStruct(c, LCAF_HEADER, h, `${what} LCAF header`);
  if (!counts) return undefined;
  const { type, rsvd1, flags, rsvd2 } = h;
  const length = counts.length!;
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

/** The fixed words of a body into a new object of `kind`; undefined (noted) when they are not all there. */
function head<B extends LcafBody>(w: Cursor, s: Struct<B>, body: B, name: string, what: string): { body: B; counts: Record<string, number> } | undefined {
  const counts = readStruct(w, s, body, `${name} ${what}`);
  return counts && { body, counts };
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
      const h = head(w, LCAF_INSTANCE_ID, { kind: 'instance-id', iid: 0, address: NONE }, name, 'Instance ID');
      return h && withAddress(h.body, addr('address'));
    }
    case LcafType.AsNumber: {
      const h = head(w, LCAF_AS_NUMBER, { kind: 'as-number', asn: 0, address: NONE }, name, 'AS number');
      return h && withAddress(h.body, addr('address'));
    }
    case LcafType.ApplicationData: {
      const body: LcafBody = { kind: 'application-data', tos: 0, protocol: 0, localPortLow: 0, localPortHigh: 0, remotePortLow: 0, remotePortHigh: 0, address: NONE };
      const h = head(w, LCAF_APPLICATION_DATA, body, name, 'fields');
      return h && withAddress(h.body, addr('address'));
    }
    case LcafType.GeoCoordinates:
      return decodeGeo(w, name, depth);
    case LcafType.OpaqueKey: {
      const h = head(w, LCAF_OPAQUE_KEY, { kind: 'opaque-key', keyFieldNum: 0, keyWildcardFields: 0, key: EMPTY }, name, 'key fields');
      if (h) h.body.key = w.rest();
      return h?.body;
    }
    case LcafType.NatTraversal: {
      const body: LcafBody = { kind: 'nat-traversal', msUdpPort: 0, etrUdpPort: 0, globalEtrRloc: NONE, msRloc: NONE, privateEtrRloc: NONE, rtrRlocs: [] };
      if (!head(w, LCAF_NAT_TRAVERSAL, body, name, 'ports')) return undefined;
      const globalEtrRloc = addr('Global ETR RLOC');
      if (!globalEtrRloc) return undefined;
      const msRloc = addr('MS RLOC');
      if (!msRloc) return undefined;
      const privateEtrRloc = addr('Private ETR RLOC');
      if (!privateEtrRloc) return undefined;
      Object.assign(body, { globalEtrRloc, msRloc, privateEtrRloc });
      while (w.remaining > 0) {
        const a = addr(`RTR RLOC ${body.rtrRlocs.length + 1}`);
        if (!a) return undefined;
        body.rtrRlocs.push(a);
      }
      return body;
    }
    case LcafType.NonceLocator: {
      const h = head(w, LCAF_NONCE_LOCATOR, { kind: 'nonce-locator', nonce: 0, address: NONE }, name, 'nonce');
      return h && withAddress(h.body, addr('address'));
    }
    case LcafType.MulticastInfo: {
      const body: LcafBody = { kind: 'multicast-info', iid: 0, sourceMaskLen: 0, groupMaskLen: 0, source: NONE, group: NONE };
      if (!head(w, LCAF_MULTICAST_INFO, body, name, 'fields')) return undefined;
      const source = addr('source');
      if (!source) return undefined;
      const group = addr('group');
      if (!group) return undefined;
      body.source = source;
      body.group = group;
      return body;
    }
    case LcafType.ExplicitLocatorPath: {
      const hops: ElpHop[] = [];
      while (w.remaining > 0) {
        const hop: ElpHop = { lookup: false, rlocProbe: false, strict: false, address: NONE };
        if (!readStruct(w, LCAF_ELP_HOP, hop, `${name} hop ${hops.length + 1} flags`)) return undefined;
        const address = addr(`hop ${hops.length + 1}`);
        if (!address) return undefined;
        hop.address = address;
        hops.push(hop);
      }
      return { kind: 'elp', hops };
    }
    case LcafType.SecurityKey:
      return decodeSecurityKey(w, name, depth);
    case LcafType.SourceDest: {
      const body: LcafBody = { kind: 'source-dest', sourceMaskLen: 0, destMaskLen: 0, source: NONE, dest: NONE };
      if (!head(w, LCAF_SOURCE_DEST, body, name, 'mask lengths')) return undefined;
      const source = addr('source');
      if (!source) return undefined;
      const dest = addr('destination');
      if (!dest) return undefined;
      body.source = source;
      body.dest = dest;
      return body;
    }
    case LcafType.ReplicationList: {
      const entries: RleEntry[] = [];
      while (w.remaining > 0) {
        const entry: RleEntry = { level: 0, address: NONE };
        if (!readStruct(w, LCAF_RLE_ENTRY, entry, `${name} entry ${entries.length + 1}`)) return undefined;
        const address = addr(`entry ${entries.length + 1}`);
        if (!address) return undefined;
        entry.address = address;
        entries.push(entry);
      }
      return { kind: 'rle', entries };
    }
    case LcafType.Json: {
      const h = head(w, LCAF_JSON, { kind: 'json', json: EMPTY, address: NONE }, name, 'JSON length');
      if (!h) return undefined;
      const len = h.counts.jsonLength!;
      if (!w.need(len, `${name} JSON text`)) return undefined;
      h.body.json = w.take(len);
      return withAddress(h.body, addr('address'));
    }
    case LcafType.KeyValue: {
      const key = addr('key');
      if (!key) return undefined;
      const value = addr('value');
      return value && { kind: 'key-value', key, value };
    }
    case LcafType.EncapsulationFormat: {
      const h = head(w, LCAF_ENCAPSULATION_FORMAT, { kind: 'encapsulation-format', bits: 0 }, name, 'encapsulation bits');
      if (!h || w.remaining === 0) return h?.body;
      return withAddress(h.body, addr('address'));
    }
    case LcafType.Vendor: {
      const h = head(w, LCAF_VENDOR, { kind: 'vendor', oui: 0, data: EMPTY }, name, 'OUI');
      if (h) h.body.data = w.rest();
      return h?.body;
    }
    default:
      return { kind: 'raw', bytes: w.rest() };
  }
}

const NONE: LispAddress = { kind: 'none', afi: 0 };
const EMPTY: Uint8Array = new Uint8Array(0);

/** The body with the address that follows its fixed words, or undefined when that did not decode. */
function withAddress<B extends LcafBody & { address?: LispAddress }>(body: B, address: LispAddress | undefined): B | undefined {
  if (!address) return undefined;
  body.address = address;
  return body;
}

function decodeGeo(w: Cursor, name: string, depth: number): LcafBody | undefined {
  const at = w.pos;
  const body: Extract<LcafBody, { kind: 'geo-coordinates' }> = {
    kind: 'geo-coordinates',
    north: false,
    latDegrees: 0,
    latMinutes: 0,
    latSeconds: 0,
    east: false,
    lonDegrees: 0,
    lonMinutes: 0,
    lonSeconds: 0,
    altitude: 0,
    address: NONE,
  };
  if (!readStruct(w, LCAF_GEO, body, `${name} coordinates`)) return undefined;
  const { latDegrees, latMinutes, latSeconds, lonDegrees, lonMinutes, lonSeconds } = body;
  if (latDegrees > 90 || lonDegrees > 180 || latMinutes > 59 || lonMinutes > 59 || latSeconds > 59 || lonSeconds > 59) {
    w.warn(`${name}: coordinates out of range (lat ${latDegrees}°${latMinutes}'${latSeconds}", lon ${lonDegrees}°${lonMinutes}'${lonSeconds}")`, at);
  }
  return withAddress(body, decodeAddress(w, depth, `${name} address`));
}

function decodeSecurityKey(w: Cursor, name: string, depth: number): LcafBody | undefined {
  const body: Extract<LcafBody, { kind: 'security-key' }> = { kind: 'security-key', keyCount: 0, keyAlgorithm: 0, revoke: false, keys: [], address: NONE };
  if (!readStruct(w, LCAF_SECURITY_KEY, body, `${name} fields`)) return undefined;
  for (let i = 0; i < body.keyCount; i++) {
    if (!w.need(2, `${name} key ${i + 1} length`)) return undefined;
    const len = w.u16();
    if (!w.need(len, `${name} key ${i + 1} material`)) return undefined;
    body.keys.push(w.take(len));
  }
  return withAddress(body, decodeAddress(w, depth, `${name} locator`));
}

export function encodeLcaf(w: Writer, l: Lcaf): void {
  writeStruct(w, [LCAF_HEADER[0]!], l);
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
      writeStruct(w, LCAF_INSTANCE_ID, b);
      addr(b.address);
      return;
    case 'as-number':
      writeStruct(w, LCAF_AS_NUMBER, b);
      addr(b.address);
      return;
    case 'application-data':
      writeStruct(w, LCAF_APPLICATION_DATA, b);
      addr(b.address);
      return;
    case 'geo-coordinates':
      writeStruct(w, LCAF_GEO, b);
      addr(b.address);
      return;
    case 'opaque-key':
      writeStruct(w, LCAF_OPAQUE_KEY, b);
      w.bytes(b.key);
      return;
    case 'nat-traversal':
      writeStruct(w, LCAF_NAT_TRAVERSAL, b);
      addr(b.globalEtrRloc);
      addr(b.msRloc);
      addr(b.privateEtrRloc);
      b.rtrRlocs.forEach(addr);
      return;
    case 'nonce-locator':
      writeStruct(w, LCAF_NONCE_LOCATOR, b);
      addr(b.address);
      return;
    case 'multicast-info':
      writeStruct(w, LCAF_MULTICAST_INFO, b);
      addr(b.source);
      addr(b.group);
      return;
    case 'elp':
      for (const h of b.hops) {
        writeStruct(w, LCAF_ELP_HOP, h);
        addr(h.address);
      }
      return;
    case 'security-key':
      writeStruct(w, LCAF_SECURITY_KEY, b);
      for (const k of b.keys) w.u16(k.length).bytes(k);
      addr(b.address);
      return;
    case 'source-dest':
      writeStruct(w, LCAF_SOURCE_DEST, b);
      addr(b.source);
      addr(b.dest);
      return;
    case 'rle':
      for (const e of b.entries) {
        writeStruct(w, LCAF_RLE_ENTRY, e);
        addr(e.address);
      }
      return;
    case 'json':
      writeStruct(w, LCAF_JSON, b, { jsonLength: b.json.length });
      w.bytes(b.json);
      addr(b.address);
      return;
    case 'key-value':
      addr(b.key);
      addr(b.value);
      return;
    case 'encapsulation-format':
      writeStruct(w, LCAF_ENCAPSULATION_FORMAT, b);
      if (b.address) addr(b.address);
      return;
    case 'vendor':
      writeStruct(w, LCAF_VENDOR, b);
      w.bytes(b.data);
      return;
    case 'raw':
      w.bytes(b.bytes);
      return;
  }
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
