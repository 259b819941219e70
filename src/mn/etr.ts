// The ETR side of a tunnel router (RFC 9300 §5, RFC 9301 §5, §7.1): decapsulation of what comes
// to our data port, the packets our own hosts receive, and the Map-Replies (and RLOC-probe
// replies, with p on the probed locator) for our EID prefixes, from the mapping we register.

import { encodeControl } from '../dissect/control.js';
import { DataFlag } from '../dissect/data.js';
import { mapReply, mappingRecord } from '../dissect/build.js';
import type { LispAddress, MapRequest, MappingRecord } from '../dissect/types.js';
import { covers, hostPrefix, longestMatch, prefixKey, type Prefix } from './eid.js';
import { answerFor, parseInner, type InnerPacket } from './host.js';
import type { Logger } from './log.js';
import type { LispSocket, Received } from './socket.js';

/** What the ETR role uses of its router (the hooks are the router's, which subclasses override). */
export interface EtrHost {
  readonly name: string;
  readonly log: Logger;
  readonly stats: { decapsulated: number; dropped: number };
  eidPrefixes(): readonly Prefix[];
  isOwnEid(eid: Prefix): boolean;
  mappingRecords(opts: { probed?: string }): MappingRecord[];
  /** Our control socket on `address` (else the first). */
  controlSocket(address: string): LispSocket | undefined;
  sendControl(dst: string, port: number, bytes: Uint8Array, from?: LispSocket): boolean;
  /** Someone we must answer: see LispRouter.knowsRloc. */
  heard(address: string): void;
  /** An echo reply one of our pings waits for (true: it was). */
  offerEcho(info: InnerPacket, at: number | undefined): boolean;
  deliver(packet: Uint8Array, info: InnerPacket, rx: Received | undefined): void;
  forward(packet: Uint8Array): Promise<boolean>;
  emit(event: 'decapsulated' | 'probe-answered' | 'packet', ...args: unknown[]): boolean;
}

/** Our RLOCs as locators that share the traffic equally. */
export function ownLocators(rlocs: readonly string[]): { rloc: string; local: true; weight: number }[] {
  const weight = Math.floor(100 / Math.max(1, rlocs.length));
  return rlocs.map((rloc) => ({ rloc, local: true, weight }));
}

/** Our mapping records, one per EID prefix (what we register and reply). */
export function ownMappingRecords(
  eids: readonly Prefix[],
  locators: Array<{ rloc: string | LispAddress; local: boolean }>,
  ttl: number,
  probed: string | undefined,
): MappingRecord[] {
  const weight = Math.floor(100 / Math.max(1, locators.length));
  return eids.map((eid) =>
    mappingRecord({
      eid,
      ttl,
      authoritative: true,
      locators: locators.map((l) => ({
        rloc: l.rloc,
        priority: 1,
        weight,
        local: l.local,
        probed: probed !== undefined && typeof l.rloc === 'string' && l.rloc === probed,
      })),
    }),
  );
}

export class EtrRole {
  /** ITRs that sent us data: RLOC → the EID that sent it and when. */
  readonly recentItrs = new Map<string, { eid: Prefix; last: number }>();

  constructor(private readonly host: EtrHost) {}

  /** Answers a Map-Request (or RLOC-probe) for one of our EID prefixes with our records. */
  answer(rx: Received, m: MapRequest, replyPort: number): void {
    const h = this.host;
    const asked = m.eids[0];
    if (!asked) return;
    const prefix = { address: asked.prefix, maskLen: asked.maskLen };
    const own = longestMatch(h.eidPrefixes(), prefix, (p) => p);
    if (!own) {
      h.log('debug', h.name, `Map-Request for ${prefixKey(prefix)}, not one of our EIDs: ignored`);
      return;
    }
    if (m.dontMapReply) return;
    for (const a of m.itrRlocs) if (a.kind === 'ipv4' || a.kind === 'ipv6') h.heard(a.addr);
    const family = rx.socket.address.includes(':') ? 'ipv6' : 'ipv4';
    const itr = m.itrRlocs.find((a) => a.kind === family);
    const to = itr && (itr.kind === 'ipv4' || itr.kind === 'ipv6') ? itr.addr : undefined;
    if (!to) {
      h.log('warn', h.name, `Map-Request from ${rx.src} has no usable ITR-RLOC: dropped`);
      return;
    }
    const records = h.mappingRecords({ probed: m.probe ? rx.dst : undefined }).filter((r) => covers({ address: r.eid, maskLen: r.eidMaskLen }, own));
    const reply = mapReply({ nonce: m.nonce, records, probe: m.probe });
    h.sendControl(to, replyPort, encodeControl(reply), h.controlSocket(rx.dst));
    if (m.probe) h.emit('probe-answered', { from: rx.src, rloc: rx.dst, nonce: m.nonce });
  }

  /** A data packet to our data port: decapsulated and handed to the router's `deliver`. */
  decapsulate(rx: Received): void {
    const h = this.host;
    const d = rx.data;
    if (!d || !d.inner) {
      h.stats.dropped++;
      h.log('warn', h.name, `dropped a data packet from ${rx.src} without an IP packet inside`);
      return;
    }
    if (d.header.flags & DataFlag.K) {
      h.stats.dropped++;
      h.log('warn', h.name, `dropped an encrypted data packet from ${rx.src} (no keys)`);
      return;
    }
    const info = parseInner(d.payload);
    if (!info) {
      h.stats.dropped++;
      return;
    }
    h.stats.decapsulated++;
    this.recentItrs.set(rx.src, { eid: hostPrefix(info.src), last: Date.now() });
    h.emit('decapsulated', { from: rx.src, src: info.src, dst: info.dst, proto: info.proto });
    h.deliver(new Uint8Array(d.payload), info, rx);
  }

  /** What happens to a packet for our side: our hosts answer pings and UDP echo. */
  deliver(packet: Uint8Array, info: InnerPacket, rx: Received | undefined): void {
    const h = this.host;
    if (!h.isOwnEid(hostPrefix(info.dst))) {
      h.stats.dropped++;
      h.log('debug', h.name, `dropped a packet for ${info.dst}: not one of our EIDs`);
      return;
    }
    if (h.offerEcho(info, rx?.at)) return;
    const answer = answerFor(info);
    if (answer) void h.forward(answer);
    else h.emit('packet', info, packet);
  }
}
