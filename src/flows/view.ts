// What the flow engine needs from a decoded packet, independent of how it reached the wire:
// the innermost control message of an ECM chain with the hops around it, or a data packet's
// outer and inner endpoints. Nothing here keeps a view into the capture buffers.

import type { LispPacket } from '../capture/packets.js';
import { nonceHex } from '../dissect/addr.js';
import { addressText, coreAddress, prefixText } from '../dissect/address.js';
import { dataHeaderFields } from '../dissect/data.js';
import type { ReliableMessage } from '../dissect/reliable.js';
import type { ControlMessage, EidPrefix, InfoMessage, LispAddress, Locator, MapNotify, MappingRecord, MapReferral, MapRegister, MapReply, MapRequest, ReferralRecord } from '../dissect/types.js';
import { MessageType } from '../dissect/registry.js';
import { texts } from './text-pool.js';

/**
 * What the exchange tracker reads of each message: the general decoder's messages have it, and the
 * byte scan (plain-control-view.ts) builds only this, which is most of what decoding them cost.
 */
export type LocatorView = Pick<Locator, 'rloc' | 'probed'>;
export interface RecordView extends Pick<MappingRecord, 'eid' | 'eidMaskLen' | 'action'> {
  locators: readonly LocatorView[];
}
export interface RequestView extends Pick<MapRequest, 'type' | 'nonce' | 'probe' | 'smr' | 'smrInvoked' | 'xtrIdPresent' | 'xtrId' | 'sourceEid' | 'itrRlocs'> {
  eids: readonly Pick<EidPrefix, 'prefix' | 'maskLen'>[];
}
export interface ReplyView extends Pick<MapReply, 'type' | 'nonce' | 'probe' | 'lispSec'> {
  records: readonly RecordView[];
}
export interface RegisterView extends Pick<MapRegister, 'type' | 'nonce' | 'wantMapNotify' | 'builtForRtr' | 'mobileNode' | 'xtrId' | 'keyId' | 'algorithmId'> {
  records: readonly RecordView[];
}
export interface NotifyView extends Pick<MapNotify, 'type' | 'nonce' | 'xtrId'> {
  records: readonly RecordView[];
}
export interface ReferralView extends Pick<MapReferral, 'type' | 'nonce'> {
  records: readonly (Pick<ReferralRecord, 'eid' | 'eidMaskLen' | 'action'> & { referrals: readonly Pick<Locator, 'rloc'>[] })[];
}
export type InfoView = Pick<InfoMessage, 'type' | 'nonce' | 'reply' | 'eid' | 'eidMaskLen' | 'address'>;
/** A message as the tracker takes it: the ones it does not match are the decoder's whole. */
export type MessageView = RequestView | ReplyView | RegisterView | NotifyView | ReferralView | InfoView | Exclude<ControlMessage, MapRequest | MapReply | MapRegister | MapNotify | MapReferral | InfoMessage>;

export interface ControlView<M extends MessageView = MessageView> {
  ts: number;
  /** Outer addresses and ports of the packet as captured. */
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** The innermost message (ECMs unwrapped). */
  m: M;
  /**
   * Set when the message came inside an ECM: the ECM's outer destination and inner addresses, and
   * the outermost ECM's E and M bits (whom a Map-Resolver or RTR sends it on to).
   */
  ecm?: { outerDst: string; innerSrc: string; innerDst: string; ddt: boolean; depth: number; toEtr: boolean; toMs: boolean; lispSec?: boolean };
  /**
   * Set when the message came inside a LISP data packet (an RTR hands the Map-Notify to a Mobile Node
   * behind a NAT that way): the inner IP addresses; `src`/`dst` are the data packet's outer ones.
   */
  tunnel?: { innerSrc: string; innerDst: string };
  /** Authentication verdict of the (innermost) message, when a key applied. */
  authOk?: boolean;
  authError?: string;
}

export function controlView(p: LispPacket): ControlView<ControlMessage> | undefined {
  if (!p.ip || !p.udp) return undefined;
  let m = p.control;
  let tunnel: ControlView['tunnel'];
  // A control message carried inside LISP data (an RTR's Data-Map-Notify): the data packet's outer
  // addresses are the hop, its inner ones the message's own.
  const nested = p.data?.inner?.lisp;
  if (!m && nested?.kind === 'control' && nested.control) {
    m = nested.control;
    tunnel = { innerSrc: p.data!.inner!.src, innerDst: p.data!.inner!.dst };
  }
  if (!m) return undefined;
  let ecm: ControlView['ecm'];
  let depth = 0;
  while (m.type === MessageType.ECM && 'inner' in m && m.inner?.message) {
    depth++;
    if (!ecm) {
      ecm = { outerDst: p.ip.dst, innerSrc: m.inner.src, innerDst: m.inner.dst, ddt: m.ddt, depth, toEtr: m.toEtr, toMs: m.toMs };
      // The ITR asks for LISP-SEC with a One-Time Key in the ECM it sends (RFC 9303 §6.1).
      if (m.lispSec?.otkAd) ecm.lispSec = true;
    } else ecm.depth = depth;
    if (m.ddt) ecm.ddt = true;
    m = m.inner.message;
  }
  const v: ControlView<ControlMessage> = { ts: p.ts, src: texts.get(p.ip.src), dst: texts.get(p.ip.dst), sport: p.udp.srcPort, dport: p.udp.dstPort, m };
  if (ecm) v.ecm = ecm;
  if (tunnel) v.tunnel = tunnel;
  // The message's own verdict, and the Map-Server's to the RTR (a Map-Notify with the R bit).
  const failed = p.auth && !p.auth.ok ? p.auth : p.msRtrAuth && !p.msRtrAuth.ok ? p.msRtrAuth : undefined;
  if (failed) {
    v.authOk = false;
    v.authError = failed === p.msRtrAuth ? `MS-RTR authentication: ${failed.reason}` : failed.reason;
  } else if (p.auth) v.authOk = true;
  return v;
}

/** One message of the Map-Server reliable transport (TCP 4342), at the frame that completed it. */
export interface ReliableView {
  ts: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** The TCP connection, named the same from either direction. */
  connection: string;
  m: ReliableMessage;
  /** Authentication verdict of a Registration's Map-Register, when a key applied. */
  authOk?: boolean;
  authError?: string;
}

export function reliableViews(p: LispPacket): ReliableView[] {
  if (!p.reliable || !p.ip || !p.tcp) return [];
  const src = p.ip.src;
  const dst = p.ip.dst;
  const sport = p.tcp.srcPort;
  const dport = p.tcp.dstPort;
  const connection = connectionName(src, sport, dst, dport);
  return p.reliable.map((e) => {
    const v: ReliableView = { ts: p.ts, src, dst, sport, dport, connection, m: e.message };
    if (e.auth) {
      v.authOk = e.auth.ok;
      if (!e.auth.ok) v.authError = e.auth.reason;
    }
    return v;
  });
}

/** Both endpoints, in a fixed order, so that either direction of a TCP connection names it alike. */
function connectionName(a: string, ap: number, b: string, bp: number): string {
  const x = `[${a}]:${ap}`;
  const y = `[${b}]:${bp}`;
  return x < y ? `${x} ${y}` : `${y} ${x}`;
}

export interface DataView {
  ts: number;
  /** Outer source: the ITR's RLOC. */
  itr: string;
  /** Outer destination: the ETR's RLOC. */
  etr: string;
  /** Inner destination EID, with `[iid]` when the header carries an Instance ID. */
  dstEid?: string;
  srcEid?: string;
}

/** A LISP data packet's, or a VXLAN packet's (its VNI is the Instance-ID of a LISP fabric). */
export function dataView(p: LispPacket): DataView | undefined {
  if (!p.ip) return undefined;
  let iid: number | undefined;
  let i;
  if (p.data) {
    iid = dataHeaderFields(p.data.header).iid;
    i = p.data.inner;
  } else if (p.vxlan) {
    iid = p.vxlan.vni;
    i = p.vxlan.inner;
  } else return undefined;
  const v: DataView = { ts: p.ts, itr: p.ip.src, etr: p.ip.dst };
  if (i) {
    const pre = iid === undefined ? '' : `[${iid}]`;
    v.dstEid = pre + i.dst;
    v.srcEid = pre + i.src;
  }
  return v;
}

export function nonceText(n: bigint): string {
  return nonceHex(n);
}

/** The address a locator can be reached at (or its text when it has none, e.g. a DN). */
export function rlocText(a: LispAddress): string {
  return coreAddress(a) ?? addressText(a);
}

export function locatorSet(ls: readonly Pick<Locator, 'rloc'>[]): string[] {
  const set = ls.map((l) => rlocText(l.rloc));
  // Most records have one or two locators: Array.prototype.sort allocates its work space even for
  // those (36 MB over the 200,000 control packets of the 1M-packet bench capture). Same order as
  // sort()'s: strings by UTF-16 code units.
  if (set.length === 2) {
    const [a, b] = set as [string, string];
    if (b < a) {
      set[0] = b;
      set[1] = a;
    }
  } else if (set.length > 2) set.sort();
  return set;
}

export function recordEid(r: Pick<MappingRecord, 'eid' | 'eidMaskLen'>): string {
  return prefixText(r.eid, r.eidMaskLen);
}
