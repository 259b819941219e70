// The LISP protocol registries, declared once. Decoders, encoders, printers and the JSON output all
// read these tables; adding a value touches only this file.

export const LISP_DATA_PORT = 4341;
export const LISP_CONTROL_PORT = 4342;
/** VXLAN (RFC 7348) and VXLAN-GPO, the data plane of LISP fabrics such as SD-Access. */
export const VXLAN_PORT = 4789;

/** The 128-bit xTR-ID and 64-bit site-ID (RFC 9301 §5.6) that end Map-Registers, Notifies and PubSub Map-Requests. */
export const XTR_ID_LENGTH = 16;
export const SITE_ID_LENGTH = 8;

/** Control message types (RFC 9301 §12.2, RFC 9304, NAT-traversal draft for 7). */
export const MessageType = {
  MapRequest: 1,
  MapReply: 2,
  MapRegister: 3,
  MapNotify: 4,
  MapNotifyAck: 5,
  MapReferral: 6,
  Info: 7,
  ECM: 8,
  SharedExtension: 15,
} as const;

interface TypeInfo {
  /** Contract name (`type` in JSON). */
  slug: string;
  /** Human name as the RFCs write it. */
  title: string;
  /** What tools and logs call it, where that is shorter than the title. */
  short?: string;
  /** It carries Key ID, Authentication Data and a verdict (Map-Register, Map-Notify and Map-Notify-Ack in RFC 9301, Info in the NAT-traversal draft). */
  authenticated?: true;
  /** It answers another message (a Map-Reply a Map-Request, a Map-Notify a Map-Register...): Info answers only with R set. */
  answer?: true;
}

export const MESSAGE_TYPES: ReadonlyMap<number, TypeInfo> = new Map([
  [1, { slug: 'map-request', title: 'Map-Request' }],
  [2, { slug: 'map-reply', title: 'Map-Reply', answer: true }],
  [3, { slug: 'map-register', title: 'Map-Register', authenticated: true }],
  [4, { slug: 'map-notify', title: 'Map-Notify', authenticated: true, answer: true }],
  [5, { slug: 'map-notify-ack', title: 'Map-Notify-Ack', authenticated: true, answer: true }],
  [6, { slug: 'map-referral', title: 'Map-Referral', answer: true }],
  [7, { slug: 'info', title: 'Info', authenticated: true }],
  [8, { slug: 'ecm', title: 'Encapsulated Control Message', short: 'ECM' }],
  [15, { slug: 'shared-extension', title: 'LISP Shared Extension Message' }],
]);

export function isKnownControlType(t: number): boolean {
  return MESSAGE_TYPES.has(t);
}

/** Whether messages of type `t` carry Key ID and Authentication Data. */
export function isAuthenticatedType(t: number): boolean {
  return MESSAGE_TYPES.get(t)?.authenticated === true;
}

/** Whether a message of type `t` answers another (Info: only an Info-Reply, which the caller knows by R). */
export function isAnswerType(t: number, reply = false): boolean {
  return MESSAGE_TYPES.get(t)?.answer === true || (t === MessageType.Info && reply);
}

/** The contract names (`type` in JSON) of the authenticated messages: Info counts as both of its names. */
export const AUTHENTICATED_TYPE_NAMES: ReadonlySet<string> = new Set(
  [...MESSAGE_TYPES].filter(([, i]) => i.authenticated).flatMap(([t, i]) => (t === MessageType.Info ? ['info-request', 'info-reply'] : [i.slug])),
);

/**
 * The JSON contract's `type` of a control message: Info splits into info-request/info-reply;
 * type 15 and unassigned types are `unknown`.
 */
export function controlTypeName(m: { type: number; reply?: boolean; unknown?: true }): string {
  if (m.unknown || m.type === MessageType.SharedExtension) return 'unknown';
  if (m.type === MessageType.Info) return m.reply ? 'info-reply' : 'info-request';
  return MESSAGE_TYPES.get(m.type)?.slug ?? 'unknown';
}

/** Address Family Numbers LISP uses (IANA, RFC 8060). */
export const Afi = {
  None: 0,
  IPv4: 1,
  IPv6: 2,
  Mac: 6,
  DistinguishedName: 17,
  Lcaf: 16387,
  Mac48: 16389,
} as const;

export const AFI_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'none'],
  [1, 'IPv4'],
  [2, 'IPv6'],
  [6, 'IEEE 802 MAC'],
  [17, 'Distinguished Name'],
  [16387, 'LCAF'],
  [16389, '48-bit MAC'],
]);

/** Fixed address lengths by AFI; AFIs absent here have a variable (17, LCAF) or unknown length. */
export const AFI_LENGTH: ReadonlyMap<number, number> = new Map([
  [0, 0],
  [1, 4],
  [2, 16],
  [6, 6],
  [16389, 6],
]);

/** Longest prefix length each plain AFI allows. */
export const AFI_MAX_MASK: ReadonlyMap<number, number> = new Map([
  [0, 0],
  [1, 32],
  [2, 128],
  [6, 48],
  [16389, 48],
]);

/** LCAF types (RFC 8060 §3, IANA; NAT-traversal 7; vendor 255 from RFC 9306). */
export const LcafType = {
  Null: 0,
  AfiList: 1,
  InstanceId: 2,
  AsNumber: 3,
  ApplicationData: 4,
  GeoCoordinates: 5,
  OpaqueKey: 6,
  NatTraversal: 7,
  NonceLocator: 8,
  MulticastInfo: 9,
  ExplicitLocatorPath: 10,
  SecurityKey: 11,
  SourceDest: 12,
  ReplicationList: 13,
  Json: 14,
  KeyValue: 15,
  EncapsulationFormat: 16,
  Vendor: 255,
} as const;

export const LCAF_TYPES: ReadonlyMap<number, TypeInfo> = new Map([
  [0, { slug: 'null', title: 'Null Body' }],
  [1, { slug: 'afi-list', title: 'AFI List' }],
  [2, { slug: 'instance-id', title: 'Instance ID' }],
  [3, { slug: 'as-number', title: 'AS Number' }],
  [4, { slug: 'application-data', title: 'Application Data' }],
  [5, { slug: 'geo-coordinates', title: 'Geo Coordinates' }],
  [6, { slug: 'opaque-key', title: 'Opaque Key' }],
  [7, { slug: 'nat-traversal', title: 'NAT-Traversal' }],
  [8, { slug: 'nonce-locator', title: 'Nonce Locator' }],
  [9, { slug: 'multicast-info', title: 'Multicast Info' }],
  [10, { slug: 'elp', title: 'Explicit Locator Path' }],
  [11, { slug: 'security-key', title: 'Security Key' }],
  [12, { slug: 'source-dest', title: 'Source/Dest Key' }],
  [13, { slug: 'rle', title: 'Replication List Entry' }],
  [14, { slug: 'json', title: 'JSON Data Model' }],
  [15, { slug: 'key-value', title: 'Key/Value Address Pair' }],
  [16, { slug: 'encapsulation-format', title: 'Encapsulation Format' }],
  [255, { slug: 'vendor', title: 'Vendor Specific' }],
]);

export function lcafSlug(type: number): string {
  return LCAF_TYPES.get(type)?.slug ?? `lcaf-${type}`;
}

/** Map-Reply actions (RFC 9301 §12.3). */
export const ACTIONS: ReadonlyMap<number, TypeInfo> = new Map([
  [0, { slug: 'no-action', title: 'No-Action' }],
  [1, { slug: 'native-forward', title: 'Natively-Forward' }],
  [2, { slug: 'send-map-request', title: 'Send-Map-Request' }],
  [3, { slug: 'drop', title: 'Drop/No-Reason' }],
  [4, { slug: 'drop-policy-denied', title: 'Drop/Policy-Denied' }],
  [5, { slug: 'drop-auth-failure', title: 'Drop/Auth-Failure' }],
]);

export function actionSlug(act: number): string {
  return ACTIONS.get(act)?.slug ?? `action-${act}`;
}

/** Map-Referral actions (RFC 8111 §6.1). */
export const REFERRAL_ACTIONS: ReadonlyMap<number, TypeInfo> = new Map([
  [0, { slug: 'node-referral', title: 'Node-Referral' }],
  [1, { slug: 'ms-referral', title: 'MS-Referral' }],
  [2, { slug: 'ms-ack', title: 'MS-ACK' }],
  [3, { slug: 'ms-not-registered', title: 'MS-Not-Registered' }],
  [4, { slug: 'delegation-hole', title: 'Delegation-Hole' }],
  [5, { slug: 'not-authoritative', title: 'Not-Authoritative' }],
]);

export function referralActionSlug(act: number): string {
  return REFERRAL_ACTIONS.get(act)?.slug ?? `referral-action-${act}`;
}

/**
 * Authentication algorithms. RFC 6830 wrote a 16-bit Key ID whose value named the algorithm;
 * RFC 9301 splits it into Key ID (8) and Algorithm ID (8). Old senders' "Key ID 1" reads as
 * algorithm 1 in the low byte either way, so the algorithm is always the low byte.
 */
export interface AuthAlgorithm {
  id: number;
  name: string;
  hash: 'sha1' | 'sha256' | undefined;
  /** Full HMAC output in bytes; implementations send the full MAC (20/32). */
  macLength: number;
  /** The RFC's truncated length (96 or 128 bits). */
  truncatedLength: number;
}

export const AUTH_ALGORITHMS: ReadonlyMap<number, AuthAlgorithm> = new Map([
  [0, { id: 0, name: 'none', hash: undefined, macLength: 0, truncatedLength: 0 }],
  [1, { id: 1, name: 'HMAC-SHA-1-96', hash: 'sha1', macLength: 20, truncatedLength: 12 }],
  [2, { id: 2, name: 'HMAC-SHA-256-128', hash: 'sha256', macLength: 32, truncatedLength: 16 }],
]);

/**
 * LISP-SEC registries (RFC 9303 §11; IANA "LISP ECM Authentication Data Types", "LISP Map-Reply
 * Authentication Data Types", "LISP-SEC Preferred Authentication Data HMAC IDs", "... Key Wrap IDs",
 * "... Key Derivation Function IDs"), names as the RFC writes them.
 */
export const LispSecAdType = { LispSec: 1 } as const;

/**
 * AD Type of the Map-Server's authentication towards an RTR, as Open Overlay Router sends it after
 * an ECM header with S=1 and before a Map-Notify's MS-RTR Key ID (its RTR_AUTH_DATA).
 */
export const MS_RTR_AD_TYPE = 2;

/** AD Types, the same value in ECMs and Map-Replies. */
export const LISP_SEC_AD_TYPES: ReadonlyMap<number, string> = new Map([[1, 'LISP-SEC Authentication Data']]);

export interface LispSecHmac {
  id: number;
  name: string;
  hash: 'sha1' | 'sha256' | undefined;
  /** HMAC bytes on the wire: the RFC's truncations (96 and 128 bits). */
  length: number;
}

export const LISP_SEC_HMAC_IDS: ReadonlyMap<number, LispSecHmac> = new Map([
  [0, { id: 0, name: 'NONE', hash: undefined, length: 0 }],
  [1, { id: 1, name: 'AUTH-HMAC-SHA-1-96', hash: 'sha1', length: 12 }],
  [2, { id: 2, name: 'AUTH-HMAC-SHA-256-128', hash: 'sha256', length: 16 }],
]);

export interface LispSecKeyWrap {
  id: number;
  name: string;
  /** The OTK is 128 bits; the AES Key Wrap's first 64 output bits go to the Preamble, the rest here. */
  otkLength: number;
  /** NULL-KEY-WRAP-128 sends the OTK in clear with a zero Preamble. */
  wrapped: boolean;
}

export const LISP_SEC_KEY_WRAP_IDS: ReadonlyMap<number, LispSecKeyWrap> = new Map([
  [1, { id: 1, name: 'NULL-KEY-WRAP-128', otkLength: 16, wrapped: false }],
  [2, { id: 2, name: 'AES-KEY-WRAP-128+HKDF-SHA256', otkLength: 16, wrapped: true }],
]);

export const LISP_SEC_KDF_IDS: ReadonlyMap<number, string> = new Map([
  [0, 'NONE'],
  [1, 'HKDF-SHA1-128'],
  [2, 'HKDF-SHA256-128'],
]);

/** LISP-GPE next protocols (RFC 9305 §3). */
export const GPE_NEXT_PROTOCOLS: ReadonlyMap<number, string> = new Map([
  [1, 'IPv4'],
  [2, 'IPv6'],
  [3, 'Ethernet'],
  [4, 'NSH'],
]);

/** Upper bounds that keep crafted packets from costing unbounded work. */
/** A record TTL of all ones: the mapping never expires (RFC 9301 §5.4, "Record TTL"). */
export const TTL_UNLIMITED = 0xffffffff;

/** A Geo-Coordinates Altitude of 0x7fffffff: no altitude given (RFC 8060 §4.3). */
export const GEO_NO_ALTITUDE = 0x7fffffff;

export const LIMITS = {
  /** LCAF inside LCAF. */
  lcafDepth: 8,
  /** ECM inside ECM (RFC 9301 allows nesting on MR→DDT→MS→ETR paths). */
  ecmDepth: 4,
  /** Distinguished names are NUL-terminated with no length field. */
  distinguishedName: 255,
  /** LISP inside LISP data inside ICMP quotes ...: packets within packets. */
  nesting: 4,
} as const;
