// One tcpdump-like line per LISP packet: time, outer addresses and ports, message type, nonce,
// flags, EIDs and RLOCs with priority/weight, authentication result, malformed notes.

import { nonceHex, toHex } from '../dissect/addr.js';
import { addressText, prefixText } from '../dissect/address.js';
import { authAlgorithm } from '../dissect/auth.js';
import { DataField, dataFlagLetters, dataHeaderFields } from '../dissect/data.js';
import { flagFields, isSet, lineFields, type Word } from '../dissect/field.js';
import { ECM_HEADER, LOCATOR, MAP_NOTIFY, MAP_REGISTER, MAP_REPLY, MAP_REQUEST } from '../dissect/fields.js';
import { messageName } from '../dissect/names.js';
import { actionSlug, GPE_NEXT_PROTOCOLS, LISP_CONTROL_PORT, LISP_DATA_PORT, MessageType, referralActionSlug, TTL_UNLIMITED, VXLAN_PORT } from '../dissect/registry.js';
import { isOpaque, refreshScopeSlug, ReliableField, rejectReasonSlug, type ReliableMessage, ReliableType, reliableTypeTitle } from '../dissect/reliable.js';
import { icmpEchoKind, IP_PROTOCOL_NAMES } from '../dissect/ip.js';
import { tcpFlagLetters } from '../dissect/tcp.js';
import type { AuthFields, ControlMessage, DataMessage, IcmpError, InnerSummary, LispSecAd, Locator, MappingRecord, NestedLisp, ReferralRecord, VxlanMessage } from '../dissect/types.js';
import { VxlanField, vxlanFlagLetters, vxlanGroupPolicy } from '../dissect/vxlan.js';
import type { LispPacket, ReliableEntry } from '../capture/packets.js';
import { PLAIN, type Style } from './style.js';
import { timeOfDay } from './time.js';

export interface LineOptions {
  /** Numeric ports (no lisp-data / lisp-control names). */
  numeric?: boolean;
  style: Style;
  /** Say `unverified` after the algorithm of an authenticated message no key checked (the active commands). */
  unverified?: boolean;
  /** The frame's number first, as tcpdump -# does (`1:464` with several captures). */
  number?: string;
  /** The time column as a LineClock wrote it ('' for none); by default the local time of day. */
  time?: string;
}

const PORT_NAMES: ReadonlyMap<number, string> = new Map([
  [LISP_DATA_PORT, 'lisp-data'],
  [LISP_CONTROL_PORT, 'lisp-control'],
  [VXLAN_PORT, 'vxlan'],
]);

export { timeOfDay };

function port(p: number, o: LineOptions): string {
  return o.numeric ? String(p) : (PORT_NAMES.get(p) ?? String(p));
}

function endpoint(addr: string, p: number, o: LineOptions): string {
  return `${addr}.${port(p, o)}`;
}

export function nonceText(n: bigint): string {
  return `0x${nonceHex(n)}`;
}

const LOCATOR_FLAGS = flagFields(LOCATOR[1]!);

/** The locator's set flags by their RFC letters (L, p, R). */
export function locatorFlagLetters(l: Locator): string {
  return LOCATOR_FLAGS.filter((x) => isSet(x, l)).map((x) => x.letter).join('');
}

/** What follows a locator's RLOC: ` p1/w100 LR`. */
export function locatorTail(l: Locator): string {
  const f = locatorFlagLetters(l);
  return ` p${l.priority}/w${l.weight}${f ? ` ${f}` : ''}`;
}

function locatorText(l: Locator): string {
  return `${addressText(l.rloc)}${locatorTail(l)}`;
}

/** A record's TTL in minutes, or `unlimited` (RFC 9301 §5.4). */
export function ttlText(ttl: number): string {
  return ttl === TTL_UNLIMITED ? 'unlimited' : String(ttl);
}

/** What follows the TTL of a record without locators. */
export function negativeText(action: number): string {
  return ` negative ${actionSlug(action)}`;
}

function recordText(r: MappingRecord): string {
  const eid = prefixText(r.eid, r.eidMaskLen);
  if (r.eid.kind === 'unknown') return `${eid} (not decodable further)`;
  if (r.locators.length === 0) return `${eid} ttl ${ttlText(r.ttl)}${negativeText(r.action)}`;
  return `${eid} ttl ${ttlText(r.ttl)} -> [${r.locators.map(locatorText).join(', ')}]`;
}

/** What comes before `n` records: `2 records: `, or all there is: `0 records`. */
export function recordsHead(n: number): string {
  return n === 0 ? '0 records' : `${n} record${n > 1 ? 's' : ''}: `;
}

function records(rs: MappingRecord[]): string {
  return `${recordsHead(rs.length)}${rs.map(recordText).join('; ')}`;
}

/** A referral record's action, and whether it is incomplete. */
export function referralText(r: Pick<ReferralRecord, 'action' | 'incomplete'>): string {
  return `${referralActionSlug(r.action)}${r.incomplete ? ' incomplete' : ''}`;
}

/** ` [word word]` of the header flags set, as the field table words them. */
function flags<T>(def: Word<T>, m: T): string {
  const on = lineFields(def).filter((f) => isSet(f, m)).map((f) => f.line);
  return on.length ? ` [${on.join(' ')}]` : '';
}

export interface AuthStatus {
  ok: boolean;
  reason?: string;
}

export function authText(a: Pick<AuthFields, 'algorithmId'>, auth: AuthStatus | undefined, s: Style, unverified: boolean): string {
  const alg = authAlgorithm(a.algorithmId);
  const name = alg?.hash ?? (alg ? 'none' : `alg${a.algorithmId}`);
  if (!auth) return unverified && alg?.hash !== undefined ? `auth ${name} unverified` : `auth ${name}`;
  return auth.ok ? `auth ${name} ${s.good('ok')}` : `auth ${name} ${s.bad('FAILED')}`;
}

/** The message part of the line (after "LISP "). */
/** "lisp-sec otk" (ECM from an ITR/MR), "lisp-sec ms-otk, eid-ad P" (MS to ETR), "lisp-sec eid-ad P, pkt-ad" (Map-Reply). */
function lispSecText(ad: LispSecAd, fromMapServer: boolean): string {
  if (ad.data) return `lisp-sec ad-type ${ad.adType}`;
  const parts: string[] = [];
  if (ad.otkAd) parts.push(fromMapServer ? 'ms-otk' : 'otk');
  const e = ad.eidAd;
  if (e?.records) parts.push(`eid-ad ${e.records.map((p) => prefixText(p.prefix, p.maskLen)).join(' ') || '(none)'}`);
  if (ad.pktAd) parts.push('pkt-ad');
  return `lisp-sec ${parts.join(', ')}`.trimEnd();
}

export function controlSummary(m: ControlMessage, s: Style, auth?: AuthStatus, msRtrAuth?: AuthStatus, unverified = false): string {
  if ('unknown' in m) return s.bad(`unknown control type ${m.type}, ${m.data.length} bytes`);
  const name = messageName(m);
  switch (m.type) {
    case MessageType.MapRequest: {
      const kind = !m.smr && !m.probe && m.xtrIdPresent ? `${name} (subscribe)` : name;
      return (
        `${s.type(kind)} nonce ${nonceText(m.nonce)}` +
        flags(MAP_REQUEST, m) +
        `, eid ${m.eids.map((p) => s.eid(prefixText(p.prefix, p.maskLen))).join(', ') || '(none)'}` +
        (m.sourceEid.kind !== 'none' ? `, source-eid ${addressText(m.sourceEid)}` : '') +
        `, itr-rlocs [${m.itrRlocs.map(addressText).join(', ')}]` +
        (m.mapReply ? `, map-data ${recordText(m.mapReply)}` : '') +
        (m.xtrId ? `, xtr-id ${toHex(m.xtrId)}` : '')
      );
    }
    case MessageType.MapReply:
      return (
        `${s.type(m.probe ? `${name} (probe)` : name)} nonce ${nonceText(m.nonce)}` +
        flags(MAP_REPLY, m) +
        `, ${records(m.records)}` +
        (m.lispSec ? `, ${lispSecText(m.lispSec, false)}` : '')
      );
    case MessageType.MapRegister:
      return (
        `${s.type(name)} nonce ${nonceText(m.nonce)}` +
        flags(MAP_REGISTER, m) +
        `, ${authText(m, auth, s, unverified)}, ${records(m.records)}`
      );
    case MessageType.MapNotify:
    case MessageType.MapNotifyAck:
      return (
        `${s.type(name)} nonce ${nonceText(m.nonce)}` +
        flags(MAP_NOTIFY, m) +
        `, ${authText(m, auth, s, unverified)}` +
        (m.msRtrAuth ? `, ms-rtr ${authText(m.msRtrAuth, msRtrAuth, s, unverified)}` : '') +
        `, ${records(m.records)}`
      );
    case MessageType.MapReferral:
      return (
        `${s.type(name)} nonce ${nonceText(m.nonce)}, ` +
        (m.records
          .map(
            (r) =>
              `${prefixText(r.eid, r.eidMaskLen)} ${referralText(r)} ttl ${ttlText(r.ttl)} -> [${r.referrals.map(locatorText).join(', ')}]`,
          )
          .join('; ') || '0 records')
      );
    case MessageType.Info: {
      const head = `${s.type(name)} nonce ${nonceText(m.nonce)}, ${authText(m, auth, s, unverified)}, eid ${prefixText(m.eid, m.eidMaskLen)}`;
      const a = m.address;
      if (a.kind === 'lcaf' && a.lcaf.body.kind === 'nat-traversal') {
        const n = a.lcaf.body;
        return (
          `${head}, ttl ${m.ttl}, global ${addressText(n.globalEtrRloc)}:${n.etrUdpPort}, ms ${addressText(n.msRloc)}:${n.msUdpPort}` +
          `, private ${addressText(n.privateEtrRloc)}, rtrs [${n.rtrRlocs.map(addressText).join(', ')}]`
        );
      }
      return head;
    }
    case MessageType.ECM: {
      const i = m.inner;
      const f = flags(ECM_HEADER, m);
      const sec = m.lispSec
        ? ` (${lispSecText(m.lispSec, m.toEtr)})`
        : m.msRtrAuth
          ? ` (ms-rtr ${authText(m.msRtrAuth, msRtrAuth, s, unverified)})`
          : '';
      if (!i) {
        // An unknown AD Type swallows the rest: there is no inner packet to speak of.
        if (m.lispSec?.data && !m.payload) return `${s.type(name)}${f}${sec}, inner packet not located`;
        return `${s.type(name)}${f}${sec}, ${m.payload?.length ?? 0} bytes not an IP/UDP packet`;
      }
      // The verdict on a message an ECM carries (a Map-Register through an RTR) is the inner message's.
      const inner = i.message ? controlSummary(i.message, s, auth, undefined, unverified) : `${i.payload?.length ?? 0} bytes not LISP`;
      return `${s.type(name)}${f}${sec} ${i.src}.${i.sport} > ${i.dst}.${i.dport}: ${inner}`;
    }
    case MessageType.SharedExtension:
      return `${s.type('Shared-Extension')} sub-type ${m.subType}, ${m.data.length} bytes`;
  }
}

/** One reliable-transport message: its type and ID, then what it says. */
export function reliableSummary(m: ReliableMessage, s: Style, auth?: AuthStatus): string {
  const head = `${s.type(reliableTypeTitle(m.type))} ${ReliableField.messageId.line} ${m.messageId}`;
  if (isOpaque(m)) return `${head}, ${m.body.length} bytes`;
  switch (m.type) {
    case ReliableType.ErrorNotification:
      return `${head} code ${m.errorCode}, offending ${reliableTypeTitle(m.offendingType)} id ${m.offendingId} (${m.offendingLength} bytes)`;
    case ReliableType.Registration:
      return `${head}: ${controlSummary(m.mapRegister, s, auth)}`;
    case ReliableType.RegistrationAck:
      return `${head} ${s.eid(prefixText(m.eid, m.eidMaskLen))}`;
    case ReliableType.RegistrationReject:
      return `${head} ${s.eid(prefixText(m.eid, m.eidMaskLen))} ${s.bad(rejectReasonSlug(m.reason))}`;
    case ReliableType.RegistrationRefresh:
      return (
        `${head} scope ${refreshScopeSlug(m.scope)}${m.rejectedOnly ? ' [rejected-only]' : ''}` +
        (m.eid ? ` ${s.eid(prefixText(m.eid, m.eidMaskLen ?? 0))}` : '')
      );
    case ReliableType.MappingNotification:
      return `${head} ${recordText(m.record)}`;
  }
}

function reliableLine(entries: ReliableEntry[], s: Style): string {
  if (entries.length === 0) return 'reliable transport, no message completed';
  return entries.map((e) => reliableSummary(e.message, s, e.auth)).join(' | ');
}

export function dataSummary(d: DataMessage, s?: Style, auth?: AuthStatus): string {
  const f = dataHeaderFields(d.header);
  let out = `data [${dataFlagLetters(d.header) || '-'}]`;
  const D = DataField;
  if (f.nonce !== undefined) out += ` ${D.nonce.line} 0x${f.nonce.toString(16).padStart(6, '0')}`;
  if (f.srcMapVersion !== undefined) out += ` ${D.srcMapVersion.line} ${f.srcMapVersion}/${f.dstMapVersion}`;
  if (f.iid !== undefined) out += ` ${D.iid.line} ${f.iid}`;
  if (f.lsb !== undefined) out += ` ${D.lsb32.line} 0x${f.lsb.toString(16)}`;
  if (f.gpeNextProtocol !== undefined) {
    out += ` ${D.nextProtocol.line} ${GPE_NEXT_PROTOCOLS.get(f.gpeNextProtocol) ?? f.gpeNextProtocol}`;
  }
  if (f.keyId) return `${out}, encrypted (key ${f.keyId}), ${d.payload.length} bytes`;
  const i = d.inner;
  if (!i) return `${out}, ${d.payload.length} bytes`;
  return `${out}: ${innerSummary(i, s, auth)}`;
}

/** The encapsulated packet as tcpdump would print it: addresses and ports, then what it is; LISP inside is decoded. */
export function innerSummary(i: InnerSummary, s?: Style, auth?: AuthStatus): string {
  const sp = i.sport !== undefined ? `.${i.sport}` : '';
  const dp = i.dport !== undefined ? `.${i.dport}` : '';
  const head = `${i.src}${sp} > ${i.dst}${dp}: `;
  if (i.lisp) return `${head}LISP ${nestedSummary(i.lisp, s ?? PLAIN, auth)}`;
  const len = i.payloadLen ?? i.len;
  const frag = i.fragment ? ' (fragment)' : '';
  if (i.tcpFlags !== undefined) {
    const ack = i.tcpFlags & 0x10 ? `, ack ${i.tcpAck}` : '';
    return `${head}Flags [${tcpFlagLetters(i.tcpFlags)}], seq ${i.tcpSeq}${ack}, length ${len}${frag}`;
  }
  if (i.proto === 17 && i.sport !== undefined) return `${head}UDP, length ${len}${frag}`;
  if (i.icmpType !== undefined) {
    const echo = icmpEchoKind(i.proto, i.icmpType);
    // An echo cut before its Identifier says only what it is.
    const ids = i.icmpId === undefined ? '' : `, id ${i.icmpId}, seq ${i.icmpSeq}`;
    const what = echo ? `echo ${echo}${ids}` : `type ${i.icmpType} code ${i.icmpCode}`;
    return `${head}ICMP${i.proto === 58 ? '6,' : ''} ${what}, length ${len}${frag}`;
  }
  return `${head}${IP_PROTOCOL_NAMES.get(i.proto)?.tcpdump ?? `proto ${i.proto}`}, length ${len}${frag}`;
}

/** VXLAN: flags, VNI (the Instance-ID), group policy, then the inner packet as LISP data's. */
export function vxlanSummary(m: VxlanMessage, s: Style): string {
  let out = `${s.type('VXLAN')} [${vxlanFlagLetters(m.flags) || '-'}] ${VxlanField.vni.line} ${m.vni}`;
  const g = vxlanGroupPolicy(m);
  if (g) out += ` ${VxlanField.groupPolicyId.line} ${g.groupPolicyId}${g.dontLearn ? ` ${VxlanField.dontLearn.line}` : ''}${g.policyApplied ? ` ${VxlanField.policyApplied.line}` : ''}`;
  if (m.inner) return `${out}: ${innerSummary(m.inner, s)}`;
  const e = m.ethernet;
  if (e?.etherType !== undefined) return `${out}: ${e.src} > ${e.dst}, ethertype 0x${e.etherType.toString(16).padStart(4, '0')}, ${m.payload.length} bytes`;
  return `${out}, ${m.payload.length} bytes`;
}

/** A LISP message found inside another packet (in LISP data, quoted by an ICMP error). */
export function nestedSummary(n: NestedLisp, s: Style, auth?: AuthStatus): string {
  if (n.control) return controlSummary(n.control, s, auth);
  if (n.data) return dataSummary(n.data, s, auth);
  return n.kind === 'data' ? 'data, not decodable' : 'control, not decodable';
}

/** An ICMP error the way tcpdump prints it, then the packet it quotes. */
export function icmpErrorSummary(e: IcmpError, s: Style, o: LineOptions): string {
  const q = e.quoted;
  const words = icmpErrorWords(e);
  let out = `${e.version === 6 ? 'ICMP6, ' : 'ICMP '}${words}, length ${e.length}`;
  const ports = q.sport !== undefined ? [endpoint(q.src, q.sport, o), endpoint(q.dst, q.dport!, o)] : [q.src, q.dst];
  out += `, quoting ${ports[0]} > ${ports[1]}`;
  out += q.lisp ? `: LISP ${nestedSummary(q.lisp, s)}` : q.sport !== undefined ? ' (no LISP bytes quoted)' : '';
  if (q.cut && q.lisp) out += ` [quote cut at ${q.quotedLength} of ${q.totalLength} bytes]`;
  return out;
}

function icmpErrorWords(e: IcmpError): string {
  const q = e.quoted;
  const port = q.dport !== undefined ? ` udp port ${q.dport}` : '';
  if (e.version === 4) {
    switch (e.name) {
      case 'port-unreachable':
        return `${q.dst}${port} unreachable`;
      case 'host-unreachable':
        return `host ${q.dst} unreachable`;
      case 'net-unreachable':
        return `net ${q.dst} unreachable`;
      case 'protocol-unreachable':
        return `${q.dst} protocol ${q.proto} unreachable`;
      case 'fragmentation-needed':
        return `${q.dst} unreachable - need to frag (mtu ${e.mtu})`;
      case 'admin-prohibited':
        return `host ${q.dst} unreachable - admin prohibited filter`;
      case 'ttl-exceeded':
        return 'time exceeded in-transit';
      case 'reassembly-time-exceeded':
        return 'ip reassembly time exceeded';
      case 'parameter-problem':
        return `parameter problem - octet ${e.pointer}`;
      case 'source-quench':
        return 'source quench';
    }
    if (e.type === 5) return `redirect ${q.dst} to ${e.gateway}`;
    return `${q.dst} unreachable (${e.name})`;
  }
  switch (e.name) {
    case 'port-unreachable':
      return `destination unreachable, unreachable port, ${q.dst}${port}`;
    case 'address-unreachable':
      return `destination unreachable, unreachable address ${q.dst}`;
    case 'no-route':
      return `destination unreachable, unreachable route ${q.dst}`;
    case 'admin-prohibited':
      return `destination unreachable, unreachable prohibited ${q.dst}`;
    case 'packet-too-big':
      return `packet too big, mtu ${e.mtu}`;
    case 'hop-limit-exceeded':
      return 'time exceeded in-transit';
    case 'reassembly-time-exceeded':
      return 'time exceeded reassembly';
  }
  return `${e.name.replace(/-/g, ' ')}`;
}

export function packetLine(p: LispPacket, o: LineOptions): string {
  const s = o.style;
  const time = o.time ?? timeOfDay(p.tsSec, p.tsNsec);
  let line = `${o.number === undefined ? '' : `${o.number.padStart(5)}  `}${time ? `${time} ` : ''}`;
  if (p.ip) {
    line += `IP${p.ip.version === 6 ? '6' : ''} `;
    const ports = p.udp ? [p.udp.srcPort, p.udp.dstPort] : p.tcp ? [p.tcp.srcPort, p.tcp.dstPort] : undefined;
    line += ports
      ? `${endpoint(p.ip.src, ports[0]!, o)} > ${endpoint(p.ip.dst, ports[1]!, o)}: `
      : `${p.ip.src} > ${p.ip.dst}: `;
  }
  if (p.control) line += `LISP ${controlSummary(p.control, s, p.auth, p.msRtrAuth, o.unverified)}`;
  else if (p.data) line += `LISP ${dataSummary(p.data, s, p.auth)}`;
  else if (p.icmp) line += icmpErrorSummary(p.icmp, s, o);
  else if (p.vxlan) line += vxlanSummary(p.vxlan, s);
  else if (p.reliable) line += `LISP ${reliableLine(p.reliable, s)}`;
  else line += p.summary ?? 'not LISP';
  if (p.fragments) line += ` (reassembled from ${p.fragments.length} fragments)`;
  // One line holds what is wrong or odd; `note`-level notes are for -V.
  for (const level of ['error', 'warning'] as const) {
    const texts = [
      ...p.frameNotes.filter((n) => n.level === level).map((n) => n.message),
      ...p.notes.filter((n) => n.level === level).map((n) => `${n.message} at byte ${n.offset}`),
    ];
    if (!texts.length) continue;
    const label = level === 'error' ? 'malformed' : 'warning';
    line += ` ${level === 'error' ? s.bad(`[${label}: ${texts.join('; ')}]`) : s.warn(`[${label}: ${texts.join('; ')}]`)}`;
  }
  return line;
}
