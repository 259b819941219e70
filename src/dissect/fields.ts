// The fields of every LISP header word, declared once (see field.ts): RFC 9301 §5 control
// messages, the NAT-traversal draft's and Open Overlay Router's bits, RFC 8111 referrals, RFC 9300
// §5.3 data header, RFC 8060 LCAF header. Decoders, encoders, the tree, the line, the JSON, crafting
// and the tshark comparison all read these tables.

import { decodeWord, word, type Struct, type Word } from './field.js';
import type {
  AuthFields,
  DataHeader,
  ElpHop,
  LcafBody,
  RleEntry,
  Ecm,
  EidAd,
  EidPrefix,
  InfoMessage,
  Lcaf,
  Locator,
  MapNotify,
  MapReferral,
  MapRegister,
  MapReply,
  MapRequest,
  MappingRecord,
  OtkAd,
  PktAd,
  ReferralRecord,
  SharedExtension,
  VxlanMessage,
} from './types.js';
import type { ErrorNotification, RegistrationRefresh, RegistrationReject, ReliableHeader } from './reliable.js';

const TYPE = { key: 'type', kind: 'number', mask: 0xf0000000, name: 'Type', tshark: 'lisp.type' } as const;
const RECORD_COUNT = { key: 'recordCount', kind: 'count', mask: 0x000000ff, name: 'Record Count', tshark: 'lisp.records' } as const;

/** Map-Request (RFC 9301 §5.2; I from RFC 9437 §5). */
export const MAP_REQUEST: Word<MapRequest> = word<MapRequest>({
  bits: 32,
  fields: [
    TYPE,
    { key: 'authoritative', kind: 'flag', mask: 0x08000000, letter: 'A', name: 'Authoritative', line: 'auth', json: 'authoritative', always: true, tshark: 'lisp.mreq.flags.auth', craft: { default: false } },
    { key: 'mapDataPresent', kind: 'flag', mask: 0x04000000, letter: 'M', name: 'Map-Data-Present', line: 'map-data', json: 'map_data_present', always: true, tshark: 'lisp.mreq.flags.mrp' },
    { key: 'probe', kind: 'flag', mask: 0x02000000, letter: 'P', name: 'Probe', line: 'probe', json: 'probe', always: true, tshark: 'lisp.mreq.flags.probe', craft: { default: false } },
    { key: 'smr', kind: 'flag', mask: 0x01000000, letter: 'S', name: 'Solicit-Map-Request', line: 'smr', json: 'smr', always: true, tshark: 'lisp.mreq.flags.smr', craft: { default: false } },
    { key: 'pitr', kind: 'flag', mask: 0x00800000, letter: 'p', name: 'PITR', line: 'pitr', json: 'pitr', always: true, tshark: 'lisp.mreq.flags.pitr', craft: { default: false } },
    { key: 'smrInvoked', kind: 'flag', mask: 0x00400000, letter: 's', name: 'SMR-invoked', line: 'smr-invoked', json: 'smr_invoked', always: true, tshark: 'lisp.mreq.flags.smri', craft: { default: false } },
    { key: 'xtrIdPresent', kind: 'flag', mask: 0x00100000, letter: 'I', name: 'xTR-ID present, PubSub', line: 'xtr-id', json: 'xtr_id_present' },
    // Bits 10 and 12..16 (R, Rsvd), around I.
    { key: 'reserved', kind: 'reserved', mask: 0x002f8000, name: 'Reserved bits' },
    { key: 'localXtr', kind: 'flag', mask: 0x00004000, letter: 'L', name: 'Local xTR', line: 'local-xtr', json: 'local_xtr', craft: { default: false } },
    { key: 'dontMapReply', kind: 'flag', mask: 0x00002000, letter: 'D', name: 'Dont-Map-Reply', line: 'dont-reply', json: 'dont_map_reply', craft: { default: false } },
    { key: 'itrRlocCount', kind: 'count', mask: 0x00001f00, name: 'ITR-RLOC Count', tshark: 'lisp.irc' },
    RECORD_COUNT,
  ],
  lineOrder: ['authoritative', 'mapDataPresent', 'probe', 'smr', 'pitr', 'smrInvoked', 'localXtr', 'dontMapReply', 'xtrIdPresent'],
  jsonOrder: ['probe', 'smr', 'smrInvoked', 'authoritative', 'mapDataPresent', 'pitr', 'localXtr', 'dontMapReply', 'xtrIdPresent'],
  tsharkViews: [{ name: 'lisp.mreq.res', mask: 0x003fe000 }],
});

/** Map-Reply (RFC 9301 §5.4). */
export const MAP_REPLY: Word<MapReply> = word<MapReply>({
  bits: 32,
  fields: [
    TYPE,
    { key: 'probe', kind: 'flag', mask: 0x08000000, letter: 'P', name: 'Probe', json: 'probe', always: true, tshark: 'lisp.mrep.flags.probe', craft: { default: false } },
    { key: 'echoNonceCapable', kind: 'flag', mask: 0x04000000, letter: 'E', name: 'Echo-Nonce capable', line: 'echo-nonce', json: 'echo_nonce', always: true, tshark: 'lisp.mrep.flags.enlr', craft: { default: false } },
    { key: 'security', kind: 'flag', mask: 0x02000000, letter: 'S', name: 'Security', line: 'sec', json: 'security', always: true, tshark: 'lisp.mrep.flags.sec', craft: { default: false } },
    { key: 'reserved', kind: 'reserved', mask: 0x01ffff00, name: 'Reserved', tshark: 'lisp.mrep.res' },
    RECORD_COUNT,
  ],
});

/** Map-Register (RFC 9301 §5.6; R from the NAT-traversal draft; m as lispers.net and OOR set it). */
export const MAP_REGISTER: Word<MapRegister> = word<MapRegister>({
  bits: 32,
  fields: [
    TYPE,
    { key: 'proxyReply', kind: 'flag', mask: 0x08000000, letter: 'P', name: 'Proxy Map-Reply', line: 'proxy-reply', json: 'proxy_reply', always: true, tshark: 'lisp.mreg.flags.pmr', craft: { default: false } },
    { key: 'security', kind: 'flag', mask: 0x04000000, letter: 'S', name: 'LISP-SEC capable', line: 'sec', json: 'security', tshark: 'lisp.mreg.flags.sec', craft: { default: false } },
    { key: 'xtrIdPresent', kind: 'flag', mask: 0x02000000, letter: 'I', name: 'xTR-ID present', line: 'xtr-id', json: 'xtr_id_present', always: true, tshark: 'lisp.mreg.flags.xtrid' },
    { key: 'builtForRtr', kind: 'flag', mask: 0x01000000, letter: 'R', name: 'built for an RTR', line: 'rtr', json: 'rtr', tshark: 'lisp.mreg.flags.rtr', craft: { default: false } },
    { key: 'reserved', kind: 'reserved', mask: 0x00ffe000, name: 'Reserved' },
    { key: 'eidNotify', kind: 'flag', mask: 0x00001000, letter: 'E', name: 'EID-notify', line: 'eid-notify', json: 'eid_notify', craft: { default: false } },
    { key: 'ttlTimeout', kind: 'flag', mask: 0x00000800, letter: 'T', name: 'use TTL for timeout', line: 'ttl-timeout', json: 'ttl_timeout', craft: { default: false } },
    { key: 'merge', kind: 'flag', mask: 0x00000400, letter: 'a', name: 'merge', line: 'merge', json: 'merge', always: true, craft: { default: false } },
    { key: 'mobileNode', kind: 'flag', mask: 0x00000200, letter: 'm', name: 'mobile node', line: 'mobile', json: 'mobile_node', craft: { default: false } },
    { key: 'wantMapNotify', kind: 'flag', mask: 0x00000100, letter: 'M', name: 'want Map-Notify', line: 'want-map-notify', json: 'want_map_notify', always: true, tshark: 'lisp.mreg.flags.wmn', craft: { default: false } },
    RECORD_COUNT,
  ],
  jsonOrder: ['proxyReply', 'wantMapNotify', 'merge', 'xtrIdPresent', 'security', 'builtForRtr', 'ttlTimeout', 'eidNotify', 'mobileNode'],
  tsharkViews: [{ name: 'lisp.mreg.res', mask: 0x00fffe00 }],
});

/** Map-Notify and Map-Notify-Ack (RFC 9301 §5.7; I and R from the NAT-traversal draft). */
export const MAP_NOTIFY: Word<MapNotify> = word<MapNotify>({
  bits: 32,
  fields: [
    TYPE,
    { key: 'xtrIdPresent', kind: 'flag', mask: 0x08000000, letter: 'I', name: 'xTR-ID present', line: 'xtr-id', json: 'xtr_id_present', tshark: 'lisp.mnot.flags.xtrid' },
    { key: 'msRtrAuthPresent', kind: 'flag', mask: 0x04000000, letter: 'R', name: 'MS-RTR authentication', line: 'rtr', json: 'rtr', tshark: 'lisp.mnot.flags.rtr' },
    { key: 'reserved', kind: 'reserved', mask: 0x03ffff00, name: 'Reserved', tshark: 'lisp.mnot.res' },
    RECORD_COUNT,
  ],
});

/** Map-Referral (RFC 8111 §6). */
export const MAP_REFERRAL: Word<MapReferral> = word<MapReferral>({
  bits: 32,
  fields: [TYPE, { key: 'reserved', kind: 'reserved', mask: 0x0fffff00, name: 'Reserved', tshark: 'lisp.mref.res' }, RECORD_COUNT],
});

/** Info-Request and Info-Reply (NAT-traversal draft). */
export const INFO: Word<InfoMessage> = word<InfoMessage>({
  bits: 32,
  fields: [
    TYPE,
    { key: 'reply', kind: 'flag', mask: 0x08000000, letter: 'R', name: 'Info-Reply', json: 'reply', always: true, tshark: 'lisp.info.r' },
    { key: 'reserved', kind: 'reserved', mask: 0x07ffffff, name: 'Reserved', tshark: 'lisp.info.res1' },
  ],
});

/** The authentication block's first word (RFC 9301 §5.6; RFC 6830 read one 16-bit Key ID). */
export const AUTH: Struct<AuthFields> = [
  word<AuthFields>({
    bits: 32,
    fields: [
      { key: 'keyId', kind: 'number', mask: 0xff000000, name: 'Key ID' },
      { key: 'algorithmId', kind: 'number', mask: 0x00ff0000, name: 'Algorithm ID' },
      { key: 'authDataLength', kind: 'count', mask: 0x0000ffff, name: 'Authentication Data Length', tshark: 'lisp.authlen' },
    ],
    tsharkViews: [{ name: 'lisp.keyid', mask: 0xffff0000 }],
  }),
];

/** What follows an Info message's authentication data, before its EID. */
export const INFO_BODY: Struct<InfoMessage> = [
  word<InfoMessage>({ bits: 32, fields: [{ key: 'ttl', kind: 'number', mask: 0xffffffff, name: 'TTL', json: 'ttl', always: true, tshark: 'lisp.info.ttl' }] }),
  word<InfoMessage>({
    bits: 16,
    fields: [
      { key: 'reserved2', kind: 'reserved', mask: 0xff00, name: 'Reserved', tshark: 'lisp.info.res2' },
      { key: 'eidMaskLen', kind: 'number', mask: 0x00ff, name: 'EID Mask Length', tshark: 'lisp.info.prefix.masklen' },
    ],
  }),
];

/**
 * Encapsulated Control Message (RFC 9301 §5.8). Bits 6 and 7 are E and M in RFC 9301, R and N in
 * the NAT-traversal draft; Open Overlay Router uses bits 9 and 10 for its own R and N.
 */
export const ECM_HEADER: Word<Ecm> = word<Ecm>({
  bits: 32,
  fields: [
    TYPE,
    { key: 'security', kind: 'flag', mask: 0x08000000, letter: 'S', name: 'LISP-SEC / authentication data', line: 'sec', json: 'security', always: true, tshark: 'lisp.ecm.flags.sec', craft: { default: false } },
    { key: 'ddt', kind: 'flag', mask: 0x04000000, letter: 'D', name: 'DDT-originated', line: 'ddt', json: 'ddt', always: true, tshark: 'lisp.ecm.flags.ddt', craft: { default: false } },
    { key: 'toEtr', kind: 'flag', mask: 0x02000000, letter: 'E/R', name: 'to ETR / for RTR', line: 'to-etr/rtr', json: 'to_etr', always: true, craft: { default: false } },
    { key: 'toMs', kind: 'flag', mask: 0x01000000, letter: 'M/N', name: 'to MS / RTR relays to MS', line: 'to-ms/relay', json: 'to_ms', always: true, craft: { default: false } },
    { key: 'rtrProcess', kind: 'option', mask: 0x00400000, letter: 'R', name: 'OOR: for an RTR, bit 9', line: 'rtr' },
    { key: 'rtrRelayed', kind: 'option', mask: 0x00200000, letter: 'N', name: 'OOR: relayed by an RTR, bit 10', line: 'relayed', json: 'rtr_relayed' },
    { key: 'reserved', kind: 'reserved', mask: 0x009fffff, name: 'Reserved' },
  ],
  tsharkViews: [{ name: 'lisp.ecm.res', mask: 0x03ffffff }],
});

/** LISP Shared Extension Message (RFC 9304 §3): its first 16 bits. */
export const SHARED_EXTENSION: Word<SharedExtension> = word<SharedExtension>({
  bits: 16,
  fields: [
    { key: 'type', kind: 'number', mask: 0xf000, name: 'Type', tshark: 'lisp.type' },
    { key: 'subType', kind: 'number', mask: 0x0fff, name: 'Sub-type' },
  ],
});

const TTL = { key: 'ttl', kind: 'number', mask: 0xffffffff, name: 'Record TTL', json: 'ttl', always: true, tshark: 'lisp.mapping.ttl', craft: { default: 1440 } } as const;
const EID_MASK_LEN = { key: 'eidMaskLen', kind: 'number', mask: 0x00ff0000, name: 'EID Mask Length', tshark: 'lisp.mapping.eid.masklen' } as const;
const ACTION = { key: 'action', kind: 'number', mask: 0xe000, name: 'Action', tshark: 'lisp.mapping.act' } as const;
const AUTHORITATIVE = { key: 'authoritative', kind: 'flag', mask: 0x1000, letter: 'A', name: 'Authoritative', json: 'authoritative', always: true, tshark: 'lisp.mapping.auth', craft: { default: true } } as const;
const MAP_VERSION = { key: 'mapVersion', kind: 'number', mask: 0x0fff, name: 'Map-Version Number', json: 'map_version', always: true, tshark: 'lisp.mapping.ver', craft: { default: 0 } } as const;

/** The 12 bytes before a mapping record's EID (RFC 9301 §5.4). */
export const MAPPING_RECORD: Struct<MappingRecord> = [
  word<MappingRecord>({ bits: 32, fields: [TTL] }),
  word<MappingRecord>({
    bits: 32,
    fields: [
      { key: 'locatorCount', kind: 'count', mask: 0xff000000, name: 'Locator Count', tshark: 'lisp.mapping.loccnt' },
      EID_MASK_LEN,
      ACTION,
      AUTHORITATIVE,
      { key: 'reserved', kind: 'reserved', mask: 0x0fff, name: 'Reserved' },
    ],
    tsharkViews: [{ name: 'lisp.mapping.res1', mask: 0x07ff }],
  }),
  word<MappingRecord>({ bits: 16, fields: [{ key: 'reserved2', kind: 'reserved', mask: 0xf000, name: 'Rsvd', tshark: 'lisp.mapping.res2' }, MAP_VERSION] }),
];

/** The 10 bytes before a referral record's EID (RFC 8111 §6). */
export const REFERRAL_RECORD: Struct<ReferralRecord> = [
  word<ReferralRecord>({ bits: 32, fields: [TTL] }),
  word<ReferralRecord>({
    bits: 32,
    fields: [
      { key: 'referralCount', kind: 'count', mask: 0xff000000, name: 'Referral Count', tshark: 'lisp.mapping.loccnt' },
      EID_MASK_LEN,
      ACTION,
      AUTHORITATIVE,
      { key: 'incomplete', kind: 'flag', mask: 0x0800, letter: 'I', name: 'Incomplete', json: 'incomplete', always: true, tshark: 'lisp.referral.incomplete' },
      { key: 'reserved', kind: 'reserved', mask: 0x07ff, name: 'Reserved' },
    ],
  }),
  word<ReferralRecord>({
    bits: 16,
    fields: [{ key: 'signatureCount', kind: 'count', mask: 0xf000, name: 'Signature Count', tshark: 'lisp.referral.sigcnt' }, MAP_VERSION],
  }),
];

/** The 6 bytes before a locator's RLOC (RFC 9301 §5.4); referrals have the same. */
export const LOCATOR: Struct<Locator> = [
  word<Locator>({
    bits: 32,
    fields: [
      { key: 'priority', kind: 'number', mask: 0xff000000, name: 'Priority', json: 'priority', always: true, tshark: 'lisp.loc.priority', craft: { default: 1 } },
      { key: 'weight', kind: 'number', mask: 0x00ff0000, name: 'Weight', json: 'weight', always: true, tshark: 'lisp.loc.weight', craft: { default: 100 } },
      { key: 'mpriority', kind: 'number', mask: 0x0000ff00, name: 'Multicast Priority', json: 'mpriority', always: true, tshark: 'lisp.loc.multicast_priority', craft: { default: 255 } },
      { key: 'mweight', kind: 'number', mask: 0x000000ff, name: 'Multicast Weight', json: 'mweight', always: true, tshark: 'lisp.loc.multicast_weight', craft: { default: 0 } },
    ],
  }),
  word<Locator>({
    bits: 16,
    fields: [
      { key: 'unusedFlags', kind: 'reserved', mask: 0xfff8, name: 'Unused Flags', tshark: 'lisp.loc.flags.res' },
      { key: 'local', kind: 'flag', mask: 0x0004, letter: 'L', name: 'Local', json: 'local', always: true, tshark: 'lisp.loc.flags.local', craft: { default: false } },
      { key: 'probed', kind: 'flag', mask: 0x0002, letter: 'p', name: 'Probed', json: 'probed', always: true, tshark: 'lisp.loc.flags.probe', craft: { default: false } },
      { key: 'reachable', kind: 'flag', mask: 0x0001, letter: 'R', name: 'Reachable', json: 'reachable', always: true, tshark: 'lisp.loc.flags.reach', craft: { default: true } },
    ],
    tsharkViews: [{ name: 'lisp.loc.flags', mask: 0xffff }],
  }),
];

/** A Map-Request's EID record before its EID (RFC 9301 §5.2). */
export const EID_RECORD: Struct<EidPrefix> = [
  word<EidPrefix>({
    bits: 16,
    fields: [
      { key: 'reserved', kind: 'reserved', mask: 0xff00, name: 'Reserved', tshark: 'lisp.mreq.record.res' },
      { key: 'maskLen', kind: 'number', mask: 0x00ff, name: 'EID Mask Length', tshark: 'lisp.mreq.record.prefix.length' },
    ],
  }),
];

/** The LCAF header after its AFI (RFC 8060 §3). */
export const LCAF_HEADER: Struct<Lcaf> = [
  word<Lcaf>({
    bits: 32,
    fields: [
      { key: 'rsvd1', kind: 'number', hex: true, mask: 0xff000000, name: 'Reserved', tshark: 'lisp.lcaf.res1' },
      { key: 'flags', kind: 'number', hex: true, mask: 0x00ff0000, name: 'Flags', tshark: 'lisp.lcaf.flags' },
      { key: 'type', kind: 'number', mask: 0x0000ff00, name: 'LCAF Type', tshark: 'lisp.lcaf.type' },
      { key: 'rsvd2', kind: 'number', hex: true, mask: 0x000000ff, name: 'Reserved', tshark: 'lisp.lcaf.res2' },
    ],
  }),
  word<Lcaf>({ bits: 16, fields: [{ key: 'length', kind: 'count', mask: 0xffff, name: 'Length', tshark: 'lisp.lcaf.length' }] }),
];

/** The data header's flags byte (RFC 9300 §5.3; P from LISP-GPE, RFC 9305 §3; K from RFC 8061). */
export interface DataFlagBits {
  noncePresent: boolean;
  lsbEnabled: boolean;
  echoNonceRequest: boolean;
  mapVersionPresent: boolean;
  instanceIdPresent: boolean;
  nextProtocolPresent: boolean;
  keyId: number;
}

/** `json: 'flags'`: the letter is one of the JSON contract's `flags` string. */
export const DATA_FLAGS: Word<DataFlagBits> = word<DataFlagBits>({
  bits: 8,
  fields: [
    { key: 'noncePresent', kind: 'flag', json: 'flags', mask: 0x80, letter: 'N', name: 'nonce present', tshark: 'lisp-data.flags.nonce' },
    { key: 'lsbEnabled', kind: 'flag', json: 'flags', mask: 0x40, letter: 'L', name: 'Locator-Status-Bits', tshark: 'lisp-data.flags.lsb' },
    { key: 'echoNonceRequest', kind: 'flag', json: 'flags', mask: 0x20, letter: 'E', name: 'echo-nonce request', tshark: 'lisp-data.flags.enr' },
    { key: 'mapVersionPresent', kind: 'flag', json: 'flags', mask: 0x10, letter: 'V', name: 'map-version present', tshark: 'lisp-data.flags.mv' },
    { key: 'instanceIdPresent', kind: 'flag', json: 'flags', mask: 0x08, letter: 'I', name: 'Instance ID present', tshark: 'lisp-data.flags.iid' },
    { key: 'nextProtocolPresent', kind: 'flag', mask: 0x04, letter: 'P', name: 'LISP-GPE next protocol' },
    { key: 'keyId', kind: 'number', mask: 0x03, letter: 'K', name: 'key id' },
  ],
});

/**
 * The data header after its flags (RFC 9300 §5.3, map-versions RFC 9302, LISP-GPE RFC 9305 §3):
 * three bytes of Nonce (16 bits and the Next Protocol with P) or of Map-Versions, then four of
 * Instance ID and Locator-Status-Bits, or of Locator-Status-Bits alone. Which layout a packet uses
 * its flags say (dissect/data.ts's dataHeaderFields).
 */
export interface DataWordFields {
  nonce: number;
  srcMapVersion: number;
  dstMapVersion: number;
  gpeNextProtocol: number;
  iid: number;
  lsb: number;
}

const NONCE_FIELD = { key: 'nonce', kind: 'number', name: 'Nonce', hex: true, line: 'nonce', json: 'nonce', tshark: 'lisp-data.nonce' } as const;
const LSB_FIELD = { key: 'lsb', kind: 'number', name: 'Locator-Status-Bits', hex: true, line: 'lsb', json: 'lsb' } as const;

export const DATA_WORDS = {
  /** With N. */
  nonce: word<DataWordFields>({ bits: 24, fields: [{ ...NONCE_FIELD, mask: 0xffffff }] }),
  /** With N and P: tshark 4.0 knows no GPE and reads 24 bits of nonce. */
  gpeNonce: word<DataWordFields>({
    bits: 24,
    fields: [
      { ...NONCE_FIELD, mask: 0xffff00, tshark: undefined },
      { key: 'gpeNextProtocol', kind: 'number', mask: 0x0000ff, name: 'Next Protocol', line: 'gpe next-protocol', json: 'next_protocol' },
    ],
  }),
  /** With V (and not N). */
  mapVersion: word<DataWordFields>({
    bits: 24,
    fields: [
      { key: 'srcMapVersion', kind: 'number', mask: 0xfff000, name: 'Source Map-Version', line: 'map-version', json: 'source', tshark: 'lisp-data.srcmapver' },
      { key: 'dstMapVersion', kind: 'number', mask: 0x000fff, name: 'Dest Map-Version', json: 'dest', tshark: 'lisp-data.dstmapver' },
    ],
  }),
  /** With I. */
  iidLsb: word<DataWordFields>({
    bits: 32,
    fields: [
      { key: 'iid', kind: 'number', mask: 0xffffff00, name: 'Instance ID', line: 'iid', json: 'iid', tshark: 'lisp-data.iid' },
      { ...LSB_FIELD, mask: 0x000000ff, tshark: 'lisp-data.lsb8' },
    ],
  }),
  /** Without I. */
  lsb: word<DataWordFields>({ bits: 32, fields: [{ ...LSB_FIELD, mask: 0xffffffff, tshark: 'lisp-data.lsb' }] }),
} as const;

/** The data header's flags as fields. */
export function dataFlagBits(h: DataHeader): DataFlagBits {
  return decodeWord(DATA_FLAGS, h.flags, {} as DataFlagBits);
}

// ---- LISP-SEC (RFC 9303 §6.1, §6.2) ------------------------------------------------------------------
// The fixed words of the Authentication Data; the OTK, EID records and HMACs that follow are
// lispsec.ts's. Each Length counts its whole part, itself included. tshark 4.0 has no LISP-SEC fields.

/** The word that starts Authentication Data: LISP-SEC's, and Open Overlay Router's MS-RTR AD. */
export interface AdHeader {
  adType?: number;
  reserved?: number;
}

/** AD Type and the Reserved bits after it (LISP-SEC's AD Types; MS_RTR_AD_TYPE is OOR's). */
export const AD_HEADER: Struct<AdHeader> = [
  word<AdHeader>({
    bits: 32,
    fields: [
      { key: 'adType', kind: 'number', mask: 0xff000000, name: 'AD Type', json: 'ad_type', always: true },
      { key: 'reserved', kind: 'reserved', mask: 0x00ffffff, name: 'Reserved', json: 'reserved' },
    ],
  }),
];

/** An AD part's first word: its Length (16) and an algorithm's ID (16). */
const lengthAndId = <T>(part: string, key: Extract<keyof T, string>, name: string, json: string): Struct<T> => [
  word<T>({
    bits: 32,
    fields: [
      { key: part.toLowerCase().replace('-ad', 'AdLength'), kind: 'count', mask: 0xffff0000, name: `${part} Length` },
      { key, kind: 'number', mask: 0x0000ffff, name, json, always: true },
    ],
  }),
];

/** OTK-AD (ECM only): before the 8-byte One-Time-Key Preamble and the OTK. */
export const OTK_AD: Struct<OtkAd> = lengthAndId<OtkAd>('OTK-AD', 'wrappingId', 'OTK Wrapping ID', 'wrapping_id');

/** EID-AD's first word: all of an ITR's EID-AD (Length 4). */
export const EID_AD: Struct<EidAd> = lengthAndId<EidAd>('EID-AD', 'kdfId', 'KDF ID', 'kdf_id');

/** EID-AD's second word, from the Map-Server: before the EID records and the EID HMAC. */
export const EID_AD_HMAC: Struct<EidAd> = [
  word<EidAd>({
    bits: 32,
    fields: [
      { key: 'recordCount', kind: 'count', mask: 0xff000000, name: 'Record Count' },
      { key: 'reserved', kind: 'reserved', mask: 0x00ff0000, name: 'Reserved' },
      { key: 'eidHmacId', kind: 'number', mask: 0x0000ffff, name: 'EID HMAC ID', json: 'eid_hmac_id', always: true },
    ],
  }),
];

/** PKT-AD (Map-Reply only): before the PKT HMAC. */
export const PKT_AD: Struct<PktAd> = lengthAndId<PktAd>('PKT-AD', 'pktHmacId', 'PKT HMAC ID', 'pkt_hmac_id');

// ---- VXLAN (RFC 7348 §5; G, D, A from the Group Policy extension, draft-smith-vxlan-group-policy) ----

/** VXLAN's flags word as fields. Every set flag's letter is in the JSON `flags` string (G I D A). */
export interface VxlanFlagBits {
  groupPolicy: boolean;
  vniValid: boolean;
  dontLearn: boolean;
  policyApplied: boolean;
  reserved?: number;
}

export const VXLAN_FLAGS: Word<VxlanFlagBits> = word<VxlanFlagBits>({
  bits: 16,
  fields: [
    { key: 'groupPolicy', kind: 'flag', mask: 0x8000, letter: 'G', name: 'Group Based Policy extension', tshark: 'vxlan.flag_g' },
    // R bits around I, D and A (tshark's one field for them).
    { key: 'reserved', kind: 'reserved', mask: 0x77b7, name: 'Reserved (R)', tshark: 'vxlan.flags_reserved' },
    { key: 'vniValid', kind: 'flag', mask: 0x0800, letter: 'I', name: 'VNI valid', tshark: 'vxlan.flag_i' },
    { key: 'dontLearn', kind: 'flag', mask: 0x0040, letter: 'D', name: "Don't Learn", line: 'dont-learn', json: 'dont_learn', always: true, tshark: 'vxlan.flag_d' },
    { key: 'policyApplied', kind: 'flag', mask: 0x0008, letter: 'A', name: 'Policy Applied', line: 'policy-applied', json: 'policy_applied', always: true, tshark: 'vxlan.flag_a' },
  ],
});

/** The 8-byte VXLAN header: the flags word (VXLAN_FLAGS), Group Policy ID (reserved without G), VNI, Reserved. */
export const VXLAN_HEADER: Struct<VxlanMessage> = [
  word<VxlanMessage>({ bits: 16, fields: [{ key: 'flags', kind: 'number', hex: true, mask: 0xffff, name: 'Flags', tshark: 'vxlan.flags' }] }),
  // tshark reads the Group Policy ID whether G is set or not.
  word<VxlanMessage>({ bits: 16, fields: [{ key: 'groupPolicyId', kind: 'number', mask: 0xffff, name: 'Group Policy ID', line: 'gpid', json: 'group_policy_id', tshark: 'vxlan.gbp' }] }),
  word<VxlanMessage>({
    bits: 32,
    fields: [
      { key: 'vni', kind: 'number', mask: 0xffffff00, name: 'VXLAN Network Identifier (VNI)', line: 'vni', json: 'vni', always: true, tshark: 'vxlan.vni' },
      { key: 'reserved8', kind: 'number', hex: true, mask: 0x000000ff, name: 'Reserved', tshark: 'vxlan.reserved8' },
    ],
  }),
];

// ---- LCAF bodies (RFC 8060 §4; NAT-Traversal from the NAT-traversal draft; vendor RFC 9306) --------
// The fixed words at the start of each body; the addresses that follow are decoded by lcaf.ts.

type Body<K extends LcafBody['kind']> = Extract<LcafBody, { kind: K }>;

const u32 = <T>(key: Extract<keyof T, string>, name: string, json?: string, tshark?: string): Word<T> =>
  word<T>({ bits: 32, fields: [{ key, kind: 'number', mask: 0xffffffff, name, ...(json ? { json, always: true } : {}), ...(tshark ? { tshark } : {}) }] });

export const LCAF_INSTANCE_ID: Struct<Body<'instance-id'>> = [u32('iid', 'Instance ID', 'iid', 'lisp.lcaf.iid')];

export const LCAF_AS_NUMBER: Struct<Body<'as-number'>> = [u32('asn', 'AS Number', 'asn', 'lisp.lcaf.asn')];

export const LCAF_APPLICATION_DATA: Struct<Body<'application-data'>> = [
  word<Body<'application-data'>>({
    bits: 32,
    fields: [
      { key: 'tos', kind: 'number', hex: true, mask: 0xffffff00, name: 'TOS/TC/Flow Label', json: 'tos', always: true },
      { key: 'protocol', kind: 'number', mask: 0x000000ff, name: 'Protocol', json: 'protocol', always: true },
    ],
  }),
  word<Body<'application-data'>>({
    bits: 32,
    fields: [
      { key: 'localPortLow', kind: 'number', mask: 0xffff0000, name: 'Local Port Low', json: 'local_port_low', always: true },
      { key: 'localPortHigh', kind: 'number', mask: 0x0000ffff, name: 'Local Port High', json: 'local_port_high', always: true },
    ],
  }),
  word<Body<'application-data'>>({
    bits: 32,
    fields: [
      { key: 'remotePortLow', kind: 'number', mask: 0xffff0000, name: 'Remote Port Low', json: 'remote_port_low', always: true },
      { key: 'remotePortHigh', kind: 'number', mask: 0x0000ffff, name: 'Remote Port High', json: 'remote_port_high', always: true },
    ],
  }),
];

/** Degrees, minutes and seconds of one coordinate, N or E in the top bit. */
function coordinate(hemisphere: 'north' | 'east', p: 'lat' | 'lon'): Word<Body<'geo-coordinates'>> {
  return word<Body<'geo-coordinates'>>({
    bits: 32,
    fields: [
      { key: hemisphere, kind: 'flag', mask: 0x80000000, letter: hemisphere === 'north' ? 'N' : 'E', name: hemisphere === 'north' ? 'North' : 'East', tshark: `lisp.lcaf.geo.${p}.hemisphere` },
      { key: `${p}Degrees` as const, kind: 'number', mask: 0x7fff0000, name: 'Degrees', tshark: `lisp.lcaf.geo.${p}.deg` },
      { key: `${p}Minutes` as const, kind: 'number', mask: 0x0000ff00, name: 'Minutes', tshark: `lisp.lcaf.geo.${p}.min` },
      { key: `${p}Seconds` as const, kind: 'number', mask: 0x000000ff, name: 'Seconds', tshark: `lisp.lcaf.geo.${p}.sec` },
    ],
  });
}

/** Geo Coordinates; the Altitude is signed, 0x7FFFFFFF when absent (tshark 4.0 shows it empty: not compared). */
export const LCAF_GEO: Struct<Body<'geo-coordinates'>> = [
  coordinate('north', 'lat'),
  coordinate('east', 'lon'),
  word<Body<'geo-coordinates'>>({ bits: 32, fields: [{ key: 'altitude', kind: 'number', signed: true, mask: 0xffffffff, name: 'Altitude' }] }),
];

export const LCAF_OPAQUE_KEY: Struct<Body<'opaque-key'>> = [
  word<Body<'opaque-key'>>({
    bits: 16,
    fields: [
      { key: 'keyFieldNum', kind: 'number', mask: 0xff00, name: 'Key Field Num', json: 'key_field_num', always: true },
      { key: 'keyWildcardFields', kind: 'number', mask: 0x00ff, name: 'Key Wildcard Fields', json: 'key_wildcard_fields', always: true },
    ],
  }),
];

export const LCAF_NAT_TRAVERSAL: Struct<Body<'nat-traversal'>> = [
  word<Body<'nat-traversal'>>({
    bits: 32,
    fields: [
      { key: 'msUdpPort', kind: 'number', mask: 0xffff0000, name: 'MS UDP Port', json: 'ms_udp_port', always: true, tshark: 'lisp.lcaf.natt.msport' },
      { key: 'etrUdpPort', kind: 'number', mask: 0x0000ffff, name: 'ETR UDP Port', json: 'etr_udp_port', always: true, tshark: 'lisp.lcaf.natt.etrport' },
    ],
  }),
];

export const LCAF_NONCE_LOCATOR: Struct<Body<'nonce-locator'>> = [
  word<Body<'nonce-locator'>>({
    bits: 32,
    fields: [
      { key: 'reserved', kind: 'reserved', mask: 0xff000000, name: 'Reserved', tshark: 'lisp.lcaf.nonce_loc.res' },
      { key: 'nonce', kind: 'number', hex: true, mask: 0x00ffffff, name: 'Nonce', tshark: 'lisp.lcaf.nonce_loc' },
    ],
  }),
];

export const LCAF_MULTICAST_INFO: Struct<Body<'multicast-info'>> = [
  u32('iid', 'Instance ID', 'iid', 'lisp.lcaf.mcinfo_iid'),
  word<Body<'multicast-info'>>({
    bits: 32,
    fields: [
      { key: 'reserved', kind: 'reserved', mask: 0xffff0000, name: 'Reserved', tshark: 'lisp.lcaf.mcinfo.res' },
      { key: 'sourceMaskLen', kind: 'number', mask: 0x0000ff00, name: 'Source Mask Length', tshark: 'lisp.lcaf.mcinfo.src.masklen' },
      { key: 'groupMaskLen', kind: 'number', mask: 0x000000ff, name: 'Group Mask Length', tshark: 'lisp.lcaf.mcinfo.grp.masklen' },
    ],
  }),
];

/** Multicast Info's bits in the LCAF header's Rsvd2 (RFC 8060 §4.9). */
export interface MulticastFlags {
  reserved?: number;
  rp: boolean;
  leave: boolean;
  join: boolean;
}

export const LCAF_MULTICAST_FLAGS: Word<MulticastFlags> = word<MulticastFlags>({
  bits: 8,
  fields: [
    { key: 'reserved', kind: 'reserved', mask: 0xf8, name: 'Reserved', tshark: 'lisp.lcaf.mcinfo.flags.res' },
    { key: 'rp', kind: 'flag', mask: 0x04, letter: 'R', name: 'RP', json: 'rp', always: true, tshark: 'lisp.lcaf.mcinfo.flags.rp' },
    { key: 'leave', kind: 'flag', mask: 0x02, letter: 'L', name: 'Leave', json: 'leave', always: true, tshark: 'lisp.lcaf.mcinfo.flags.leave' },
    { key: 'join', kind: 'flag', mask: 0x01, letter: 'J', name: 'Join', json: 'join', always: true, tshark: 'lisp.lcaf_mcinfo.flags.join' },
  ],
});

/** An ELP hop's flags word (RFC 8060 §4.7). */
export const LCAF_ELP_HOP: Struct<ElpHop> = [
  word<ElpHop>({
    bits: 16,
    fields: [
      { key: 'reserved', kind: 'reserved', mask: 0xfff8, name: 'Reserved', tshark: 'lisp.lcaf.elp_hop.flags.res' },
      { key: 'lookup', kind: 'flag', mask: 0x0004, letter: 'L', name: 'Lookup', json: 'lookup', always: true, tshark: 'lisp.lcaf.elp_hop.flags.local' },
      { key: 'rlocProbe', kind: 'flag', mask: 0x0002, letter: 'P', name: 'RLOC-Probe', json: 'rloc_probe', always: true, tshark: 'lisp.lcaf.elp_hop.flags.probe' },
      { key: 'strict', kind: 'flag', mask: 0x0001, letter: 'S', name: 'Strict', json: 'strict', always: true, tshark: 'lisp.lcaf_elp_hop.flags.strict' },
    ],
  }),
];

export const LCAF_SECURITY_KEY: Struct<Body<'security-key'>> = [
  word<Body<'security-key'>>({
    bits: 32,
    fields: [
      { key: 'keyCount', kind: 'number', mask: 0xff000000, name: 'Key Count', json: 'key_count', always: true },
      { key: 'rsvd3', kind: 'reserved', mask: 0x00ff0000, name: 'Reserved' },
      { key: 'keyAlgorithm', kind: 'number', mask: 0x0000ff00, name: 'Key Algorithm', json: 'key_algorithm', always: true },
      { key: 'rsvd4', kind: 'reserved', mask: 0x000000fe, name: 'Reserved' },
      { key: 'revoke', kind: 'flag', mask: 0x00000001, letter: 'R', name: 'Revoke', json: 'revoke', always: true },
    ],
  }),
];

export const LCAF_SOURCE_DEST: Struct<Body<'source-dest'>> = [
  word<Body<'source-dest'>>({
    bits: 32,
    fields: [
      { key: 'reserved', kind: 'reserved', mask: 0xffff0000, name: 'Reserved', tshark: 'lisp.lcaf.srcdst.res' },
      { key: 'sourceMaskLen', kind: 'number', mask: 0x0000ff00, name: 'Source Mask Length', tshark: 'lisp.lcaf.srcdst.src.masklen' },
      { key: 'destMaskLen', kind: 'number', mask: 0x000000ff, name: 'Destination Mask Length', tshark: 'lisp.lcaf.srcdst.dst.masklen' },
    ],
  }),
];

export const LCAF_RLE_ENTRY: Struct<RleEntry> = [
  word<RleEntry>({
    bits: 32,
    fields: [
      { key: 'reserved', kind: 'reserved', mask: 0xffffff00, name: 'Reserved', tshark: 'lisp.lcaf.rle_entry.res' },
      { key: 'level', kind: 'number', mask: 0x000000ff, name: 'Level', json: 'level', always: true, tshark: 'lisp.lcaf.rle_entry.level' },
    ],
  }),
];

export const LCAF_JSON: Struct<Body<'json'>> = [
  word<Body<'json'>>({ bits: 16, fields: [{ key: 'jsonLength', kind: 'count', mask: 0xffff, name: 'JSON Length' }] }),
];

export const LCAF_ENCAPSULATION_FORMAT: Struct<Body<'encapsulation-format'>> = [u32('bits', 'Encapsulations')];

export const LCAF_VENDOR: Struct<Body<'vendor'>> = [
  word<Body<'vendor'>>({
    bits: 32,
    fields: [
      { key: 'reserved', kind: 'reserved', mask: 0xff000000, name: 'Reserved', tshark: 'lisp.lcaf.vendor.res' },
      { key: 'oui', kind: 'number', hex: true, mask: 0x00ffffff, name: 'OUI', tshark: 'lisp.lcaf.vendor.oui' },
    ],
  }),
];

// ---- Reliable transport (draft-ietf-lisp-map-server-reliable-transport §7) --------------------------
// The fixed words of the message bodies; EID prefixes and records that follow are reliable.ts's.

/**
 * The header of every message: Type, Length (the whole message, End Marker included), Message ID.
 * JSON: `type` is the type's slug, `message_type` its number when the type is unassigned.
 */
export const RELIABLE_HEADER: Struct<ReliableHeader> = [
  word<ReliableHeader>({ bits: 16, fields: [{ key: 'type', kind: 'number', mask: 0xffff, name: 'Type', json: 'message_type', tshark: 'lisp-tcp.message.type' }] }),
  word<ReliableHeader>({ bits: 16, fields: [{ key: 'length', kind: 'count', mask: 0xffff, name: 'Length', tshark: 'lisp-tcp.message.length' }] }),
  word<ReliableHeader>({ bits: 32, fields: [{ key: 'messageId', kind: 'number', mask: 0xffffffff, name: 'Message ID', line: 'id', json: 'message_id', always: true, tshark: 'lisp-tcp.message.id' }] }),
];

/** The word that ends every message (0x9FACADE9; JSON `end_marker` only when it is not). */
export const RELIABLE_TRAILER: Struct<ReliableHeader> = [
  word<ReliableHeader>({ bits: 32, fields: [{ key: 'endMarker', kind: 'number', hex: true, mask: 0xffffffff, name: 'Message End Marker', json: 'end_marker', tshark: 'lisp-tcp.message.end_marker' }] }),
];

/** Type 16's body before the offending message's data. */
export const ERROR_NOTIFICATION: Struct<ErrorNotification> = [
  word<ErrorNotification>({
    bits: 32,
    fields: [
      { key: 'errorCode', kind: 'number', mask: 0xff000000, name: 'Error Code', json: 'error_code', always: true, tshark: 'lisp-tcp.message.err.code' },
      { key: 'reserved', kind: 'reserved', mask: 0x00ffffff, name: 'Reserved' },
    ],
  }),
  word<ErrorNotification>({ bits: 16, fields: [{ key: 'offendingType', kind: 'number', mask: 0xffff, name: 'Offending Message Type', json: 'offending_type', always: true, tshark: 'lisp-tcp.message.err.offending_msg.type' }] }),
  word<ErrorNotification>({ bits: 16, fields: [{ key: 'offendingLength', kind: 'number', mask: 0xffff, name: 'Offending Message Length', json: 'offending_length', always: true, tshark: 'lisp-tcp.message.err.offending_msg.len' }] }),
  word<ErrorNotification>({ bits: 32, fields: [{ key: 'offendingId', kind: 'number', mask: 0xffffffff, name: 'Offending Message ID', json: 'offending_id', always: true, tshark: 'lisp-tcp.message.err.offending_msg.id' }] }),
];

/** Type 19's body before the EID prefix. */
export const REGISTRATION_REJECT: Struct<RegistrationReject> = [
  word<RegistrationReject>({
    bits: 24,
    fields: [
      { key: 'reason', kind: 'number', mask: 0xff0000, name: 'Reason', json: 'reason_code', always: true, tshark: 'lisp-tcp.message.registration_reject.reason' },
      { key: 'reserved', kind: 'reserved', mask: 0x00ffff, name: 'Reserved' },
    ],
  }),
];

/** Type 20's body before the EID prefix. */
export const REGISTRATION_REFRESH: Struct<RegistrationRefresh> = [
  word<RegistrationRefresh>({
    bits: 24,
    fields: [
      { key: 'scope', kind: 'number', mask: 0xff0000, name: 'Scope', json: 'scope_code', always: true, tshark: 'lisp-tcp.message.registration_refresh.scope' },
      { key: 'rejectedOnly', kind: 'flag', mask: 0x008000, letter: 'R', name: 'rejected only', json: 'rejected_only', always: true, tshark: 'lisp-tcp.message.registration_refresh.flags.rejected' },
      { key: 'reserved', kind: 'reserved', mask: 0x007fff, name: 'Reserved' },
    ],
  }),
];
