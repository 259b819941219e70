// A Wireshark-like detail tree of a LISP message, each node with the byte range it covers (for the
// hex pane). Ranges are derived from encoded sizes: for every structure decode(encode(x)) = x, so
// the size of what was decoded is the size of its encoding.

import { infoName } from '../dissect/names.js';
import { nonceHex, toHex } from '../dissect/addr.js';
import { addressText, encodeAddress, prefixText } from '../dissect/address.js';
import { authAlgorithm, keyIdField } from '../dissect/auth.js';
import { Writer } from '../dissect/cursor.js';
import { DataField, dataHeaderFields } from '../dissect/data.js';
import { icmpEchoKind, IP_PROTOCOL_NAMES } from '../dissect/ip.js';
import { tcpFlagLetters } from '../dissect/tcp.js';
import { decodeWord, encodeWord, fieldOf, fieldWidth, flagFields, isSet, structFields, type Field, type Struct, type Word } from '../dissect/field.js';
import {
  DATA_FLAGS,
  dataFlagBits,
  ECM_HEADER,
  EID_RECORD,
  INFO,
  INFO_BODY,
  LCAF_AS_NUMBER,
  LCAF_APPLICATION_DATA,
  LCAF_ELP_HOP,
  LCAF_HEADER,
  LCAF_INSTANCE_ID,
  LCAF_MULTICAST_FLAGS,
  LCAF_MULTICAST_INFO,
  LCAF_NAT_TRAVERSAL,
  LCAF_NONCE_LOCATOR,
  LCAF_OPAQUE_KEY,
  LCAF_RLE_ENTRY,
  LCAF_SECURITY_KEY,
  LCAF_SOURCE_DEST,
  LCAF_VENDOR,
  EID_AD,
  EID_AD_HMAC,
  AD_HEADER,
  LOCATOR,
  OTK_AD,
  PKT_AD,
  VXLAN_FLAGS,
  type MulticastFlags, MAP_NOTIFY, MAP_REFERRAL, MAP_REGISTER, MAP_REPLY, MAP_REQUEST, MAPPING_RECORD, REFERRAL_RECORD, SHARED_EXTENSION, ERROR_NOTIFICATION, REGISTRATION_REFRESH, REGISTRATION_REJECT } from '../dissect/fields.js';
import { ENCAP_FORMAT_BITS } from '../dissect/lcaf.js';
import { otkAdLength, pktAdLength } from '../dissect/lispsec.js';
import {
  ACTIONS,
  AFI_NAMES,
  GEO_NO_ALTITUDE,
  GPE_NEXT_PROTOCOLS,
  LCAF_TYPES,
  LISP_SEC_AD_TYPES,
  LISP_SEC_HMAC_IDS,
  LISP_SEC_KDF_IDS,
  LISP_SEC_KEY_WRAP_IDS,
  MESSAGE_TYPES,
  MessageType,
  MS_RTR_AD_TYPE,
  REFERRAL_ACTIONS,
  TTL_UNLIMITED,
} from '../dissect/registry.js';
import { isOpaque, REFRESH_SCOPES, ReliableField, REJECT_REASONS, RELIABLE_END_MARKER, type ReliableMessage, ReliableType, reliableTypeTitle } from '../dissect/reliable.js';
import type {
  AuthFields,
  ControlMessage,
  DataMessage,
  EcmInner,
  LispAddress,
  InnerSummary,
  LispSecAd,
  Locator,
  MappingRecord,
  MsRtrAuth,
  NestedLisp,
  ReferralRecord,
  VxlanMessage,
} from '../dissect/types.js';
import { VxlanField, vxlanFlagBits, vxlanFlagLetters, vxlanGroupPolicy } from '../dissect/vxlan.js';

export interface TreeNode {
  label: string;
  /** Byte range [start, end) relative to the start of what the tree was built for. */
  start: number;
  end: number;
  children?: TreeNode[];
}

function sizeOf(encode: (w: Writer) => void): number {
  const w = new Writer(64);
  encode(w);
  return w.len;
}

const addrSize = (a: LispAddress) => sizeOf((w) => encodeAddress(w, a));
const hex = (n: number, digits: number) => `0x${n.toString(16).padStart(digits, '0')}`;
const setBit = (on: boolean) => (on ? 'Set' : 'Not set');

/** Builds nodes left to right, keeping the byte offset. */
class Builder {
  readonly nodes: TreeNode[] = [];
  constructor(public pos: number) {}

  leaf(label: string, size: number): TreeNode {
    const n = { label, start: this.pos, end: this.pos + size };
    this.nodes.push(n);
    this.pos += size;
    return n;
  }

  /** A node spanning what `fill` adds beneath it. */
  group(label: string, fill: (b: Builder) => void): TreeNode {
    const b = new Builder(this.pos);
    fill(b);
    const n: TreeNode = { label, start: this.pos, end: b.pos, children: b.nodes };
    this.nodes.push(n);
    this.pos = b.pos;
    return n;
  }

  /** Zero-width annotation at the current position (flags already counted, notes). */
  note(label: string, start = this.pos, end = this.pos): void {
    this.nodes.push({ label, start, end });
  }
}

function addressNodes(b: Builder, a: LispAddress, what: string): void {
  b.leaf(`${what} AFI: ${AFI_NAMES.get(a.afi) ?? 'Unknown'} (${a.afi})`, 2);
  const rest = addrSize(a) - 2;
  if (a.kind === 'lcaf') {
    b.group(`${what}: ${addressText(a)}`, (g) => lcafNodes(g, a));
  } else if (a.kind !== 'none') {
    b.leaf(`${what}: ${addressText(a)}`, rest);
  }
}

/** A leaf per field of byte-aligned words, each over its bytes. */
function leaves<T>(b: Builder, s: Struct<T>, m: T): void {
  for (const w of s) for (const f of w.fields as readonly Field[]) b.leaf(fieldText(f, m), fieldWidth(f) >> 3);
}

function lcafNodes(b: Builder, a: Extract<LispAddress, { kind: 'lcaf' }>): void {
  const l = a.lcaf;
  const info = LCAF_TYPES.get(l.type);
  const [rsvd1, flags, type, rsvd2] = LCAF_HEADER[0]!.fields as readonly Field[];
  b.leaf(fieldText(rsvd1!, l), 1);
  b.leaf(fieldText(flags!, l), 1);
  b.leaf(`${type!.name}: ${info?.title ?? 'Unassigned'} (${l.type})`, 1);
  const body = l.body;
  if (body.kind === 'instance-id') b.leaf(`IID Mask Length: ${l.rsvd2}`, 1);
  else if (body.kind === 'multicast-info') {
    const bits = decodeWord(LCAF_MULTICAST_FLAGS, l.rsvd2, {} as MulticastFlags);
    b.leaf(`Flags: ${flagFields(LCAF_MULTICAST_FLAGS).map((f) => `${f.name}=${+isSet(f, bits)}`).join(' ')}`, 1);
  } else if (body.kind === 'json') b.leaf(`Binary JSON: ${setBit((l.rsvd2 & 1) !== 0)}`, 1);
  else b.leaf(fieldText(rsvd2!, l), 1);
  const lengthAt = b.pos;
  b.leaf('Length', 2);
  const start = b.pos;
  const sub = (x: LispAddress, what: string) => addressNodes(b, x, what);
  switch (body.kind) {
    case 'null':
      break;
    case 'afi-list':
      body.addresses.forEach((x, i) => sub(x, `Address ${i + 1}`));
      break;
    case 'instance-id':
      leaves(b, LCAF_INSTANCE_ID, body);
      sub(body.address, 'Address');
      break;
    case 'as-number':
      leaves(b, LCAF_AS_NUMBER, body);
      sub(body.address, 'Address');
      break;
    case 'application-data':
      leaves(b, [LCAF_APPLICATION_DATA[0]!], body);
      b.leaf(`Local Ports: ${body.localPortLow}-${body.localPortHigh}`, 4);
      b.leaf(`Remote Ports: ${body.remotePortLow}-${body.remotePortHigh}`, 4);
      sub(body.address, 'Address');
      break;
    case 'geo-coordinates':
      b.leaf(`Latitude: ${body.north ? 'N' : 'S'} ${body.latDegrees}° ${body.latMinutes}' ${body.latSeconds}"`, 4);
      b.leaf(`Longitude: ${body.east ? 'E' : 'W'} ${body.lonDegrees}° ${body.lonMinutes}' ${body.lonSeconds}"`, 4);
      b.leaf(`Altitude: ${body.altitude === GEO_NO_ALTITUDE ? 'not present' : `${body.altitude} m`}`, 4);
      sub(body.address, 'Address');
      break;
    case 'opaque-key':
      leaves(b, LCAF_OPAQUE_KEY, body);
      b.leaf(`Key: ${toHex(body.key)}`, body.key.length);
      break;
    case 'nat-traversal':
      leaves(b, LCAF_NAT_TRAVERSAL, body);
      sub(body.globalEtrRloc, 'Global ETR RLOC');
      sub(body.msRloc, 'MS RLOC');
      sub(body.privateEtrRloc, 'Private ETR RLOC');
      body.rtrRlocs.forEach((x, i) => sub(x, `RTR RLOC ${i + 1}`));
      break;
    case 'nonce-locator':
      leaves(b, LCAF_NONCE_LOCATOR, body);
      sub(body.address, 'Address');
      break;
    case 'multicast-info':
      leaves(b, LCAF_MULTICAST_INFO, body);
      sub(body.source, 'Source');
      sub(body.group, 'Group');
      break;
    case 'elp':
      body.hops.forEach((h, i) =>
        b.group(`Hop ${i + 1}: ${addressText(h.address)}`, (g) => {
          const w = LCAF_ELP_HOP[0]!;
          g.leaf(`Flags: ${hex(encodeWord(w, h), 4)} (${flagFields(w).map((f) => `${f.name}=${+isSet(f, h)}`).join(' ')})`, 2);
          addressNodes(g, h.address, 'Hop');
        }),
      );
      break;
    case 'security-key':
      // Key Count, Reserved, Key Algorithm a byte each; Revoke the last bit of the fourth.
      for (const f of LCAF_SECURITY_KEY[0]!.fields as readonly Field[]) if (f.key !== 'rsvd4') b.leaf(fieldText(f, body), 1);
      body.keys.forEach((k, i) => {
        b.leaf(`Key ${i + 1} Length: ${k.length}`, 2);
        b.leaf(`Key ${i + 1} Material: <${k.length} bytes, masked>`, k.length);
      });
      sub(body.address, 'Locator');
      break;
    case 'source-dest':
      leaves(b, LCAF_SOURCE_DEST, body);
      sub(body.source, 'Source');
      sub(body.dest, 'Destination');
      break;
    case 'rle':
      body.entries.forEach((e, i) =>
        b.group(`RLE Entry ${i + 1}: ${addressText(e.address)}, level ${e.level}`, (g) => {
          leaves(g, LCAF_RLE_ENTRY, e);
          addressNodes(g, e.address, 'RTR/ETR');
        }),
      );
      break;
    case 'json':
      b.leaf(`JSON Length: ${body.json.length}`, 2);
      b.leaf(`JSON: ${(l.rsvd2 & 1) !== 0 ? toHex(body.json) : new TextDecoder().decode(body.json)}`, body.json.length);
      sub(body.address, 'Address');
      break;
    case 'key-value':
      sub(body.key, 'Key');
      sub(body.value, 'Value');
      break;
    case 'encapsulation-format': {
      const names = ENCAP_FORMAT_BITS.filter(([m]) => (body.bits & m) !== 0).map(([, n]) => n);
      b.leaf(`Encapsulations: ${names.join(', ') || 'none'} (${hex(body.bits, 8)})`, 4);
      if (body.address) sub(body.address, 'Address');
      break;
    }
    case 'vendor':
      leaves(b, LCAF_VENDOR, body);
      b.leaf(`Vendor Data: ${toHex(body.data)}`, body.data.length);
      break;
    case 'raw':
      b.leaf(`Body (not decoded): ${toHex(body.bytes)}`, body.bytes.length);
      break;
  }
  if (l.trailing) b.leaf(`Unused bytes inside Length: ${toHex(l.trailing)}`, l.trailing.length);
  const len = b.pos - start;
  const lenNode = b.nodes.find((n) => n.start === lengthAt && n.label === 'Length');
  if (lenNode) lenNode.label = `Length: ${len}`;
}

function locatorLabel(l: Locator, i: number): string {
  const flags = [l.local && 'Local', l.probed && 'Probed', l.reachable ? 'Reachable' : 'Unreachable'].filter(Boolean);
  return `Locator Record ${i + 1}, ${addressText(l.rloc)}, ${flags.join(', ')}, Priority/Weight: ${l.priority}/${l.weight}, Multicast Priority/Weight: ${l.mpriority}/${l.mweight}`;
}

function locatorNodes(b: Builder, l: Locator, i: number): void {
  const [counts, flags] = LOCATOR;
  b.group(locatorLabel(l, i), (g) => {
    for (const f of counts!.fields) g.leaf(`${fieldText(f, l)}${f.key === 'priority' && l.priority === 255 ? ' (do not use for unicast)' : ''}`, 1);
    g.group(`Flags: ${flagFields(flags!).map((f) => `${f.letter}=${+isSet(f, l)}`).join(' ')}`, (fg) => {
      for (const f of flags!.fields) fg.note(fieldText(f, l), fg.pos, fg.pos + 2);
      fg.pos += 2;
    });
    addressNodes(g, l.rloc, 'Locator');
  });
}

function actionTitle(act: number, referral: boolean): string {
  const t = (referral ? REFERRAL_ACTIONS : ACTIONS).get(act)?.title ?? 'Unassigned';
  return `${t} (${act})`;
}

function recordNodes(b: Builder, r: MappingRecord, label: string): void {
  const eid = prefixText(r.eid, r.eidMaskLen);
  b.group(
    `${label}, EID Prefix: ${eid}, TTL: ${r.ttl === TTL_UNLIMITED ? 'Unlimited' : r.ttl}, Action: ${actionTitle(r.action, false)}${r.authoritative ? ', Authoritative' : ''}`,
    (g) => {
      g.leaf(`Record TTL: ${r.ttl}${r.ttl === TTL_UNLIMITED ? ' (Unlimited)' : ' minutes'}`, 4);
      g.leaf(`Locator Count: ${wireCount(r.declaredLocatorCount, r.locators.length)}${decodedOf(r.declaredLocatorCount, r.locators.length)}`, 1);
      g.leaf(`EID Mask Length: ${r.eidMaskLen}`, 1);
      g.note(`Action: ${actionTitle(r.action, false)}`, g.pos, g.pos + 2);
      g.note(fieldText(RECORD_A, r), g.pos, g.pos + 2);
      g.leaf(fieldText(RECORD_RESERVED, r), 2);
      g.note(`${RECORD_RSVD.name} (${fieldWidth(RECORD_RSVD)} bits): ${r.reserved2 ?? 0}`, g.pos, g.pos + 2);
      g.leaf(fieldText(RECORD_VERSION, r), 2);
      addressNodes(g, r.eid, 'EID Prefix');
      r.locators.forEach((l, i) => locatorNodes(g, l, i));
    },
  );
}

function referralNodes(b: Builder, r: ReferralRecord, i: number): void {
  b.group(
    `Referral Record ${i + 1}, EID Prefix: ${prefixText(r.eid, r.eidMaskLen)}, TTL: ${r.ttl}, Action: ${actionTitle(r.action, true)}`,
    (g) => {
      g.leaf(`Record TTL: ${r.ttl} minutes`, 4);
      g.leaf(`Referral Count: ${wireCount(r.declaredReferralCount, r.referrals.length)}${decodedOf(r.declaredReferralCount, r.referrals.length)}`, 1);
      g.leaf(`EID Mask Length: ${r.eidMaskLen}`, 1);
      g.note(`Action: ${actionTitle(r.action, true)}`, g.pos, g.pos + 2);
      for (const k of ['authoritative', 'incomplete']) g.note(fieldText(fieldOf(REFERRAL_RECORD[1]!, k), r), g.pos, g.pos + 2);
      g.leaf(fieldText(fieldOf(REFERRAL_RECORD[1]!, 'reserved'), r), 2);
      g.note(`Signature Count: ${wireCount(r.declaredSignatureCount, r.signatures.length)}${decodedOf(r.declaredSignatureCount, r.signatures.length)}`, g.pos, g.pos + 2);
      g.leaf(`Map-Version Number: ${r.mapVersion}`, 2);
      addressNodes(g, r.eid, 'EID Prefix');
      r.referrals.forEach((l, j) => locatorNodes(g, l, j));
      r.signatures.forEach((s, j) =>
        g.group(`Signature ${j + 1}: algorithm ${s.algorithm}, key tag ${s.keyTag}`, (sg) => {
          sg.leaf(`Original Record TTL: ${s.originalTtl} minutes`, 4);
          sg.leaf(`Signature Expiration: ${s.expiration} (${new Date(s.expiration * 1000).toISOString()})`, 4);
          sg.leaf(`Signature Inception: ${s.inception} (${new Date(s.inception * 1000).toISOString()})`, 4);
          sg.leaf(`Key Tag: ${s.keyTag}`, 2);
          sg.leaf(`Signature Length: ${s.signature.length}`, 2);
          sg.leaf(`Signature Algorithm: ${s.algorithm}`, 1);
          sg.leaf(`Reserved: ${hex(s.reserved ?? 0, 6)}`, 3);
          sg.leaf(`Signature: ${toHex(s.signature)}`, s.signature.length);
        }),
      );
    },
  );
}

function authNodes(b: Builder, a: AuthFields, verdict: string | undefined, prefix = ''): void {
  const alg = authAlgorithm(a.algorithmId);
  b.leaf(`${prefix}Key ID: ${hex(keyIdField(a), 4)} (Key ${a.keyId}, ${alg?.name ?? `algorithm ${a.algorithmId}`})`, 2);
  const declared = a.declaredAuthDataLength;
  b.leaf(`${prefix}Authentication Data Length: ${declared ?? a.authData.length}${declared !== undefined ? ` (${a.authData.length} present)` : ''}`, 2);
  b.leaf(`${prefix}Authentication Data: ${toHex(a.authData)}${verdict ? ` [${verdict}]` : ''}`, a.authData.length);
}

const named = (name: string | undefined, id: number) => `${name ?? 'Unknown'} (${id})`;

function recordCount(b: Builder, declared: number | undefined, decoded: number): void {
  b.leaf(`Record Count: ${wireCount(declared, decoded)}${decodedOf(declared, decoded)}`, 1);
}

/** A count as the wire says it (the decoder keeps it when it differs from what was decoded). */
const wireCount = (declared: number | undefined, decoded: number) => declared ?? decoded;
const decodedOf = (declared: number | undefined, decoded: number) => (declared !== undefined && declared !== decoded ? ` (${decoded} decoded)` : '');

/** LISP-SEC Authentication Data (RFC 9303 §6.1, §6.2). The OTK is masked as key material is. */
function lispSecNodes(b: Builder, ad: LispSecAd, fromMapServer: boolean): void {
  const [adType, adReserved] = structFields(AD_HEADER);
  b.group('LISP-SEC Authentication Data', (g) => {
    g.leaf(`${adType!.name}: ${named(LISP_SEC_AD_TYPES.get(ad.adType), ad.adType)}`, 1);
    g.leaf(fieldText(adReserved!, ad), 3);
    if (ad.data) g.leaf(`Data: ${toHex(ad.data)}`, ad.data.length);
    const o = ad.otkAd;
    if (o) {
      const key = fromMapServer ? 'MS-OTK' : 'OTK';
      const [len, wrapping] = structFields(OTK_AD);
      const wrap = named(LISP_SEC_KEY_WRAP_IDS.get(o.wrappingId)?.name, o.wrappingId);
      g.group(`OTK-AD (One-Time Key Authentication Data), ${key}, ${wrap}`, (k) => {
        k.leaf(`${len!.name}: ${otkAdLength(o)}`, 2);
        k.leaf(`${wrapping!.name}: ${wrap}`, 2);
        k.leaf(`One-Time-Key Preamble: ${toHex(o.preamble)}`, o.preamble.length);
        k.leaf(`One-Time Key${fromMapServer ? ' (MS-OTK)' : ''}: <${o.otk.length} bytes, masked>`, o.otk.length);
      });
    }
    const e = ad.eidAd;
    if (e) {
      const eids = e.records?.map((p) => prefixText(p.prefix, p.maskLen)).join(', ');
      const [len, kdf] = structFields(EID_AD);
      g.group(`EID-AD (EID Authentication Data)${eids ? `: ${eids}` : ', KDF ID only'}`, (k) => {
        const at = k.pos;
        k.leaf(`${len!.name}: `, 2);
        k.leaf(`${kdf!.name}: ${named(LISP_SEC_KDF_IDS.get(e.kdfId), e.kdfId)}`, 2);
        if (e.eidHmacId !== undefined) {
          const [count, reserved, hmacId] = structFields(EID_AD_HMAC);
          k.leaf(`${count!.name}: ${e.records?.length ?? 0}`, 1);
          k.leaf(fieldText(reserved!, e), 1);
          k.leaf(`${hmacId!.name}: ${named(LISP_SEC_HMAC_IDS.get(e.eidHmacId)?.name, e.eidHmacId)}`, 2);
          (e.records ?? []).forEach((p, i) =>
            k.group(`EID Record ${i + 1}: ${prefixText(p.prefix, p.maskLen)}`, (r) => {
              for (const f of EID_RECORD[0]!.fields) r.leaf(fieldText(f, p), 1);
              addressNodes(r, p.prefix, 'EID Prefix');
            }),
          );
          if (e.eidHmac) k.leaf(`EID HMAC: ${toHex(e.eidHmac)}`, e.eidHmac.length);
        }
        // The Length is what the fields add up to (the decoder keeps no declared value).
        k.nodes[0]!.label += k.pos - at;
      });
    }
    const p = ad.pktAd;
    if (p) {
      const [len, hmacId] = structFields(PKT_AD);
      const alg = named(LISP_SEC_HMAC_IDS.get(p.pktHmacId)?.name, p.pktHmacId);
      g.group(`PKT-AD (Packet Authentication Data), ${alg}`, (k) => {
        k.leaf(`${len!.name}: ${pktAdLength(p)}`, 2);
        k.leaf(`${hmacId!.name}: ${alg}`, 2);
        k.leaf(`PKT HMAC: ${toHex(p.pktHmac)}`, p.pktHmac.length);
      });
    }
  });
}

/** A header word's flags, each a line over the word, as the field table names them. */
function flagLines<T>(b: Builder, def: Word<T>, m: T): void {
  const start = b.pos;
  const flags = flagFields(def);
  b.group(`Flags: ${flags.filter((f) => isSet(f, m)).map((f) => f.letter).join(' ') || 'none'}`, (g) => {
    for (const f of flags) g.note(`${f.letter} (${f.name}): ${setBit(isSet(f, m))}`, start, start + 4);
  });
}

/** `Name: value` of a field, reserved bits in hex (Wireshark's BASE_HEX), flags Set / Not set. */
function fieldText(f: Field, m: unknown): string {
  const v = (m as Record<string, unknown>)[f.key];
  if (f.kind === 'reserved' || f.hex) return `${f.name}: ${hex(typeof v === 'number' ? v : 0, Math.ceil(fieldWidth(f) / 4))}`;
  if (f.kind === 'flag' || f.kind === 'option') return `${f.name}: ${setBit(v === true)}`;
  return `${f.name}: ${String(v)}`;
}

const RECORD_A = fieldOf(MAPPING_RECORD[1]!, 'authoritative');
const RECORD_RESERVED = fieldOf(MAPPING_RECORD[1]!, 'reserved');
const RECORD_RSVD = fieldOf(MAPPING_RECORD[2]!, 'reserved2');
const RECORD_VERSION = fieldOf(MAPPING_RECORD[2]!, 'mapVersion');

export interface TreeOptions {
  /** Verdict text for the message's authentication data ("verified", "FAILED: ..."). */
  authVerdict?: string | undefined;
  /** Verdict text for the Map-Server's authentication towards an RTR. */
  msRtrVerdict?: string | undefined;
}

function msRtrNodes(b: Builder, a: MsRtrAuth, verdict: string | undefined): void {
  b.group(`MS-RTR Authentication${a.adType !== undefined ? ' Data' : ''}${verdict ? ` [${verdict}]` : ''}`, (g) => {
    if (a.adType !== undefined) {
      const [adType, reserved] = structFields(AD_HEADER);
      g.leaf(`${adType!.name}: ${a.adType === MS_RTR_AD_TYPE ? 'MS-RTR Authentication Data' : 'Unknown'} (${a.adType})`, 1);
      g.leaf(fieldText(reserved!, a), 3);
    }
    authNodes(g, a, verdict, 'MS-RTR ');
  });
}

/** The detail tree of a control message whose first byte is at offset `base`. */
export function controlTree(m: ControlMessage, base = 0, opts: TreeOptions = {}): TreeNode {
  const b = new Builder(base);
  const title = 'unknown' in m ? `Unknown (${m.type})` : MESSAGE_TYPES.get(m.type)!.title;
  b.leaf(`Type: ${title} (${m.type})`, 0);
  if ('unknown' in m) {
    b.leaf(`Data: ${toHex(m.data)}`, m.data.length);
    return { label: `LISP Control: ${title}`, start: base, end: b.pos, children: b.nodes };
  }
  const nonce = (n: bigint) => b.leaf(`Nonce: 0x${nonceHex(n)}`, 8);
  switch (m.type) {
    case MessageType.MapRequest:
      flagLines(b, MAP_REQUEST, m);
      if (m.reserved) b.note(fieldText(fieldOf(MAP_REQUEST, 'reserved'), m), base, base + 3);
      b.leaf(`ITR-RLOC Count: ${wireCount(m.declaredItrRlocCount, m.itrRlocs.length) - 1} (${m.declaredItrRlocCount ?? m.itrRlocs.length} ITR-RLOCs${decodedOf(m.declaredItrRlocCount, m.itrRlocs.length)})`, 3);
      recordCount(b, m.declaredRecordCount, m.eids.length);
      nonce(m.nonce);
      addressNodes(b, m.sourceEid, 'Source EID');
      m.itrRlocs.forEach((a, i) => b.group(`ITR-RLOC ${i + 1}: ${addressText(a)}`, (g) => addressNodes(g, a, 'ITR-RLOC')));
      m.eids.forEach((p, i) =>
        b.group(`Map-Request Record ${i + 1}: ${prefixText(p.prefix, p.maskLen)}`, (g) => {
          for (const f of EID_RECORD[0]!.fields) g.leaf(fieldText(f, p), 1);
          addressNodes(g, p.prefix, 'EID Prefix');
        }),
      );
      if (m.mapReply) recordNodes(b, m.mapReply, 'Map-Reply Record');
      if (m.xtrId) b.leaf(`xTR-ID: ${toHex(m.xtrId)}`, 16);
      if (m.siteId) b.leaf(`Site-ID: ${toHex(m.siteId)}`, 8);
      break;
    case MessageType.MapReply:
      flagLines(b, MAP_REPLY, m);
      b.leaf(fieldText(fieldOf(MAP_REPLY, 'reserved'), m), 3);
      recordCount(b, m.declaredRecordCount, m.records.length);
      nonce(m.nonce);
      m.records.forEach((r, i) => recordNodes(b, r, `Mapping Record ${i + 1}`));
      if (m.lispSec) lispSecNodes(b, m.lispSec, false);
      break;
    case MessageType.MapRegister:
      flagLines(b, MAP_REGISTER, m);
      b.leaf(fieldText(fieldOf(MAP_REGISTER, 'reserved'), m), 3);
      recordCount(b, m.declaredRecordCount, m.records.length);
      nonce(m.nonce);
      authNodes(b, m, opts.authVerdict);
      m.records.forEach((r, i) => recordNodes(b, r, `Mapping Record ${i + 1}`));
      if (m.xtrId) b.leaf(`xTR-ID: ${toHex(m.xtrId)}`, 16);
      if (m.siteId) b.leaf(`Site-ID: ${toHex(m.siteId)}`, 8);
      break;
    case MessageType.MapNotify:
    case MessageType.MapNotifyAck:
      flagLines(b, MAP_NOTIFY, m);
      b.leaf(fieldText(fieldOf(MAP_NOTIFY, 'reserved'), m), 3);
      recordCount(b, m.declaredRecordCount, m.records.length);
      nonce(m.nonce);
      authNodes(b, m, opts.authVerdict);
      m.records.forEach((r, i) => recordNodes(b, r, `Mapping Record ${i + 1}`));
      if (m.xtrId) b.leaf(`xTR-ID: ${toHex(m.xtrId)}`, 16);
      if (m.siteId) b.leaf(`Site-ID: ${toHex(m.siteId)}`, 8);
      if (m.msRtrAuth) msRtrNodes(b, m.msRtrAuth, opts.msRtrVerdict);
      break;
    case MessageType.MapReferral:
      b.leaf(fieldText(fieldOf(MAP_REFERRAL, 'reserved'), m), 3);
      recordCount(b, m.declaredRecordCount, m.records.length);
      nonce(m.nonce);
      m.records.forEach((r, i) => referralNodes(b, r, i));
      break;
    case MessageType.Info:
      b.leaf(`${fieldOf(INFO, 'reply').letter}: ${infoName(m.reply)}, ${fieldText(fieldOf(INFO, 'reserved'), m)}`, 4);
      nonce(m.nonce);
      authNodes(b, m, opts.authVerdict);
      const [ttl, reserved2, maskLen] = structFields(INFO_BODY);
      b.leaf(`${fieldText(ttl!, m)} minutes`, 4);
      b.leaf(fieldText(reserved2!, m), 1);
      b.leaf(fieldText(maskLen!, m), 1);
      addressNodes(b, m.eid, 'EID Prefix');
      addressNodes(b, m.address, m.reply ? 'NAT-Traversal' : 'Address');
      break;
    case MessageType.ECM: {
      flagLines(b, ECM_HEADER, m);
      b.leaf(fieldText(fieldOf(ECM_HEADER, 'reserved'), m), 4);
      if (m.lispSec) lispSecNodes(b, m.lispSec, m.toEtr);
      if (m.msRtrAuth) msRtrNodes(b, m.msRtrAuth, opts.msRtrVerdict);
      const i = m.inner;
      if (!i) {
        if (m.payload) b.leaf(`Not an IP/UDP packet: ${toHex(m.payload)}`, m.payload.length);
        break;
      }
      const [ip, udp] = ecmInnerHeaderNodes(i, b.pos);
      b.nodes.push(ip, udp);
      b.pos = udp.end;
      if (i.message) {
        const inner = controlTree(i.message, b.pos, { authVerdict: opts.authVerdict });
        b.nodes.push(inner);
        b.pos = inner.end;
      } else if (i.payload) b.leaf(`Inner payload: ${toHex(i.payload)}`, i.payload.length);
      break;
    }
    case MessageType.SharedExtension:
      b.leaf(fieldText(fieldOf(SHARED_EXTENSION, 'subType'), m), 2);
      b.leaf(`Data: ${toHex(m.data)}`, m.data.length);
      break;
  }
  if (m.trailing) b.leaf(`Trailing bytes: ${toHex(m.trailing)}`, m.trailing.length);
  return { label: `Locator/ID Separation Protocol (${title})`, start: base, end: b.pos, children: b.nodes };
}

function reliablePrefixNodes(b: Builder, maskLen: number, eid: LispAddress): void {
  b.group(`EID Prefix: ${prefixText(eid, maskLen)}`, (g) => {
    g.leaf(`Prefix Length: ${maskLen}`, 1);
    addressNodes(g, eid, 'EID Prefix');
  });
}

/**
 * The detail tree of a reliable-transport message of `length` bytes whose first byte is at offset
 * `base` (Wireshark's "Locator/ID Separation Protocol (Reliable Transport)").
 */
export function reliableTree(m: ReliableMessage, length: number, base = 0, opts: TreeOptions = {}): TreeNode {
  const b = new Builder(base);
  const title = reliableTypeTitle(m.type);
  const F = ReliableField;
  b.leaf(`${F.type.name}: ${title} (${m.type})`, 2);
  b.leaf(`${F.length.name}: ${length}`, 2);
  b.leaf(fieldText(F.messageId, m), 4);
  let summary = '';
  if (isOpaque(m)) {
    if (m.body.length) b.leaf(`Message Data (not decoded): ${toHex(m.body)}`, m.body.length);
  } else {
    switch (m.type) {
      case ReliableType.ErrorNotification:
        for (const f of structFields(ERROR_NOTIFICATION)) {
          b.leaf(f.key === 'offendingType' ? `${f.name}: ${reliableTypeTitle(m.offendingType)} (${m.offendingType})` : fieldText(f, m), fieldWidth(f) >> 3);
        }
        if (m.offendingData.length) b.leaf(`Offending Message Data: ${toHex(m.offendingData)}`, m.offendingData.length);
        summary = `, Code: ${m.errorCode}`;
        break;
      case ReliableType.Registration: {
        const inner = controlTree(m.mapRegister, b.pos, opts);
        b.nodes.push(inner);
        b.pos = inner.end;
        if ('records' in m.mapRegister && m.mapRegister.records.length) {
          summary = ` for ${m.mapRegister.records.map((r) => prefixText(r.eid, r.eidMaskLen)).join(', ')}`;
        }
        break;
      }
      case ReliableType.RegistrationAck:
        reliablePrefixNodes(b, m.eidMaskLen, m.eid);
        summary = ` for ${prefixText(m.eid, m.eidMaskLen)}`;
        break;
      case ReliableType.RegistrationReject: {
        const reason = REJECT_REASONS.get(m.reason)?.title ?? 'Unassigned';
        const [code, rsvd] = REGISTRATION_REJECT[0]!.fields as readonly Field[];
        b.leaf(`${code!.name}: ${reason} (${m.reason})`, 1);
        b.leaf(fieldText(rsvd!, m), 2);
        reliablePrefixNodes(b, m.eidMaskLen, m.eid);
        summary = `, Reason: ${reason} for ${prefixText(m.eid, m.eidMaskLen)}`;
        break;
      }
      case ReliableType.RegistrationRefresh: {
        const scope = REFRESH_SCOPES.get(m.scope)?.title ?? 'Unassigned';
        const [code, r, rsvd] = REGISTRATION_REFRESH[0]!.fields as readonly Field[];
        b.leaf(`${code!.name}: ${scope} (${m.scope})`, 1);
        b.note(`${r!.letter} (${r!.name}): ${setBit(m.rejectedOnly)}`, b.pos, b.pos + 2);
        b.leaf(`${rsvd!.name}: ${hex(m.reserved ?? 0, 4)}${m.rejectedOnly ? ` (flags ${hex(r!.mask | (m.reserved ?? 0), 4)})` : ''}`, 2);
        if (m.eid) reliablePrefixNodes(b, m.eidMaskLen ?? 0, m.eid);
        summary = `, Scope: ${scope}${m.rejectedOnly ? ' (rejected only)' : ''}`;
        break;
      }
      case ReliableType.MappingNotification:
        b.leaf(`xTR-ID: ${toHex(m.xtrId)}`, 16);
        b.leaf(`Site-ID: ${toHex(m.siteId)}`, 8);
        recordNodes(b, m.record, 'Mapping Record 1');
        summary = ` for ${prefixText(m.record.eid, m.record.eidMaskLen)}`;
        break;
    }
  }
  if (m.trailing) b.leaf(`Trailing bytes: ${toHex(m.trailing)}`, m.trailing.length);
  const marker = m.endMarker ?? RELIABLE_END_MARKER;
  b.leaf(`${fieldText(F.endMarker, { endMarker: marker })} (${marker === RELIABLE_END_MARKER ? 'correct' : 'wrong'})`, 4);
  return {
    label: `Locator/ID Separation Protocol (Reliable Transport), Msg: ${m.messageId}, ${title}${summary}`,
    start: base,
    end: b.pos,
    children: b.nodes,
  };
}

/** The same tree with every byte range emptied (for what this frame does not hold). */
export function withoutRanges(n: TreeNode): TreeNode {
  const out: TreeNode = { label: n.label, start: 0, end: 0 };
  if (n.children) out.children = n.children.map(withoutRanges);
  return out;
}

/** The detail tree of a data-plane header at offset `base`, and of the packet it carries. */
export function dataTree(d: DataMessage, base = 0, opts: TreeOptions = {}): TreeNode {
  const b = new Builder(base);
  const h = d.header;
  const f = dataHeaderFields(h);
  b.group(`Flags: ${hex(h.flags, 2)}`, (g) => {
    const bits = dataFlagBits(h);
    for (const x of flagFields(DATA_FLAGS)) g.note(`${x.letter} (${x.name}): ${setBit(isSet(x, bits))}`, base, base + 1);
    const k = fieldOf(DATA_FLAGS, 'keyId');
    g.note(`${k.letter} (${k.name}): ${bits.keyId}`, base, base + 1);
    g.pos += 1;
  });
  const D = DataField;
  if (f.nonce !== undefined) b.leaf(`${D.nonce.name}: ${hex(f.nonce, 6)}`, 3);
  else if (f.srcMapVersion !== undefined) {
    b.leaf(`${D.srcMapVersion.name}: ${f.srcMapVersion}, ${D.dstMapVersion.name}: ${f.dstMapVersion}`, 3);
  } else b.leaf(`Reserved: ${hex(h.word1, 6)}`, 3);
  if (f.gpeNextProtocol !== undefined) {
    b.note(`${D.nextProtocol.name}: ${GPE_NEXT_PROTOCOLS.get(f.gpeNextProtocol) ?? 'Unknown'} (${f.gpeNextProtocol})`, b.pos - 1, b.pos);
  }
  if (f.iid !== undefined) {
    b.leaf(`${D.iid.name}: ${f.iid}`, 3);
    b.leaf(`${D.lsb8.name}: ${f.lsb !== undefined ? hex(f.lsb, 2) : '(L not set)'}`, 1);
  } else b.leaf(`${D.lsb32.name}: ${f.lsb !== undefined ? hex(f.lsb, 8) : '(L not set)'}`, 4);
  const root: TreeNode = { label: 'LISP Data', start: base, end: b.pos, children: b.nodes };
  if (d.inner) return { ...root, end: base + 8 + d.payload.length, children: [...b.nodes, ...innerPacketNodes(d.inner, base, base + 8 + d.payload.length, opts)] };
  if (d.payload.length) b.leaf(`Payload (${f.keyId ? 'encrypted' : 'not IP'}): ${d.payload.length} bytes`, d.payload.length);
  return { ...root, end: b.pos };
}


/**
 * The inner IP and UDP headers of an ECM as subtrees, as tshark shows them, at `at` (the decoder
 * takes a 20-byte IPv4 or 40-byte IPv6 header there).
 */
function ecmInnerHeaderNodes(i: EcmInner, at: number): [ip: TreeNode, udp: TreeNode] {
  const v4 = i.ipVersion === 4;
  const leaf = (label: string, o: number, n: number): TreeNode => ({ label, start: at + o, end: at + o + n });
  const hlen = v4 ? 20 : 40;
  const ip: TreeNode = {
    label: `Internet Protocol Version ${i.ipVersion}, Src: ${i.src}, Dst: ${i.dst}`,
    start: at,
    end: at + hlen,
    children: v4
      ? [leaf(`Time to Live: ${i.ttl}`, 8, 1), leaf(`Protocol: UDP (17)`, 9, 1), leaf(`Source Address: ${i.src}`, 12, 4), leaf(`Destination Address: ${i.dst}`, 16, 4)]
      : [leaf(`Next Header: UDP (17)`, 6, 1), leaf(`Hop Limit: ${i.ttl}`, 7, 1), leaf(`Source Address: ${i.src}`, 8, 16), leaf(`Destination Address: ${i.dst}`, 24, 16)],
  };
  const u = at + hlen;
  const udp: TreeNode = {
    label: `User Datagram Protocol, Src Port: ${i.sport}, Dst Port: ${i.dport}`,
    start: u,
    end: u + 8,
    children: [
      { label: `Source Port: ${i.sport}`, start: u, end: u + 2 },
      { label: `Destination Port: ${i.dport}`, start: u + 2, end: u + 4 },
      { label: `Checksum: ${hex(i.udpChecksum, 4)}`, start: u + 6, end: u + 8 },
    ],
  };
  return [ip, udp];
}

/**
 * The encapsulated packet as subtrees: its IP header, ICMP/TCP/UDP header, and the LISP or bytes
 * it carries. Offsets in `i` count from `base` (the enclosing LISP message); `end` is where the
 * captured packet ends.
 */
export function innerPacketNodes(i: InnerSummary, base: number, end: number, opts: TreeOptions = {}): TreeNode[] {
  const at = base + i.ipOffset;
  const v4 = i.ipVersion === 4;
  const hlen = i.ipHeaderLength;
  const leafAt = (label: string, o: number, n: number): TreeNode => ({ label, start: at + o, end: at + o + n });
  const proto = `${IP_PROTOCOL_NAMES.get(i.proto)?.name ?? 'Unknown'} (${i.proto})`;
  const ip: TreeNode = {
    label: `Internet Protocol Version ${i.ipVersion}, Src: ${i.src}, Dst: ${i.dst}`,
    start: at,
    end: Math.min(end, at + hlen),
    children: v4
      ? [
          leafAt(`Header Length: ${hlen} bytes`, 0, 1),
          leafAt(`Total Length: ${i.len}`, 2, 2),
          leafAt(`Identification: ${hex(i.id, 4)} (${i.id})`, 4, 2),
          leafAt(`Time to Live: ${i.ttl}`, 8, 1),
          leafAt(`Protocol: ${proto}`, 9, 1),
          leafAt(`Source Address: ${i.src}`, 12, 4),
          leafAt(`Destination Address: ${i.dst}`, 16, 4),
        ]
      : [
          leafAt(`Payload Length: ${i.len - 40}`, 4, 2),
          leafAt(`Next Header: ${proto}${hlen > 40 ? ` (after ${hlen - 40} bytes of extension headers)` : ''}`, 6, 1),
          leafAt(`Hop Limit: ${i.ttl}`, 7, 1),
          leafAt(`Source Address: ${i.src}`, 8, 16),
          leafAt(`Destination Address: ${i.dst}`, 24, 16),
        ],
  };
  if (i.fragment) ip.children!.push({ label: 'Fragment: the payload is part of a larger datagram', start: at + 6, end: at + 8 });
  const nodes: TreeNode[] = [ip];
  const t = at + hlen;
  const leafT = (label: string, o: number, n: number): TreeNode => ({ label, start: t + o, end: t + o + n });
  let payloadAt = t;
  if (i.proto === 17 && i.sport !== undefined) {
    nodes.push({
      label: `User Datagram Protocol, Src Port: ${i.sport}, Dst Port: ${i.dport}`,
      start: t,
      end: Math.min(end, t + 8),
      children: [
        leafT(`Source Port: ${i.sport}`, 0, 2),
        leafT(`Destination Port: ${i.dport}`, 2, 2),
        ...(i.udpLength !== undefined ? [leafT(`Length: ${i.udpLength}`, 4, 2)] : []),
      ],
    });
    payloadAt = t + 8;
  } else if (i.tcpFlags !== undefined) {
    const th = i.tcpHeaderLength ?? 20;
    nodes.push({
      label: `Transmission Control Protocol, Src Port: ${i.sport}, Dst Port: ${i.dport}, Seq: ${i.tcpSeq}, Ack: ${i.tcpAck}, Len: ${i.payloadLen}`,
      start: t,
      end: Math.min(end, t + th),
      children: [
        leafT(`Source Port: ${i.sport}`, 0, 2),
        leafT(`Destination Port: ${i.dport}`, 2, 2),
        leafT(`Sequence Number: ${i.tcpSeq}`, 4, 4),
        leafT(`Acknowledgment Number: ${i.tcpAck}`, 8, 4),
        leafT(`Header Length: ${th} bytes`, 12, 1),
        leafT(`Flags: ${hex(i.tcpFlags, 3)} [${tcpFlagLetters(i.tcpFlags)}]`, 13, 1),
      ],
    });
    payloadAt = t + th;
  } else if (i.icmpType !== undefined) {
    const kind = icmpEchoKind(i.proto, i.icmpType);
    const echo = kind && `Echo (ping) ${kind}`;
    const kids = [leafT(`Type: ${i.icmpType}${echo ? ` (${echo})` : ''}`, 0, 1), leafT(`Code: ${i.icmpCode}`, 1, 1)];
    if (i.icmpId !== undefined) kids.push(leafT(`Identifier: ${i.icmpId} (${hex(i.icmpId, 4)})`, 4, 2), leafT(`Sequence Number: ${i.icmpSeq}`, 6, 2));
    nodes.push({
      label: `Internet Control Message Protocol${i.proto === 58 ? ' v6' : ''}, Type ${i.icmpType}${echo ? ` (${echo})` : ''}`,
      start: t,
      end: Math.min(end, t + (i.icmpId !== undefined ? 8 : 4)),
      children: kids,
    });
    payloadAt = t + (i.icmpId !== undefined ? 8 : 4);
  }
  if (i.lisp) nodes.push(nestedTree(i.lisp, base, opts));
  else if (end > payloadAt && i.payloadLen !== undefined) nodes.push({ label: `Data (${end - payloadAt} bytes)`, start: payloadAt, end });
  return nodes;
}

/** The detail tree of a VXLAN header at offset `base`, its Ethernet frame and inner packet. */
export function vxlanTree(m: VxlanMessage, base = 0): TreeNode {
  const b = new Builder(base);
  const f = m.flags;
  const letters = vxlanFlagLetters(f);
  b.group(`Flags: ${hex(f, 4)}${letters ? ` (${letters})` : ''}`, (g) => {
    const bits = vxlanFlagBits(f);
    for (const x of flagFields(VXLAN_FLAGS)) g.note(`${x.letter} (${x.name}): ${setBit(isSet(x, bits))}`, base, base + 2);
    g.pos += 2;
  });
  const gp = vxlanGroupPolicy(m);
  // Without G, RFC 7348's Reserved bits.
  b.leaf(gp ? fieldText(VxlanField.groupPolicyId, m) : `Reserved: ${hex(m.groupPolicyId, 4)}`, 2);
  b.leaf(`${fieldText(VxlanField.vni, m)} (the LISP Instance-ID)`, 3);
  b.leaf(fieldText(VxlanField.reserved8, m), 1);
  const e = m.ethernet;
  const end = base + 8 + m.payload.length;
  const nodes = [...b.nodes];
  if (e) {
    const ethEnd = m.inner ? base + m.inner.ipOffset : Math.min(end, base + 8 + 14);
    const kids: TreeNode[] = [
      { label: `Destination: ${e.dst}`, start: base + 8, end: base + 14 },
      { label: `Source: ${e.src}`, start: base + 14, end: base + 20 },
    ];
    if (e.vlanIds?.length) kids.push({ label: `VLAN IDs: ${e.vlanIds.join(', ')}`, start: base + 20, end: ethEnd - 2 });
    if (e.etherType !== undefined) kids.push({ label: `Type: ${hex(e.etherType, 4)}`, start: ethEnd - 2, end: ethEnd });
    nodes.push({ label: `Ethernet II, Src: ${e.src}, Dst: ${e.dst}`, start: base + 8, end: ethEnd, children: kids });
  }
  if (m.inner) nodes.push(...innerPacketNodes(m.inner, base, end));
  return { label: `Virtual eXtensible Local Area Network${gp ? ' (Group Policy)' : ''}, VNI: ${m.vni}`, start: base, end, children: nodes };
}

/** The tree of a LISP message found inside another; its offset counts from `base`. */
export function nestedTree(n: NestedLisp, base: number, opts: TreeOptions = {}): TreeNode {
  const at = base + n.offset;
  if (n.control) return controlTree(n.control, at, opts);
  if (n.data) return dataTree(n.data, at, opts);
  return { label: `LISP ${n.kind}: not decodable (${n.length} bytes)`, start: at, end: at + n.length };
}

/** Indented text of a tree (`-V`). */
export function renderTree(n: TreeNode, indent = ''): string[] {
  const out = [`${indent}${n.label}`];
  for (const c of n.children ?? []) out.push(...renderTree(c, `${indent}    `));
  return out;
}
