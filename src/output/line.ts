// One tcpdump-like line per LISP packet: time, outer addresses and ports, message type, nonce,
// flags, EIDs and RLOCs with priority/weight, authentication result, malformed notes.

import { addressText, prefixText } from '../dissect/address.js';
import { authAlgorithm } from '../dissect/auth.js';
import { dataFlagLetters, dataHeaderFields } from '../dissect/data.js';
import { actionSlug, GPE_NEXT_PROTOCOLS, LISP_CONTROL_PORT, LISP_DATA_PORT, referralActionSlug } from '../dissect/registry.js';
import { isOpaque, refreshScopeSlug, rejectReasonSlug, reliableTypeTitle, type ReliableMessage } from '../dissect/reliable.js';
import type { ControlMessage, DataMessage, LispSecAd, Locator, MappingRecord } from '../dissect/types.js';
import type { LispPacket, ReliableEntry } from '../capture/packets.js';
import type { Style } from './style.js';
import { timeOfDay } from './time.js';

export interface LineOptions {
  /** Numeric ports (no lisp-data / lisp-control names). */
  numeric?: boolean;
  style: Style;
  /** The frame's number first, as tcpdump -# does (`1:464` with several captures). */
  number?: string;
  /** The time column as a LineClock wrote it ('' for none); by default the local time of day. */
  time?: string;
}

const PORT_NAMES: ReadonlyMap<number, string> = new Map([
  [LISP_DATA_PORT, 'lisp-data'],
  [LISP_CONTROL_PORT, 'lisp-control'],
]);

export { timeOfDay };

function port(p: number, o: LineOptions): string {
  return o.numeric ? String(p) : (PORT_NAMES.get(p) ?? String(p));
}

function endpoint(addr: string, p: number, o: LineOptions): string {
  return `${addr}.${port(p, o)}`;
}

export function nonceText(n: bigint): string {
  return `0x${n.toString(16).padStart(16, '0')}`;
}

function locatorText(l: Locator): string {
  const f = `${l.local ? 'L' : ''}${l.probed ? 'p' : ''}${l.reachable ? 'R' : ''}`;
  return `${addressText(l.rloc)} p${l.priority}/w${l.weight}${f ? ` ${f}` : ''}`;
}

function ttlText(ttl: number): string {
  return ttl === 0xffffffff ? 'unlimited' : String(ttl);
}

function recordText(r: MappingRecord): string {
  const eid = prefixText(r.eid, r.eidMaskLen);
  if (r.eid.kind === 'unknown') return `${eid} (not decodable further)`;
  if (r.locators.length === 0) return `${eid} ttl ${ttlText(r.ttl)} negative ${actionSlug(r.action)}`;
  return `${eid} ttl ${ttlText(r.ttl)} -> [${r.locators.map(locatorText).join(', ')}]`;
}

function records(rs: MappingRecord[]): string {
  if (rs.length === 0) return '0 records';
  return `${rs.length} record${rs.length > 1 ? 's' : ''}: ${rs.map(recordText).join('; ')}`;
}

function flags(list: [string, boolean][]): string {
  const on = list.filter(([, v]) => v).map(([n]) => n);
  return on.length ? ` [${on.join(' ')}]` : '';
}

export interface AuthStatus {
  ok: boolean;
  reason?: string;
}

function authText(keyId: number, auth: AuthStatus | undefined, s: Style): string {
  const alg = authAlgorithm(keyId);
  const name = alg?.hash ?? (alg ? 'none' : `alg${keyId & 0xff}`);
  if (!auth) return `auth ${name}`;
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

export function controlSummary(m: ControlMessage, s: Style, auth?: AuthStatus): string {
  if ('unknown' in m) return s.bad(`unknown control type ${m.type}, ${m.data.length} bytes`);
  switch (m.type) {
    case 1: {
      const kind = m.smr ? 'SMR' : m.probe ? 'RLOC-probe' : 'Map-Request';
      return (
        `${s.type(kind)} nonce ${nonceText(m.nonce)}` +
        flags([
          ['auth', m.authoritative],
          ['map-data', m.mapDataPresent],
          ['probe', m.probe],
          ['smr', m.smr],
          ['pitr', m.pitr],
          ['smr-invoked', m.smrInvoked],
          ['local-xtr', m.localXtr],
          ['dont-reply', m.dontMapReply],
        ]) +
        `, eid ${m.eids.map((p) => s.eid(prefixText(p.prefix, p.maskLen))).join(', ') || '(none)'}` +
        (m.sourceEid.kind !== 'none' ? `, source-eid ${addressText(m.sourceEid)}` : '') +
        `, itr-rlocs [${m.itrRlocs.map(addressText).join(', ')}]` +
        (m.mapReply ? `, map-data ${recordText(m.mapReply)}` : '')
      );
    }
    case 2:
      return (
        `${s.type(m.probe ? 'Map-Reply (probe)' : 'Map-Reply')} nonce ${nonceText(m.nonce)}` +
        flags([
          ['echo-nonce', m.echoNonceCapable],
          ['sec', m.security],
        ]) +
        `, ${records(m.records)}` +
        (m.lispSec ? `, ${lispSecText(m.lispSec, false)}` : '')
      );
    case 3:
      return (
        `${s.type('Map-Register')} nonce ${nonceText(m.nonce)}` +
        flags([
          ['proxy-reply', m.proxyReply],
          ['sec', m.security],
          ['xtr-id', m.xtrIdPresent],
          ['rtr', m.rtr],
          ['eid-notify', m.eidNotify],
          ['ttl-timeout', m.ttlTimeout],
          ['merge', m.merge],
          ['mobile', m.mobileNode],
          ['want-map-notify', m.wantMapNotify],
        ]) +
        `, ${authText(m.keyId, auth, s)}, ${records(m.records)}`
      );
    case 4:
    case 5:
      return (
        `${s.type(m.type === 4 ? 'Map-Notify' : 'Map-Notify-Ack')} nonce ${nonceText(m.nonce)}` +
        flags([
          ['xtr-id', m.xtrIdPresent],
          ['rtr', m.rtr],
        ]) +
        `, ${authText(m.keyId, auth, s)}, ${records(m.records)}`
      );
    case 6:
      return (
        `${s.type('Map-Referral')} nonce ${nonceText(m.nonce)}, ` +
        (m.records
          .map(
            (r) =>
              `${prefixText(r.eid, r.eidMaskLen)} ${referralActionSlug(r.action)}${r.incomplete ? ' incomplete' : ''} ttl ${ttlText(r.ttl)} -> [${r.referrals.map(locatorText).join(', ')}]`,
          )
          .join('; ') || '0 records')
      );
    case 7: {
      const head = `${s.type(m.reply ? 'Info-Reply' : 'Info-Request')} nonce ${nonceText(m.nonce)}, ${authText(m.keyId, auth, s)}, eid ${prefixText(m.eid, m.eidMaskLen)}`;
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
    case 8: {
      const i = m.inner;
      const f = flags([
        ['sec', m.security],
        ['ddt', m.ddt],
        ['to-etr/rtr', m.toEtr],
        ['to-ms/relay', m.toMs],
      ]);
      const sec = m.lispSec ? ` (${lispSecText(m.lispSec, m.toEtr)})` : '';
      if (!i) {
        // An unknown AD Type swallows the rest: there is no inner packet to speak of.
        if (m.lispSec?.data && !m.payload) return `${s.type('ECM')}${f}${sec}, inner packet not located`;
        return `${s.type('ECM')}${f}${sec}, ${m.payload?.length ?? 0} bytes not an IP/UDP packet`;
      }
      const inner = i.message ? controlSummary(i.message, s) : `${i.payload?.length ?? 0} bytes not LISP`;
      return `${s.type('ECM')}${f}${sec} ${i.src}.${i.sport} > ${i.dst}.${i.dport}: ${inner}`;
    }
    case 15:
      return `${s.type('Shared-Extension')} sub-type ${m.subType}, ${m.data.length} bytes`;
  }
}

/** One reliable-transport message: its type and ID, then what it says. */
export function reliableSummary(m: ReliableMessage, s: Style, auth?: AuthStatus): string {
  const head = `${s.type(reliableTypeTitle(m.type))} id ${m.messageId}`;
  if (isOpaque(m)) return `${head}, ${m.body.length} bytes`;
  switch (m.type) {
    case 16:
      return `${head} code ${m.errorCode}, offending ${reliableTypeTitle(m.offendingType)} id ${m.offendingId} (${m.offendingLength} bytes)`;
    case 17:
      return `${head}: ${controlSummary(m.mapRegister, s, auth)}`;
    case 18:
      return `${head} ${s.eid(prefixText(m.eid, m.eidMaskLen))}`;
    case 19:
      return `${head} ${s.eid(prefixText(m.eid, m.eidMaskLen))} ${s.bad(rejectReasonSlug(m.reason))}`;
    case 20:
      return (
        `${head} scope ${refreshScopeSlug(m.scope)}${m.rejectedOnly ? ' [rejected-only]' : ''}` +
        (m.eid ? ` ${s.eid(prefixText(m.eid, m.eidMaskLen ?? 0))}` : '')
      );
    case 21:
      return `${head} ${recordText(m.record)}`;
  }
}

function reliableLine(entries: ReliableEntry[], s: Style): string {
  if (entries.length === 0) return 'reliable transport, no message completed';
  return entries.map((e) => reliableSummary(e.message, s, e.auth)).join(' | ');
}

export function dataSummary(d: DataMessage): string {
  const f = dataHeaderFields(d.header);
  let out = `data [${dataFlagLetters(d.header) || '-'}]`;
  if (f.nonce !== undefined) out += ` nonce 0x${f.nonce.toString(16).padStart(6, '0')}`;
  if (f.srcMapVersion !== undefined) out += ` map-version ${f.srcMapVersion}/${f.dstMapVersion}`;
  if (f.iid !== undefined) out += ` iid ${f.iid}`;
  if (f.lsb !== undefined) out += ` lsb 0x${f.lsb.toString(16)}`;
  if (f.gpeNextProtocol !== undefined) {
    out += ` gpe next-protocol ${GPE_NEXT_PROTOCOLS.get(f.gpeNextProtocol) ?? f.gpeNextProtocol}`;
  }
  if (f.keyId) return `${out}, encrypted (key ${f.keyId}), ${d.payload.length} bytes`;
  const i = d.inner;
  if (!i) return `${out}, ${d.payload.length} bytes`;
  let what = PROTO_NAMES.get(i.proto) ?? `proto ${i.proto}`;
  if (i.icmpType !== undefined) what += ` type ${i.icmpType}`;
  const sp = i.sport !== undefined ? `.${i.sport}` : '';
  const dp = i.dport !== undefined ? `.${i.dport}` : '';
  return `${out}: ${i.src}${sp} > ${i.dst}${dp} ${what}, length ${i.len}`;
}

const PROTO_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'ICMP'],
  [6, 'TCP'],
  [17, 'UDP'],
  [58, 'ICMPv6'],
]);

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
  if (p.control) line += `LISP ${controlSummary(p.control, s, p.auth)}`;
  else if (p.data) line += `LISP ${dataSummary(p.data)}`;
  else if (p.reliable) line += `LISP ${reliableLine(p.reliable, s)}`;
  else line += p.summary ?? 'not LISP';
  if (p.fragments) line += ` (reassembled from ${p.fragments.length} fragments)`;
  const notes = [...p.frameNotes, ...p.notes.map((n) => `${n.message} at byte ${n.offset}`)];
  if (notes.length) line += ` ${s.bad(`[malformed: ${notes.join('; ')}]`)}`;
  return line;
}
