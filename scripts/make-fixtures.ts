// Regenerates the committed captures in pcaps/ with our own encoder (src/dissect/build.ts) and
// writer (src/capture/writer.ts). Everything is deterministic: nonces and filler bytes come from
// generators seeded by the file name, timestamps from a fixed epoch, gzip uses stored blocks.
// test/fixtures.test.ts regenerates into a temporary directory and compares byte for byte.
//
//   npm run fixtures              rewrite pcaps/
//   node dist/scripts/make-fixtures.js DIR   write into DIR instead

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encodeTcp, TcpFlag } from '../src/dissect/tcp.js';
import { writePcap, writePcapngSections, type CapturePacket, type PcapngBlock, type PcapngSection, type PcapWriteOptions } from '../src/capture/writer.js';
import {
  dataPacket,
  ecm,
  ecmLispSec,
  eidAd,
  infoReply,
  infoRequest,
  innerPacket,
  lispUdpPacket,
  mapNotify,
  mapNotifyAck,
  mapReferral,
  mapRegister,
  mapRegisterMessage,
  mapReply,
  mapReplyLispSec,
  mapRequest,
  mappingRecord,
  natTraversal,
  negativeMapReply,
  referralRecord,
  seededNonces,
  signMapReplyPktAd,
  type AddressSpec,
  type DataPacketSpec,
  type LocatorSpec,
  type MappingRecordSpec,
} from '../src/dissect/build.js';
import { decodeControl, encodeControl } from '../src/dissect/control.js';
import { concatBytes, parseIPv6 } from '../src/dissect/addr.js';
import { encodeData } from '../src/dissect/data.js';
import { encodeIcmpError } from '../src/dissect/icmp.js';
import { encodeIPv4, encodeIPv6, encodeIpUdp, encodeUdp, internetChecksum, IPPROTO_TCP, IPPROTO_UDP, type IPv6ExtensionSpec } from '../src/dissect/ip.js';
import {
  encodeLink,
  ETHERTYPE_QINQ,
  LINKTYPE_EN10MB,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  LINKTYPE_RAW_12,
  LINKTYPE_RAW_14,
  type LinkEncodeOptions,
} from '../src/dissect/link.js';
import { encodeReliable, type ReliableMessage } from '../src/dissect/reliable.js';
import { encodeVxlan } from '../src/dissect/vxlan.js';
import type { ControlMessage, DataHeader, LcafBody, LispAddress, MapRegister } from '../src/dissect/types.js';

export interface FixtureFile {
  name: string;
  /** One line for pcaps/README.md. */
  about: string;
  bytes: Uint8Array;
  /** Table rows (frames | seconds | what happens) told in pcaps/README.md. */
  story?: string[];
}

// ---- deterministic sources -------------------------------------------------------------------

/** 2024-05-01 10:00:00 UTC: every capture starts here. */
const T0 = 1_714_557_600;

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Seeded filler bytes (mulberry32). */
function byteSource(seed: number): (n: number) => Uint8Array {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = next() & 0xff;
    return out;
  };
}

const text = (s: string) => new TextEncoder().encode(s);

// ---- the cast --------------------------------------------------------------------------------

/** Keys of pcaps/keys; one Map-Register is signed with WRONG_KEY on purpose. */
const KEYS = {
  siteA: 'site-a-secret',
  siteB: 'site-b-secret',
  site9: 'site-9-secret',
  v6: 'site-v6-secret',
  vpn: 'vpn-223-secret',
  ms: 'map-server-secret',
  rtr: 'ms-rtr-secret',
  fallback: 'lab-default-secret',
} as const;
const WRONG_KEY = 'not-the-site-9-secret';

const KEYS_FILE = `# Authentication keys of the fixtures in this directory (see README.md).
# Format: <eid-prefix|ms-address|*> <key>; the longest EID prefix covering the message's EIDs
# wins, then a Map-Server address, then *.
#   lispscope read --keys pcaps/keys pcaps/control-map-register.pcap
10.1.0.0/16       ${KEYS.siteA}
10.2.0.0/16       ${KEYS.siteB}
2001:db8:2::/48   ${KEYS.siteB}
2001:db8:1::/48   ${KEYS.v6}
[223]10.0.0.0/8   ${KEYS.vpn}
# The Map-Register for 10.9.0.0/16 in control-map-register.pcap is signed with another key: it fails.
10.9.0.0/16       ${KEYS.site9}
# Registrations with EIDs no prefix above covers (LCAF EIDs in lcaf.pcap, 10.77.0.0/16 in
# ip-fragments.pcap and snaplen.pcap) go by the Map-Server's address ...
203.0.113.1       ${KEYS.ms}
# The Map-Server's authentication towards the RTR (nat-rtr.pcap) goes by the RTR's address.
203.0.113.3       ${KEYS.rtr}
# ... or, to any other Map-Server (the IPv6 one in ip-fragments.pcap), fall back to this.
*                 ${KEYS.fallback}
`;

/** Addresses used across fixtures (RFC 5737 / RFC 3849 documentation ranges). */
const A = {
  ms: '203.0.113.1',
  mr: '203.0.113.2',
  rtr: '203.0.113.3',
  rtr2: '203.0.113.4',
  ddtRoot: '192.0.2.53',
  ddtNode: '192.0.2.54',
  ddtNode2: '192.0.2.55',
  xtrA: '192.0.2.10',
  xtrB: '198.51.100.20',
  etrC: '203.0.113.50',
  natPrivate: '192.168.1.5',
  natPublic: '203.0.113.77',
  ms6: '2001:db8::1',
  mr6: '2001:db8::2',
  xtrA6: '2001:db8:a::10',
  xtrB6: '2001:db8:b::20',
} as const;

// ---- traces: packets with a clock ------------------------------------------------------------

function macOf(b: Uint8Array, off: number): string {
  return ['02', '00', ...Array.from(b.subarray(off, off + 4), (x) => x.toString(16).padStart(2, '0'))].join(':');
}

/** Ethernet II with MACs derived from the IP addresses (02:00:<last 4 address bytes>). */
function ethernet(l3: Uint8Array, opts: LinkEncodeOptions = {}): Uint8Array {
  const v6 = l3[0]! >> 4 === 6;
  return encodeLink(LINKTYPE_EN10MB, l3, { src: macOf(l3, v6 ? 20 : 12), dst: macOf(l3, v6 ? 36 : 16), ...opts });
}

type Framer = (l3: Uint8Array) => Uint8Array;

class Trace {
  readonly packets: CapturePacket[] = [];
  /** Nanoseconds since T0. */
  private ns = 0;
  private ipId: number;
  readonly nonce: () => bigint;
  readonly bytes: (n: number) => Uint8Array;

  constructor(
    seedName: string,
    private readonly frame: Framer = ethernet,
  ) {
    const seed = fnv1a(seedName);
    this.nonce = seededNonces(seed);
    this.bytes = byteSource(seed);
    this.ipId = seed & 0xffff;
  }

  /** A 24-bit data-plane nonce. */
  dataNonce(): number {
    return Number(this.nonce() & 0xffffffn);
  }

  /** Moves the clock to `sec` seconds after T0 (ms precision is plenty: µs files keep it exactly). */
  at(sec: number): this {
    this.ns = Math.round(sec * 1000) * 1_000_000;
    return this;
  }

  /** Sets the clock with full nanosecond precision. */
  atNs(ns: number): this {
    this.ns = ns;
    return this;
  }

  /** Moves the clock `ms` milliseconds on. */
  after(ms: number): this {
    this.ns += Math.round(ms * 1_000_000);
    return this;
  }

  /** The next IPv4 Identification. */
  id(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  /** Adds a frame built around `l3`; the clock then moves 1 ms on. */
  add(l3: Uint8Array): this {
    this.packets.push({ tsSec: T0 + Math.floor(this.ns / 1e9), tsNsec: this.ns % 1e9, data: this.frame(l3) });
    this.ns += 1_000_000;
    return this;
  }

  /** A control message over UDP (checksummed). */
  control(src: string, sport: number, dst: string, dport: number, payload: ControlMessage | Uint8Array, ttl = 64): this {
    return this.add(lispUdpPacket({ src, dst, sport, dport, payload, ttl, id: this.id() }));
  }

  data(spec: Omit<DataPacketSpec, 'id'>): this {
    return this.add(dataPacket({ ...spec, id: this.id() }));
  }

  /** A data packet with a header given raw (for combinations the builders refuse to make). */
  rawData(src: string, dst: string, header: DataHeader, inner: Uint8Array): this {
    return this.add(encodeIpUdp({ src, dst, sport: 0xc123, dport: 4341, id: this.id(), udpChecksum: false }, encodeData(header, inner)));
  }
}

function pcap(name: string, about: string, t: Trace, opts: PcapWriteOptions = {}): FixtureFile {
  return { name, about, bytes: writePcap(t.packets, { linkType: LINKTYPE_EN10MB, ...opts }) };
}

function pcapng(name: string, about: string, sections: PcapngSection[]): FixtureFile {
  return { name, about, bytes: writePcapngSections(sections) };
}

// ---- small builders --------------------------------------------------------------------------

function lcaf(type: number, body: LcafBody, rsvd2 = 0, flags = 0): LispAddress {
  return { kind: 'lcaf', afi: 16387, lcaf: { type, rsvd1: 0, flags, rsvd2, body } };
}

const v4 = (addr: string): LispAddress => ({ kind: 'ipv4', afi: 1, addr });
const v6 = (addr: string): LispAddress => ({ kind: 'ipv6', afi: 2, addr });

const own = (rloc: AddressSpec, extra: Partial<LocatorSpec> = {}): LocatorSpec => ({ rloc, local: true, ...extra });

function record(eid: MappingRecordSpec['eid'], locators: LocatorSpec[], extra: Partial<MappingRecordSpec> = {}) {
  return mappingRecord({ eid, locators, ...extra });
}

// ---- control-plane fixtures ------------------------------------------------------------------

function mapRequests(): FixtureFile {
  const t = new Trace('control-map-request');
  const q = (extra: Partial<Parameters<typeof mapRequest>[0]> = {}) =>
    mapRequest({ nonce: t.nonce(), eids: ['10.2.0.7/32'], itrRlocs: [A.xtrA], sourceEid: '10.1.0.5', ...extra });
  const mine = record('10.1.0.0/16', [own(A.xtrA)]);
  t.at(0).control(A.xtrA, 61001, A.etrC, 4342, q());
  t.at(1).control(A.xtrA, 61002, A.etrC, 4342, q({ mapReply: mine }));
  t.at(2).control(A.xtrA, 61003, A.etrC, 4342, q({ smr: true, eids: ['10.2.0.0/16'] }));
  t.at(3).control(A.etrC, 61004, A.mr, 4342, q({ smrInvoked: true, itrRlocs: [A.etrC], sourceEid: '10.2.0.7', eids: ['10.1.0.5/32'] }));
  t.at(4).control(A.xtrA, 61005, A.etrC, 4342, q({ probe: true, eids: ['10.2.0.0/16'], mapReply: mine }));
  t.at(5).control(A.xtrA, 61006, A.etrC, 4342, mapRequest({ nonce: t.nonce(), pitr: true, eids: ['10.2.0.7/32'], itrRlocs: [A.xtrA] }));
  t.at(6).control(A.xtrA6, 61007, A.ms6, 4342, q({ itrRlocs: [A.xtrA6, '2001:db8:a::11', A.xtrA], sourceEid: '2001:db8:1::5', eids: ['2001:db8:2::7/128'] }));
  t.at(7).control(A.xtrA, 61008, A.etrC, 4342, q({ eids: ['10.2.0.0/24', '2001:db8:2::/48', '[223]10.2.0.0/16', '02:00:00:00:00:07/48'] }));
  t.at(8).control(A.xtrA, 61009, A.etrC, 4342, q({ authoritative: true, localXtr: true, dontMapReply: true, sourceEid: "'mn.example.com'" }));
  return pcap(
    'control-map-request.pcap',
    'Map-Request: plain, M=1 map-data, SMR (S), SMR-invoked (s), RLOC-probe (P, M), PITR (p, no source EID), IPv6 with 3 ITR-RLOCs, 4 EID records (IPv4, IPv6, IID, MAC), A+L+D with a distinguished-name source EID.',
    t,
  );
}

function ecms(): FixtureFile {
  const t = new Trace('control-ecm');
  const req = (eid: string, itr: string) => mapRequest({ nonce: t.nonce(), eids: [eid], itrRlocs: [itr], sourceEid: itr.includes(':') ? '2001:db8:1::5' : '10.1.0.5' });
  // ITR -> Map-Resolver, IPv4 in IPv4.
  t.at(0).control(A.xtrA, 61001, A.mr, 4342, ecm({ inner: { src: A.xtrA, dst: '10.2.0.7', sport: 61001 }, message: req('10.2.0.7/32', A.xtrA) }));
  // IPv6 inner under an IPv4 outer, inner UDP checksum 0 (as many senders do).
  t.at(1).control(A.xtrA, 61002, A.mr, 4342, ecm({ inner: { src: A.xtrA6, dst: '2001:db8:2::7', sport: 61002, udpChecksum: false }, message: req('2001:db8:2::7/128', A.xtrA6) }));
  // IPv6 outer and inner.
  t.at(2).control(A.xtrA6, 61003, A.mr6, 4342, ecm({ inner: { src: A.xtrA6, dst: '2001:db8:2::8', sport: 61003 }, message: req('2001:db8:2::8/128', A.xtrA6) }));
  // Map-Resolver (DDT client) -> DDT node, D=1.
  t.at(3).control(A.mr, 4342, A.ddtRoot, 4342, ecm({ ddt: true, inner: { src: A.xtrA, dst: '10.2.0.9', sport: 61004, ttl: 127 }, message: req('10.2.0.9/32', A.xtrA) }));
  // Map-Server -> ETR: the request forwarded with to-ETR (E).
  t.at(4).control(A.ms, 4342, A.etrC, 4342, ecm({ toEtr: true, inner: { src: A.xtrA, dst: '10.2.0.10', sport: 61005 }, message: req('10.2.0.10/32', A.xtrA) }));
  // An ECM nested in an S=1 ECM (Map-Resolver -> Map-Server).
  const inner = ecm({ inner: { src: A.xtrA, dst: '10.2.0.12', sport: 61007 }, message: req('10.2.0.12/32', A.xtrA) });
  t.at(4.5).control(A.mr, 4342, A.ms, 4342, ecm({ security: true, inner: { src: A.mr, dst: A.ms, sport: 4342 }, message: inner }));
  // Co-located MR/MS: to-MS (M) bit.
  t.at(5).control(A.xtrA, 61006, A.ms, 4342, ecm({ toMs: true, inner: { src: A.xtrA, dst: '10.2.0.11', sport: 61006 }, message: req('10.2.0.11/32', A.xtrA) }));
  // NAT traversal: the Data Map-Register, ECM with R and N (bits 6/7) from port 4341 to the RTR.
  const reg = mapRegister({
    nonce: t.nonce(),
    keyId: 2,
    key: KEYS.siteA,
    wantMapNotify: true,
    builtForRtr: true,
    xtrId: 0x00112233445566778899aabbccddeeffn,
    siteId: 1n,
    records: [record('10.1.0.5/32', [{ rloc: A.rtr }])],
  });
  t.at(6).control(A.natPrivate, 4341, A.rtr, 4342, ecm({ toEtr: true, toMs: true, inner: { src: A.natPrivate, dst: A.ms, sport: 4342 }, message: reg }));
  // The RTR relays the Map-Register to the Map-Server.
  t.at(6.01).control(A.rtr, 4342, A.ms, 4342, reg);
  return pcap(
    'control-ecm.pcap',
    'Encapsulated Control Messages: Map-Request IPv4-in-IPv4, IPv6-in-IPv4 (inner checksum 0), IPv6-in-IPv6, DDT (D), to-ETR (E), ECM nested in an S=1 ECM (S set but no LISP-SEC data: flagged; see lisp-sec.pcap), to-MS (M), NAT Data-Map-Register (R+N bits, src 4341) and its relay.',
    t,
  );
}

function mapReplies(): FixtureFile {
  const t = new Trace('control-map-reply');
  t.at(0).control(
    A.etrC,
    4342,
    A.xtrA,
    61001,
    mapReply({
      nonce: t.nonce(),
      records: [
        record('10.2.0.0/16', [own(A.etrC, { weight: 50 }), { rloc: '203.0.113.51', weight: 50 }, { rloc: '2001:db8:c::50', priority: 2 }], { mapVersion: 42 }),
        record('2001:db8:2::/48', [own('2001:db8:c::50'), { rloc: A.etrC, priority: 255, reachable: false }], { ttl: 60 }),
        record('[223]10.2.0.0/16', [own(A.etrC, { mpriority: 1, mweight: 100 })], { ttl: 0xffffffff }),
      ],
    }),
  );
  for (let action = 0; action <= 5; action++) {
    t.at(1 + action).control(A.mr, 4342, A.xtrA, 61002 + action, negativeMapReply({ nonce: t.nonce(), eid: `10.${30 + action}.0.0/16`, action }));
  }
  // An action no RFC assigns (lispers.net: 7 = not-registered-yet).
  t.at(7).control(A.mr, 4342, A.xtrA, 61008, negativeMapReply({ nonce: t.nonce(), eid: '10.37.0.0/16', action: 7 }));
  t.at(8).control(A.etrC, 4342, A.xtrA, 61009, mapReply({ nonce: t.nonce(), probe: true, records: [record('10.2.0.0/16', [own(A.etrC, { probed: true }), own('203.0.113.51')])] }));
  t.at(9).control(A.etrC, 4342, A.xtrA, 61010, mapReply({ nonce: t.nonce(), echoNonceCapable: true, records: [record('10.2.0.0/16', [own(A.etrC)])] }));
  t.at(10).control('2001:db8:c::50', 4342, A.xtrA6, 61011, mapReply({ nonce: t.nonce(), records: [record('2001:db8:2::/48', [own('2001:db8:c::50')], { authoritative: false })] }));
  return pcap(
    'control-map-reply.pcap',
    'Map-Reply: 3 records with IPv4/IPv6/IID EIDs and several locators (priority 255, R=0, map-version, TTL unlimited), negative replies with every action 0..5 and unassigned 7, RLOC-probe reply (P, p bit), echo-nonce (E), IPv6 non-authoritative.',
    t,
  );
}

function lispSec(): FixtureFile {
  const t = new Trace('lisp-sec');
  // The keys are filler: the ITR's OTK, and the MS-OTK the Map-Server derives from it (its KDF is
  // not reproduced here; no HMAC is verified).
  const otk = t.bytes(16);
  const msOtk = t.bytes(16);
  const n = t.nonce();
  const req = mapRequest({ nonce: n, eids: ['10.2.0.7/32'], itrRlocs: [A.xtrA], sourceEid: '10.1.0.5' });
  // 1. ITR -> Map-Resolver: the OTK in clear (NULL-KEY-WRAP-128), an EID-AD with the KDF ID only.
  t.at(0).control(A.xtrA, 61001, A.mr, 4342, ecm({ lispSec: ecmLispSec({ otk }), inner: { src: A.xtrA, dst: '10.2.0.7', sport: 61001 }, message: req }));
  // 2. Map-Server -> ETR (E): the MS-OTK wrapped for the ETR (filler: the AES Key Wrap output's first
  //    64 bits in the Preamble, the other 128 as the key), the EID-AD signed with the OTK.
  const ead = eidAd({ kdfId: 2, eids: ['10.2.0.0/16'], eidHmacId: 2, otk });
  t.at(0.01).control(
    A.ms,
    4342,
    A.etrC,
    4342,
    ecm({ toEtr: true, lispSec: ecmLispSec({ otk: t.bytes(16), preamble: t.bytes(8), wrappingId: 2, eidAd: ead }), inner: { src: A.xtrA, dst: '10.2.0.7', sport: 61001 }, message: req }),
  );
  // 3. ETR -> ITR: Map-Reply with S, the EID-AD copied, PKT-AD signed with the MS-OTK.
  const reply = signMapReplyPktAd(mapReply({ nonce: n, records: [record('10.2.0.0/16', [own(A.etrC)])], lispSec: mapReplyLispSec({ eidAd: ead }) }), msOtk);
  t.at(0.02).control(A.etrC, 4342, A.xtrA, 61001, reply);
  // 4. Damaged: a Map-Reply whose PKT-AD Length runs 6 bytes past the end (the PKT HMAC is cut).
  const n4 = t.nonce();
  const cut = encodeControl(signMapReplyPktAd(mapReply({ nonce: n4, records: [record('10.2.0.0/16', [own(A.etrC)])], lispSec: mapReplyLispSec({ eidAd: ead }) }), msOtk));
  t.at(1).control(A.etrC, 4342, A.xtrA, 61002, cut.subarray(0, cut.length - 6));
  // 5. Damaged: an ECM whose AD Type (7) no registry assigns: nothing after it can be located.
  const e5 = encodeControl(ecm({ lispSec: ecmLispSec({ otk }), inner: { src: A.xtrA, dst: '10.2.0.8', sport: 61003 }, message: mapRequest({ nonce: t.nonce(), eids: ['10.2.0.8/32'], itrRlocs: [A.xtrA] }) }));
  e5[4] = 7;
  t.at(2).control(A.xtrA, 61003, A.mr, 4342, e5);
  return pcap(
    'lisp-sec.pcap',
    'LISP-SEC (RFC 9303): ECM Map-Request from the ITR with the OTK in clear (NULL-KEY-WRAP-128) and a KDF-only EID-AD; the Map-Server\'s ECM to the ETR (E) with a wrapped MS-OTK (AES-KEY-WRAP-128+HKDF-SHA256, filler bytes) and the EID-AD for 10.2.0.0/16 with its EID HMAC; the ETR\'s Map-Reply (S) with that EID-AD and a PKT-AD (HMAC-SHA-256-128). Damaged: a Map-Reply whose PKT-AD runs 6 bytes past the end, an ECM with unassigned AD Type 7. HMACs are computed with filler OTK/MS-OTK; tshark 4.0 decodes none of it.',
    t,
  );
}

function mapRegisters(): FixtureFile {
  const t = new Trace('control-map-register');
  const xtrId = 0x0a0b0c0d0e0f10111213141516171819n;
  const siteA = [record('10.1.0.0/16', [own(A.xtrA)])];
  // key id 1 (HMAC-SHA-1-96, 20 bytes), want-map-notify -> Map-Notify.
  let n = t.nonce();
  t.at(0).control(A.xtrA, 4342, A.ms, 4342, mapRegister({ nonce: n, keyId: 1, key: KEYS.siteA, wantMapNotify: true, records: siteA }));
  t.control(A.ms, 4342, A.xtrA, 4342, mapNotify({ nonce: n, keyId: 1, key: KEYS.siteA, records: siteA }));
  // key id 2 (HMAC-SHA-256-128, 32 bytes), proxy-reply + merge + want-map-notify, xTR-ID/site-ID -> Map-Notify with I.
  const siteB = [record('10.2.0.0/16', [own(A.xtrB), { rloc: '198.51.100.21', priority: 2 }]), record('2001:db8:2::/48', [own(A.xtrB6)])];
  n = t.nonce();
  t.at(1).control(A.xtrB, 61100, A.ms, 4342, mapRegister({ nonce: n, keyId: 2, key: KEYS.siteB, proxyReply: true, merge: true, wantMapNotify: true, xtrId, siteId: 7n, records: siteB }));
  t.control(A.ms, 4342, A.xtrB, 61100, mapNotify({ nonce: n, keyId: 2, key: KEYS.siteB, xtrId, siteId: 7n, records: siteB }));
  // Signed with the wrong key: the Map-Server stays silent, `--keys pcaps/keys` says FAILED.
  t.at(2).control('192.0.2.90', 4342, A.ms, 4342, mapRegister({ nonce: t.nonce(), keyId: 2, key: WRONG_KEY, wantMapNotify: true, records: [record('10.9.0.0/16', [own('192.0.2.90')])] }));
  // The remaining flags: S, R (for RTR), E (EID-notify), T (TTL timeout), m (mobile node), over IPv6.
  t.at(3).control(
    A.xtrA6,
    4342,
    A.ms6,
    4342,
    mapRegister({
      nonce: t.nonce(),
      keyId: 2,
      key: KEYS.v6,
      security: true,
      builtForRtr: true,
      eidNotify: true,
      ttlTimeout: true,
      mobileNode: true,
      records: [record('2001:db8:1::/48', [own(A.xtrA6)], { ttl: 3 })],
    }),
  );
  // Truncated HMAC-SHA-1-96 (12 bytes, the RFC's nominal size) and an IID record.
  t.at(4).control(A.xtrA, 4342, A.ms, 4342, mapRegister({ nonce: t.nonce(), keyId: 1, key: KEYS.vpn, authLength: 12, records: [record('[223]10.1.0.0/16', [own(A.xtrA)])] }));
  // Unsolicited Map-Notify (RLOC-set change) and its Map-Notify-Ack.
  n = t.nonce();
  const merged = [record('10.2.0.0/16', [{ rloc: A.xtrB }, { rloc: '198.51.100.21' }, { rloc: '198.51.100.22' }])];
  t.at(5).control(A.ms, 4342, A.xtrB, 4342, mapNotify({ nonce: n, keyId: 2, key: KEYS.siteB, records: merged }));
  t.control(A.xtrB, 4342, A.ms, 4342, mapNotifyAck({ nonce: n, keyId: 2, key: KEYS.siteB, records: merged }));
  return pcap(
    'control-map-register.pcap',
    'Map-Register key id 1 (20-byte SHA-1) -> Map-Notify; key id 2 (32-byte SHA-256) with P, a, M, xTR-ID/site-ID -> Map-Notify (I); one signed with a wrong key; S/R/E/T/m flags over IPv6; 12-byte SHA-1-96 with an IID EID; unsolicited Map-Notify -> Map-Notify-Ack.',
    t,
  );
}

function mapReferrals(): FixtureFile {
  const t = new Trace('control-map-referral');
  const sig = { originalTtl: 1440, expiration: T0 + 86_400, inception: T0 - 3600, keyTag: 0x1234, algorithm: 1, signature: t.bytes(64) };
  const ask = (dst: string, eid: string, sport: number, ddt = false) => {
    const nonce = t.nonce();
    t.control(A.mr, 4342, dst, 4342, ecm({ ddt, inner: { src: A.mr, dst: eid.split('/')[0]!, sport }, message: mapRequest({ nonce, eids: [eid], itrRlocs: [A.xtrA] }) }));
    return nonce;
  };
  const refer = (from: string, sport: number, nonce: bigint, spec: Parameters<typeof referralRecord>[0]) =>
    t.control(from, 4342, A.mr, sport, mapReferral({ nonce, records: [referralRecord(spec)] }));
  // Walk the DDT tree: root -> node -> Map-Server.
  t.at(0);
  let n = ask(A.ddtRoot, '10.2.0.7/32', 61001);
  refer(A.ddtRoot, 61001, n, { eid: '10.0.0.0/8', action: 0, referrals: [{ rloc: A.ddtNode }, { rloc: A.ddtNode2 }], signatures: [sig] });
  t.at(1);
  n = ask(A.ddtNode, '10.2.0.7/32', 61002);
  refer(A.ddtNode, 61002, n, { eid: '10.2.0.0/16', action: 1, referrals: [{ rloc: A.ms }, { rloc: '2001:db8::1', priority: 2 }] });
  t.at(2);
  n = ask(A.ms, '10.2.0.7/32', 61003, true);
  refer(A.ms, 61003, n, { eid: '10.2.0.0/16', action: 2, ttl: 1 });
  t.at(3);
  n = ask(A.ms, '10.2.5.1/32', 61004, true);
  refer(A.ms, 61004, n, { eid: '10.2.5.0/24', action: 3, ttl: 15 });
  t.at(4);
  n = ask(A.ddtRoot, '10.77.0.1/32', 61005);
  refer(A.ddtRoot, 61005, n, { eid: '10.64.0.0/10', action: 4, ttl: 15, authoritative: true });
  t.at(5);
  n = ask(A.ddtNode2, '10.2.0.7/32', 61006);
  refer(A.ddtNode2, 61006, n, { eid: '10.2.0.0/16', action: 5, ttl: 0, authoritative: false, incomplete: true, referrals: [{ rloc: A.ddtNode }] });
  return pcap(
    'control-map-referral.pcap',
    'DDT walk: ECM Map-Requests (D=1 to the Map-Server) and Map-Referrals with every action 0..5 (NODE-REFERRAL with a signature, MS-REFERRAL, MS-ACK, MS-NOT-REGISTERED, DELEGATION-HOLE, NOT-AUTHORITATIVE with I).',
    t,
  );
}

function infos(): FixtureFile {
  const t = new Trace('control-info');
  let n = t.nonce();
  // xTR behind a NAT, seen inside: Info-Request from the data port 4341, Info-Reply back to it.
  t.at(0).control(A.natPrivate, 4341, A.ms, 4342, infoRequest({ nonce: n, keyId: 2, key: KEYS.siteA, eid: '10.1.0.5/32' }));
  t.control(
    A.ms,
    4342,
    A.natPrivate,
    4341,
    infoReply({
      nonce: n,
      keyId: 2,
      key: KEYS.siteA,
      eid: '10.1.0.5/32',
      nat: { etrUdpPort: 61000, globalEtrRloc: A.natPublic, msRloc: A.ms, privateEtrRloc: A.natPrivate, rtrRlocs: [A.rtr, A.rtr2] },
    }),
  );
  // IPv6, key id 1, no NAT, no RTR; lispers.net-style from port 4342.
  n = t.nonce();
  t.at(1).control(A.xtrA6, 4342, A.ms6, 4342, infoRequest({ nonce: n, keyId: 1, key: KEYS.v6, eid: '2001:db8:1::/48' }));
  t.control(A.ms6, 4342, A.xtrA6, 4342, infoReply({ nonce: n, keyId: 1, key: KEYS.v6, eid: '2001:db8:1::/48', ttl: 15, nat: { etrUdpPort: 4342, globalEtrRloc: A.xtrA6, msRloc: A.ms6 } }));
  return pcap(
    'control-info.pcap',
    'NAT traversal: Info-Request (src port 4341, SHA-256) and Info-Reply with the NAT-Traversal LCAF (global/private ETR RLOC, ports, 2 RTRs); IPv6 pair with SHA-1, private RLOC AFI 0 and no RTR.',
    t,
  );
}

function otherTypes(): FixtureFile {
  const t = new Trace('control-other-types');
  const raw = (b: number[]) => Uint8Array.from(b);
  t.at(0).control(A.xtrA, 4342, A.ms, 4342, raw([0xf0, 0x01, 0x00, 0x08, ...t.bytes(12)]));
  t.at(1).control(A.xtrA, 4342, A.ms, 4342, raw([0xf4, 0x00, 0xab, 0xcd]));
  t.at(2).control(A.xtrA, 4342, A.ms, 4342, raw([0x90, 0x00, 0x00, 0x01, ...t.bytes(12)]));
  t.at(3).control(A.xtrA, 4342, A.ms, 4342, raw([0x00, 0x00, 0x00, 0x00, ...t.bytes(8)]));
  t.at(4).control(A.xtrA, 4342, A.ms, 4342, raw([0xe0, 0x12, 0x34, 0x56]));
  return pcap(
    'control-other-types.pcap',
    'Type 15 Shared Extension (sub-types 1 and 1024) and unassigned types 9, 0 and 14 (kept raw, flagged unknown).',
    t,
  );
}

/**
 * A Map-Server reliable-transport session over TCP 4342 (draft-ietf-lisp-map-server-reliable-
 * transport): handshake, the MS asks for every registration, the ETR sends three (one split over
 * three segments, the last of them sent before the middle one, which is then retransmitted), the
 * MS acks, rejects, notifies, asks again for one prefix, reports an error, and both close. The
 * MS's sequence numbers wrap past 2^32.
 */
function reliableTcp(): FixtureFile {
  const t = new Trace('reliable-tcp');
  const etr = A.xtrA;
  const ms = A.ms;
  const ETR_PORT = 50123;
  let etrSeq = 0x1a2b3c4d;
  let msSeq = 0xffffff80;
  const segment = (from: 'etr' | 'ms', flags: number, seq: number, ack: number, payload: Uint8Array = new Uint8Array(0)) => {
    const [src, dst, sport, dport] = from === 'etr' ? [etr, ms, ETR_PORT, 4342] : [ms, etr, 4342, ETR_PORT];
    const tcp = encodeTcp({ sport, dport, seq, ack, flags, window: 16384, checksum: { src, dst } }, payload);
    t.add(encodeIPv4({ src, dst, proto: IPPROTO_TCP, id: t.id(), ttl: 255 }, tcp));
  };
  const ACK = TcpFlag.ACK;
  const PSH = TcpFlag.PSH | TcpFlag.ACK;
  const bytes = (ms: ReliableMessage[]) => concatBytes(...ms.map(encodeReliable));
  const xtrId = Uint8Array.from([0x45, 0x54, 0x52, 0x2d, 0x41, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01]);
  const siteId = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0x0a]);
  const registration = (messageId: number, eid: string | LispAddress, maskLen: number | undefined, key: string): ReliableMessage => {
    const records = [record(typeof eid === 'string' ? eid : { address: eid, maskLen: maskLen! }, [own(etr)])];
    const signed = mapRegister({ nonce: t.nonce(), keyId: 1, key, records, wantMapNotify: true, xtrId, siteId });
    return { type: 17, messageId, mapRegister: decodeControl(signed).value as MapRegister };
  };
  const vpn = lcaf(2, { kind: 'instance-id', iid: 223, address: v4('10.0.0.0') }, 32);
  const v6Prefix = v6('2001:db8:1::');

  t.at(0);
  segment('etr', TcpFlag.SYN, etrSeq, 0);
  segment('ms', TcpFlag.SYN | ACK, msSeq, etrSeq + 1);
  etrSeq = (etrSeq + 1) >>> 0;
  msSeq = (msSeq + 1) >>> 0;
  segment('etr', ACK, etrSeq, msSeq);

  const refresh = bytes([{ type: 20, messageId: 0, scope: 0, rejectedOnly: false }]);
  t.at(0.1);
  segment('ms', PSH, msSeq, etrSeq, refresh);
  msSeq = (msSeq + refresh.length) >>> 0;

  // Three Registrations in one stream, cut so that the second spans three segments.
  const regList = [
    registration(0, '10.1.0.0/16', undefined, KEYS.siteA),
    registration(1, vpn, 8, KEYS.vpn),
    registration(2, '2001:db8:1::/48', undefined, KEYS.v6),
  ];
  const regs = bytes(regList);
  const third = encodeReliable(regList[2]!);
  const cut1 = encodeReliable(regList[0]!).length + 40;
  const cut2 = cut1 + 30;
  const a = regs.subarray(0, cut1);
  const b = regs.subarray(cut1, cut2);
  const c = regs.subarray(cut2);
  t.at(0.2);
  segment('etr', PSH, etrSeq, msSeq, a);
  // The third part overtakes the second ...
  segment('etr', PSH, (etrSeq + cut2) >>> 0, msSeq, c);
  // ... which arrives next, then is sent again.
  segment('etr', PSH, (etrSeq + cut1) >>> 0, msSeq, b);
  t.at(0.5);
  segment('etr', PSH, (etrSeq + cut1) >>> 0, msSeq, b);
  etrSeq = (etrSeq + regs.length) >>> 0;

  const answers = bytes([
    { type: 18, messageId: 1, eidMaskLen: 16, eid: v4('10.1.0.0') },
    { type: 21, messageId: 2, xtrId, siteId, record: record('10.1.0.0/16', [{ rloc: etr }]) },
    { type: 18, messageId: 3, eidMaskLen: 8, eid: vpn },
    { type: 19, messageId: 4, reason: 1, eidMaskLen: 48, eid: v6Prefix },
  ]);
  t.at(0.6);
  segment('ms', PSH, msSeq, etrSeq, answers);
  msSeq = (msSeq + answers.length) >>> 0;
  segment('etr', ACK, etrSeq, msSeq);

  const later = bytes([
    { type: 20, messageId: 5, scope: 4, rejectedOnly: true, eidMaskLen: 48, eid: v6Prefix },
    // The MS quotes the header and the first 8 body bytes of the Registration it objects to.
    { type: 16, messageId: 6, errorCode: 1, offendingType: 17, offendingLength: third.length, offendingId: 2, offendingData: third.subarray(8, 16) },
  ]);
  t.at(30);
  segment('ms', PSH, msSeq, etrSeq, later);
  msSeq = (msSeq + later.length) >>> 0;

  t.at(60);
  segment('etr', TcpFlag.FIN | ACK, etrSeq, msSeq);
  segment('ms', TcpFlag.FIN | ACK, msSeq, etrSeq + 1);
  segment('etr', ACK, (etrSeq + 1) >>> 0, (msSeq + 1) >>> 0);
  return pcap(
    'reliable-tcp.pcap',
    'Map-Server reliable transport over TCP 4342: SYN handshake, Registration Refresh, three Registrations in one stream (the second split over three segments, the third segment sent before the second, the second retransmitted), Registration ACKs, a Mapping Notification, a Registration Reject, a prefix-scoped Refresh (R set), an Error Notification, FIN both ways; the MS sequence numbers wrap. Keys: `keys`.',
    t,
  );
}

/**
 * Registration exchanges over the Map-Server reliable transport, one of each outcome: the ETR
 * registers four prefixes on one session; the Map-Server accepts one (its ACK names the prefix with
 * Instance ID 0, as Cisco IOS writes it, and a Mapping Notification follows), rejects two (not a
 * site prefix; a Registration signed with the wrong key) and never answers the fourth, which the
 * ETR sends again a second later. At 10 s the ETR registers its first prefix with a second RLOC:
 * accepted, and a handover of the mapping.
 */
function reliableRegistrations(): FixtureFile {
  const t = new Trace('reliable-registrations');
  const etr = A.xtrA;
  const ms = A.ms;
  const ETR_PORT = 50200;
  let etrSeq = 0x00c0ffee;
  let msSeq = 0x5eed0000;
  const ACK = TcpFlag.ACK;
  const PSH = TcpFlag.PSH | TcpFlag.ACK;
  /** A segment carrying `messages` (or none), both sequence numbers moved on by what it carries. */
  const send = (from: 'etr' | 'ms', flags: number, messages: ReliableMessage[] = []) => {
    const payload = concatBytes(...messages.map(encodeReliable));
    const [src, dst, sport, dport, seq, ack] = from === 'etr' ? [etr, ms, ETR_PORT, 4342, etrSeq, msSeq] : [ms, etr, 4342, ETR_PORT, msSeq, etrSeq];
    const tcp = encodeTcp({ sport, dport, seq, ack, flags, window: 16384, checksum: { src, dst } }, payload);
    t.add(encodeIPv4({ src, dst, proto: IPPROTO_TCP, id: t.id(), ttl: 255 }, tcp));
    const used = payload.length + (flags & (TcpFlag.SYN | TcpFlag.FIN) ? 1 : 0);
    if (from === 'etr') etrSeq = (etrSeq + used) >>> 0;
    else msSeq = (msSeq + used) >>> 0;
  };
  const xtrId = Uint8Array.from([0x45, 0x54, 0x52, 0x2d, 0x41, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02]);
  const siteId = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0x0a]);
  const registration = (messageId: number, eid: string, rlocs: string[], key: string): ReliableMessage => {
    const signed = mapRegister({ nonce: t.nonce(), keyId: 1, key, records: [record(eid, rlocs.map((r) => own(r)))], wantMapNotify: true, xtrId, siteId });
    return { type: 17, messageId, mapRegister: decodeControl(signed).value as MapRegister };
  };
  const notification = (messageId: number, eid: string, rlocs: string[]): ReliableMessage => ({
    type: 21,
    messageId,
    xtrId,
    siteId,
    record: record(eid, rlocs.map((r) => ({ rloc: r }))),
  });
  const site2 = '192.0.2.11';

  t.at(0);
  send('etr', TcpFlag.SYN);
  send('ms', TcpFlag.SYN | ACK);
  send('etr', ACK);
  t.at(0.1);
  send('ms', PSH, [{ type: 20, messageId: 0, scope: 0, rejectedOnly: false }]);
  t.at(0.2);
  send('etr', PSH, [
    registration(0, '10.1.0.0/16', [etr], KEYS.siteA),
    registration(1, '10.9.0.0/16', [etr], KEYS.site9),
    registration(2, '2001:db8:1::/48', [etr], KEYS.v6),
  ]);
  send('etr', PSH, [registration(3, '10.2.0.0/16', [etr], WRONG_KEY)]);
  t.at(0.204);
  send('ms', PSH, [
    { type: 18, messageId: 1, eidMaskLen: 16, eid: lcaf(2, { kind: 'instance-id', iid: 0, address: v4('10.1.0.0') }, 32) },
    notification(2, '10.1.0.0/16', [etr]),
    { type: 19, messageId: 3, reason: 1, eidMaskLen: 16, eid: v4('10.9.0.0') },
    { type: 19, messageId: 4, reason: 2, eidMaskLen: 16, eid: v4('10.2.0.0') },
  ]);
  send('etr', ACK);
  t.at(1.2);
  send('etr', PSH, [registration(4, '2001:db8:1::/48', [etr], KEYS.v6)]);
  t.at(10);
  send('etr', PSH, [registration(5, '10.1.0.0/16', [etr, site2], KEYS.siteA)]);
  t.at(10.003);
  send('ms', PSH, [{ type: 18, messageId: 5, eidMaskLen: 16, eid: v4('10.1.0.0') }, notification(6, '10.1.0.0/16', [etr, site2])]);
  t.at(60);
  send('etr', TcpFlag.FIN | ACK);
  send('ms', TcpFlag.FIN | ACK);
  send('etr', ACK);
  return pcap(
    'reliable-registrations.pcap',
    'Registrations over the Map-Server reliable transport (TCP 4342), one per outcome, for `flows`: after a Refresh the ETR 192.0.2.10 registers 10.1.0.0/16 (ACK naming `[0]10.1.0.0/16`, then a Mapping Notification), 10.9.0.0/16 (Reject: not a site EID prefix), 2001:db8:1::/48 (never answered, sent again 1 s later) and 10.2.0.0/16 signed with the wrong key (Reject: authentication failure); at 10 s 10.1.0.0/16 again with a second RLOC 192.0.2.11 (ACK, Mapping Notification: a handover). Keys: `keys`.',
    t,
  );
}

function dataPlane(): FixtureFile {
  const t = new Trace('data');
  const ping = (src: string, dst: string, seq: number, reply = false) =>
    ({ src, dst, proto: reply ? 'icmp-echo-reply' : 'icmp-echo-request', icmpId: 0x4c53, seq }) as const;
  const x = t.dataNonce();
  t.at(0).data({ src: A.etrC, dst: A.xtrA, nonce: t.dataNonce(), inner: ping('10.2.0.7', '10.1.0.5', 1) });
  t.at(1).data({ src: A.etrC, dst: A.xtrA, nonce: x, echoNonce: true, inner: ping('10.2.0.7', '10.1.0.5', 2) });
  t.at(1.001).data({ src: A.xtrA, dst: A.etrC, nonce: x, inner: ping('10.1.0.5', '10.2.0.7', 2, true) });
  t.at(2).data({ src: A.etrC, dst: A.xtrA, lsb: 0x3, inner: { src: '2001:db8:2::7', dst: '2001:db8:1::5', proto: 'udp', sport: 5004, dport: 5004, payload: t.bytes(40) } });
  t.at(3).data({ src: A.xtrB6, dst: A.xtrA6, nonce: t.dataNonce(), lsb: 0x1, inner: { src: '10.2.0.7', dst: '10.1.0.5', proto: 'tcp', sport: 40000, dport: 443, tcpSeq: 0x1000 } });
  t.at(4).data({ src: A.xtrB6, dst: A.xtrA6, mapVersion: { source: 12, dest: 34 }, inner: ping('2001:db8:2::7', '2001:db8:1::5', 3) });
  t.at(5).data({ src: A.etrC, dst: A.xtrA, nonce: t.dataNonce(), iid: 223, lsb: 0x1, inner: { src: '10.2.0.7', dst: '10.1.0.5', proto: 'udp', sport: 53000, dport: 9000, payload: t.bytes(28) } });
  t.at(6).data({ src: A.etrC, dst: A.xtrA, iid: 0xabcdef, inner: ping('10.2.0.7', '10.1.0.5', 4) });
  t.at(7).data({ src: A.etrC, dst: A.xtrA, nonce: t.dataNonce(), keyId: 1, inner: t.bytes(64) });
  t.at(8).data({ src: A.etrC, dst: A.xtrA, nonce: t.dataNonce(), gpeNextProtocol: 3, inner: ping('10.2.0.7', '10.1.0.5', 5) });
  t.at(9).data({ src: A.etrC, dst: A.xtrA, nonce: t.dataNonce(), gpeNextProtocol: 1, inner: ping('10.2.0.7', '10.1.0.5', 6) });
  t.at(10).data({ src: A.etrC, dst: A.xtrA, inner: { src: '2001:db8:2::7', dst: '2001:db8:1::5', proto: 'tcp', sport: 40001, dport: 22, tcpFlags: 0x12, tcpSeq: 7, tcpAck: 0x1001 } });
  // Invalid combinations a decoder must flag: N with V, E without N.
  t.at(11).rawData(A.etrC, A.xtrA, { flags: 0x90, word1: t.dataNonce(), word2: 0 }, innerPacket(ping('10.2.0.7', '10.1.0.5', 7)));
  t.at(12).rawData(A.etrC, A.xtrA, { flags: 0x20, word1: 0, word2: 0 }, innerPacket(ping('10.2.0.7', '10.1.0.5', 8)));
  // Data sent from port 4342 to the MN's 4341, as some RTRs do (I=1: first nibble 0 is no control type).
  t.at(13).data({ src: A.rtr, dst: A.xtrA, sport: 4342, iid: 0, inner: ping('10.2.0.7', '10.1.0.5', 9) });
  return pcap(
    'data.pcap',
    'Data plane: N, N+E and the echoed nonce, L (32-bit LSBs), N+L over IPv6, V map-versions, I+L, I alone, K=1 (encrypted), GPE P=1 next-protocol 3 (Ethernet) and 1, no flags, invalid N+V and E-without-N, data from port 4342; ICMP echo, UDP and TCP inner, IPv4/IPv6 both ways.',
    t,
  );
}

/**
 * NAT traversal through an RTR as Open Overlay Router does it (../shared/captures/oor__07-* shows
 * the real thing): the MN's Data-Map-Register in an ECM from port 4341 (bit 9: for the RTR), the
 * RTR's relay to the Map-Server (bit 10: relayed), the Map-Server's Map-Notify back in an ECM with
 * S=1 and the MS-RTR authentication (AD Type 2), the RTR handing it to the MN inside a data packet
 * (IID 0xFFFFFF, inner UDP 4342 -> 4342) from port 4342 to the NAT's port; the older draft's
 * Map-Notify with R and its MS-RTR block in both layouts; data from the RTR's port 4342 and LISP
 * data inside LISP data.
 */
function natRtr(): FixtureFile {
  const t = new Trace('nat-rtr');
  const natPort = 21001;
  const xtrId = 0x0102030405060708090a0b0c0d0e0f10n;
  const rec = (reachable: boolean) => record('10.1.0.5/32', [{ rloc: A.natPrivate, priority: 2 }, { rloc: A.rtr, reachable }]);
  const n1 = t.nonce();
  const reg = mapRegister({ nonce: n1, keyId: 1, key: KEYS.siteA, wantMapNotify: true, proxyReply: true, builtForRtr: true, xtrId, records: [rec(true)] });
  // MN -> RTR (seen after the NAT): ECM from port 4341, OOR's bit 9.
  t.at(0).control(A.natPublic, natPort, A.rtr, 4342, ecm({ rtrProcess: true, inner: { src: A.natPrivate, dst: A.ms, sport: 4342 }, message: reg }));
  // RTR -> Map-Server: the same ECM with OOR's bit 10.
  t.control(A.rtr, 4342, A.ms, 4342, ecm({ rtrRelayed: true, inner: { src: A.natPrivate, dst: A.ms, sport: 4342 }, message: reg }));
  // Map-Server -> RTR: Map-Notify (I) in an ECM with S=1 and the MS-RTR authentication.
  const notify = mapNotify({ nonce: n1, keyId: 1, key: KEYS.siteA, xtrId, records: [rec(true)] });
  t.control(A.ms, 4342, A.rtr, 4342, ecm({ rtrProcess: true, msRtr: { keyId: 1, key: KEYS.rtr }, inner: { src: A.ms, dst: A.natPrivate, sport: 4342 }, message: notify }));
  // RTR -> MN through the NAT: the Map-Notify inside a data packet, from port 4342.
  const inner = { src: A.ms, dst: A.natPrivate, proto: 'udp', sport: 4342, dport: 4342, payload: notify } as const;
  t.data({ src: A.rtr, dst: A.natPublic, sport: 4342, dport: natPort, iid: 0xffffff, inner });
  // The same seen inside the NAT, to the MN's 4341.
  t.data({ src: A.rtr, dst: A.natPrivate, sport: 4342, dport: 4341, iid: 0xffffff, inner });
  // The older draft: Map-Notify with R and the MS-RTR block after the xTR-ID, without and with OOR's AD word.
  const n2 = t.nonce();
  t.at(1).control(A.ms, 4342, A.rtr, 4342, mapNotify({ nonce: n2, keyId: 1, key: KEYS.siteA, xtrId, records: [rec(true)], msRtr: { keyId: 1, key: KEYS.rtr } }));
  t.control(A.ms, 4342, A.rtr, 4342, mapNotify({ nonce: n2, keyId: 1, key: KEYS.siteA, xtrId, records: [rec(true)], msRtr: { keyId: 1, key: KEYS.rtr, adWord: true } }));
  // Data from the RTR's port 4342 to the NAT's port: a data header and a whole IP packet.
  const ping = (src: string, dst: string, seq: number) => ({ src, dst, proto: 'icmp-echo-reply', icmpId: 0x0d7c, seq }) as const;
  t.at(2).data({ src: A.rtr, dst: A.natPublic, sport: 4342, dport: natPort, inner: ping('10.2.0.7', '10.1.0.5', 1) });
  // LISP data inside LISP data (inner UDP to 4341).
  const innerData = dataPacket({ src: A.rtr, dst: A.xtrA, nonce: t.dataNonce(), inner: ping('10.2.0.7', '10.1.0.5', 2) });
  t.at(3).data({ src: A.rtr2, dst: A.rtr, nonce: t.dataNonce(), inner: innerData });
  return pcap(
    'nat-rtr.pcap',
    "NAT traversal through an RTR the way Open Overlay Router does it: Data-Map-Register in an ECM (bit 9) and its relay (bit 10), the Map-Server's ECM with S=1 and the MS-RTR authentication (AD Type 2, RTR key in keys), the Map-Notify handed to the MN inside LISP data (IID 0xFFFFFF) from port 4342 outside and inside the NAT, Map-Notify with R and the MS-RTR block without and with OOR's AD word, data from port 4342, data inside data.",
    t,
  );
}

/**
 * ICMP and ICMPv6 errors about LISP packets, quoted as routers and hosts quote: a Map-Server that
 * is down (port unreachable, the whole Map-Register quoted), a router quoting only the 8 bytes RFC
 * 792 asks for, fragmentation needed and Packet Too Big for big data packets (cut quotes), Time
 * Exceeded, an unreachable Map-Resolver over IPv6, one with an RFC 4884 length, and an error about
 * something that is not LISP (not shown).
 */
function icmpErrors(): FixtureFile {
  const t = new Trace('icmp-errors');
  const router = '198.51.100.1';
  const router6 = '2001:db8:ffff::1';
  const reg = lispUdpPacket({
    src: A.xtrA,
    dst: A.ms,
    sport: 4342,
    dport: 4342,
    id: t.id(),
    payload: mapRegister({ nonce: t.nonce(), keyId: 1, key: KEYS.siteA, wantMapNotify: true, records: [record('10.1.0.0/24', [own(A.xtrA)])] }),
  });
  t.at(0).add(reg);
  t.add(encodeIcmpError({ src: A.ms, dst: A.xtrA, type: 3, code: 3, original: reg }));
  const req = lispUdpPacket({ src: A.xtrA, dst: A.mr, sport: 61010, dport: 4342, id: t.id(), payload: ecm({ inner: { src: A.xtrA, dst: '10.2.0.7', sport: 61010 }, message: mapRequest({ nonce: t.nonce(), eids: ['10.2.0.7/32'], itrRlocs: [A.xtrA], sourceEid: '10.1.0.5' }) }) });
  t.at(1).add(req);
  // A router quotes the IP header and 8 bytes: the ports, no LISP.
  t.add(encodeIcmpError({ src: router, dst: A.xtrA, type: 3, code: 1, original: req, quote: 28 }));
  const big = dataPacket({ src: A.xtrA, dst: A.etrC, nonce: t.dataNonce(), id: t.id(), inner: { src: '10.1.0.5', dst: '10.2.0.7', proto: 'udp', sport: 5004, dport: 5004, payload: t.bytes(1400) } });
  t.at(2).add(big);
  t.add(encodeIcmpError({ src: router, dst: A.xtrA, type: 3, code: 4, mtu: 1400, original: big }));
  t.at(3).add(encodeIcmpError({ src: router, dst: A.xtrA, type: 11, code: 0, original: big, quote: 128 }));
  const big6 = dataPacket({ src: A.xtrA6, dst: A.xtrB6, nonce: t.dataNonce(), inner: { src: '2001:db8:1::5', dst: '2001:db8:2::7', proto: 'tcp', sport: 40000, dport: 443, payload: t.bytes(1300) } });
  t.at(4).add(big6);
  t.add(encodeIcmpError({ src: router6, dst: A.xtrA6, type: 2, code: 0, mtu: 1280, original: big6 }));
  const req6 = lispUdpPacket({ src: A.xtrA6, dst: A.mr6, sport: 61011, dport: 4342, payload: ecm({ inner: { src: A.xtrA6, dst: '2001:db8:2::7', sport: 61011 }, message: mapRequest({ nonce: t.nonce(), eids: ['2001:db8:2::7/128'], itrRlocs: [A.xtrA6], sourceEid: '2001:db8:1::5' }) }) });
  t.at(5).add(req6);
  t.add(encodeIcmpError({ src: A.mr6, dst: A.xtrA6, type: 1, code: 4, original: req6 }));
  // RFC 4884: the original datagram's length (in 32-bit words) in byte 5, extensions could follow.
  const withLength = encodeIcmpError({ src: router, dst: A.xtrA, type: 11, code: 0, original: big, quote: 128 });
  withLength[20 + 5] = 128 / 4;
  fixIcmpChecksum(withLength);
  t.at(6).add(withLength);
  // Not about LISP: a DNS query's port unreachable.
  const dns = encodeIpUdp({ src: A.xtrA, dst: '192.0.2.53', sport: 53000, dport: 53, id: t.id() }, t.bytes(30));
  t.at(7).add(encodeIcmpError({ src: '192.0.2.53', dst: A.xtrA, type: 3, code: 3, original: dns }));
  return pcap(
    'icmp-errors.pcap',
    'ICMP/ICMPv6 errors quoting LISP: port unreachable from a Map-Server quoting a whole Map-Register, host unreachable quoting only IP + 8 bytes of an ECM, fragmentation needed (MTU 1400) and Time Exceeded quoting a cut data packet, ICMPv6 Packet Too Big (MTU 1280) and port unreachable from a Map-Resolver, an RFC 4884 length, and a port unreachable about DNS (not LISP).',
    t,
  );
}

/**
 * Publish/Subscribe (RFC 9437) between an xTR and the Map-Server: the subscription (Map-Request with
 * the I bit, its xTR-ID and site-ID), the Map-Server's Map-Notify confirming it and the xTR's
 * Map-Notify-Ack; a publication when the subscribed mapping changes (Map-Notify, nonce + 1),
 * retransmitted once, then acknowledged; a publication never acknowledged (three Map-Notify); an
 * IPv6 subscription; the xTR withdrawing (Map-Request with its only ITR-RLOC of AFI 0).
 */
function pubSub(): FixtureFile {
  const t = new Trace('pubsub');
  const xtrId = 0x00112233445566778899aabbccddeeffn;
  const siteId = 7n;
  const subscribe = (nonce: bigint, eid: string, itr: string, withdraw = false) =>
    mapRequest({ nonce, eids: [eid], itrRlocs: [withdraw ? { kind: 'none', afi: 0 } : itr], sourceEid: itr.includes(':') ? '2001:db8:1::5' : '10.1.0.5', xtrId, siteId });
  const notify = (nonce: bigint, rloc: string, type: 'notify' | 'ack') =>
    (type === 'notify' ? mapNotify : mapNotifyAck)({ nonce, keyId: 1, key: KEYS.siteB, xtrId, siteId, records: [record('10.2.0.0/24', [{ rloc }])] });
  const n0 = t.nonce();
  t.at(0).control(A.xtrA, 4342, A.ms, 4342, subscribe(n0, '10.2.0.0/24', A.xtrA));
  t.control(A.ms, 4342, A.xtrA, 4342, notify(n0, A.etrC, 'notify'));
  t.control(A.xtrA, 4342, A.ms, 4342, notify(n0, A.etrC, 'ack'));
  // The site of 10.2.0.0/24 moves to another RLOC: the Map-Server publishes (nonce + 1).
  const n1 = n0 + 1n;
  t.at(10).control(A.ms, 4342, A.xtrA, 4342, notify(n1, A.xtrB, 'notify'));
  t.at(11).control(A.ms, 4342, A.xtrA, 4342, notify(n1, A.xtrB, 'notify'));
  t.control(A.xtrA, 4342, A.ms, 4342, notify(n1, A.xtrB, 'ack'));
  // Another change the xTR never acknowledges: the Map-Server tries three times.
  const n2 = n1 + 1n;
  for (const s of [20, 21, 22]) t.at(s).control(A.ms, 4342, A.xtrA, 4342, notify(n2, A.etrC, 'notify'));
  // An IPv6 subscription, confirmed.
  const n3 = t.nonce();
  t.at(30).control(A.xtrA6, 4342, A.ms6, 4342, subscribe(n3, '2001:db8:2::/48', A.xtrA6));
  t.control(A.ms6, 4342, A.xtrA6, 4342, mapNotify({ nonce: n3, keyId: 2, key: KEYS.siteB, xtrId, siteId, records: [record('2001:db8:2::/48', [{ rloc: A.xtrB6 }])] }));
  // The xTR withdraws its subscription: its only ITR-RLOC has AFI 0.
  t.at(40).control(A.xtrA, 4342, A.ms, 4342, subscribe(n2 + 1n, '10.2.0.0/24', A.xtrA, true));
  return pcap(
    'pubsub.pcap',
    'Publish/Subscribe (RFC 9437): subscription (Map-Request with I, xTR-ID, site-ID), its Map-Notify and Map-Notify-Ack; a publication (nonce + 1) retransmitted then acknowledged; one never acknowledged (three Map-Notify); an IPv6 subscription; the withdrawal (ITR-RLOC AFI 0).',
    t,
  );
}

/**
 * VXLAN as the data plane of a LISP fabric (SD-Access): VXLAN-GPO with the source's group (and the
 * A and D bits), plain VXLAN with IPv6 and TCP inside, a VLAN-tagged inner frame, an ARP frame, a
 * header without the I flag, and VXLAN on Linux's port 8472 (decoded with -d udp.port=8472,vxlan).
 */
function vxlan(): FixtureFile {
  const t = new Trace('vxlan');
  const edge1 = '192.0.2.21';
  const edge2 = '192.0.2.22';
  const mac = { a: '02:00:0a:01:00:05', b: '02:00:0a:02:00:07' };
  const eth = (l3: Uint8Array, opts: LinkEncodeOptions = {}) => encodeLink(LINKTYPE_EN10MB, l3, { src: mac.a, dst: mac.b, ...opts });
  const outer = (src: string, dst: string, payload: Uint8Array, dport = 4789) =>
    encodeIpUdp({ src, dst, sport: 49152 + (fnv1a(src + dst + payload.length) % 16384), dport, id: t.id(), udpChecksum: false }, payload);
  const ping = (src: string, dst: string, seq: number, reply = false) => innerPacket({ src, dst, proto: reply ? 'icmp-echo-reply' : 'icmp-echo-request', icmpId: 0x1234, seq });
  t.at(0).add(outer(edge1, edge2, encodeVxlan({ vni: 4099, groupPolicyId: 17 }, eth(ping('10.1.0.5', '10.2.0.7', 1)))));
  t.add(outer(edge2, edge1, encodeVxlan({ vni: 4099, groupPolicyId: 23, policyApplied: true, dontLearn: true }, eth(ping('10.2.0.7', '10.1.0.5', 1, true)))));
  t.at(1).add(outer(edge1, edge2, encodeVxlan({ vni: 8190 }, eth(innerPacket({ src: '2001:db8:1::5', dst: '2001:db8:2::7', proto: 'tcp', sport: 40000, dport: 443, tcpFlags: 0x02, tcpSeq: 1000 })))));
  t.at(2).add(outer(edge1, edge2, encodeVxlan({ vni: 4099, groupPolicyId: 17 }, eth(innerPacket({ src: '10.1.0.5', dst: '10.2.0.7', proto: 'udp', sport: 5353, dport: 53, payload: t.bytes(30) }), { vlans: [100] }))));
  t.at(3).add(outer(edge1, edge2, encodeVxlan({ vni: 4099 }, encodeLink(LINKTYPE_EN10MB, t.bytes(28), { src: mac.a, dst: 'ff:ff:ff:ff:ff:ff', etherType: 0x0806 }))));
  const noI = encodeVxlan({ vni: 4099 }, eth(ping('10.1.0.5', '10.2.0.7', 2)));
  noI[0] = 0;
  noI[1] = 0;
  t.at(4).add(outer(edge1, edge2, noI));
  t.at(5).add(outer(edge1, edge2, encodeVxlan({ vni: 300 }, eth(ping('10.1.0.5', '10.2.0.7', 3))), 8472));
  return pcap(
    'vxlan.pcap',
    'VXLAN as a LISP fabric data plane: VXLAN-GPO (group 17; group 23 with D and A) carrying a ping and its reply (VNI 4099 = Instance-ID), plain VXLAN with IPv6 TCP (VNI 8190), a VLAN-tagged inner frame with UDP, an ARP frame, a header without the I flag, VXLAN on port 8472 (-d udp.port=8472,vxlan).',
    t,
  );
}

/** Recomputes the ICMP checksum of an IPv4 packet (after editing the message). */
function fixIcmpChecksum(ip: Uint8Array): void {
  const msg = ip.subarray(20);
  msg[2] = 0;
  msg[3] = 0;
  const sum = internetChecksum(msg);
  msg[2] = sum >> 8;
  msg[3] = sum & 0xff;
}

// ---- LCAF coverage ---------------------------------------------------------------------------

function lcafs(): FixtureFile {
  const t = new Trace('lcaf');
  const reply = (eid: MappingRecordSpec['eid'], rlocs: LocatorSpec[], extra: Partial<MappingRecordSpec> = {}) =>
    t.control(A.etrC, 4342, A.xtrA, 61001, mapReply({ nonce: t.nonce(), records: [record(eid, rlocs, extra)] }));
  const etr = own(A.etrC);
  t.at(0);
  // 0 Null body as an RLOC, 1 AFI list as an RLOC.
  reply('10.2.0.0/16', [own(lcaf(0, { kind: 'null' }))]);
  reply('10.2.0.0/16', [{ rloc: lcaf(1, { kind: 'afi-list', addresses: [v4(A.etrC), v6('2001:db8:c::50'), { kind: 'dn', afi: 17, name: 'etr-c' }] }), local: true }]);
  // 2 Instance ID: IPv4, IPv6 and MAC EIDs; nested IID -> Source/Dest.
  reply('[223]10.2.0.0/16', [etr]);
  reply('[4096]2001:db8:2::/48', [etr]);
  reply('[7]02:00:00:00:00:07/48', [etr]);
  const sd = lcaf(12, { kind: 'source-dest', sourceMaskLen: 24, destMaskLen: 16, source: v4('10.1.0.0'), dest: v4('10.2.0.0') });
  reply({ address: lcaf(2, { kind: 'instance-id', iid: 223, address: sd }), maskLen: 0 }, [etr]);
  // 3 AS Number, 4 Application Data (EIDs).
  reply({ address: lcaf(3, { kind: 'as-number', asn: 64500, address: v4('10.3.0.0') }), maskLen: 16 }, [etr]);
  reply(
    {
      address: lcaf(4, { kind: 'application-data', tos: 0x2e, protocol: 6, localPortLow: 443, localPortHigh: 443, remotePortLow: 1024, remotePortHigh: 65535, address: v4('10.4.0.1') }),
      maskLen: 32,
    },
    [etr],
  );
  // 5 Geo Coordinates (RLOC), 6 Opaque Key (EID).
  reply('10.2.0.0/16', [
    own(lcaf(5, { kind: 'geo-coordinates', north: true, latDegrees: 59, latMinutes: 19, latSeconds: 46, east: true, lonDegrees: 18, lonMinutes: 4, lonSeconds: 7, altitude: 28, address: v4(A.etrC) })),
  ]);
  reply({ address: lcaf(6, { kind: 'opaque-key', keyFieldNum: 1, keyWildcardFields: 0, key: text('tenant-42') }), maskLen: 0 }, [etr]);
  // 7 NAT-Traversal (RLOC, registered through an RTR).
  t.control(
    A.rtr,
    4342,
    A.ms,
    4342,
    mapRegister({
      nonce: t.nonce(),
      keyId: 2,
      key: KEYS.siteA,
      builtForRtr: true,
      wantMapNotify: true,
      records: [record('10.1.0.5/32', [{ rloc: natTraversal({ etrUdpPort: 61000, globalEtrRloc: A.natPublic, msRloc: A.ms, privateEtrRloc: A.natPrivate, rtrRlocs: [A.rtr] }), local: true }])],
    }),
  );
  // 8 Nonce Locator, 10 ELP, 11 Security Key (RLOCs).
  reply('10.2.0.0/16', [{ rloc: lcaf(8, { kind: 'nonce-locator', nonce: 0x123456, address: v4(A.etrC) }), local: true }]);
  reply('10.2.0.0/16', [
    {
      rloc: lcaf(10, {
        kind: 'elp',
        hops: [
          { lookup: true, rlocProbe: false, strict: false, address: v4(A.rtr) },
          { lookup: false, rlocProbe: true, strict: true, address: v4(A.rtr2) },
          { lookup: false, rlocProbe: false, strict: false, address: v4(A.etrC) },
        ],
      }),
    },
  ]);
  reply('10.2.0.0/16', [{ rloc: lcaf(11, { kind: 'security-key', keyCount: 1, keyAlgorithm: 2, revoke: false, keys: [t.bytes(32)], address: v4(A.etrC) }), local: true }]);
  // 9 Multicast Info (EID, J bit) with 13 RLE (RLOC).
  reply({ address: lcaf(9, { kind: 'multicast-info', iid: 0, sourceMaskLen: 32, groupMaskLen: 32, source: v4('10.2.0.7'), group: v4('239.1.1.1') }, 0x01), maskLen: 0 }, [
    {
      rloc: lcaf(13, {
        kind: 'rle',
        entries: [
          { level: 0, address: v4(A.rtr) },
          { level: 1, address: v4(A.xtrA) },
          { level: 1, address: v6(A.xtrB6) },
        ],
      }),
    },
  ]);
  // 12 Source/Dest (EID), 14 JSON (RLOC), 15 Key/Value (EID), 16 Encapsulation Format (RLOC).
  reply({ address: sd, maskLen: 0 }, [etr]);
  reply('10.2.0.0/16', [{ rloc: lcaf(14, { kind: 'json', json: text('{"site":"lab","rack":7}'), address: v4(A.etrC) }), local: true }]);
  reply({ address: lcaf(15, { kind: 'key-value', key: { kind: 'dn', afi: 17, name: 'building' }, value: v4('10.15.0.1') }), maskLen: 0 }, [etr]);
  reply('10.2.0.0/16', [{ rloc: lcaf(16, { kind: 'encapsulation-format', bits: 0x01 | 0x04, address: v4(A.etrC) }), local: true }]);
  // 255 Vendor Specific, and an unassigned type (100) kept raw.
  reply('10.2.0.0/16', [{ rloc: lcaf(255, { kind: 'vendor', oui: 0x00000c, data: t.bytes(8) }) }, etr]);
  reply('10.2.0.0/16', [{ rloc: lcaf(100, { kind: 'raw', bytes: t.bytes(6) }) }, etr]);
  // LCAF EIDs in an authenticated message (key found by the Map-Server's address) and in a Map-Request.
  t.control(
    A.etrC,
    4342,
    A.ms,
    4342,
    mapRegister({
      nonce: t.nonce(),
      keyId: 1,
      key: KEYS.ms,
      records: [record({ address: sd, maskLen: 0 }, [etr]), record({ address: lcaf(3, { kind: 'as-number', asn: 64501, address: v4('10.3.1.0') }), maskLen: 24 }, [etr])],
    }),
  );
  t.control(A.xtrA, 61002, A.etrC, 4342, mapRequest({ nonce: t.nonce(), eids: [{ address: sd, maskLen: 0 }], itrRlocs: [A.xtrA], sourceEid: '[223]10.1.0.5' }));
  return pcap(
    'lcaf.pcap',
    'Every LCAF type in mapping records: 0 Null, 1 AFI list, 2 Instance ID (IPv4/IPv6/MAC, nested Source/Dest), 3 AS, 4 Application Data, 5 Geo, 6 Opaque Key, 7 NAT-T (Map-Register), 8 Nonce, 9 Multicast + 13 RLE, 10 ELP, 11 Security Key, 12 Source/Dest, 14 JSON, 15 Key/Value, 16 Encapsulation Format, 255 Vendor, 100 unassigned.',
    t,
  );
}

// ---- link types ------------------------------------------------------------------------------

/** Two packets: an IPv4 Map-Request and an IPv6 data packet (only one family for IPV4/IPV6 links). */
function linkTrace(name: string, framer: Framer, families: Array<4 | 6> = [4, 6]): Trace {
  const t = new Trace(name, framer);
  if (families.includes(4)) {
    t.at(0).control(A.xtrA, 61001, A.mr, 4342, ecm({ inner: { src: A.xtrA, dst: '10.2.0.7', sport: 61001 }, message: mapRequest({ nonce: t.nonce(), eids: ['10.2.0.7/32'], itrRlocs: [A.xtrA] }) }));
    t.at(0.01).control(A.ms, 4342, A.xtrA, 61001, mapReply({ nonce: t.nonce(), records: [record('10.2.0.0/16', [{ rloc: A.etrC }], { authoritative: false })] }));
  }
  if (families.includes(6)) {
    t.at(1).data({ src: A.xtrB6, dst: A.xtrA6, nonce: t.dataNonce(), lsb: 1, inner: { src: '2001:db8:2::7', dst: '2001:db8:1::5', proto: 'icmp-echo-request', icmpId: 1, seq: 1 } });
  }
  return t;
}

function linkTypes(): FixtureFile[] {
  const link = (lt: number, opts: LinkEncodeOptions = {}): Framer => (l3) => encodeLink(lt, l3, opts);
  const out: FixtureFile[] = [];
  const add = (name: string, linkType: number, framer: Framer, about: string, families?: Array<4 | 6>) =>
    out.push(pcap(name, about, linkTrace(name, framer, families), { linkType }));
  add('link-en10mb-vlan.pcap', LINKTYPE_EN10MB, (l3) => ethernet(l3, { vlans: [100] }), 'EN10MB with one 802.1Q tag (VLAN 100).');
  add('link-en10mb-qinq.pcap', LINKTYPE_EN10MB, (l3) => ethernet(l3, { vlans: [{ id: 200, tpid: ETHERTYPE_QINQ }, { id: 100, pcp: 5 }] }), 'EN10MB with QinQ: 802.1ad S-tag 200 over 802.1Q C-tag 100.');
  add('link-linux-sll.pcap', LINKTYPE_LINUX_SLL, link(LINKTYPE_LINUX_SLL, { packetType: 4 }), 'LINUX_SLL (113), cooked v1 header, outgoing packets.');
  add('link-linux-sll2.pcap', LINKTYPE_LINUX_SLL2, link(LINKTYPE_LINUX_SLL2, { ifIndex: 3 }), 'LINUX_SLL2 (276), cooked v2 header, interface index 3.');
  add('link-raw-101.pcap', LINKTYPE_RAW, link(LINKTYPE_RAW), 'LINKTYPE_RAW (101): bare IPv4/IPv6.');
  add('link-raw-12.pcap', LINKTYPE_RAW_12, link(LINKTYPE_RAW_12), 'DLT_RAW as 12 (old BSD/Linux value).');
  add('link-raw-14.pcap', LINKTYPE_RAW_14, link(LINKTYPE_RAW_14), 'DLT_RAW as 14 (OpenBSD value).');
  add('link-null-le.pcap', LINKTYPE_NULL, link(LINKTYPE_NULL, { hostEndian: 'le' }), 'NULL (0), little-endian host: AF 2 and AF 30 (macOS IPv6).');
  add('link-null-be.pcap', LINKTYPE_NULL, (l3) => encodeLink(LINKTYPE_NULL, l3, { hostEndian: 'be', family: l3[0]! >> 4 === 6 ? 28 : 2 }), 'NULL (0), big-endian host: AF 2 and AF 28 (FreeBSD IPv6).');
  add('link-loop.pcap', LINKTYPE_LOOP, link(LINKTYPE_LOOP), 'LOOP (108), big-endian AF 2 and AF 24 (OpenBSD IPv6).');
  add('link-ipv4.pcap', LINKTYPE_IPV4, link(LINKTYPE_IPV4), 'LINKTYPE_IPV4 (228): IPv4 only.', [4]);
  add('link-ipv6.pcap', LINKTYPE_IPV6, link(LINKTYPE_IPV6), 'LINKTYPE_IPV6 (229): IPv6 only.', [6]);
  return out;
}

// ---- file formats ----------------------------------------------------------------------------

/** A short exchange with timestamps that need nanoseconds: Map-Register -> Map-Notify, then data. */
function formatTrace(name: string, framer: Framer = ethernet): Trace {
  const t = new Trace(name, framer);
  const n = t.nonce();
  const recs = [record('10.1.0.0/16', [own(A.xtrA)])];
  t.atNs(123_456_789).control(A.xtrA, 4342, A.ms, 4342, mapRegister({ nonce: n, keyId: 1, key: KEYS.siteA, wantMapNotify: true, records: recs }));
  t.atNs(127_000_001).control(A.ms, 4342, A.xtrA, 4342, mapNotify({ nonce: n, keyId: 1, key: KEYS.siteA, records: recs }));
  t.atNs(2_000_000_999).data({ src: A.etrC, dst: A.xtrA, nonce: t.dataNonce(), lsb: 1, inner: { src: '10.2.0.7', dst: '10.1.0.5', proto: 'icmp-echo-request', icmpId: 1, seq: 1 } });
  return t;
}

function formats(): FixtureFile[] {
  const out: FixtureFile[] = [];
  const about3 = 'Map-Register -> Map-Notify (SHA-1) and a data packet';
  out.push(pcap('format-pcap-us-le.pcap', `pcap, microseconds, little-endian: ${about3}.`, formatTrace('format-pcap'), { endian: 'le' }));
  out.push(pcap('format-pcap-us-be.pcap', `pcap, microseconds, big-endian: ${about3}.`, formatTrace('format-pcap'), { endian: 'be' }));
  out.push(pcap('format-pcap-ns.pcap', `pcap, nanoseconds (magic a1b23c4d), big-endian: ${about3}.`, formatTrace('format-pcap'), { endian: 'be', precision: 'ns' }));
  out.push(pcap('format-pcap-modified.pcap', `Modified (Kuznetsov, a1b2cd34) pcap with 24-byte record headers: ${about3}.`, formatTrace('format-pcap'), { modified: true }));
  const t = formatTrace('format-pcap');
  out.push(pcapng('format-pcapng-le.pcapng', `pcapng, little-endian, one EN10MB interface: ${about3}.`, [{ endian: 'le', interfaces: [{ linkType: LINKTYPE_EN10MB, name: 'eth0' }], blocks: t.packets }]));
  out.push(pcapng('format-pcapng-be.pcapng', `pcapng, big-endian, if_tsresol 9 (ns): ${about3}.`, [{ endian: 'be', interfaces: [{ linkType: LINKTYPE_EN10MB, tsresol: 9 }], blocks: t.packets }]));

  // Three sections: interface ids restart, byte order and link types change.
  const s1 = formatTrace('format-pcapng-sections');
  const raw = formatTrace('format-pcapng-sections-2', (l3) => encodeLink(LINKTYPE_RAW, l3));
  const sll = formatTrace('format-pcapng-sections-3', (l3) => encodeLink(LINKTYPE_LINUX_SLL, l3));
  const nul = formatTrace('format-pcapng-sections-4', (l3) => encodeLink(LINKTYPE_NULL, l3));
  const shift = (ps: CapturePacket[], sec: number, interfaceId = 0) => ps.map((p) => ({ ...p, tsSec: p.tsSec + sec, interfaceId }));
  const sllPackets = shift(sll.packets, 10, 1);
  out.push(
    pcapng('format-pcapng-sections.pcapng', 'pcapng with 3 sections: LE EN10MB; BE with RAW (id 0) and LINUX_SLL (id 1) interfaces interleaved; LE NULL (ids restart at 0).', [
      { endian: 'le', interfaces: [{ linkType: LINKTYPE_EN10MB }], blocks: s1.packets },
      {
        endian: 'be',
        interfaces: [{ linkType: LINKTYPE_RAW }, { linkType: LINKTYPE_LINUX_SLL, name: 'any' }],
        blocks: shift(raw.packets, 10).flatMap((p, i) => [p, sllPackets[i]!]),
      },
      { endian: 'le', interfaces: [{ linkType: LINKTYPE_NULL }], blocks: shift(nul.packets, 20) },
    ]),
  );

  // Timestamp resolutions: 10^-9, 2^-20, 10^-3 with if_tsoffset.
  const r = formatTrace('format-pcapng-tsresol');
  const [p0, p1, p2] = r.packets as [CapturePacket, CapturePacket, CapturePacket];
  out.push(
    pcapng('format-pcapng-tsresol.pcapng', 'pcapng interfaces with if_tsresol 9 (ns), 0x94 (2^-20 s) and 3 (ms) plus if_tsoffset; one packet on each.', [
      {
        interfaces: [
          { linkType: LINKTYPE_EN10MB, tsresol: 9, name: 'ns' },
          { linkType: LINKTYPE_EN10MB, tsresol: 0x80 | 20, name: 'pow2' },
          { linkType: LINKTYPE_EN10MB, tsresol: 3, tsoffset: T0, name: 'ms+offset' },
        ],
        blocks: [
          { ...p0, interfaceId: 0 },
          { ...p1, interfaceId: 1 },
          { ...p2, interfaceId: 2 },
        ],
      },
    ]),
  );

  // Blocks a reader must skip or handle: SPB, obsolete PB, NRB, ISB, DSB, custom, unknown type.
  const b = formatTrace('format-pcapng-blocks');
  const [q0, q1, q2] = b.packets as [CapturePacket, CapturePacket, CapturePacket];
  const blocks: PcapngBlock[] = [
    { type: 'nrb', records: [{ ip: A.ms, names: ['ms.lisp.example'] }, { ip: A.xtrA6, names: ['xtr-a.lisp.example'] }] },
    { type: 'spb', packet: q0 },
    { type: 'custom', pen: 32473, data: text('lispscope fixture, copyable custom block') },
    { type: 'pb', packet: q1, drops: 3 },
    { type: 'dsb', secretsType: 0x544c534b, data: text('# no TLS here\n') },
    { type: 'custom', pen: 32473, data: text('not to be copied'), copyable: false },
    { type: 'raw', blockType: 0x00000bee, body: text('an unknown block type') },
    { type: 'epb', packet: q2, options: [{ code: 1, value: text('epb comment') }] },
    { type: 'isb', interfaceId: 0, tsSec: q2.tsSec + 1, tsNsec: 0, received: 3n, dropped: 0n },
  ];
  out.push(pcapng('format-pcapng-blocks.pcapng', 'pcapng with NRB, SPB, copyable and non-copyable custom blocks, an obsolete Packet Block, DSB, an unknown block type, an EPB with a comment, ISB.', [{ blocks }]));

  out.push({
    name: 'format-gzip.pcap.gz',
    about: 'format-pcap-us-le.pcap gzipped (stored deflate blocks, so the bytes are the same on every zlib).',
    bytes: gzipStored(out[0]!.bytes),
  });
  return out;
}

// ---- gzip (RFC 1952) with stored deflate blocks (RFC 1951 §3.2.4) ----------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function gzipStored(data: Uint8Array): Uint8Array {
  const parts: number[] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
  for (let off = 0; off < data.length || off === 0; off += 65535) {
    const len = Math.min(65535, data.length - off);
    const last = off + len >= data.length;
    parts.push(last ? 1 : 0, len & 0xff, len >> 8, ~len & 0xff, (~len >> 8) & 0xff, ...data.subarray(off, off + len));
    if (last) break;
  }
  const crc = crc32(data);
  const size = data.length >>> 0;
  parts.push(crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24, size & 0xff, (size >>> 8) & 0xff, (size >>> 16) & 0xff, size >>> 24);
  return Uint8Array.from(parts);
}

// ---- IP-layer variants -----------------------------------------------------------------------

function ipOptions(): FixtureFile {
  const t = new Trace('ip-options');
  const rr = [7, 15, 4, ...new Array<number>(12).fill(0)];
  const routerAlert = [0x94, 4, 0, 0];
  const ctl = (m: ControlMessage) => encodeControl(m);
  // IPv4 with Router Alert and Record Route options, carrying a Map-Request and a data packet.
  const req = ctl(mapRequest({ nonce: t.nonce(), eids: ['10.77.0.7/32'], itrRlocs: [A.xtrA] }));
  t.at(0).add(encodeIPv4({ src: A.xtrA, dst: A.etrC, proto: IPPROTO_UDP, id: t.id(), options: Uint8Array.from([...routerAlert, ...rr]) }, encodeUdp(61001, 4342, req, { checksum: { src: A.xtrA, dst: A.etrC } })));
  const data = dataPacket({ src: A.etrC, dst: A.xtrA, nonce: t.dataNonce(), inner: { src: '10.77.0.7', dst: '10.1.0.5', proto: 'icmp-echo-request', icmpId: 2, seq: 1 } });
  t.at(1).add(encodeIPv4({ src: A.etrC, dst: A.xtrA, proto: IPPROTO_UDP, id: t.id(), options: Uint8Array.from(routerAlert) }, data.subarray(20)));
  // IPv6 with extension headers: Hop-by-Hop; Destination Options + Routing; all three before a data packet.
  const hbh: IPv6ExtensionSpec = { type: 0, data: Uint8Array.from([5, 2, 0, 0]) };
  const dst: IPv6ExtensionSpec = { type: 60, data: Uint8Array.from([0x1e, 2, 0xab, 0xcd]) };
  // Segment Routing Header (type 4), Segments Left 0, one segment: the final destination.
  const rh2: IPv6ExtensionSpec = { type: 43, data: Uint8Array.from([4, 0, 0, 0, 0, 0, ...parseIPv6(A.xtrA6)!]) };
  const v6udp = (src: string, dst6: string, sport: number, dport: number, payload: Uint8Array, exts: IPv6ExtensionSpec[]) =>
    encodeIPv6({ src, dst: dst6, nextHeader: IPPROTO_UDP, extensionHeaders: exts }, encodeUdp(sport, dport, payload, { checksum: { src, dst: dst6 } }));
  const req6 = ctl(mapRequest({ nonce: t.nonce(), eids: ['10.77.0.8/32'], itrRlocs: [A.xtrA6] }));
  t.at(2).add(v6udp(A.xtrA6, A.ms6, 61002, 4342, req6, [hbh]));
  const rep6 = ctl(mapReply({ nonce: t.nonce(), records: [record('10.77.0.0/16', [own(A.xtrB6)])] }));
  t.at(3).add(v6udp(A.xtrB6, A.xtrA6, 4342, 61002, rep6, [dst, rh2]));
  const inner = innerPacket({ src: '10.77.0.8', dst: '10.1.0.5', proto: 'udp', sport: 5000, dport: 5001, payload: t.bytes(16) });
  const d6 = dataPacket({ src: A.xtrB6, dst: A.xtrA6, sport: 50000, nonce: t.dataNonce(), inner });
  t.at(4).add(encodeIPv6({ src: A.xtrB6, dst: A.xtrA6, nextHeader: IPPROTO_UDP, extensionHeaders: [hbh, dst, rh2] }, d6.subarray(40)));
  return pcap(
    'ip-options.pcap',
    'IPv4 options (Router Alert, Record Route) on a Map-Request and a data packet; IPv6 Hop-by-Hop, Destination Options and Routing (type 4, SRH) headers before Map-Request, Map-Reply and data.',
    t,
  );
}

/** IPv4 fragments of `ip` (a whole datagram without options), `size` payload bytes each (multiple of 8). */
function fragmentIPv4(ip: Uint8Array, size: number): Uint8Array[] {
  const payload = ip.subarray(20);
  const out: Uint8Array[] = [];
  const src = ip.subarray(12, 16);
  const dst = ip.subarray(16, 20);
  const id = (ip[4]! << 8) | ip[5]!;
  for (let off = 0; off < payload.length; off += size) {
    const part = payload.subarray(off, off + size);
    out.push(encodeIPv4({ src, dst, proto: ip[9]!, id, ttl: ip[8]!, mf: off + size < payload.length, fragmentOffset: off / 8 }, part));
  }
  return out;
}

/** IPv6 fragments of `ip` (no extension headers), with a Fragment header. */
function fragmentIPv6(ip: Uint8Array, size: number, id: number): Uint8Array[] {
  const payload = ip.subarray(40);
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += size) {
    const part = payload.subarray(off, off + size);
    out.push(
      encodeIPv6(
        { src: ip.subarray(8, 24), dst: ip.subarray(24, 40), nextHeader: ip[6]!, hopLimit: ip[7]!, extensionHeaders: [{ type: 44, fragmentOffset: off / 8, more: off + size < payload.length, id }] },
        part,
      ),
    );
  }
  return out;
}

function fragments(): FixtureFile {
  const t = new Trace('ip-fragments');
  const big = (i: number) => record(`10.77.${i}.0/24`, [own(A.xtrA), { rloc: A.xtrA6, priority: 2 }]);
  const records = Array.from({ length: 12 }, (_, i) => big(i));
  // A data packet whose 600-byte inner ping does not fit: 3 IPv4 fragments, in order.
  const d4 = dataPacket({ src: A.etrC, dst: A.xtrA, id: t.id(), nonce: t.dataNonce(), inner: { src: '10.77.0.7', dst: '10.1.0.5', proto: 'icmp-echo-request', icmpId: 3, seq: 1, payload: t.bytes(600) } });
  t.at(0);
  for (const f of fragmentIPv4(d4, 256)) t.add(f);
  // The same over IPv6, last fragment first.
  const d6 = dataPacket({ src: A.xtrB6, dst: A.xtrA6, nonce: t.dataNonce(), inner: { src: '2001:db8:2::7', dst: '2001:db8:1::5', proto: 'icmp-echo-request', icmpId: 3, seq: 2, payload: t.bytes(600) } });
  t.at(1);
  for (const f of fragmentIPv6(d6, 256, 0x5a5a0001).reverse()) t.add(f);
  // A Map-Register with 12 records, fragmented over IPv4 and over IPv6.
  const reg4 = mapRegister({ nonce: t.nonce(), keyId: 2, key: KEYS.ms, wantMapNotify: true, records });
  t.at(2);
  for (const f of fragmentIPv4(lispUdpPacket({ src: A.xtrA, dst: A.ms, sport: 4342, dport: 4342, payload: reg4, id: t.id() }), 200)) t.add(f);
  const reg6 = mapRegister({ nonce: t.nonce(), keyId: 1, key: KEYS.fallback, records });
  t.at(3);
  for (const f of fragmentIPv6(lispUdpPacket({ src: A.xtrA6, dst: A.ms6, sport: 4342, dport: 4342, payload: reg6 }), 256, 0x5a5a0002)) t.add(f);
  return pcap(
    'ip-fragments.pcap',
    'Outer fragmentation: a LISP data packet in 3 IPv4 fragments and in 3 IPv6 fragments (sent last first); a 12-record Map-Register in IPv4 fragments (SHA-256) and in IPv6 fragments (SHA-1).',
    t,
  );
}

function snaplen(): FixtureFile {
  const t = new Trace('snaplen');
  const records = [record('10.77.0.0/16', [own(A.xtrA), own('192.0.2.11')]), record('2001:db8:77::/48', [own(A.xtrA6)])];
  t.at(0).control(A.xtrA, 61001, A.etrC, 4342, mapRequest({ nonce: t.nonce(), eids: ['10.2.0.7/32'], itrRlocs: [A.xtrA] }));
  t.at(1).control(A.xtrA, 4342, A.ms, 4342, mapRegister({ nonce: t.nonce(), keyId: 2, key: KEYS.ms, records }));
  t.at(2).control(A.etrC, 4342, A.xtrA, 61001, mapReply({ nonce: t.nonce(), records }));
  t.at(3).data({ src: A.etrC, dst: A.xtrA, nonce: t.dataNonce(), inner: { src: '10.2.0.7', dst: '10.1.0.5', proto: 'udp', sport: 5000, dport: 5001, payload: t.bytes(100) } });
  t.at(4).control(A.xtrA6, 61002, A.ms6, 4342, ecm({ inner: { src: A.xtrA6, dst: '2001:db8:2::7', sport: 61002 }, message: mapRequest({ nonce: t.nonce(), eids: ['2001:db8:2::7/128'], itrRlocs: [A.xtrA6] }) }));
  return pcap(
    'snaplen.pcap',
    'Captured with snaplen 96: a whole Map-Request, then a Map-Register, Map-Reply, data packet and IPv6 ECM each cut short (caplen < len).',
    t,
    { snaplen: 96 },
  );
}

function truncatedFile(): FixtureFile {
  const t = new Trace('truncated');
  const recs = [record('10.1.0.0/16', [own(A.xtrA)])];
  const n = t.nonce();
  t.at(0).control(A.xtrA, 61001, A.mr, 4342, ecm({ inner: { src: A.xtrA, dst: '10.2.0.7', sport: 61001 }, message: mapRequest({ nonce: n, eids: ['10.2.0.7/32'], itrRlocs: [A.xtrA] }) }));
  t.at(0.01).control(A.ms, 4342, A.xtrA, 61001, mapReply({ nonce: n, records: [record('10.2.0.0/16', [{ rloc: A.etrC }], { authoritative: false })] }));
  t.at(1).control(A.xtrA, 4342, A.ms, 4342, mapRegister({ nonce: t.nonce(), keyId: 1, key: KEYS.siteA, records: recs }));
  const whole = writePcap(t.packets, { linkType: LINKTYPE_EN10MB });
  // Cut 40 bytes into the last record's data.
  const last = t.packets[t.packets.length - 1]!.data.length;
  return {
    name: 'truncated.pcap',
    about: 'A pcap cut off 40 bytes into the data of its third record (ECM Map-Request, Map-Reply, then the cut Map-Register).',
    bytes: whole.slice(0, whole.length - last + 40),
  };
}

// ---- the Mobile Node demo --------------------------------------------------------------------

const MN_KEYS = { mn: 'mn-secret-key', peer: 'peer-site-key' } as const;

const MN_KEYS_FILE = `# Keys of mn-handover.pcapng: lispscope read --keys pcaps/mn-handover.keys pcaps/mn-handover.pcapng
10.1.0.5/32   ${MN_KEYS.mn}
10.2.0.0/24   ${MN_KEYS.peer}
`;

/**
 * The story `npm start` tells. Cast: the Mobile Node (EID 10.1.0.5/32) first at RLOC A 192.0.2.10,
 * later at RLOC B 198.51.100.20; a peer xTR (EID prefix 10.2.0.0/24, RLOC 203.0.113.50) with host
 * 10.2.0.7; the Map-Server 203.0.113.1 and the Map-Resolver 203.0.113.2.
 */
function mnHandover(): FixtureFile {
  const t = new Trace('mn-handover');
  const MN_EID = '10.1.0.5';
  const PEER_HOST = '10.2.0.7';
  const rlocA = '192.0.2.10';
  const rlocB = '198.51.100.20';
  const peer = A.etrC;
  const xtrId = 0x4d4e2d78747249442d30303030303031n;
  const mnRecord = (rloc: string) => record(`${MN_EID}/32`, [own(rloc)]);
  const peerRecord = record('10.2.0.0/24', [own(peer)]);
  const chapters: Array<{ first: number; text: string }> = [];
  const chapter = (text: string) => chapters.push({ first: t.packets.length + 1, text });

  const register = (rloc: string) => {
    const n = t.nonce();
    const records = [mnRecord(rloc)];
    t.control(rloc, 4342, A.ms, 4342, mapRegister({ nonce: n, keyId: 2, key: MN_KEYS.mn, proxyReply: true, wantMapNotify: true, xtrId, siteId: 1n, records }));
    t.after(4).control(A.ms, 4342, rloc, 4342, mapNotify({ nonce: n, keyId: 2, key: MN_KEYS.mn, xtrId, siteId: 1n, records }));
  };
  const registerPeer = () => {
    const n = t.nonce();
    t.control(peer, 4342, A.ms, 4342, mapRegister({ nonce: n, keyId: 1, key: MN_KEYS.peer, wantMapNotify: true, records: [peerRecord] }));
    t.after(4).control(A.ms, 4342, peer, 4342, mapNotify({ nonce: n, keyId: 1, key: MN_KEYS.peer, records: [peerRecord] }));
  };
  /** ITR -> MR (ECM), MR -> MS (ECM); returns the request's nonce. */
  const resolve = (itr: string, sport: number, srcEid: string, eid: string, extra: Partial<Parameters<typeof mapRequest>[0]> = {}, nonce = t.nonce(), forward = true) => {
    const req = mapRequest({ nonce, eids: [eid], itrRlocs: [itr], sourceEid: srcEid, ...extra });
    const inner = { src: itr, dst: eid.split('/')[0]!, sport };
    t.control(itr, sport, A.mr, 4342, ecm({ inner, message: req }));
    if (forward) t.after(1).control(A.mr, 4342, A.ms, 4342, ecm({ inner, message: req }));
    return { nonce, req, inner };
  };
  let pingSeq = 0;
  const ping = (from: 'peer' | 'mn', outerSrc: string, outerDst: string, seq: number, header: { nonce?: number; echoNonce?: boolean }) =>
    t.data({
      src: outerSrc,
      dst: outerDst,
      lsb: 1,
      ...header,
      inner:
        from === 'peer'
          ? { src: PEER_HOST, dst: MN_EID, proto: 'icmp-echo-request', icmpId: 0x0700, seq }
          : { src: MN_EID, dst: PEER_HOST, proto: 'icmp-echo-reply', icmpId: 0x0700, seq },
    });

  t.at(0);
  chapter('The MN registers RLOC A 192.0.2.10 (SHA-256, proxy-reply, want-map-notify, xTR-ID); Map-Notify.');
  register(rlocA);
  t.at(0.5);
  chapter('NAT check: Info-Request, Info-Reply (global RLOC = private RLOC, same port: no NAT).');
  const info = t.nonce();
  // From the control port, as lispers.net does (control-info.pcap has the draft's port 4341).
  t.control(rlocA, 4342, A.ms, 4342, infoRequest({ nonce: info, keyId: 2, key: MN_KEYS.mn, eid: `${MN_EID}/32` }));
  t.after(2).control(
    A.ms,
    4342,
    rlocA,
    4342,
    infoReply({ nonce: info, keyId: 2, key: MN_KEYS.mn, eid: `${MN_EID}/32`, nat: { etrUdpPort: 4342, globalEtrRloc: rlocA, msRloc: A.ms, privateEtrRloc: rlocA, rtrRlocs: [A.rtr] } }),
  );
  t.at(1);
  chapter('The peer xTR 203.0.113.50 registers 10.2.0.0/24 (SHA-1); Map-Notify.');
  registerPeer();

  t.at(5);
  chapter('Host 10.2.0.7 pings the MN: the peer resolves 10.1.0.5 via the Map-Resolver (ECM), which forwards to the Map-Server; the MS proxy-replies with RLOC A.');
  const q1 = resolve(peer, 61001, PEER_HOST, `${MN_EID}/32`);
  t.after(1).control(A.ms, 4342, peer, q1.inner.sport, mapReply({ nonce: q1.nonce, echoNonceCapable: true, records: [record(`${MN_EID}/32`, [{ rloc: rlocA }], { authoritative: false })] }));
  const echo = t.dataNonce();
  chapter('First echo request, encapsulated to RLOC A with N+E (echo-nonce request) and LSBs.');
  ping('peer', peer, rlocA, ++pingSeq, { nonce: echo, echoNonce: true });
  chapter("The MN resolves 10.2.0.7 in turn: MR -> MS -> ECM to-ETR to the peer's ETR, which answers itself (A=1).");
  const q2 = resolve(rlocA, 61501, MN_EID, `${PEER_HOST}/32`);
  t.after(1).control(A.ms, 4342, peer, 4342, ecm({ toEtr: true, inner: q2.inner, message: q2.req }));
  t.after(1).control(peer, 4342, rlocA, q2.inner.sport, mapReply({ nonce: q2.nonce, echoNonceCapable: true, records: [peerRecord] }));
  chapter("Echo reply, echoing the peer's nonce; then one ping a second.");
  ping('mn', rlocA, peer, pingSeq, { nonce: echo });
  for (const at of [6, 7, 8]) {
    t.at(at);
    ping('peer', peer, rlocA, ++pingSeq, { nonce: t.dataNonce() });
    t.after(0.5);
    ping('mn', rlocA, peer, pingSeq, { nonce: t.dataNonce() });
  }

  t.at(10);
  chapter("The peer RLOC-probes RLOC A; the MN's probe reply sets p on the probed locator.");
  const probe = t.nonce();
  t.control(peer, 61002, rlocA, 4342, mapRequest({ nonce: probe, probe: true, eids: [`${MN_EID}/32`], itrRlocs: [peer], sourceEid: PEER_HOST }));
  t.after(1).control(rlocA, 4342, peer, 61002, mapReply({ nonce: probe, probe: true, records: [record(`${MN_EID}/32`, [own(rlocA, { probed: true })])] }));

  t.at(29);
  chapter('A new ping session, every 200 ms.');
  for (const at of [29, 29.2, 29.4]) {
    t.at(at);
    ping('peer', peer, rlocA, ++pingSeq, { nonce: t.dataNonce() });
    t.after(0.4);
    ping('mn', rlocA, peer, pingSeq, { nonce: t.dataNonce() });
  }
  t.at(29.6);
  chapter('At 29.5 s the MN leaves network A: the peer keeps sending to RLOC A (stale, unanswered).');
  for (const at of [29.6, 29.8, 30.0, 30.2, 30.4]) {
    t.at(at);
    ping('peer', peer, rlocA, ++pingSeq, { nonce: t.dataNonce() });
  }
  t.at(30.45);
  chapter('Handover: on network B the MN registers RLOC B 198.51.100.20; Map-Notify.');
  register(rlocB);
  t.after(5);
  chapter('The MN sends an SMR (S=1) to the peer it was talking to.');
  const smr = t.nonce();
  t.control(rlocB, 61502, peer, 4342, mapRequest({ nonce: smr, smr: true, eids: ['10.2.0.0/24'], itrRlocs: [rlocB], sourceEid: MN_EID }));
  t.at(30.6);
  chapter('The peer rate-limits its SMR-invoked request and meanwhile keeps sending to RLOC A: stale.');
  ping('peer', peer, rlocA, ++pingSeq, { nonce: t.dataNonce() });
  t.at(30.75);
  chapter("The peer's SMR-invoked Map-Request (s=1) via MR and MS; the MS answers with RLOC B.");
  const q3 = resolve(peer, 61003, PEER_HOST, `${MN_EID}/32`, { smrInvoked: true });
  t.after(1).control(A.ms, 4342, peer, q3.inner.sport, mapReply({ nonce: q3.nonce, echoNonceCapable: true, records: [record(`${MN_EID}/32`, [{ rloc: rlocB }], { authoritative: false })] }));
  t.at(30.8);
  chapter('Pings now go to RLOC B and are answered from it.');
  for (const at of [30.8, 31.0, 31.2]) {
    t.at(at);
    ping('peer', peer, rlocB, ++pingSeq, { nonce: t.dataNonce() });
    t.after(0.4);
    ping('mn', rlocB, peer, pingSeq, { nonce: t.dataNonce() });
  }

  t.at(61);
  chapter('Periodic re-registrations, 60 s after the previous ones: the peer, then the MN (RLOC B).');
  registerPeer();
  t.at(90.45);
  register(rlocB);

  t.at(95);
  chapter('The MN looks up 10.3.0.9, which nobody registered: unanswered, retransmitted 3 times 1 s apart (same nonce), then the MR\'s negative Map-Reply for 10.3.0.0/16 (TTL 15 min, Natively-Forward).');
  const lost = t.nonce();
  let q4: ReturnType<typeof resolve> | undefined;
  for (const at of [95, 96, 97, 98]) {
    t.at(at);
    q4 = resolve(rlocB, 61503, MN_EID, '10.3.0.9/32', {}, lost, false);
  }
  t.after(1).control(A.mr, 4342, rlocB, q4!.inner.sport, negativeMapReply({ nonce: lost, eid: '10.3.0.0/16', action: 1, ttl: 15 }));

  const story = chapters.map((c, i) => {
    const last = (chapters[i + 1]?.first ?? t.packets.length + 1) - 1;
    const p = t.packets[c.first - 1]!;
    const at = (p.tsSec - T0 + p.tsNsec / 1e9).toFixed(3);
    return `| ${c.first === last ? c.first : `${c.first}-${last}`} | ${at} | ${c.text} |`;
  });
  return {
    ...pcapng(
      'mn-handover.pcapng',
      'The Mobile Node demo (`npm start`): registration, NAT check, resolution via MR/MS, pings with echo-nonce, RLOC-probe, handover A -> B with stale data, SMR and SMR-invoked request, re-registrations, an unanswered request ending in a negative Map-Reply. Keys: mn-handover.keys. The story is below.',
      [{ interfaces: [{ linkType: LINKTYPE_EN10MB, name: 'lab0' }], blocks: t.packets }],
    ),
    story,
  };
}

// ---- all of it -------------------------------------------------------------------------------

/**
 * One frame per kind of damage a decoder must explain rather than guess at: each is reported as
 * malformed with the byte offset, and everything before the damage is still decoded.
 */
function malformed(): FixtureFile {
  const t = new Trace('malformed');
  const reg = (records: Parameters<typeof mappingRecord>[0][], extra: Partial<MapRegister> = {}) => {
    const m = mapRegisterMessage({ nonce: t.nonce(), records: records.map(mappingRecord), keyId: 1, key: KEYS.siteA, wantMapNotify: true });
    return encodeControl({ ...m, ...extra });
  };
  const set = (b: Uint8Array, at: number, ...v: number[]) => {
    b.set(v, at);
    return b;
  };
  const rec1 = { eid: '10.1.0.0/24', locators: [own(A.xtrA)] };
  // 1. Record Count 3, one record present.
  t.at(0).control(A.xtrA, 4342, A.ms, 4342, set(reg([rec1]), 3, 3));
  // 2. Locator Count 5, two locators present.
  const two = encodeControl(mapReply({ nonce: t.nonce(), records: [record('10.2.0.0/16', [own(A.etrC), own(A.rtr2)])] }));
  t.at(1).control(A.etrC, 4342, A.xtrA, 61001, set(two, 12 + 4, 5));
  // 3. LCAF Length larger than its content (an Instance ID with 6 bytes to spare).
  const iid = encodeControl(mapRequest({ nonce: t.nonce(), eids: ['[223]10.1.0.0/16'], itrRlocs: [A.xtrA] }));
  const lcafAt = iid.findIndex((v, i) => v === 0x40 && iid[i + 1] === 0x03);
  t.at(2).control(A.xtrA, 61002, A.mr, 4342, concatBytes(set(iid.slice(), lcafAt + 7, iid[lcafAt + 7]! + 6), new Uint8Array(6)));
  // 4. LCAF Length smaller than its content (cuts the address inside).
  t.at(3).control(A.xtrA, 61003, A.mr, 4342, set(iid.slice(), lcafAt + 7, iid[lcafAt + 7]! - 3));
  // 5. Authentication Data Length 16 with Key ID 1 (HMAC-SHA-1: 12 or 20).
  const r5 = reg([rec1]);
  const short = concatBytes(set(r5.slice(0, 16), 14, 0, 16), r5.subarray(16, 32), r5.subarray(36));
  t.at(4).control(A.xtrA, 4342, A.ms, 4342, short);
  // 6. Unknown message type 11.
  t.at(5).control(A.xtrA, 4342, A.ms, 4342, Uint8Array.from([0xb0, 0, 0, 1, ...t.bytes(12)]));
  // 7. Unknown AFI (0x1234) as a record's EID: nothing after it can be located.
  const r7 = reg([rec1]);
  const eidAfiAt = 16 + 20 + 10;
  t.at(6).control(A.xtrA, 4342, A.ms, 4342, set(r7, eidAfiAt, 0x12, 0x34));
  // 8. ECM inside ECM inside ECM inside ECM inside ECM: beyond the nesting limit.
  let deep: ControlMessage | Uint8Array = mapRequest({ nonce: t.nonce(), eids: ['10.1.0.5/32'], itrRlocs: [A.xtrA] });
  for (let i = 0; i < 5; i++) deep = ecm({ inner: { src: A.xtrA, dst: '10.1.0.5', sport: 61004 }, message: deep });
  t.at(7).control(A.xtrA, 61004, A.mr, 4342, deep);
  // 9. A UDP datagram to 4342 with no payload at all.
  t.at(8).add(encodeIPv4({ src: A.xtrA, dst: A.ms, proto: IPPROTO_UDP, id: t.id() }, encodeUdp(4342, 4342, new Uint8Array(0))));
  // 10. UDP Length 0 (as segmentation offload leaves it): the IP payload bounds the datagram.
  const m10 = encodeControl(mapRequest({ nonce: t.nonce(), eids: ['10.1.0.5/32'], itrRlocs: [A.xtrA] }));
  t.at(9).add(encodeIPv4({ src: A.xtrA, dst: A.mr, proto: IPPROTO_UDP, id: t.id() }, encodeUdp(61005, 4342, m10, { length: 0 })));
  // 11. A Map-Request cut inside its second ITR-RLOC.
  const m11 = encodeControl(mapRequest({ nonce: t.nonce(), eids: ['10.1.0.5/32'], itrRlocs: [A.xtrA, '2001:db8:a::10'] }));
  t.at(10).control(A.xtrA, 61006, A.mr, 4342, m11.subarray(0, 12 + 2 + 6 + 10));
  return pcap(
    'malformed.pcap',
    'One frame per kind of damage: Record Count beyond the data, Locator Count beyond the data, LCAF Length too long and too short, auth length not fitting its key id, unknown type 11, unknown AFI, ECM nested 5 deep, empty UDP to 4342, UDP Length 0, a Map-Request cut in an ITR-RLOC.',
    t,
  );
}


/** Every fixture, in README order. */
export function makeFixtures(): FixtureFile[] {
  return [
    mnHandover(),
    mapRequests(),
    ecms(),
    mapReplies(),
    lispSec(),
    mapRegisters(),
    mapReferrals(),
    infos(),
    otherTypes(),
    malformed(),
    reliableTcp(),
    reliableRegistrations(),
    dataPlane(),
    natRtr(),
    icmpErrors(),
    pubSub(),
    vxlan(),
    lcafs(),
    ipOptions(),
    fragments(),
    snaplen(),
    truncatedFile(),
    ...linkTypes(),
    ...formats(),
  ];
}

function readme(files: FixtureFile[]): string {
  const lines = [
    '# pcaps/',
    '',
    'Captures for tests, demos and `lispscope read`. **Generated, do not edit**: `npm run fixtures`',
    '(scripts/make-fixtures.ts) rebuilds every file here with our own encoder (src/dissect/build.ts) and',
    'capture writer (src/capture/writer.ts), deterministically: nonces and filler bytes come from generators',
    'seeded by the file name, timestamps start at 2024-05-01 10:00:00 UTC, the gzip uses stored blocks.',
    'test/fixtures.test.ts regenerates them and fails if a byte differs, then decodes every file.',
    '',
    'Addresses are from the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,',
    '2001:db8::/32): Map-Server 203.0.113.1, Map-Resolver 203.0.113.2, RTR 203.0.113.3.',
    '',
    'Keys: `keys` holds every key the control fixtures use (`lispscope read --keys pcaps/keys FILE`);',
    'the Map-Register for 10.9.0.0/16 in control-map-register.pcap is signed with a different key and',
    'must fail. `mn-handover.keys` goes with the demo.',
    '',
    '| file | what |',
    '|---|---|',
    ...files.map((f) => `| \`${f.name}\` | ${f.about} |`),
    '| `keys` | Keys for the control fixtures (format `<eid-prefix\\|ms-address\\|*> <key>`). |',
    '| `mn-handover.keys` | Keys for mn-handover.pcapng. |',
  ];
  for (const f of files.filter((x) => x.story)) {
    lines.push(
      '',
      `## The story of ${f.name}`,
      '',
      'Mobile Node: EID 10.1.0.5/32, RLOC A 192.0.2.10, later RLOC B 198.51.100.20. Peer xTR: EID prefix',
      '10.2.0.0/24 with host 10.2.0.7, RLOC 203.0.113.50. Map-Server 203.0.113.1, Map-Resolver 203.0.113.2.',
      '',
      '| frames | seconds | what happens |',
      '|---|---|---|',
      ...f.story!,
    );
  }
  lines.push('');
  return lines.join('\n');
}

/** Writes every fixture, the key files and README.md into `dir`; returns the file names. */
export function writeFixtures(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = makeFixtures();
  const names: string[] = [];
  for (const f of files) {
    writeFileSync(join(dir, f.name), f.bytes);
    names.push(f.name);
  }
  writeFileSync(join(dir, 'keys'), KEYS_FILE);
  writeFileSync(join(dir, 'mn-handover.keys'), MN_KEYS_FILE);
  writeFileSync(join(dir, 'README.md'), readme(files));
  return [...names, 'keys', 'mn-handover.keys', 'README.md'];
}

/** The package root: the nearest directory above this file with a package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('make-fixtures: cannot find package.json above the script');
    dir = up;
  }
  return dir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dir = process.argv[2] ? resolve(process.argv[2]) : join(packageRoot(), 'pcaps');
  const names = writeFixtures(dir);
  console.log(`wrote ${names.length} files to ${dir}`);
}
