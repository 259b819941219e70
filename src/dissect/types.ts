// The decoded form of LISP messages. The same types are what the encoder takes, so
// decode(encode(x)) deep-equals x. Reserved fields appear only when non-zero (decoders omit zero
// ones), so that hand-built messages stay short and round trips stay exact. Names follow the RFCs.

import type { Note } from './cursor.js';
import type { TransportSummary } from './ip.js';

export type LispAddress =
  | { kind: 'none'; afi: 0 }
  | { kind: 'ipv4'; afi: 1; addr: string }
  | { kind: 'ipv6'; afi: 2; addr: string }
  /** AFI 6 (IEEE 802) or 16389 (48-bit MAC): both appear on the wire. */
  | { kind: 'mac'; afi: 6 | 16389; addr: string }
  /** AFI 17: NUL-terminated ASCII (kept as a latin1 string so every byte round-trips). */
  | { kind: 'dn'; afi: 17; name: string }
  | { kind: 'lcaf'; afi: 16387; lcaf: Lcaf }
  /** An AFI whose length cannot be known: `raw` is everything left of the enclosing structure. */
  | { kind: 'unknown'; afi: number; raw: Uint8Array };

export interface Lcaf {
  type: number;
  rsvd1: number;
  flags: number;
  /** Type-specific: IID mask-len (type 2), R/L/J (type 9), B (type 14); otherwise reserved. */
  rsvd2: number;
  body: LcafBody;
  /** Bytes inside the declared Length that the body did not use. */
  trailing?: Uint8Array;
}

/** A hop of an Explicit Locator Path (RFC 8060 §4.7). */
export interface ElpHop {
  /** The 13 reserved bits before L, when non-zero. */
  reserved?: number;
  /** L: look the hop's address up in the mapping system. */
  lookup: boolean;
  /** P: RLOC-probe the hop. */
  rlocProbe: boolean;
  /** S: strict (the path must go through this hop). */
  strict: boolean;
  address: LispAddress;
}

export interface RleEntry {
  /** 24 reserved bits before the level. */
  reserved?: number;
  level: number;
  address: LispAddress;
}

export type LcafBody =
  | { kind: 'null' }
  | { kind: 'afi-list'; addresses: LispAddress[] }
  | { kind: 'instance-id'; iid: number; address: LispAddress }
  | { kind: 'as-number'; asn: number; address: LispAddress }
  | {
      kind: 'application-data';
      /** IP TOS, IPv6 traffic class or flow label (24 bits). */
      tos: number;
      protocol: number;
      localPortLow: number;
      localPortHigh: number;
      remotePortLow: number;
      remotePortHigh: number;
      address: LispAddress;
    }
  | {
      kind: 'geo-coordinates';
      north: boolean;
      latDegrees: number;
      latMinutes: number;
      latSeconds: number;
      east: boolean;
      lonDegrees: number;
      lonMinutes: number;
      lonSeconds: number;
      /** Metres, signed; 0x7FFFFFFF means not present. */
      altitude: number;
      address: LispAddress;
    }
  | { kind: 'opaque-key'; keyFieldNum: number; keyWildcardFields: number; key: Uint8Array }
  | {
      kind: 'nat-traversal';
      msUdpPort: number;
      etrUdpPort: number;
      globalEtrRloc: LispAddress;
      msRloc: LispAddress;
      privateEtrRloc: LispAddress;
      rtrRlocs: LispAddress[];
    }
  | { kind: 'nonce-locator'; reserved?: number; nonce: number; address: LispAddress }
  | {
      kind: 'multicast-info';
      iid: number;
      reserved?: number;
      sourceMaskLen: number;
      groupMaskLen: number;
      source: LispAddress;
      group: LispAddress;
    }
  | { kind: 'elp'; hops: ElpHop[] }
  | {
      kind: 'security-key';
      keyCount: number;
      rsvd3?: number;
      /** Cipher suite (RFC 8061). */
      keyAlgorithm: number;
      rsvd4?: number;
      revoke: boolean;
      keys: Uint8Array[];
      address: LispAddress;
    }
  | {
      kind: 'source-dest';
      reserved?: number;
      sourceMaskLen: number;
      destMaskLen: number;
      source: LispAddress;
      dest: LispAddress;
    }
  | { kind: 'rle'; entries: RleEntry[] }
  /** JSON text bytes exactly as carried (B bit in rsvd2 says binary JSON). */
  | { kind: 'json'; json: Uint8Array; address: LispAddress }
  | { kind: 'key-value'; key: LispAddress; value: LispAddress }
  /** 32-bit word: reserved (26) | U G N v V l (l = 0x01 ... U = 0x20). */
  | { kind: 'encapsulation-format'; bits: number; address?: LispAddress }
  | { kind: 'vendor'; reserved?: number; oui: number; data: Uint8Array }
  /** Unassigned type, or a body that did not decode: kept byte for byte. */
  | { kind: 'raw'; bytes: Uint8Array };

export interface Locator {
  priority: number;
  weight: number;
  mpriority: number;
  mweight: number;
  /** L: the RLOC is the sender's own. */
  local: boolean;
  /** p: this is the probed locator of an RLOC-probe reply. */
  probed: boolean;
  /** R: reachable in the sender's view. */
  reachable: boolean;
  /** The 13 unused flag bits (0xFFF8 of the flags word), when non-zero. */
  unusedFlags?: number;
  rloc: LispAddress;
}

/** EID-record of Map-Reply, Map-Register, Map-Notify(-Ack) and the M=1 Map-Request (RFC 9301 §5.4). */
export interface MappingRecord {
  /** Minutes. */
  ttl: number;
  eidMaskLen: number;
  action: number;
  authoritative: boolean;
  /** 12 reserved bits after A. */
  reserved?: number;
  /** Rsvd: the 4 reserved bits before Map-Version. */
  reserved2?: number;
  mapVersion: number;
  eid: LispAddress;
  locators: Locator[];
  /** Locator Count as written, when fewer locators were there to decode (a cut or damaged record). */
  declaredLocatorCount?: number;
}

/**
 * Counts as the wire says them, kept only when they disagree with what was decoded (fewer
 * structures fitted): -V prints the wire's value, encoders write it back.
 */
interface DeclaredRecordCount {
  declaredRecordCount?: number;
}

export interface ReferralSignature {
  originalTtl: number;
  expiration: number;
  inception: number;
  keyTag: number;
  algorithm: number;
  reserved?: number;
  signature: Uint8Array;
}

/** Map-Referral record (RFC 8111 §6). */
export interface ReferralRecord {
  ttl: number;
  eidMaskLen: number;
  action: number;
  authoritative: boolean;
  incomplete: boolean;
  reserved?: number;
  mapVersion: number;
  eid: LispAddress;
  referrals: Locator[];
  signatures: ReferralSignature[];
  /** Referral Count / Sig Count as written, when fewer were there to decode. */
  declaredReferralCount?: number;
  declaredSignatureCount?: number;
}

export interface EidPrefix {
  reserved?: number;
  maskLen: number;
  prefix: LispAddress;
}

interface Common {
  /** Bytes after the message's last field. */
  trailing?: Uint8Array;
}

export interface MapRequest extends Common, DeclaredRecordCount {
  type: 1;
  authoritative: boolean;
  mapDataPresent: boolean;
  probe: boolean;
  smr: boolean;
  pitr: boolean;
  smrInvoked: boolean;
  /**
   * I (bit 11, RFC 9437 PubSub): an xTR-ID and site-ID follow the records; with it the Map-Request
   * asks the Map-Server for a subscription.
   */
  xtrIdPresent: boolean;
  /** Bits 10 and 12..16 (R, Rsvd), when non-zero. */
  reserved?: number;
  /** L: sent by an xTR of the same site. */
  localXtr: boolean;
  /** D: the receiver must not answer. */
  dontMapReply: boolean;
  nonce: bigint;
  sourceEid: LispAddress;
  itrRlocs: LispAddress[];
  eids: EidPrefix[];
  mapReply?: MappingRecord;
  /** ITR-RLOC Count + 1 as written, when fewer ITR-RLOCs were there to decode. */
  declaredItrRlocCount?: number;
  /** The subscriber's 128-bit xTR-ID and 64-bit site-ID (I=1). */
  xtrId?: Uint8Array;
  siteId?: Uint8Array;
}

export interface MapReply extends Common, DeclaredRecordCount {
  type: 2;
  probe: boolean;
  echoNonceCapable: boolean;
  security: boolean;
  /** Bits 7..23. */
  reserved?: number;
  nonce: bigint;
  records: MappingRecord[];
  /** S=1: the LISP-SEC Authentication Data after the records (EID-AD, PKT-AD; RFC 9303 §6.2). */
  lispSec?: LispSecAd;
}

/**
 * LISP-SEC One-Time Key Authentication Data (RFC 9303 §6.1), in ECMs only. From an ITR or a
 * Map-Resolver it carries the OTK; from the Map-Server to the ETR (ECM E bit) the MS-OTK derived
 * from it. OTK-AD Length is not kept: it is 12 + the OTK's length.
 */
export interface OtkAd {
  /** OTK Wrapping ID (IANA "LISP-SEC Authentication Data Key Wrap IDs"). */
  wrappingId: number;
  /** One-Time-Key Preamble, 8 bytes: the AES Key Wrap integrity block, zero when not wrapped. */
  preamble: Uint8Array;
  /** The One-Time Key as carried (wrapped or not, per the Wrapping ID). */
  otk: Uint8Array;
}

/**
 * LISP-SEC EID Authentication Data (RFC 9303 §6.1, §6.2). An ITR's request fills only the KDF ID
 * (EID-AD Length 4); the Map-Server adds the rest, which the ETR copies into its Map-Reply.
 * EID-AD Length and Record Count are not kept: they follow from the fields.
 */
export interface EidAd {
  /** KDF ID: how the MS-OTK is derived from the OTK. */
  kdfId: number;
  /** The 8 reserved bits after Record Count, when non-zero. */
  reserved?: number;
  /** EID HMAC ID; absent when the EID-AD ends after the KDF ID. */
  eidHmacId?: number;
  /** The EID-Prefixes the ETR is authoritative for (present with eidHmacId). */
  records?: EidPrefix[];
  /** EID HMAC, computed by the Map-Server with the OTK over the EID-AD (present with eidHmacId). */
  eidHmac?: Uint8Array;
}

/** LISP-SEC Packet Authentication Data of a Map-Reply (RFC 9303 §6.2): the ETR's HMAC with the MS-OTK. */
export interface PktAd {
  pktHmacId: number;
  pktHmac: Uint8Array;
}

/** LISP-SEC Authentication Data: after the ECM header (S=1) or after a Map-Reply's records (S=1). */
export interface LispSecAd {
  /** AD Type: 1 = LISP-SEC Authentication Data (the only assigned type). */
  adType: number;
  /** The 24 reserved bits after AD Type, when non-zero. */
  reserved?: number;
  /** ECM only. */
  otkAd?: OtkAd;
  eidAd?: EidAd;
  /** Map-Reply only. */
  pktAd?: PktAd;
  /** An unknown AD Type: everything after the AD Type word, as bytes (its length cannot be known). */
  data?: Uint8Array;
}

/**
 * The authentication block (RFC 9301 §5.6). RFC 6830 wrote a 16-bit Key ID whose value named the
 * algorithm; RFC 9301 splits it into Key ID and Algorithm ID, so old senders' "Key ID 1" reads as
 * Key ID 0, Algorithm ID 1 (see keyIdField for the 16-bit reading).
 */
export interface AuthFields {
  /** Key ID: which of the site's keys. */
  keyId: number;
  /** Algorithm ID: 1 HMAC-SHA-1-96, 2 HMAC-SHA-256-128 (registry AUTH_ALGORITHMS). */
  algorithmId: number;
  authData: Uint8Array;
  /** Authentication Data Length as written, when more than the bytes that were left. */
  declaredAuthDataLength?: number;
}

export interface MapRegister extends Common, AuthFields, DeclaredRecordCount {
  type: 3;
  proxyReply: boolean;
  security: boolean;
  xtrIdPresent: boolean;
  /** R (bit 7) of the NAT-traversal draft: built for an RTR (relayed by one). */
  builtForRtr: boolean;
  /** Bits 8..18. */
  reserved?: number;
  eidNotify: boolean;
  /** T: use the Record TTL as registration timeout. */
  ttlTimeout: boolean;
  /** a: merge request. */
  merge: boolean;
  /** Bit 22: reserved in RFC 9301, mobile-node "m" in lispers.net/OOR. */
  mobileNode: boolean;
  wantMapNotify: boolean;
  nonce: bigint;
  records: MappingRecord[];
  /** 128-bit xTR-ID (16 bytes). */
  xtrId?: Uint8Array;
  /** 64-bit site-ID (8 bytes). */
  siteId?: Uint8Array;
}

export interface MapNotify extends Common, AuthFields {
  /** 4 Map-Notify, 5 Map-Notify-Ack: same layout. */
  type: 4 | 5;
  xtrIdPresent: boolean;
  /** R (NAT-traversal draft): an MS-RTR authentication block follows. */
  msRtrAuthPresent: boolean;
  /** Bits 6..23. */
  reserved?: number;
  nonce: bigint;
  records: MappingRecord[];
  /** Record Count as written, when it disagrees with the records found (lispers.net writes 0 in acks). */
  declaredRecordCount?: number;
  xtrId?: Uint8Array;
  siteId?: Uint8Array;
  /** MS-RTR authentication (R=1). */
  msRtrAuth?: MsRtrAuth;
}

/**
 * The Map-Server's authentication towards an RTR (NAT-traversal draft): after a Map-Notify's
 * records when R=1, or after an ECM header with S=1 (Open Overlay Router). OOR puts a word with
 * AD Type 2 before the Key ID; Wireshark's reading of the Map-Notify has no such word.
 */
export interface MsRtrAuth extends AuthFields {
  /** AD Type (2, MS-RTR Authentication Data); absent in the layout without the AD word. */
  adType?: number;
  /** The 24 bits after the AD Type, when non-zero. */
  reserved?: number;
}

export interface MapReferral extends Common, DeclaredRecordCount {
  type: 6;
  reserved?: number;
  nonce: bigint;
  records: ReferralRecord[];
}

export interface InfoMessage extends Common, AuthFields {
  type: 7;
  /** R: 0 Info-Request, 1 Info-Reply. */
  reply: boolean;
  /** Bits 5..31. */
  reserved?: number;
  nonce: bigint;
  /** Minutes. */
  ttl: number;
  reserved2?: number;
  eidMaskLen: number;
  eid: LispAddress;
  /** AFI 0 in requests; the NAT-Traversal LCAF in replies. */
  address: LispAddress;
}

/** Inner IP and UDP headers of an ECM, and what they carry. */
export interface EcmInner {
  ipVersion: 4 | 6;
  src: string;
  dst: string;
  /** TTL / hop limit. */
  ttl: number;
  sport: number;
  dport: number;
  udpChecksum: number;
  /** The encapsulated message; absent when the inner packet was not LISP control. */
  message?: ControlMessage;
  /** UDP payload bytes when no LISP message was decoded from them. */
  payload?: Uint8Array;
}

export interface Ecm extends Common {
  type: 8;
  security: boolean;
  ddt: boolean;
  /** Bit 6: E to-ETR (RFC 9301) / R for-RTR (NAT draft). */
  toEtr: boolean;
  /** Bit 7: M to-MS (RFC 9301) / N relay-to-MS (NAT draft). */
  toMs: boolean;
  /** Bits 8..31, except the two Open Overlay Router uses (below). */
  reserved?: number;
  /** 0x00400000 (bit 9): OOR's "to be processed by an RTR" (its R bit), present when set. */
  rtrProcess?: boolean;
  /** 0x00200000 (bit 10): OOR's "relayed by an RTR to the Map-Server" (its N bit), present when set. */
  rtrRelayed?: boolean;
  /** S=1: LISP-SEC Authentication Data between the ECM header and the inner IP header (RFC 9303 §6.1). */
  lispSec?: LispSecAd;
  /** S=1 with AD Type 2: the Map-Server's authentication towards an RTR (OOR), instead of LISP-SEC. */
  msRtrAuth?: MsRtrAuth;
  /** The encapsulated IP/UDP packet; absent when its headers could not be decoded. */
  inner?: EcmInner;
  /** The bytes after the ECM header, when `inner` could not be decoded from them. */
  payload?: Uint8Array;
}

export interface SharedExtension extends Common {
  type: 15;
  subType: number;
  /** Everything after the first 16 bits. */
  data: Uint8Array;
}

export interface UnknownControl {
  type: number;
  unknown: true;
  /** The whole message. */
  data: Uint8Array;
}

export type ControlMessage =
  | MapRequest
  | MapReply
  | MapRegister
  | MapNotify
  | MapReferral
  | InfoMessage
  | Ecm
  | SharedExtension
  | UnknownControl;

/** LISP data-plane header (RFC 9300 §5.3) and a summary of what it carries. */
export interface DataHeader {
  /** First byte: N L E V I R(P) K K. */
  flags: number;
  /** Bytes 1..3 raw (nonce, map-versions, or reserved, per the flags; GPE uses byte 3 as next protocol). */
  word1: number;
  /** Bytes 4..7 raw (IID ‖ LSBs, or LSBs). */
  word2: number;
}

export interface InnerSummary extends TransportSummary {
  ipVersion: 4 | 6;
  src: string;
  dst: string;
  proto: number;
  /** Total length of the inner packet from its header. */
  len: number;
  ttl: number;
  /** Where the inner IP header starts and its length (options and IPv6 extension headers included), from the start of the LISP message. */
  ipOffset: number;
  ipHeaderLength: number;
  /** IPv4 Identification (the IPv6 Fragment header's, when there is one). */
  id: number;
  /**
   * Payload length as tcpdump prints "length": UDP and TCP payload bytes, the whole ICMP message,
   * the IP payload for other protocols (from the headers' lengths, not what was captured).
   */
  payloadLen?: number;
  fragment?: boolean;
  /** LISP carried inside (an inner UDP port 4342 or 4341): an RTR's Data-Map-Notify, data in data. */
  lisp?: NestedLisp;
}

/** A LISP message inside another packet: LISP in LISP data, or quoted by an ICMP error. */
export interface NestedLisp {
  kind: 'control' | 'data';
  control?: ControlMessage;
  data?: DataMessage;
  /** Where its first byte is, from the start of the enclosing message (LISP message or ICMP message). */
  offset: number;
  /** Its bytes present. */
  length: number;
  /** The ports were ambiguous and the bytes decided (see classify.ts). */
  byContent?: 'data' | 'control';
}

export interface DataMessage {
  type: 'data';
  header: DataHeader;
  inner?: InnerSummary;
  /** Bytes after the 8-byte header (the encapsulated packet). */
  payload: Uint8Array;
}

/** A VXLAN / VXLAN-GPO packet (UDP 4789): the data plane of LISP fabrics. See dissect/vxlan.ts. */
export interface VxlanMessage {
  type: 'vxlan';
  /** The first 16 bits: G, I, D, A and reserved bits (fields.ts VXLAN_FLAGS). */
  flags: number;
  /** The next 16 bits: the Group Policy ID when G is set, reserved otherwise. */
  groupPolicyId: number;
  /** VXLAN Network Identifier: the LISP Instance-ID of the fabric. */
  vni: number;
  reserved8: number;
  /** The inner Ethernet frame's header. */
  ethernet?: { dst: string; src: string; etherType?: number; vlanIds?: number[] };
  /** Its IP packet, when it carries one. */
  inner?: InnerSummary;
  /** Bytes after the 8-byte header (the Ethernet frame). */
  payload: Uint8Array;
}

/** The IP/UDP packet an ICMP error quotes, as far as it was quoted (RFC 792: header + 8 bytes; RFC 1812, RFC 4443: as much as fits). */
export interface QuotedPacket {
  ipVersion: 4 | 6;
  src: string;
  dst: string;
  proto: number;
  ttl: number;
  /** IPv4 Identification (0 for IPv6 without a Fragment header). */
  id: number;
  /** Length of the original datagram per its header. */
  totalLength: number;
  /** Bytes of it the error carries. */
  quotedLength: number;
  /** Where its IP header starts, from the start of the ICMP message. */
  offset: number;
  sport?: number;
  dport?: number;
  /** UDP Length of the original datagram. */
  udpLength?: number;
  /** The LISP message it carried, as far as quoted; absent when not even its first byte was quoted. */
  lisp?: NestedLisp;
  /** The quote ends before the original datagram did. */
  cut: boolean;
}

/** An ICMP (RFC 792) or ICMPv6 (RFC 4443) error message about a LISP packet. */
export interface IcmpError {
  /** 4: ICMP, 6: ICMPv6. */
  version: 4 | 6;
  type: number;
  code: number;
  /** Short name of type and code (`port-unreachable`, `ttl-exceeded`, `fragmentation-needed`, `packet-too-big`, ...). */
  name: string;
  checksum: number;
  /** Next-Hop MTU (ICMP fragmentation needed, RFC 1191) or MTU (ICMPv6 Packet Too Big). */
  mtu?: number;
  /** Parameter Problem pointer. */
  pointer?: number;
  /** Redirect: the gateway to use. */
  gateway?: string;
  /** RFC 4884 Length of the original datagram, in bytes, when the sender filled it in. */
  originalLength?: number;
  /** Length of the ICMP message (the IP payload per its header). */
  length: number;
  quoted: QuotedPacket;
}

export interface Decoded<T> {
  value: T;
  notes: Note[];
}
