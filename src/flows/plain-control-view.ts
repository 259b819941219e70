// The exchange tracker's view of a control message the byte scan recognised (capture/plain-control.ts),
// built from the scan's offsets: the tracker reads a few fields of each message (view.ts, MessageView),
// and decoding whole messages, with every flag, TTL and locator weight, into objects made most of the
// flow engine's garbage. Property tests hold it to controlView of the general decoder's packet.

import { MAPPING_HEADER, REFERRAL_HEADER, type PlainControl } from '../capture/plain-control.js';
import type { Frame } from '../capture/types.js';
import { formatIPv4, formatIPv6 } from '../dissect/addr.js';
import { u16, u32 } from '../dissect/bytes.js';
import { fieldOf, fieldValue } from '../dissect/field.js';
import { ECM_HEADER, INFO, LOCATOR, MAP_REGISTER, MAP_REPLY, MAP_REQUEST, MAPPING_RECORD } from '../dissect/fields.js';
import { Afi, MessageType } from '../dissect/registry.js';
import type { LispAddress } from '../dissect/types.js';
import { texts } from './text-pool.js';
import type { ControlView, MessageView, NotifyView, RecordView, RegisterView, RequestView } from './view.js';

const NONE: LispAddress = Object.freeze({ kind: 'none', afi: 0 });
const XTR_ID_SIZE = 16;

const REQUEST_PROBE = fieldOf(MAP_REQUEST, 'probe').mask;
const REQUEST_SMR = fieldOf(MAP_REQUEST, 'smr').mask;
const REQUEST_SMR_INVOKED = fieldOf(MAP_REQUEST, 'smrInvoked').mask;
const REQUEST_XTR_ID = fieldOf(MAP_REQUEST, 'xtrIdPresent').mask;
const REPLY_PROBE = fieldOf(MAP_REPLY, 'probe').mask;
const REGISTER_WANT_MAP_NOTIFY = fieldOf(MAP_REGISTER, 'wantMapNotify').mask;
const REGISTER_FOR_RTR = fieldOf(MAP_REGISTER, 'builtForRtr').mask;
const REGISTER_MOBILE_NODE = fieldOf(MAP_REGISTER, 'mobileNode').mask;
const INFO_REPLY = fieldOf(INFO, 'reply').mask;
const ECM_DDT = fieldOf(ECM_HEADER, 'ddt').mask;
const ECM_TO_ETR = fieldOf(ECM_HEADER, 'toEtr').mask;
const ECM_TO_MS = fieldOf(ECM_HEADER, 'toMs').mask;
/** The record's second word (at +4) and the locator's flags (at +4, 16 bits). */
const ACTION = fieldOf(MAPPING_RECORD[1]!, 'action');
const PROBED = fieldOf(LOCATOR[1]!, 'probed').mask;

/**
 * The address whose AFI is at `a`: IPv4, IPv6, AFI 0, or one of those in an Instance-ID LCAF (what
 * the scan lets by). An RLOC's IPv4 text is the pool's: a capture has few RLOCs and many EIDs.
 */
function address(b: Uint8Array, a: number, rloc = false): LispAddress {
  switch (u16(b, a)) {
    case Afi.IPv4:
      return { kind: 'ipv4', afi: 1, addr: rloc ? texts.ipv4(b, a + 2) : formatIPv4(b, a + 2) };
    case Afi.IPv6:
      return { kind: 'ipv6', afi: 2, addr: formatIPv6(b, a + 2) };
    case Afi.Lcaf:
      return { kind: 'lcaf', afi: 16387, lcaf: { type: b[a + 4]!, rsvd1: b[a + 2]!, flags: b[a + 3]!, rsvd2: b[a + 5]!, body: { kind: 'instance-id', iid: u32(b, a + 8), address: address(b, a + 12, rloc) } } };
    default:
      return NONE;
  }
}

/** A view of the capture buffer the last frame was in (frames of one read share it). */
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/** The nonce after the header word. */
function nonce(b: Uint8Array, msg: number): bigint {
  if (view.buffer !== b.buffer) view = new DataView(b.buffer);
  return view.getBigUint64(b.byteOffset + msg + 4);
}

function records(b: Uint8Array, c: PlainControl): RecordView[] {
  const out: RecordView[] = new Array<RecordView>(c.recordCount);
  for (let i = 0; i < c.recordCount; i++) {
    const r = c.records[i]!;
    const w1 = u32(b, r + 4);
    const locators = [];
    for (let j = c.firstLocator[i]!; j < c.firstLocator[i + 1]!; j++) {
      const l = c.locators[j]!;
      locators.push({ rloc: address(b, l + 6, true), probed: (u16(b, l + 4) & PROBED) !== 0 });
    }
    out[i] = { eid: address(b, r + 10), eidMaskLen: fieldValue(MAPPING_HEADER.maskLen, w1), action: fieldValue(ACTION, w1), locators };
  }
  return out;
}

function referrals(b: Uint8Array, c: PlainControl) {
  const out = [];
  for (let i = 0; i < c.recordCount; i++) {
    const r = c.records[i]!;
    const w1 = u32(b, r + 4);
    const list = [];
    for (let j = c.firstLocator[i]!; j < c.firstLocator[i + 1]!; j++) list.push({ rloc: address(b, c.locators[j]! + 6, true) });
    out.push({ eid: address(b, r + 10), eidMaskLen: fieldValue(REFERRAL_HEADER.maskLen, w1), action: fieldValue(ACTION, w1), referrals: list });
  }
  return out;
}

/** The I bit's xTR-ID, a copy (views hold nothing of the capture buffers), when there is one. */
function withXtrId<M extends { xtrId?: Uint8Array }>(m: M, b: Uint8Array, c: PlainControl): M {
  if (c.xtr >= 0) m.xtrId = b.slice(c.xtr, c.xtr + XTR_ID_SIZE);
  return m;
}

function message(b: Uint8Array, c: PlainControl): MessageView {
  const w = c.word;
  const n = nonce(b, c.msg);
  switch (c.type) {
    case MessageType.MapRequest: {
      const itrRlocs = new Array<LispAddress>(c.itrCount);
      for (let i = 0; i < c.itrCount; i++) itrRlocs[i] = address(b, c.itrs[i]!, true);
      const eids = new Array<{ prefix: LispAddress; maskLen: number }>(c.eidCount);
      for (let i = 0; i < c.eidCount; i++) eids[i] = { prefix: address(b, c.eids[i]!), maskLen: b[c.eids[i]! - 1]! };
      const m: RequestView = {
        type: 1,
        nonce: n,
        probe: (w & REQUEST_PROBE) !== 0,
        smr: (w & REQUEST_SMR) !== 0,
        smrInvoked: (w & REQUEST_SMR_INVOKED) !== 0,
        xtrIdPresent: (w & REQUEST_XTR_ID) !== 0,
        sourceEid: c.sourceEid < 0 ? NONE : address(b, c.sourceEid),
        itrRlocs,
        eids,
      };
      return withXtrId(m, b, c);
    }
    case MessageType.MapReply:
      return { type: 2, nonce: n, probe: (w & REPLY_PROBE) !== 0, records: records(b, c) };
    case MessageType.MapRegister:
      return withXtrId<RegisterView>(
        {
          type: 3,
          nonce: n,
          wantMapNotify: (w & REGISTER_WANT_MAP_NOTIFY) !== 0,
          builtForRtr: (w & REGISTER_FOR_RTR) !== 0,
          mobileNode: (w & REGISTER_MOBILE_NODE) !== 0,
          keyId: b[c.auth]!,
          algorithmId: b[c.auth + 1]!,
          records: records(b, c),
        },
        b,
        c,
      );
    case MessageType.MapNotify:
    case MessageType.MapNotifyAck:
      return withXtrId<NotifyView>({ type: c.type, nonce: n, records: records(b, c) }, b, c);
    case MessageType.MapReferral:
      return { type: 6, nonce: n, records: referrals(b, c) };
    default: {
      const reply = (w & INFO_REPLY) !== 0;
      let natAddress = NONE;
      if (reply) {
        const a = c.natAddresses;
        const rtrRlocs = [];
        for (let i = 3; i < c.natCount; i++) rtrRlocs.push(address(b, a[i]!, true));
        const h = c.nat - 8;
        const body = { kind: 'nat-traversal' as const, msUdpPort: u16(b, c.nat), etrUdpPort: u16(b, c.nat + 2), globalEtrRloc: address(b, a[0]!, true), msRloc: address(b, a[1]!, true), privateEtrRloc: address(b, a[2]!, true), rtrRlocs };
        natAddress = { kind: 'lcaf', afi: 16387, lcaf: { type: b[h + 4]!, rsvd1: b[h + 2]!, flags: b[h + 3]!, rsvd2: b[h + 5]!, body } };
      }
      return { type: 7, nonce: n, reply, eidMaskLen: b[c.info + 5]!, eid: c.infoEid < 0 ? NONE : address(b, c.infoEid), address: natAddress };
    }
  }
}

/** The same view controlView gives of the decoded packet, for a frame scanPlainControl accepted into `c`. */
export function plainControlView(f: Frame, c: PlainControl): ControlView {
  const b = f.data;
  const dst = texts.ipv4(b, c.ip + 16);
  const v: ControlView = { ts: f.tsSec + f.tsNsec / 1e9, src: texts.ipv4(b, c.ip + 12), dst, sport: c.sport, dport: c.dport, m: message(b, c) };
  if (c.ecm >= 0) {
    const q = c.innerIp;
    const v4 = c.innerVersion === 4;
    const innerSrc = v4 ? texts.ipv4(b, q + 12) : formatIPv6(b, q + 8);
    // A Map-Request's goes to the EID it asks for: one text per request, which would fill the pool
    // (and make every lookup in it a cache miss) with addresses no exchange keeps.
    const innerDst = !v4 ? formatIPv6(b, q + 24) : c.type === MessageType.MapRequest ? formatIPv4(b, q + 16) : texts.ipv4(b, q + 16);
    // An ECM in an ECM and LISP-SEC (the S bit) are the general path's: depth 1, no lispSec.
    const e = u32(b, c.ecm);
    v.ecm = { outerDst: dst, innerSrc, innerDst, ddt: (e & ECM_DDT) !== 0, depth: 1, toEtr: (e & ECM_TO_ETR) !== 0, toMs: (e & ECM_TO_MS) !== 0 };
  }
  return v;
}
