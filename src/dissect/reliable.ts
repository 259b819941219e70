// LISP Map-Server reliable transport (draft-ietf-lisp-map-server-reliable-transport, earlier
// draft-kouvelas-lisp-map-server-reliable-transport): ETR <-> Map-Server messages over a TCP
// session on port 4342. Every message is
//
//   Type (16) | Length (16) | Message ID (32) | body | Message End Marker 0x9FACADE9 (32)
//
// where Length counts the whole message, header and End Marker included. This module holds the
// registry of message types, reject reasons and refresh scopes, the decoder and encoder of one
// message, and the framer that cuts a reassembled TCP byte stream into messages by Length.
// Layouts checked against a Cisco IOS session (ndpi__lisp_registration.pcap) and tshark 4.0.
// RLOC-membership messages (types 22-30, draft-kouvelas-lisp-rloc-membership) travel on the same
// session; they are named here and their bodies kept as bytes.

import { copyBytes } from './addr.js';
import { decodeAddress, encodeAddress } from './address.js';
import { decodeControlAt, encodeControlTo } from './control.js';
import { Cursor, type Note, Writer } from './cursor.js';
import { decodeWord, fieldOf, fieldValue, readStruct, structSize, writeStruct } from './field.js';
import { ERROR_NOTIFICATION, REGISTRATION_REFRESH, REGISTRATION_REJECT, RELIABLE_HEADER, RELIABLE_TRAILER } from './fields.js';
import { decodeMappingRecord, encodeMappingRecord } from './record.js';
import { AFI_MAX_MASK, MESSAGE_TYPES, MessageType, SITE_ID_LENGTH, XTR_ID_LENGTH } from './registry.js';
import type { ControlMessage, Decoded, LispAddress, MappingRecord } from './types.js';

export const RELIABLE_END_MARKER = 0x9facade9;
const NO_BYTES = new Uint8Array(0);

/** The header's and trailer's fields, from the field table. */
export const ReliableField = {
  type: fieldOf(RELIABLE_HEADER[0]!, 'type'),
  length: fieldOf(RELIABLE_HEADER[1]!, 'length'),
  messageId: fieldOf(RELIABLE_HEADER[2]!, 'messageId'),
  endMarker: fieldOf(RELIABLE_TRAILER[0]!, 'endMarker'),
} as const;

/** Type, Length and Message ID. */
export const RELIABLE_HEADER_LENGTH = structSize(RELIABLE_HEADER);
/** Header and End Marker around an empty body. */
export const RELIABLE_MIN_LENGTH = RELIABLE_HEADER_LENGTH + structSize(RELIABLE_TRAILER);
/** The largest Length the field holds. */
export const RELIABLE_MAX_LENGTH = ReliableField.length.mask;
/** Where Length is in the header. */
const LENGTH_AT = structSize([RELIABLE_HEADER[0]!]);

const u16At = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
/** The Type and the Length of the header at b[at] (its first 4 bytes there). */
const typeAt = (b: Uint8Array, at: number) => fieldValue(ReliableField.type, u16At(b, at));
const lengthAt = (b: Uint8Array, at: number) => fieldValue(ReliableField.length, u16At(b, at + LENGTH_AT));

export const ReliableType = {
  ErrorNotification: 16,
  Registration: 17,
  RegistrationAck: 18,
  RegistrationReject: 19,
  RegistrationRefresh: 20,
  MappingNotification: 21,
} as const;

interface Info {
  /** JSON `type` of the message. */
  slug: string;
  /** Name as the drafts write it. */
  title: string;
}

/** Message types of the reliable-transport session (16-21), and the RLOC-membership ones (22-30). */
export const RELIABLE_TYPES: ReadonlyMap<number, Info> = new Map<number, Info>([
  [ReliableType.ErrorNotification, { slug: 'error-notification', title: 'Error Notification' }],
  [ReliableType.Registration, { slug: 'registration', title: 'Registration' }],
  [ReliableType.RegistrationAck, { slug: 'registration-ack', title: 'Registration ACK' }],
  [ReliableType.RegistrationReject, { slug: 'registration-reject', title: 'Registration Reject' }],
  [ReliableType.RegistrationRefresh, { slug: 'registration-refresh', title: 'Registration Refresh' }],
  [ReliableType.MappingNotification, { slug: 'mapping-notification', title: 'Mapping Notification' }],
  [22, { slug: 'rloc-membership-subscribe', title: 'RLOC Membership Subscribe' }],
  [23, { slug: 'rloc-membership-subscribe-ack', title: 'RLOC Membership Subscribe ACK' }],
  [24, { slug: 'rloc-membership-subscribe-nack', title: 'RLOC Membership Subscribe NACK' }],
  [25, { slug: 'rloc-membership-unsubscribe', title: 'RLOC Membership Unsubscribe' }],
  [26, { slug: 'rloc-membership-element-add', title: 'RLOC Membership Element Add' }],
  [27, { slug: 'rloc-membership-element-remove', title: 'RLOC Membership Element Remove' }],
  [28, { slug: 'rloc-membership-refresh-request', title: 'RLOC Membership Refresh Request' }],
  [29, { slug: 'rloc-membership-refresh-begin', title: 'RLOC Membership Refresh Begin' }],
  [30, { slug: 'rloc-membership-refresh-end', title: 'RLOC Membership Refresh End' }],
]);

/** Registration Reject reason codes. */
export const REJECT_REASONS: ReadonlyMap<number, Info> = new Map([
  [1, { slug: 'not-site-eid-prefix', title: 'Not a valid site EID prefix' }],
  [2, { slug: 'authentication-failure', title: 'Authentication failure' }],
  [3, { slug: 'locator-set-not-allowed', title: 'Locator set not allowed' }],
  [4, { slug: 'reason-not-defined', title: 'Reason not defined' }],
]);

/** Registration Refresh scopes: which registrations the Map-Server asks the ETR to send again. */
export const REFRESH_SCOPES: ReadonlyMap<number, Info> = new Map([
  [0, { slug: 'all', title: 'All prefixes under all address families under all EID instances' }],
  [1, { slug: 'instance', title: 'All prefixes under all address families under a single EID instance' }],
  [2, { slug: 'instance-afi', title: 'All prefixes under a single address family under a single EID instance' }],
  [3, { slug: 'covered', title: 'All prefixes covered by a specific EID prefix in a single EID instance' }],
  [4, { slug: 'prefix', title: 'A specific EID prefix in a single EID instance' }],
]);

/** Registration Refresh's R flag: only the registrations the Map-Server rejected (the field table's). */
export const REFRESH_REJECTED_ONLY = fieldOf(REGISTRATION_REFRESH[0]!, 'rejectedOnly').mask;

/** JSON `type` of a message; `unknown` for unassigned types. */
export function reliableTypeSlug(type: number): string {
  return RELIABLE_TYPES.get(type)?.slug ?? 'unknown';
}

export function reliableTypeTitle(type: number): string {
  return RELIABLE_TYPES.get(type)?.title ?? `Unknown (${type})`;
}

export function rejectReasonSlug(reason: number): string {
  return REJECT_REASONS.get(reason)?.slug ?? `reason-${reason}`;
}

export function refreshScopeSlug(scope: number): string {
  return REFRESH_SCOPES.get(scope)?.slug ?? `scope-${scope}`;
}

// ---- the messages ----------------------------------------------------------------------------

/** What every message has around its body (RELIABLE_HEADER, RELIABLE_TRAILER). */
export interface ReliableHeader {
  type: number;
  messageId: number;
  /** The End Marker as read, only when it is not 0x9FACADE9. */
  endMarker?: number;
}

interface ReliableCommon {
  messageId: number;
  /** The End Marker as read, only when it is not 0x9FACADE9. */
  endMarker?: number;
  /** Bytes between what the body used and the End Marker. */
  trailing?: Uint8Array;
}

/** Type 16: the peer could not process a message (it is identified by its header). */
export interface ErrorNotification extends ReliableCommon {
  type: 16;
  errorCode: number;
  /** 24 bits after the error code. */
  reserved?: number;
  offendingType: number;
  offendingLength: number;
  offendingId: number;
  /** What the sender quotes of the offending message's body. */
  offendingData: Uint8Array;
}

/** Type 17: a Map-Register (RFC 9301 §5.6) without UDP, one per EID-record set. */
export interface Registration extends ReliableCommon {
  type: 17;
  /** A Map-Register when well-formed; whatever control message the body holds otherwise. */
  mapRegister: ControlMessage;
}

/** Type 18: the Map-Server accepted the registration of one EID prefix. */
export interface RegistrationAck extends ReliableCommon {
  type: 18;
  eidMaskLen: number;
  eid: LispAddress;
}

/** Type 19: the Map-Server refused the registration of one EID prefix. */
export interface RegistrationReject extends ReliableCommon {
  type: 19;
  reason: number;
  /** 16 bits after the reason. */
  reserved?: number;
  eidMaskLen: number;
  eid: LispAddress;
}

/** Type 20: the Map-Server asks for (some) registrations again. */
export interface RegistrationRefresh extends ReliableCommon {
  type: 20;
  scope: number;
  /** R: only the registrations that were rejected. */
  rejectedOnly: boolean;
  /** The 15 bits after R. */
  reserved?: number;
  /** The EID prefix the scope is about (absent for scope 0). */
  eidMaskLen?: number;
  eid?: LispAddress;
}

/** Type 21: the Map-Server tells an ETR of the site about a mapping (Map-Notify over the session). */
export interface MappingNotification extends ReliableCommon {
  type: 21;
  /** 128-bit xTR-ID (16 bytes). */
  xtrId: Uint8Array;
  /** 64-bit site-ID (8 bytes). */
  siteId: Uint8Array;
  record: MappingRecord;
}

/** A type whose body is not decoded (RLOC membership, unassigned) or that did not decode: kept raw. */
export interface OpaqueReliableMessage extends ReliableCommon {
  type: number;
  body: Uint8Array;
}

export type ReliableMessage =
  | ErrorNotification
  | Registration
  | RegistrationAck
  | RegistrationReject
  | RegistrationRefresh
  | MappingNotification
  | OpaqueReliableMessage;

export function isOpaque(m: ReliableMessage): m is OpaqueReliableMessage {
  return 'body' in m;
}

// ---- decoding --------------------------------------------------------------------------------

function eidPrefix(c: Cursor, what: string): { eidMaskLen: number; eid: LispAddress } | undefined {
  const at = c.pos;
  if (!c.need(1, `${what} length`)) return undefined;
  const eidMaskLen = c.u8();
  const eid = decodeAddress(c, 0, what);
  if (!eid) return undefined;
  let inner = eid;
  if (inner.kind === 'lcaf' && inner.lcaf.body.kind === 'instance-id') inner = inner.lcaf.body.address;
  const max = AFI_MAX_MASK.get(inner.afi);
  if (max !== undefined && inner.kind !== 'lcaf' && eidMaskLen > max) {
    c.note(`${what}: prefix length ${eidMaskLen} exceeds ${max} for AFI ${inner.afi}`, at);
  }
  return { eidMaskLen, eid };
}

type Body = ReliableMessage extends infer T ? (T extends unknown ? Omit<T, 'messageId'> : never) : never;

/** The body of the message of `type` in the cursor (a window ending before the End Marker). */
function decodeBody(c: Cursor, type: number, name: string): Body | undefined {
  switch (type) {
    case ReliableType.ErrorNotification: {
      const m: Omit<ErrorNotification, 'messageId'> = { type: 16, errorCode: 0, offendingType: 0, offendingLength: 0, offendingId: 0, offendingData: NO_BYTES };
      if (!readStruct(c, ERROR_NOTIFICATION, m as ErrorNotification, `${name} body`)) return undefined;
      m.offendingData = c.rest();
      return m;
    }
    case ReliableType.Registration: {
      const at = c.pos;
      if (c.remaining < 1) {
        c.note(`${name} carries no Map-Register`);
        return undefined;
      }
      const mapRegister = decodeControlAt(c, 0);
      if (mapRegister.type !== MessageType.MapRegister) {
        const title = 'unknown' in mapRegister ? `type ${mapRegister.type}` : MESSAGE_TYPES.get(mapRegister.type)!.title;
        c.note(`${name} carries a ${title}, not a Map-Register`, at);
      }
      return { type: 17, mapRegister };
    }
    case ReliableType.RegistrationAck: {
      const p = eidPrefix(c, `${name} EID-Prefix`);
      return p && { type: 18, ...p };
    }
    case ReliableType.RegistrationReject: {
      const h = { reason: 0 } as RegistrationReject;
      if (!readStruct(c, REGISTRATION_REJECT, h, `${name} reason`)) return undefined;
      const p = eidPrefix(c, `${name} EID-Prefix`);
      if (!p) return undefined;
      const m: Omit<RegistrationReject, 'messageId'> = { type: 19, reason: h.reason, ...p };
      if (h.reserved) m.reserved = h.reserved;
      return m;
    }
    case ReliableType.RegistrationRefresh: {
      const m: Omit<RegistrationRefresh, 'messageId'> = { type: 20, scope: 0, rejectedOnly: false };
      if (!readStruct(c, REGISTRATION_REFRESH, m as RegistrationRefresh, `${name} scope and flags`)) return undefined;
      if (c.remaining > 0) {
        const p = eidPrefix(c, `${name} EID-Prefix`);
        if (!p) return undefined;
        m.eidMaskLen = p.eidMaskLen;
        m.eid = p.eid;
      } else if (m.scope !== 0) {
        c.note(`${name} scope ${m.scope} (${refreshScopeSlug(m.scope)}) without the EID prefix it is about`);
      }
      return m;
    }
    case ReliableType.MappingNotification: {
      if (!c.need(XTR_ID_LENGTH + SITE_ID_LENGTH, `${name} xTR-ID and site-ID`)) return undefined;
      const xtrId = c.take(XTR_ID_LENGTH);
      const siteId = c.take(SITE_ID_LENGTH);
      const r = decodeMappingRecord(c, `${name} mapping record`);
      return r && { type: 21, xtrId, siteId, record: r.record };
    }
    default:
      return { type, body: c.rest() };
  }
}

/**
 * Decodes the one message in bytes[start, end) (the framer hands over exactly one). Never throws
 * on the bytes: problems become notes with offsets from the message's first byte.
 */
export function decodeReliable(bytes: Uint8Array, start = 0, end = bytes.length): Decoded<ReliableMessage> {
  const notes: Note[] = [];
  const c = new Cursor(bytes, start, end, start, notes);
  if (!c.need(4, 'reliable-transport message Type and Length')) {
    return { value: { type: c.remaining >= 2 ? c.u16() : 0, messageId: 0, body: c.rest() }, notes };
  }
  const h: ReliableHeader = { type: 0, messageId: 0 };
  const counts: Record<string, number> = {};
  decodeWord(RELIABLE_HEADER[0]!, c.u16(), h);
  decodeWord(RELIABLE_HEADER[1]!, c.u16(), h, counts);
  const type = h.type;
  const length = counts.length!;
  const name = reliableTypeTitle(type);
  const have = end - start;
  let msgEnd = start + length;
  if (length < RELIABLE_MIN_LENGTH) {
    c.note(`${name}: Length ${length} is below ${RELIABLE_MIN_LENGTH} (Type, Length, Message ID and End Marker)`, start + 2);
    msgEnd = Math.min(end, Math.max(msgEnd, start + 4));
  } else if (length > have) {
    c.note(`truncated ${name}: Length ${length}, ${have} bytes present`, start + 2);
    msgEnd = end;
  } else if (length < have) {
    c.note(`${name}: ${have - length} bytes after the message's Length ${length}`, msgEnd);
  }
  c.end = msgEnd;
  if (c.need(4, `${name} Message ID`)) decodeWord(RELIABLE_HEADER[2]!, c.u32(), h);
  const messageId = h.messageId;
  const markerAt = length >= RELIABLE_MIN_LENGTH && length <= have ? msgEnd - 4 : msgEnd;
  const body = c.window(Math.max(0, markerAt - c.pos));
  const decoded = decodeBody(body, type, name);
  let m: ReliableMessage;
  if (decoded) {
    m = { ...decoded, messageId } as ReliableMessage;
    if (body.remaining > 0) m.trailing = body.rest();
  } else {
    m = { type, messageId, body: copyBytes(bytes, c.pos, markerAt) };
  }
  c.pos = markerAt;
  if (markerAt + 4 === msgEnd) {
    const t: ReliableHeader = { type, messageId };
    decodeWord(RELIABLE_TRAILER[0]!, c.u32(), t);
    const marker = t.endMarker!;
    if (marker !== RELIABLE_END_MARKER) {
      m.endMarker = marker;
      c.note(`${name}: End Marker 0x${marker.toString(16).padStart(8, '0')} is not 0x9facade9`, markerAt);
    }
  }
  return { value: m, notes };
}

/** The body of a well-formed message's bytes (a view): for a Registration, its Map-Register. */
export function reliableBody(message: Uint8Array): Uint8Array {
  const len = message.length >= 4 ? lengthAt(message, 0) : 0;
  if (len < RELIABLE_MIN_LENGTH || len > message.length) return message.subarray(0, 0);
  return message.subarray(RELIABLE_HEADER_LENGTH, len - 4);
}

// ---- encoding --------------------------------------------------------------------------------

function encodeEidPrefix(w: Writer, maskLen: number, eid: LispAddress): void {
  w.u8(maskLen);
  encodeAddress(w, eid);
}

export function encodeReliable(m: ReliableMessage): Uint8Array {
  const w = new Writer();
  writeStruct(w, RELIABLE_HEADER, m, { length: 0 });
  if (isOpaque(m)) w.bytes(m.body);
  else {
    switch (m.type) {
      case ReliableType.ErrorNotification:
        writeStruct(w, ERROR_NOTIFICATION, m);
        w.bytes(m.offendingData);
        break;
      case ReliableType.Registration:
        encodeControlTo(w, m.mapRegister);
        break;
      case ReliableType.RegistrationAck:
        encodeEidPrefix(w, m.eidMaskLen, m.eid);
        break;
      case ReliableType.RegistrationReject:
        writeStruct(w, REGISTRATION_REJECT, m);
        encodeEidPrefix(w, m.eidMaskLen, m.eid);
        break;
      case ReliableType.RegistrationRefresh:
        writeStruct(w, REGISTRATION_REFRESH, m);
        if (m.eid) encodeEidPrefix(w, m.eidMaskLen ?? 0, m.eid);
        break;
      case ReliableType.MappingNotification:
        if (m.xtrId.length !== XTR_ID_LENGTH || m.siteId.length !== SITE_ID_LENGTH) throw new RangeError(`xTR-ID is ${XTR_ID_LENGTH} bytes and site-ID ${SITE_ID_LENGTH}`);
        w.bytes(m.xtrId).bytes(m.siteId);
        encodeMappingRecord(w, m.record);
        break;
    }
  }
  if (m.trailing) w.bytes(m.trailing);
  writeStruct(w, RELIABLE_TRAILER, { ...m, endMarker: m.endMarker ?? RELIABLE_END_MARKER });
  if (w.len > RELIABLE_MAX_LENGTH) throw new RangeError(`a reliable-transport message is at most ${RELIABLE_MAX_LENGTH} bytes, not ${w.len}`);
  w.patch16(LENGTH_AT, w.len);
  return w.finish();
}

// ---- framing ---------------------------------------------------------------------------------

export type FramerEvent =
  /** One whole message (a copy), `offset` its first byte in the stream. */
  | { kind: 'message'; offset: number; bytes: Uint8Array }
  /** Stream bytes that are not (part of) a whole message: lost to a gap, or passed over to resync. */
  | { kind: 'skipped'; offset: number; length: number; reason: string };

function plausibleHeader(b: Uint8Array, at: number): boolean {
  return RELIABLE_TYPES.has(typeAt(b, at)) && lengthAt(b, at) >= RELIABLE_MIN_LENGTH;
}

function markerAt(b: Uint8Array, at: number): boolean {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0 === RELIABLE_END_MARKER;
}

/**
 * Cuts one direction of a session into messages by their Length. It starts in step with the
 * stream when the stream starts at a message boundary (SYN seen); otherwise, and after any byte
 * loss it cannot measure, it looks for a boundary: a plausible header (known type, Length >= 12)
 * whose End Marker is where Length says, or the byte after an End Marker. A message with a wrong
 * End Marker is still delivered (the decoder flags it) but the next one is checked that way.
 * Holds at most one message (64 KiB) plus the chunk pushed.
 */
export class ReliableFramer {
  private buf = new Uint8Array(1024);
  private len = 0;
  /** Stream offset of buf[0]. */
  private start: number;
  /** 'sync': at a boundary we trust; 'probe': at a boundary we must verify; 'hunt': looking for one. */
  private state: 'sync' | 'probe' | 'hunt';
  /** Bytes still to drop (the rest of a message broken by a gap of known size). */
  private discard = 0;

  constructor(opts: { synced?: boolean; offset?: number } = {}) {
    this.state = opts.synced ? 'sync' : 'probe';
    this.start = opts.offset ?? 0;
  }

  /** Stream offset of the next byte expected. */
  get offset(): number {
    return this.start + this.len + this.discard;
  }

  /** Stream offset of the oldest byte still held (bytes before it will never be part of a message). */
  get heldFrom(): number {
    return this.start;
  }

  /** Bytes held: the beginning of a message not yet complete (or unsorted bytes while resyncing). */
  get held(): number {
    return this.len;
  }

  /** The declared Length of the message being gathered, when its header is in. */
  get pendingLength(): number | undefined {
    if (this.state === 'hunt' || this.len < 4) return undefined;
    return lengthAt(this.buf, 0);
  }

  /** Appends in-order stream bytes (copied) and returns what they complete. */
  push(data: Uint8Array): FramerEvent[] {
    const out: FramerEvent[] = [];
    let d = data;
    if (this.discard > 0) {
      const n = Math.min(this.discard, d.length);
      this.discard -= n;
      this.start += n;
      d = d.subarray(n);
    }
    if (d.length === 0) return out;
    if (this.len + d.length > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.len + d.length) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(d, this.len);
    this.len += d.length;
    this.scan(out);
    return out;
  }

  /**
   * `length` stream bytes were lost (a TCP hole given up, or cut by the snaplen). When the loss
   * falls inside the current message of known Length the next boundary is still known; otherwise
   * the framer resyncs.
   */
  gap(length: number): FramerEvent[] {
    const out: FramerEvent[] = [];
    if (length <= 0) return out;
    const reason = `${length} stream bytes lost`;
    if (this.discard > 0) {
      const n = Math.min(this.discard, length);
      this.discard -= n;
      this.start += n;
      length -= n;
      if (length === 0) return out;
    }
    const declared = this.pendingLength;
    if (this.state !== 'hunt' && declared !== undefined && declared >= 4 && this.len + length <= declared) {
      // The message is lost but its end is known.
      out.push({ kind: 'skipped', offset: this.start, length: declared, reason: `message of ${declared} bytes broken by ${reason}` });
      this.discard = declared - this.len - length;
      this.start += this.len + length;
      this.len = 0;
      if (this.discard === 0) this.state = this.state === 'sync' ? 'sync' : 'probe';
      return out;
    }
    if (this.len > 0) out.push({ kind: 'skipped', offset: this.start, length: this.len, reason: `${this.len} bytes before ${reason}` });
    this.start += this.len + length;
    this.len = 0;
    this.state = 'probe';
    return out;
  }

  /** The stream ended: whatever is held is reported, and the framer is empty. */
  end(reason: string): Extract<FramerEvent, { kind: 'skipped' }>[] {
    const out: Extract<FramerEvent, { kind: 'skipped' }>[] = [];
    if (this.len > 0) {
      const declared = this.pendingLength;
      const what = declared !== undefined ? `${this.len} of the ${declared} bytes of a message` : `${this.len} bytes`;
      out.push({ kind: 'skipped', offset: this.start, length: this.len, reason: `${what} when the stream ${reason}` });
    }
    this.start += this.len + this.discard;
    this.len = 0;
    this.discard = 0;
    return out;
  }

  private consume(n: number): void {
    this.buf.copyWithin(0, n, this.len);
    this.len -= n;
    this.start += n;
  }

  private skip(out: FramerEvent[], n: number, reason: string): void {
    const last = out[out.length - 1];
    if (last?.kind === 'skipped' && last.offset + last.length === this.start && last.reason === reason) last.length += n;
    else out.push({ kind: 'skipped', offset: this.start, length: n, reason });
    this.consume(n);
  }

  private scan(out: FramerEvent[]): void {
    const b = this.buf;
    for (;;) {
      if (this.state === 'hunt') {
        // A boundary is right after an End Marker, or where a plausible header's own End Marker
        // sits where its Length says (a candidate still incomplete is waited for).
        let i = 0;
        let found = -1;
        let wait = false;
        for (; i + 4 <= this.len; i++) {
          if (markerAt(b, i)) {
            found = i + 4;
            break;
          }
          if (plausibleHeader(b, i)) {
            const length = lengthAt(b, i);
            if (i + length > this.len) {
              wait = true;
              break;
            }
            if (markerAt(b, i + length - 4)) {
              found = i;
              break;
            }
          }
        }
        if (found >= 0) {
          if (found > 0) this.skip(out, found, 'not at a message boundary');
          this.state = 'probe';
          continue;
        }
        // Keep a waiting candidate, or the last 3 bytes (they may begin a marker or header).
        const n = wait ? i : Math.max(0, this.len - 3);
        if (n > 0) this.skip(out, n, 'not at a message boundary');
        return;
      }
      if (this.len < 4) return;
      const length = lengthAt(b, 0);
      if (this.state === 'probe' && !plausibleHeader(b, 0)) {
        this.state = 'hunt';
        continue;
      }
      if (length < 4) {
        this.state = 'hunt';
        continue;
      }
      if (this.len < length) return;
      const good = length >= RELIABLE_MIN_LENGTH && markerAt(b, length - 4);
      if (this.state === 'probe' && !good) {
        this.state = 'hunt';
        continue;
      }
      out.push({ kind: 'message', offset: this.start, bytes: b.slice(0, length) });
      this.consume(length);
      this.state = good ? 'sync' : 'probe';
    }
  }
}
