// tshark as an oracle: its LISP dissector's field values per frame, and the same fields derived
// from our decoder, in one comparable shape (field name → values in packet order).

import { spawn } from 'node:child_process';
import { haveTool } from '../capture/helpers.js';
import { PacketDecoder, type LispPacket } from '../../src/capture/packets.js';
import { readCapture } from '../../src/capture/source.js';
import { toHex } from '../../src/dissect/addr.js';
import { DataField, dataHeaderFields } from '../../src/dissect/data.js';
import { vxlanFlagBits } from '../../src/dissect/vxlan.js';
import { headerCounts } from '../../src/dissect/control.js';
import { Writer } from '../../src/dissect/cursor.js';
import { decodeWord, encodeWord, fieldValue, type Field, type Word } from '../../src/dissect/field.js';
import { encodeLcaf } from '../../src/dissect/lcaf.js';
import {
  AUTH,
  DATA_FLAGS,
  dataFlagBits,
  ECM_HEADER,
  EID_RECORD,
  INFO,
  INFO_BODY,
  LCAF_AS_NUMBER,
  LCAF_ELP_HOP,
  LCAF_GEO,
  LCAF_HEADER,
  LCAF_INSTANCE_ID,
  LCAF_MULTICAST_FLAGS,
  LCAF_MULTICAST_INFO,
  LCAF_NAT_TRAVERSAL,
  LCAF_NONCE_LOCATOR,
  LCAF_RLE_ENTRY,
  LCAF_SOURCE_DEST,
  LCAF_VENDOR,
  LOCATOR,
  RELIABLE_HEADER,
  RELIABLE_TRAILER,
  VXLAN_FLAGS,
  VXLAN_HEADER,
  type MulticastFlags, MAP_NOTIFY, MAP_REFERRAL, MAP_REGISTER, MAP_REPLY, MAP_REQUEST, MAPPING_RECORD, REFERRAL_RECORD, ERROR_NOTIFICATION, REGISTRATION_REFRESH, REGISTRATION_REJECT } from '../../src/dissect/fields.js';
import { recordCounts, referralCounts } from '../../src/dissect/record.js';
import { MessageType } from '../../src/dissect/registry.js';
import { isOpaque, RELIABLE_END_MARKER, ReliableField, type ReliableMessage, ReliableType } from '../../src/dissect/reliable.js';
import type { AuthFields, ControlMessage, DataMessage, Lcaf, LispAddress, Locator, MappingRecord, NestedLisp } from '../../src/dissect/types.js';

export type FieldMap = Map<string, string[]>;

export const haveTshark = (): boolean => haveTool('tshark');

/** Skips with a printed reason, except under CI where a missing tool is a failure. */
export function requireTool(name: string, present: boolean): boolean {
  if (present) return true;
  if (process.env.CI === 'true') throw new Error(`${name} is required in CI but is not installed`);
  console.warn(`skipping: ${name} is not installed`);
  return false;
}

/** Normalises a value so that "0x0010", "16" and 16 compare equal; other text compares lower-cased. */
export function norm(v: string | number | bigint | boolean): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v !== 'string') return BigInt(v).toString();
  if (/^0x[0-9a-f]+$/i.test(v)) return BigInt(v).toString();
  if (/^\d+$/.test(v)) return BigInt(v).toString();
  return v.toLowerCase();
}

function collect(node: unknown, out: FieldMap, key?: string): void {
  if (Array.isArray(node)) {
    for (const n of node) collect(n, out, key);
    return;
  }
  if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) collect(v, out, k);
    return;
  }
  if (key === undefined || typeof node !== 'string') return;
  const list = out.get(key);
  if (list) list.push(norm(node));
  else out.set(key, [norm(node)]);
}

/**
 * tshark's view: frame number → LISP (and inner IP/UDP) field values in packet order. tshark runs
 * beside us (its start-up costs more than most files' decoding), so that callers can overlap runs.
 */
export async function tsharkFields(file: string, extraArgs: string[] = []): Promise<Map<number, FieldMap>> {
  // tshark exits non-zero on a file cut mid-record but still prints every frame before the cut.
  const child = spawn('tshark', ['-r', file, '-T', 'json', '--no-duplicate-keys', ...extraArgs], { stdio: ['ignore', 'pipe', 'ignore'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => chunks.push(b));
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve());
  });
  const json = Buffer.concat(chunks).toString().trim() || '[]';
  const frames = JSON.parse(json) as { _source: { layers: Record<string, unknown> } }[];
  const out = new Map<number, FieldMap>();
  for (const f of frames) {
    const layers = f._source.layers;
    const frame = layers.frame as Record<string, string>;
    const num = Number(frame['frame.number']);
    const fields: FieldMap = new Map();
    const damage: string[] = [];
    let previous = '';
    for (const [name, layer] of Object.entries(layers)) {
      if (name === 'lisp' || name === 'lisp-data' || name === 'lisp-tcp' || name === 'vxlan' || name === 'ip' || name === 'ipv6' || name === 'udp') {
        collect(layer, fields);
      }
      if (LISP_LAYERS.has(name)) {
        const experts = new Map<string, string[]>();
        collect(layer, experts);
        const severities = experts.get('_ws.expert.severity') ?? [];
        const messages = experts.get('_ws.expert.message') ?? [];
        severities.forEach((v, i) => v === PI_ERROR && damage.push(`${name}: ${messages[i] ?? 'error'}`));
      }
      // tshark puts its mark after the layer that ran out or threw.
      if ((name === '_ws.malformed' || name === '_ws.short') && LISP_LAYERS.has(previous)) damage.push(`${previous}: ${name}`);
      if (name === '_ws.malformed') fields.set('_ws.malformed', ['1']);
      previous = name;
    }
    if (Number(frame['frame.cap_len']) < Number(frame['frame.len'])) damage.push('frame cut by the capture');
    if (damage.length) fields.set(DAMAGE, damage);
    out.set(num, fields);
  }
  return out;
}

/** tshark's protocols of LISP. */
const LISP_LAYERS = new Set(['lisp', 'lisp-data', 'lisp-tcp']);
/** Wireshark's PI_ERROR severity. */
const PI_ERROR = '8388608';
/**
 * The field under which tsharkFields lists why a frame is damaged in tshark's view: a LISP
 * dissector ran out of bytes or threw (`_ws.short`, `_ws.malformed` after a LISP layer), an
 * error-level expert info inside a LISP layer, or the capture cut the frame.
 */
export const DAMAGE = '_damage';

/** Our decoder's packets of a file, in frame order (the view is built while each packet is valid). */
export async function ourPackets<T>(file: string, view: (p: LispPacket) => T): Promise<Map<number, T>> {
  const out = new Map<number, T>();
  const decoder = new PacketDecoder({});
  await readCapture(file, {
    frame: (f) => {
      const p = decoder.decode(f);
      if (p) out.set(p.frame, view(p));
    },
    warning: () => {},
  });
  return out;
}

class Fields {
  readonly map: FieldMap = new Map();
  add(name: string, v: string | number | bigint | boolean): void {
    const list = this.map.get(name);
    if (list) list.push(norm(v));
    else this.map.set(name, [norm(v)]);
  }
}

const colonHex = (b: Uint8Array) => (b.length ? (toHex(b).match(/../g) ?? []).join(':') : '');

/** The field tshark gives a plain IPv4/IPv6 address; LCAFs have their own fields. */
function plainAddr(f: Fields, a: LispAddress, v4: string, v6: string): void {
  if (a.kind === 'ipv4') f.add(v4, a.addr);
  else if (a.kind === 'ipv6') f.add(v6, a.addr);
  else if (a.kind === 'lcaf') lcaf(f, a.lcaf);
}

/** An address inside an LCAF body: tshark names its fields after the body (`lisp.lcaf.iid.afi`, `.ipv4` ...). */
function lcafAddress(f: Fields, prefix: string, a: LispAddress): void {
  f.add(`${prefix}.afi`, a.afi);
  if (a.kind === 'ipv4') f.add(`${prefix}.ipv4`, a.addr);
  else if (a.kind === 'ipv6') f.add(`${prefix}.ipv6`, a.addr);
  else if (a.kind === 'mac') f.add(`${prefix}.mac`, a.addr);
  else if (a.kind === 'dn') f.add(`${prefix}.dn`, a.name);
  else if (a.kind === 'lcaf') lcaf(f, a.lcaf);
}

/**
 * An LCAF as tshark 4.0's packet-lisp.c gives it: the header (for Multicast Info, Rsvd2 as its
 * flags instead of lisp.lcaf.res2), then the body of the types it decodes (0, 1, 2, 3, 5, 7, 8, 9,
 * 10, 12, 13, 15, 255; the others it marks "not dissected yet"). Deliberate difference: the Geo
 * Coordinates' Altitude, which tshark 4.0 shows empty, is not compared.
 */
function lcaf(f: Fields, l: Lcaf): void {
  const b = l.body;
  const w = new Writer();
  encodeLcaf(w, l);
  const length = w.len - 6;
  for (const d of LCAF_HEADER.flatMap((x) => x.fields as readonly Field[])) {
    if (d.key === 'rsvd2' && b.kind === 'multicast-info') continue;
    f.add(d.tshark!, d.kind === 'count' ? length : (l as unknown as Record<string, number>)[d.key]!);
  }
  switch (b.kind) {
    case 'afi-list':
      for (const a of b.addresses) lcafAddress(f, 'lisp.lcaf.afi_list', a);
      break;
    case 'instance-id':
      header(f, LCAF_INSTANCE_ID, b);
      lcafAddress(f, 'lisp.lcaf.iid', b.address);
      break;
    case 'as-number':
      header(f, LCAF_AS_NUMBER, b);
      lcafAddress(f, 'lisp.lcaf.asn', b.address);
      break;
    case 'geo-coordinates':
      header(f, LCAF_GEO, b);
      lcafAddress(f, 'lisp.lcaf.geo', b.address);
      break;
    case 'nat-traversal':
      header(f, LCAF_NAT_TRAVERSAL, b);
      for (const a of [b.globalEtrRloc, b.msRloc, b.privateEtrRloc, ...b.rtrRlocs]) lcafAddress(f, 'lisp.lcaf.natt.rloc', a);
      break;
    case 'nonce-locator':
      header(f, LCAF_NONCE_LOCATOR, b);
      lcafAddress(f, 'lisp.lcaf.nonce_loc', b.address);
      break;
    case 'multicast-info': {
      f.add('lisp.lcaf.mcinfo.flags', l.rsvd2);
      header(f, [LCAF_MULTICAST_FLAGS], decodeWord(LCAF_MULTICAST_FLAGS, l.rsvd2, {} as MulticastFlags));
      header(f, LCAF_MULTICAST_INFO, b);
      lcafAddress(f, 'lisp.lcaf.mcinfo.src', b.source);
      lcafAddress(f, 'lisp.lcaf.mcinfo.grp', b.group);
      break;
    }
    case 'elp':
      for (const h of b.hops) {
        f.add('lisp.lcaf.elp_hop.flags', encodeWord(LCAF_ELP_HOP[0]!, h));
        header(f, LCAF_ELP_HOP, h);
        lcafAddress(f, 'lisp.lcaf.elp_hop', h.address);
      }
      break;
    case 'source-dest':
      header(f, LCAF_SOURCE_DEST, b);
      lcafAddress(f, 'lisp.lcaf.srcdst.src', b.source);
      lcafAddress(f, 'lisp.lcaf.srcdst.dst', b.dest);
      break;
    case 'rle':
      for (const e of b.entries) {
        header(f, LCAF_RLE_ENTRY, e);
        lcafAddress(f, 'lisp.lcaf.rle_entry', e.address);
      }
      break;
    case 'key-value':
      lcafAddress(f, 'lisp.lcaf.kv_key', b.key);
      lcafAddress(f, 'lisp.lcaf.kv_value', b.value);
      break;
    case 'vendor':
      header(f, LCAF_VENDOR, b);
      f.add('lisp.lcaf.vendor.data', colonHex(b.data));
      break;
    default:
      break;
  }
}

/** The fields of header words that tshark names, as the field tables declare them (lisp.type aside). */
function header<T>(f: Fields, words: readonly Word<T>[], m: T, counts: Record<string, number> = {}): void {
  for (const w of words) {
    if (w.tsharkViews) {
      const word = encodeWord(w, m, counts);
      for (const v of w.tsharkViews) f.add(v.name, fieldValue({ key: v.name, kind: 'number', mask: v.mask, name: v.name }, word));
    }
    for (const d of w.fields as readonly Field[]) {
      if (!d.tshark || d.key === 'type') continue;
      const v = d.kind === 'count' ? counts[d.key] : (m as Record<string, unknown>)[d.key];
      f.add(d.tshark, typeof v === 'number' || typeof v === 'boolean' ? v : d.kind === 'flag' || d.kind === 'option' ? false : 0);
    }
  }
}

/** The Authentication Data Length as the wire says it. */
const authCounts = (a: AuthFields) => ({ authDataLength: a.declaredAuthDataLength ?? a.authData.length });

function locator(f: Fields, l: Locator): void {
  header(f, LOCATOR, l);
  f.add('lisp.loc.afi', l.rloc.afi);
  if (l.rloc.kind === 'ipv4' || l.rloc.kind === 'ipv6') f.add('lisp.loc.locator', l.rloc.addr);
  else if (l.rloc.kind === 'lcaf') lcaf(f, l.rloc.lcaf);
}

function record(f: Fields, r: MappingRecord): void {
  header(f, MAPPING_RECORD, r, recordCounts(r));
  f.add('lisp.mapping.eid.afi', r.eid.afi);
  plainAddr(f, r.eid, 'lisp.mapping.eid.ipv4', 'lisp.mapping.eid.ipv6');
  for (const l of r.locators) locator(f, l);
}

function control(f: Fields, m: ControlMessage): void {
  f.add('lisp.type', m.type);
  controlBody(f, m);
}

/** The fields after lisp.type (tshark gives none for the Map-Register of a Registration). */
function controlBody(f: Fields, m: ControlMessage): void {
  if ('unknown' in m) return;
  switch (m.type) {
    case MessageType.MapRequest:
      header(f, [MAP_REQUEST], m, headerCounts(m));
      f.add('lisp.nonce', m.nonce);
      f.add('lisp.mreq.srceid.afi', m.sourceEid.afi);
      // Deliberate difference: tshark 4.0 stops at a Distinguished Name source EID (AFI 17,
      // RFC 8060 §4.1 / RFC 9301 §5.2 allow any AFI there); we go on, so compare up to it.
      if (m.sourceEid.kind === 'dn') break;
      plainAddr(f, m.sourceEid, 'lisp.mreq.srceid.ipv4', 'lisp.mreq.srceid_ipv6');
      for (const a of m.itrRlocs) {
        f.add('lisp.mreq.itr_rloc.afi', a.afi);
        plainAddr(f, a, 'lisp.mreq.itr_rloc_ipv4', 'lisp.mreq.itr_rloc_ipv6');
      }
      // Deliberate difference: tshark 4.0 stops at an ITR-RLOC of AFI 0, which RFC 9437 §5 uses
      // to withdraw a subscription; we go on, so compare up to it.
      if (m.itrRlocs.some((a) => a.kind === 'none')) break;
      for (const p of m.eids) {
        header(f, EID_RECORD, p);
        f.add('lisp.mreq.record.prefix.afi', p.prefix.afi);
        plainAddr(f, p.prefix, 'lisp.mreq.record.prefix.ipv4', 'lisp.mreq.record.prefix.ipv6');
      }
      if (m.mapReply) record(f, m.mapReply);
      break;
    case MessageType.MapReply:
      header(f, [MAP_REPLY], m, headerCounts(m));
      f.add('lisp.nonce', m.nonce);
      m.records.forEach((r) => record(f, r));
      break;
    case MessageType.MapRegister:
    case MessageType.MapNotify: {
      if (m.type === MessageType.MapRegister) header(f, [MAP_REGISTER], m, headerCounts(m));
      else header(f, [MAP_NOTIFY], m, headerCounts(m));
      f.add('lisp.nonce', m.nonce);
      header(f, AUTH, m, authCounts(m));
      f.add('lisp.auth', colonHex(m.authData));
      m.records.forEach((r) => record(f, r));
      if (m.xtrIdPresent && m.xtrId) {
        f.add('lisp.xtrid', colonHex(m.xtrId));
        f.add('lisp.siteid', colonHex(m.siteId!));
      }
      break;
    }
    case MessageType.MapReferral:
      header(f, [MAP_REFERRAL], m, headerCounts(m));
      f.add('lisp.nonce', m.nonce);
      for (const r of m.records) {
        header(f, REFERRAL_RECORD, r, referralCounts(r));
        f.add('lisp.mapping.eid.afi', r.eid.afi);
        plainAddr(f, r.eid, 'lisp.mapping.eid.ipv4', 'lisp.mapping.eid.ipv6');
        for (const l of r.referrals) locator(f, l);
      }
      break;
    case MessageType.Info:
      header(f, [INFO], m);
      f.add('lisp.nonce', m.nonce);
      header(f, AUTH, m, authCounts(m));
      header(f, INFO_BODY, m);
      f.add('lisp.info.prefix.afi', m.eid.afi);
      plainAddr(f, m.eid, 'lisp.info.prefix.ipv4', 'lisp.info.prefix.ipv6');
      f.add('lisp.info.afi', m.address.afi);
      if (m.address.kind === 'lcaf') lcaf(f, m.address.lcaf);
      break;
    case MessageType.ECM:
      header(f, [ECM_HEADER], m);
      // tshark 4.0 does not know LISP-SEC: it looks for the inner IP header right after the ECM
      // header, where RFC 9303 §6.1 puts the Authentication Data, and decodes no inner packet.
      if (m.lispSec) break;
      // Nor Open Overlay Router's MS-RTR Authentication Data (AD Type 2) in the same place.
      if (m.msRtrAuth) break;
      if (!m.inner) break;
      if (m.inner.ipVersion === 4) {
        f.add('ip.src', m.inner.src);
        f.add('ip.dst', m.inner.dst);
      } else {
        f.add('ipv6.src', m.inner.src);
        f.add('ipv6.dst', m.inner.dst);
      }
      f.add('udp.srcport', m.inner.sport);
      f.add('udp.dstport', m.inner.dport);
      if (m.inner.message) control(f, m.inner.message);
      break;
  }
}

function reliablePrefix(f: Fields, maskLen: number, eid: LispAddress): void {
  f.add('lisp-tcp.message.eid.prefix.length', maskLen);
  f.add('lisp-tcp.message.eid.prefix.afi', eid.afi);
  plainAddr(f, eid, 'lisp-tcp.message.eid.ipv4', 'lisp-tcp.message.eid.ipv6');
}

/** A reliable-transport message (tshark's lisp-tcp) of `length` bytes. */
function reliable(f: Fields, m: ReliableMessage, length: number): void {
  // header() leaves every `type` to its caller (lisp.type for the control messages).
  f.add(ReliableField.type.tshark!, m.type);
  header(f, RELIABLE_HEADER, m, { length });
  if (!isOpaque(m)) {
    switch (m.type) {
      case ReliableType.ErrorNotification:
        header(f, ERROR_NOTIFICATION, m);
        break;
      case ReliableType.Registration:
        controlBody(f, m.mapRegister);
        break;
      case ReliableType.RegistrationAck:
        reliablePrefix(f, m.eidMaskLen, m.eid);
        break;
      case ReliableType.RegistrationReject:
        header(f, REGISTRATION_REJECT, m);
        reliablePrefix(f, m.eidMaskLen, m.eid);
        break;
      case ReliableType.RegistrationRefresh:
        header(f, REGISTRATION_REFRESH, m);
        if (m.eid) reliablePrefix(f, m.eidMaskLen ?? 0, m.eid);
        break;
      case ReliableType.MappingNotification:
        f.add('lisp-tcp.message.xtrid', colonHex(m.xtrId));
        f.add('lisp-tcp.message.siteid', colonHex(m.siteId));
        record(f, m.record);
        break;
    }
  }
  header(f, RELIABLE_TRAILER, { ...m, endMarker: m.endMarker ?? RELIABLE_END_MARKER });
}

/** Our decode in tshark's field names (the subset we compare). */
export function ourFields(p: LispPacket): FieldMap {
  const f = new Fields();
  if (p.ip) {
    f.add(p.ip.version === 4 ? 'ip.src' : 'ipv6.src', p.ip.src);
    f.add(p.ip.version === 4 ? 'ip.dst' : 'ipv6.dst', p.ip.dst);
  }
  if (p.udp) {
    f.add('udp.srcport', p.udp.srcPort);
    f.add('udp.dstport', p.udp.dstPort);
  }
  if (p.control) control(f, p.control);
  else if (p.reliable) {
    for (const e of p.reliable) reliable(f, e.message, e.length);
  } else if (p.data) data(f, p.data);
  else if (p.vxlan) {
    header(f, [VXLAN_FLAGS], vxlanFlagBits(p.vxlan.flags));
    header(f, VXLAN_HEADER, p.vxlan);
  } else if (p.icmp?.quoted.lisp) {
    // tshark dissects the quoted IP/UDP inside its icmp layer; the quoted LISP is a layer of its own.
    nested(f, p.icmp.quoted.lisp);
  }
  return f.map;
}

/** LISP inside another packet (in LISP data, quoted by ICMP), as tshark's lisp / lisp-data layers. */
function nested(f: Fields, n: NestedLisp): void {
  if (n.control) control(f, n.control);
  else if (n.data) data(f, n.data);
}

function data(f: Fields, m: DataMessage): void {
  {
    const h = m.header;
    const d = dataHeaderFields(h);
    header(f, [DATA_FLAGS], dataFlagBits(h));
    // Deliberate difference: with P (LISP-GPE, RFC 9305 §3) the nonce is 16 bits and byte 3 is the
    // Next Protocol; tshark 4.0 knows no GPE and reads 24 bits.
    const D = DataField;
    if (d.nonce !== undefined && d.gpeNextProtocol === undefined) f.add(D.nonce.tshark!, d.nonce);
    if (d.srcMapVersion !== undefined) {
      f.add(D.srcMapVersion.tshark!, d.srcMapVersion);
      f.add(D.dstMapVersion.tshark!, d.dstMapVersion!);
    }
    if (d.iid !== undefined) f.add(D.iid.tshark!, d.iid);
    if (d.lsb !== undefined) f.add((d.iid !== undefined ? D.lsb8 : D.lsb32).tshark!, d.lsb);
  }
  const i = m.inner;
  if (i?.lisp) {
    // tshark dissects the inner packet too: its IP and UDP fields follow the outer ones.
    f.add(i.ipVersion === 4 ? 'ip.src' : 'ipv6.src', i.src);
    f.add(i.ipVersion === 4 ? 'ip.dst' : 'ipv6.dst', i.dst);
    f.add('udp.srcport', i.sport!);
    f.add('udp.dstport', i.dport!);
    nested(f, i.lisp);
  }
}
