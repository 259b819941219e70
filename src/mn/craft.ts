// Crafting messages to send by hand (`lispscope inject`) and rewriting captured ones
// (`lispscope replay --rewrite`). Input is the `read --json` form of a message (so what `read`
// printed can be edited and sent back), built through the builders and signed with the site key;
// rewriting walks a decoded message and replaces addresses, re-signing authenticated messages
// when the key is known.

import { fromHex } from '../dissect/addr.js';
import { ipAddress, parseAddress, parsePrefix } from '../dissect/address.js';
import { signMessage } from '../dissect/auth.js';
import {
  ecm,
  infoRequestMessage,
  mapNotifyMessage,
  mapRegisterMessage,
  mapReply,
  mapRequest,
  mappingRecord,
  randomNonce,
  signed,
  type LocatorSpec,
} from '../dissect/build.js';
import { encodeControl } from '../dissect/control.js';
import { fieldMax, type Field, type Word } from '../dissect/field.js';
import { ECM_HEADER, LOCATOR, MAP_REGISTER, MAP_REPLY, MAP_REQUEST, MAPPING_RECORD } from '../dissect/fields.js';
import { ACTIONS, AUTHENTICATED_TYPE_NAMES, LISP_CONTROL_PORT, MessageType } from '../dissect/registry.js';
import type { ControlMessage, Ecm, LispAddress, Locator, MappingRecord } from '../dissect/types.js';
import { eidIp } from './eid.js';
import { ownLocators } from './etr.js';

export class CraftError extends Error {
  override name = 'CraftError';
}

type Json = Record<string, unknown>;

/** The message types inject builds (`smr` is a Map-Request with S). */
export const CRAFTABLE = ['map-request', 'smr', 'map-reply', 'map-register', 'map-notify', 'info-request', 'ecm'] as const;


function str(o: Json, k: string, where: string, required = false): string | undefined {
  const v = o[k];
  if (v === undefined) {
    if (required) throw new CraftError(`${where}: "${k}" is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw new CraftError(`${where}: "${k}" must be a string`);
  return v;
}

function flag(o: Json, k: string, where: string): boolean {
  const v = o[k];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new CraftError(`${where}: "${k}" must be true or false`);
  return v;
}

/**
 * The fields of a header the JSON names, as the field table declares them (keys, ranges and
 * defaults), keyed by the decoded message's property names.
 */
function fieldsOf<T>(words: readonly Word<T>[], o: Json, where: string): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const w of words) {
    for (const f of w.fields as readonly Field[]) {
      if (!f.craft || !f.json) continue;
      const d = f.craft.default;
      out[f.key] = typeof d === 'boolean' ? (o[f.json] === undefined ? d : flag(o, f.json, where)) : int(o, f.json, where, d, fieldMax(f));
    }
  }
  return out as Partial<T>;
}

function int(o: Json, k: string, where: string, dflt: number, max = 0xffffffff): number {
  const v = o[k];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new CraftError(`${where}: "${k}" must be an integer from 0 to ${max}`);
  return v;
}

function addressOf(v: unknown, where: string): LispAddress {
  if (typeof v !== 'string') throw new CraftError(`${where} must be an address string (LCAF objects other than [iid]addr cannot be crafted)`);
  const a = parseAddress(v);
  if (!a) throw new CraftError(`${where}: "${v}" is not an address`);
  return a;
}

function prefixOf(v: unknown, where: string) {
  if (typeof v !== 'string') throw new CraftError(`${where} must be a prefix string like "10.1.0.0/16"`);
  const p = parsePrefix(v);
  if (!p) throw new CraftError(`${where}: "${v}" is not an EID prefix`);
  return p;
}

function nonceOf(o: Json, where: string): bigint {
  const v = str(o, 'nonce', where);
  if (v === undefined) return randomNonce();
  if (!/^(0x)?[0-9a-fA-F]{1,16}$/.test(v)) throw new CraftError(`${where}: "nonce" must be up to 16 hex digits`);
  return BigInt(`0x${v.replace(/^0x/, '')}`);
}

/** The xTR-ID (128 bits) and site-ID (64 bits) a Map-Register or Map-Notify carries, when given. */
function xtrIdOf(o: Json, where: string): { xtrId?: Uint8Array; siteId?: Uint8Array } {
  const xtrId = hexBytes(o, 'xtr_id', 16, where);
  const siteId = hexBytes(o, 'site_id', 8, where);
  return { ...(xtrId ? { xtrId } : {}), ...(siteId ? { siteId } : {}) };
}

function hexBytes(o: Json, k: string, size: number, where: string): Uint8Array | undefined {
  const v = str(o, k, where);
  if (v === undefined) return undefined;
  const b = fromHex(v.replace(/^0x/, ''));
  if (!b || b.length !== size) throw new CraftError(`${where}: "${k}" must be ${size * 2} hex digits`);
  return b;
}

function actionOf(v: unknown, where: string): number {
  if (v === undefined) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 7) return v;
  if (typeof v === 'string') {
    for (const [id, info] of ACTIONS) if (info.slug === v) return id;
    const m = /^action-([0-7])$/.exec(v);
    if (m) return Number(m[1]);
  }
  throw new CraftError(`${where}: "action" must be one of ${[...ACTIONS.values()].map((a) => a.slug).join(', ')} or 0..7`);
}

function recordOf(v: unknown, where: string): MappingRecord {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new CraftError(`${where} must be an object {eid, ttl, locators, ...}`);
  const r = v as Json;
  const locs = r.locators ?? [];
  if (!Array.isArray(locs)) throw new CraftError(`${where}: "locators" must be an array`);
  const locators: LocatorSpec[] = locs.map((l, i) => {
    const w = `${where}.locators[${i}]`;
    if (!l || typeof l !== 'object') throw new CraftError(`${w} must be an object {rloc, priority, weight, ...}`);
    const o = l as Json;
    return { rloc: addressOf(o.rloc, `${w}.rloc`), ...fieldsOf(LOCATOR, o, w) };
  });
  return mappingRecord({
    eid: prefixOf(r.eid, `${where}.eid`),
    action: actionOf(r.action, where),
    ...fieldsOf(MAPPING_RECORD, r, where),
    locators,
  });
}

function recordsOf(o: Json, where: string, required: boolean): MappingRecord[] {
  const v = o.records;
  if (v === undefined) {
    if (required) throw new CraftError(`${where}: "records" is required`);
    return [];
  }
  if (!Array.isArray(v)) throw new CraftError(`${where}: "records" must be an array`);
  return v.map((r, i) => recordOf(r, `${where}.records[${i}]`));
}

function keyIdOf(o: Json, where: string): number {
  const k = int(o, 'key_id', where, 2, 0xffff);
  if ((k & 0xff) !== 1 && (k & 0xff) !== 2) throw new CraftError(`${where}: "key_id" must name HMAC-SHA-1-96 (1) or HMAC-SHA-256-128 (2)`);
  return k;
}

export interface Crafted {
  /** The encoded message (signed when it is authenticated). */
  bytes: Uint8Array;
  type: string;
  /** Whether it carries authentication (and so needed the key). */
  authenticated: boolean;
}

/**
 * Builds a message from its `read --json` form: `type` plus the fields `read --json` prints for it
 * (nonce defaults to random; `auth`, `auth_len`, `auth_ok` are ignored: authenticated messages are
 * signed with `key`). `ecm` carries an `inner` object with `src`, `dst`, `sport`, `dport` and the
 * inner message's fields.
 */
export function craftFromJson(o: Json, key?: string, where = 'message'): Crafted {
  const type = str(o, 'type', where, true)!;
  if (!(CRAFTABLE as readonly string[]).includes(type)) throw new CraftError(`${where}: cannot craft "${type}" (one of ${CRAFTABLE.join(', ')})`);
  if (AUTHENTICATED_TYPE_NAMES.has(type) && key === undefined) throw new CraftError(`${where}: a ${type} is authenticated: the site key is needed (--key-file or LISPSCOPE_KEY)`);
  switch (type) {
    case 'map-request':
    case 'smr': {
      const itr = o.itr_rlocs;
      if (!Array.isArray(itr) || itr.length === 0 || itr.length > 32) throw new CraftError(`${where}: "itr_rlocs" must be an array of 1 to 32 addresses`);
      const eids = o.eids;
      if (!Array.isArray(eids)) throw new CraftError(`${where}: "eids" must be an array of prefixes`);
      const src = str(o, 'source_eid', where);
      const flags = fieldsOf([MAP_REQUEST], o, where);
      const m = mapRequest({
        ...flags,
        nonce: nonceOf(o, where),
        eids: eids.map((e, i) => prefixOf(e, `${where}.eids[${i}]`)),
        itrRlocs: itr.map((a, i) => addressOf(a, `${where}.itr_rlocs[${i}]`)),
        ...(src ? { sourceEid: addressOf(src, `${where}.source_eid`) } : {}),
        smr: type === 'smr' || flags.smr === true,
        ...(o.map_reply !== undefined ? { mapReply: recordOf(o.map_reply, `${where}.map_reply`) } : {}),
      });
      return { bytes: encodeControl(m), type, authenticated: false };
    }
    case 'map-reply':
      return {
        bytes: encodeControl(
          mapReply({ nonce: nonceOf(o, where), records: recordsOf(o, where, true), ...fieldsOf([MAP_REPLY], o, where) }),
        ),
        type,
        authenticated: false,
      };
    case 'map-register': {
      const ids = xtrIdOf(o, where);
      const m = mapRegisterMessage({
        nonce: nonceOf(o, where),
        keyId: keyIdOf(o, where),
        key: key!,
        records: recordsOf(o, where, true),
        ...fieldsOf([MAP_REGISTER], o, where),
        ...ids,
      });
      return { bytes: signed(m, key!), type, authenticated: true };
    }
    case 'map-notify': {
      const ids = xtrIdOf(o, where);
      const m = mapNotifyMessage({
        nonce: nonceOf(o, where),
        keyId: keyIdOf(o, where),
        key: key!,
        records: recordsOf(o, where, false),
        ...ids,
      });
      return { bytes: signed(m, key!), type, authenticated: true };
    }
    case 'info-request': {
      const m = infoRequestMessage({ nonce: nonceOf(o, where), keyId: keyIdOf(o, where), key: key!, eid: prefixOf(o.eid, `${where}.eid`), ttl: int(o, 'ttl', where, 0) });
      return { bytes: signed(m, key!), type, authenticated: true };
    }
    default: {
      const inner = o.inner;
      if (!inner || typeof inner !== 'object' || Array.isArray(inner)) throw new CraftError(`${where}: "inner" must be an object {src, dst, sport, dport, type, ...}`);
      const i = inner as Json;
      const src = str(i, 'src', `${where}.inner`, true)!;
      const dst = str(i, 'dst', `${where}.inner`, true)!;
      if (!ipAddress(src) || !ipAddress(dst)) throw new CraftError(`${where}.inner: "src" and "dst" must be IP addresses`);
      const innerMsg = craftFromJson(i, key, `${where}.inner`);
      const flags = fieldsOf([ECM_HEADER], o, where);
      const e = ecm({
        ...flags,
        inner: {
          src,
          dst,
          sport: int(i, 'sport', `${where}.inner`, LISP_CONTROL_PORT, 65535),
          dport: int(i, 'dport', `${where}.inner`, LISP_CONTROL_PORT, 65535),
        },
        message: innerMsg.bytes,
        // JSON `rtr` of an ECM is "for an RTR", the draft's reading of E.
        toEtr: flags.toEtr === true || flag(o, 'rtr', where),
      });
      return { bytes: encodeControl(e), type, authenticated: innerMsg.authenticated };
    }
  }
}

// ---- rewriting ------------------------------------------------------------------------------

/** OLD=NEW address pairs, by canonical text. */
export type Rewrites = Map<string, string>;

function rewriteAddress(a: LispAddress, map: Rewrites): LispAddress {
  switch (a.kind) {
    case 'ipv4':
    case 'ipv6': {
      const to = map.get(a.addr);
      return to === undefined ? a : (ipAddress(to) ?? a);
    }
    case 'lcaf': {
      const b = a.lcaf.body;
      const r = (x: LispAddress) => rewriteAddress(x, map);
      let body = b;
      switch (b.kind) {
        case 'instance-id':
        case 'as-number':
        case 'application-data':
        case 'geo-coordinates':
        case 'nonce-locator':
        case 'json':
        case 'security-key':
          body = { ...b, address: r(b.address) };
          break;
        case 'nat-traversal':
          body = { ...b, globalEtrRloc: r(b.globalEtrRloc), msRloc: r(b.msRloc), privateEtrRloc: r(b.privateEtrRloc), rtrRlocs: b.rtrRlocs.map(r) };
          break;
        case 'afi-list':
          body = { ...b, addresses: b.addresses.map(r) };
          break;
        case 'elp':
          body = { ...b, hops: b.hops.map((h) => ({ ...h, address: r(h.address) })) };
          break;
        case 'rle':
          body = { ...b, entries: b.entries.map((e) => ({ ...e, address: r(e.address) })) };
          break;
        case 'source-dest':
          body = { ...b, source: r(b.source), dest: r(b.dest) };
          break;
        case 'multicast-info':
          body = { ...b, source: r(b.source), group: r(b.group) };
          break;
        case 'key-value':
          body = { ...b, key: r(b.key), value: r(b.value) };
          break;
        default:
          break;
      }
      return { ...a, lcaf: { ...a.lcaf, body } };
    }
    default:
      return a;
  }
}

function rewriteRecord(r: MappingRecord, map: Rewrites): MappingRecord {
  return { ...r, eid: rewriteAddress(r.eid, map), locators: r.locators.map((l: Locator) => ({ ...l, rloc: rewriteAddress(l.rloc, map) })) };
}

export interface Rewritten {
  bytes: Uint8Array;
  /** Something was replaced. */
  changed: boolean;
  /** An authenticated message was changed and could not be re-signed (no key). */
  authBroken: boolean;
}

function isAuthenticated(m: ControlMessage): boolean {
  return !('unknown' in m) && (m.type === MessageType.MapRegister || m.type === MessageType.MapNotify || m.type === MessageType.MapNotifyAck || m.type === MessageType.Info);
}

/**
 * Replaces addresses in a decoded control message (RLOCs, EIDs, ITR-RLOCs, Source-EID, NAT LCAF
 * fields, an ECM's inner IP header) and encodes it again; authenticated messages are re-signed
 * with `key` when given.
 */
export function rewriteControl(m: ControlMessage, original: Uint8Array, map: Rewrites, key?: string): Rewritten {
  const out = rewriteMessage(m, map, key);
  const bytes = out.bytes;
  const changed = bytes.length !== original.length || bytes.some((b, i) => b !== original[i]);
  return { bytes: changed ? bytes : original, changed, authBroken: changed && out.authBroken };
}

function rewriteMessage(m: ControlMessage, map: Rewrites, key?: string): { bytes: Uint8Array; authBroken: boolean } {
  if ('unknown' in m) return { bytes: encodeControl(m), authBroken: false };
  let next: ControlMessage = m;
  switch (m.type) {
    case MessageType.MapRequest:
      next = {
        ...m,
        sourceEid: rewriteAddress(m.sourceEid, map),
        itrRlocs: m.itrRlocs.map((a) => rewriteAddress(a, map)),
        eids: m.eids.map((e) => ({ ...e, prefix: rewriteAddress(e.prefix, map) })),
        ...(m.mapReply ? { mapReply: rewriteRecord(m.mapReply, map) } : {}),
      };
      break;
    case MessageType.MapReply:
    case MessageType.MapRegister:
    case MessageType.MapNotify:
    case MessageType.MapNotifyAck:
      next = { ...m, records: m.records.map((r) => rewriteRecord(r, map)) } as ControlMessage;
      break;
    case MessageType.Info:
      next = { ...m, eid: rewriteAddress(m.eid, map), address: rewriteAddress(m.address, map) };
      break;
    case MessageType.ECM:
      return rewriteEcm(m, map, key);
  }
  const bytes = encodeControl(next);
  if (!isAuthenticated(next)) return { bytes, authBroken: false };
  const before = encodeControl(m);
  const same = before.length === bytes.length && before.every((b, i) => b === bytes[i]);
  if (same) return { bytes, authBroken: false };
  if (key === undefined) return { bytes, authBroken: true };
  return { bytes: signMessage(bytes, key), authBroken: false };
}

function rewriteEcm(m: Ecm, map: Rewrites, key?: string): { bytes: Uint8Array; authBroken: boolean } {
  const i = m.inner;
  if (!i) return { bytes: encodeControl(m), authBroken: false };
  const src = map.get(i.src) ?? i.src;
  const dst = map.get(i.dst) ?? i.dst;
  let payload: Uint8Array;
  let authBroken = false;
  if (i.message) {
    const r = rewriteMessage(i.message, map, key);
    payload = r.bytes;
    authBroken = r.authBroken;
  } else {
    payload = i.payload ?? new Uint8Array(0);
  }
  if (!ipAddress(src) || !ipAddress(dst) || src.includes(':') !== dst.includes(':')) return { bytes: encodeControl(m), authBroken: false };
  const e = ecm({
    inner: { src, dst, sport: i.sport, dport: i.dport, ttl: i.ttl, udpChecksum: i.udpChecksum !== 0 },
    message: payload,
    security: m.security,
    ddt: m.ddt,
    toEtr: m.toEtr,
    toMs: m.toMs,
  });
  if (m.reserved) e.reserved = m.reserved;
  return { bytes: encodeControl(e), authBroken };
}

/** Parses `OLD=NEW` pairs of IP addresses. */
export function parseRewrites(pairs: string[]): Rewrites {
  const map: Rewrites = new Map();
  for (const p of pairs) {
    const m = /^([^=]+)=([^=]+)$/.exec(p);
    const from = m && ipAddress(m[1]!);
    const to = m && ipAddress(m[2]!);
    if (!from || !to || (from.kind !== 'ipv4' && from.kind !== 'ipv6') || (to.kind !== 'ipv4' && to.kind !== 'ipv6')) {
      throw new CraftError(`--rewrite expects OLD=NEW with two IP addresses, not "${p}"`);
    }
    if (from.kind !== to.kind) throw new CraftError(`--rewrite ${p}: both addresses must be of one family`);
    map.set(from.addr, to.addr);
  }
  return map;
}

/** Whether the message (or the one an ECM carries) in `read --json` form is signed with the site key. */
export function needsKey(o: Json): boolean {
  if (typeof o.type === 'string' && AUTHENTICATED_TYPE_NAMES.has(o.type)) return true;
  const inner = o.inner;
  return !!inner && typeof inner === 'object' && needsKey(inner as Json);
}

/** The first EID a message in `read --json` form names (what its key is found by). */
export function firstEid(o: Json): ReturnType<typeof parsePrefix> {
  const e = Array.isArray(o.eids) ? o.eids[0] : Array.isArray(o.records) ? (o.records[0] as { eid?: unknown } | undefined)?.eid : o.eid;
  return typeof e === 'string' ? parsePrefix(e) : undefined;
}

/** What `inject TYPE` is told about the message besides its type. */
export interface MessageOptions {
  eids: string[];
  rlocs: string[];
  /** Default: `itrDefault`. */
  itrRlocs?: string[] | undefined;
  ttl?: number | undefined;
  nonce?: string | undefined;
  sourceEid?: string | undefined;
  /** Of a negative record (default native-forward). */
  action?: string | undefined;
  probe: boolean;
  smrInvoked: boolean;
  pitr: boolean;
  /** Wrap the Map-Request in an ECM. */
  ecm: boolean;
  proxyReply: boolean;
  wantMapNotify: boolean;
  /** The Key ID field, asked only of authenticated messages. */
  keyId: () => number;
}

/** The `read --json` form of the message `type` the options describe (for craftFromJson). */
export function messageFromOptions(type: string, o: MessageOptions, itrDefault: string, sport: number): Json {
  const { eids, rlocs } = o;
  const base: Json = { type, ...(o.nonce ? { nonce: o.nonce } : {}) };
  const record = () => {
    if (eids.length !== 1) throw new CraftError(`a ${type} needs exactly one --eid`);
    return {
      eid: eids[0],
      ...(o.ttl !== undefined ? { ttl: o.ttl } : {}),
      ...(rlocs.length === 0 ? { action: o.action ?? 'native-forward', authoritative: false } : {}),
      locators: ownLocators(rlocs),
    };
  };
  switch (type) {
    case 'map-request':
    case 'smr': {
      if (eids.length === 0) throw new CraftError(`a ${type} needs --eid`);
      const itr = o.itrRlocs ?? [itrDefault];
      const req: Json = {
        ...base,
        eids,
        itr_rlocs: itr,
        ...(o.sourceEid ? { source_eid: o.sourceEid } : {}),
        probe: o.probe,
        smr_invoked: o.smrInvoked,
        pitr: o.pitr,
      };
      if (!o.ecm) return req;
      const dst = eidIp(parsePrefix(eids[0]!)?.address ?? { kind: 'none', afi: 0 });
      if (!dst) throw new CraftError('--ecm needs an IP EID for the inner header');
      return { type: 'ecm', inner: { src: itr[0], dst, sport, dport: LISP_CONTROL_PORT, ...req } };
    }
    case 'map-reply':
      return { ...base, probe: o.probe, records: [record()] };
    case 'map-register':
      return { ...base, proxy_reply: o.proxyReply, want_map_notify: o.wantMapNotify, key_id: o.keyId(), records: [record()] };
    case 'map-notify':
      return { ...base, key_id: o.keyId(), records: [record()] };
    case 'info-request':
      if (eids.length !== 1) throw new CraftError('an info-request needs exactly one --eid');
      return { ...base, key_id: o.keyId(), eid: eids[0] };
    default:
      throw new CraftError(`cannot build "${type}" from options (one of map-request, smr, map-reply, map-register, map-notify, info-request; others with --message)`);
  }
}
