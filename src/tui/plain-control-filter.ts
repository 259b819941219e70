// The packet filter's verdict on a common control message (capture/plain-control.ts) from its
// frame bytes, for a filter that reads only the members built here (`eid in …`, `rloc == …`,
// `nonce == …`, `type`, the outer addresses and ports): control messages are a fifth of a capture, and decoding
// each one and building its JSON object for the filter cost most of a filter's time and garbage,
// as for data packets (plain-filter.ts). The object built holds, on every path the filter reads,
// what the packet's `read --json` object holds there (output/json-control-fast.ts writes it from
// the same scan: the names and texts are its); a property test holds it to the general path.

import { MAPPING_HEADER, plainControl, plainControlType, plainMessageType, REFERRAL_HEADER, scanPlainControl, SHAPES, type PlainControl } from '../capture/plain-control.js';
import type { Frame } from '../capture/types.js';
import { formatIPv4, formatIPv6, toHex } from '../dissect/addr.js';
import { u16, u32 } from '../dissect/bytes.js';
import { fieldValue } from '../dissect/field.js';
import { Afi, MessageType } from '../dissect/registry.js';
import type { CompiledFilter } from '../flows/filter.js';

/** The outer members every packet's object starts with. */
const HEAD = ['frame', 'len', 'src', 'dst', 'sport', 'dport'] as const;
/** A message's members built here: at the top, or in an ECM's `inner`. */
const MESSAGE = [
  ...['type', 'nonce', 'eid', 'eids', 'source_eid', 'records.eid', 'map_reply.eid'],
  ...['itr_rlocs', 'records.locators.rloc', 'map_reply.locators.rloc', 'nat.global_etr_rloc', 'nat.rtr_rlocs'],
] as const;
/** An ECM's inner IP and UDP header, beside its message in `inner`. */
const ECM_INNER = ['src', 'dst', 'sport', 'dport'] as const;

const PLAIN_BUILT = new Set<string>([...HEAD, ...MESSAGE]);
const ECM_BUILT = new Set<string>([...HEAD, 'type', ...[...ECM_INNER, ...MESSAGE].map((m) => `inner.${m}`)]);
/** A message's members at the top: an ECM's object has them in `inner` only. */
const MESSAGE_TOP = new Set(['nonce', 'eid', 'eids', 'source_eid', 'records', 'map_reply', 'itr_rlocs', 'nat']);
/** What no common control message's object holds (the reliable transport's, an ICMP error's, a data packet's). */
const ABSENT = new Set(['messages', 'quoted', 'icmp', 'transport', 'summary']);

/**
 * The member of a common control message's object (an ECM's, or another's) that a path reads:
 * one built here, null when that object has nothing there, undefined when it is one not built here.
 */
function memberOf(path: string, ecm: boolean): string | null | undefined {
  const steps = path.split('.');
  if (ABSENT.has(steps[0]!) || (steps[0] === 'inner' && steps[1] === 'lisp')) return null;
  const built = ecm ? ECM_BUILT : PLAIN_BUILT;
  for (let k = 1; k <= steps.length; k++) {
    const name = steps.slice(0, k).join('.');
    // Below a number or a string there is nothing.
    if (built.has(name)) return k === steps.length ? name : null;
  }
  if (ecm ? MESSAGE_TOP.has(steps[0]!) : steps[0] === 'inner') return null;
  return undefined;
}

/** Which of a message's members to build. */
interface MessageReads {
  type: boolean;
  nonce: boolean;
  eid: boolean;
  eids: boolean;
  sourceEid: boolean;
  records: boolean;
  mapReply: boolean;
  itrRlocs: boolean;
  recordRlocs: boolean;
  mapReplyRlocs: boolean;
  globalEtrRloc: boolean;
  rtrRlocs: boolean;
}

interface Reads {
  head: Set<string>;
  message: MessageReads;
  /** An ECM's inner IP and UDP members read. */
  inner: Set<string>;
}

function readsOf(names: Set<string>, pre: string): MessageReads {
  const has = (m: string) => names.has(pre + m);
  return {
    type: has('type'),
    nonce: has('nonce'),
    eid: has('eid'),
    eids: has('eids'),
    sourceEid: has('source_eid'),
    records: has('records.eid'),
    mapReply: has('map_reply.eid'),
    itrRlocs: has('itr_rlocs'),
    recordRlocs: has('records.locators.rloc'),
    mapReplyRlocs: has('map_reply.locators.rloc'),
    globalEtrRloc: has('nat.global_etr_rloc'),
    rtrRlocs: has('nat.rtr_rlocs'),
  };
}

/** What to build for every path, or undefined when a path reads a member not built here. */
function reads(paths: readonly string[], ecm: boolean): Reads | undefined {
  const names = new Set<string>();
  for (const path of paths) {
    const m = memberOf(path, ecm);
    if (m === undefined) return undefined;
    if (m !== null) names.add(m);
  }
  return {
    head: new Set(HEAD.filter((m) => names.has(m))),
    message: readsOf(names, ecm ? 'inner.' : ''),
    inner: new Set(ECM_INNER.filter((m) => names.has(`inner.${m}`))),
  };
}

/**
 * The IPv4 or IPv6 address whose AFI is at `a` as the JSON writes it (control-runs.ts,
 * putScannedAddress): `[iid]` first when it is in an Instance-ID LCAF, `/maskLen` last when that
 * is not negative.
 */
function addressText(b: Uint8Array, a: number, maskLen: number): string {
  let iid = '';
  if (u16(b, a) === Afi.Lcaf) {
    iid = `[${u32(b, a + 8)}]`;
    a += 12;
  }
  const addr = u16(b, a) === Afi.IPv4 ? formatIPv4(b, a + 2) : formatIPv6(b, a + 2);
  return maskLen >= 0 ? `${iid}${addr}/${maskLen}` : iid + addr;
}

/** Record i's EID (its mask length from a mapping or referral record's header) and its locators' RLOCs, as `eid` and `rlocs` name them. */
function record(b: Uint8Array, c: PlainControl, i: number, referral: boolean, eid: boolean, rlocs: boolean): Record<string, unknown> {
  const r = c.records[i]!;
  const o: Record<string, unknown> = {};
  if (eid) o.eid = addressText(b, r + 10, fieldValue((referral ? REFERRAL_HEADER : MAPPING_HEADER).maskLen, u32(b, r + 4)));
  if (rlocs) {
    // A referral's referrals are `locators` too (json-lisp.ts, writeReferral).
    const first = c.firstLocator[i]!;
    const locators = new Array<{ rloc: string }>(c.firstLocator[i + 1]! - first);
    for (let j = 0; j < locators.length; j++) locators[j] = { rloc: addressText(b, c.locators[first + j]! + 6, -1) };
    o.locators = locators;
  }
  return o;
}

/** An Info-Reply's NAT-Traversal addresses that `r` names: the global ETR RLOC is left out when AFI 0, an RTR's is null. */
function nat(b: Uint8Array, c: PlainControl, r: MessageReads): Record<string, unknown> {
  const a = c.natAddresses;
  const o: Record<string, unknown> = {};
  if (r.globalEtrRloc && u16(b, a[0]!) !== Afi.None) o.global_etr_rloc = addressText(b, a[0]!, -1);
  if (r.rtrRlocs) {
    const rtrs = new Array<string | null>(c.natCount - 3);
    for (let i = 3; i < c.natCount; i++) rtrs[i - 3] = u16(b, a[i]!) === Afi.None ? null : addressText(b, a[i]!, -1);
    o.rtr_rlocs = rtrs;
  }
  return o;
}

/** The scanned message's members that `r` names, into `o`. */
function message(o: Record<string, unknown>, b: Uint8Array, c: PlainControl, r: MessageReads): void {
  const type = c.type;
  if (r.type) o.type = plainMessageType(c);
  if (r.nonce) o.nonce = toHex(b, c.msg + 4, c.msg + 12);
  if (type === MessageType.MapRequest) {
    if (r.sourceEid && c.sourceEid >= 0) o.source_eid = addressText(b, c.sourceEid, -1);
    if (r.itrRlocs) {
      const itrs = new Array<string>(c.itrCount);
      for (let i = 0; i < c.itrCount; i++) itrs[i] = addressText(b, c.itrs[i]!, -1);
      o.itr_rlocs = itrs;
    }
    if (r.eids) {
      const eids = new Array<string>(c.eidCount);
      for (let i = 0; i < c.eidCount; i++) eids[i] = addressText(b, c.eids[i]!, b[c.eids[i]! - 1]!);
      o.eids = eids;
    }
    // Its map-data, when M is set, is the one record scanned.
    if ((r.mapReply || r.mapReplyRlocs) && c.recordCount) o.map_reply = record(b, c, 0, false, r.mapReply, r.mapReplyRlocs);
    return;
  }
  if (type === MessageType.Info) {
    if (r.eid && c.infoEid >= 0) o.eid = addressText(b, c.infoEid, b[c.info + 5]!);
    if ((r.globalEtrRloc || r.rtrRlocs) && c.nat >= 0) o.nat = nat(b, c, r);
    return;
  }
  if (r.records || r.recordRlocs) {
    const referral = SHAPES[type]!.parts.includes('referrals');
    const records = new Array<Record<string, unknown>>(c.recordCount);
    for (let i = 0; i < c.recordCount; i++) records[i] = record(b, c, i, referral, r.records, r.recordRlocs);
    o.records = records;
  }
}

/** The object built for a frame scanned into `c`. */
function build(f: Frame, c: PlainControl, r: Reads): Record<string, unknown> {
  const b = f.data;
  const ecm = c.ecm >= 0;
  const o: Record<string, unknown> = {};
  const head = r.head;
  if (head.has('frame')) o.frame = f.index;
  if (head.has('len')) o.len = f.len;
  if (head.has('src')) o.src = formatIPv4(b, c.ip + 12);
  if (head.has('dst')) o.dst = formatIPv4(b, c.ip + 16);
  if (head.has('sport')) o.sport = c.sport;
  if (head.has('dport')) o.dport = c.dport;
  if (!ecm) {
    message(o, b, c, r.message);
    return o;
  }
  o.type = plainControlType(c);
  const inner: Record<string, unknown> = {};
  const q = c.innerIp;
  const v4 = c.innerVersion === 4;
  if (r.inner.has('src')) inner.src = v4 ? formatIPv4(b, q + 12) : formatIPv6(b, q + 8);
  if (r.inner.has('dst')) inner.dst = v4 ? formatIPv4(b, q + 16) : formatIPv6(b, q + 24);
  if (r.inner.has('sport')) inner.sport = u16(b, c.innerUdp);
  if (r.inner.has('dport')) inner.dport = u16(b, c.innerUdp + 2);
  message(inner, b, c, r.message);
  o.inner = inner;
  return o;
}

/** Where scanPlainControl found things; reused for every frame. */
const scanned = plainControl();

/**
 * What the packet's JSON object holds on `paths`, for a frame that is a common control message;
 * undefined for any other frame, and for an ECM (or another message) when a path reads a member
 * of its object not built here. Undefined when no frame gets one.
 */
export function plainControlMembers(paths: readonly string[]): ((f: Frame) => Record<string, unknown> | undefined) | undefined {
  const plain = reads(paths, false);
  const ecm = reads(paths, true);
  if (!plain && !ecm) return undefined;
  return (f) => {
    const c = scanned;
    if (!scanPlainControl(f, c)) return undefined;
    const r = c.ecm >= 0 ? ecm : plain;
    return r && build(f, c, r);
  };
}

/**
 * The filter over common control messages' frames: true or false, or undefined for a frame it
 * does not take (the caller decodes it). Undefined when it takes none.
 */
export function plainControlTest(filter: CompiledFilter): ((f: Frame) => boolean | undefined) | undefined {
  const members = plainControlMembers(filter.paths);
  if (!members) return undefined;
  return (f) => {
    const o = members(f);
    return o && filter.test(o);
  };
}
