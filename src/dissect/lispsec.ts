// LISP-SEC Authentication Data (RFC 9303 §6): an ECM with S=1 carries it right after its 4-byte
// header, before the inner IP header (RFC 9301 §5.8: "the field following the Reserved field");
// a Map-Reply with S=1 carries it after its records.
//
//   AD Type (8) | Reserved (24)
//   ECM:       OTK-AD  = OTK-AD Length (16) | OTK Wrapping ID (16) | OTK Preamble (64) | OTK
//              EID-AD
//   Map-Reply: EID-AD  = EID-AD Length (16) | KDF ID (16)
//                        [ Record Count (8) | Reserved (8) | EID HMAC ID (16)
//                          Record Count x { Reserved (8) | EID mask-len (8) | EID-AFI | EID-Prefix }
//                          EID HMAC ]                       (an ITR sends only the first word)
//              PKT-AD  = PKT-AD Length (16) | PKT HMAC ID (16) | PKT HMAC
//
// Each Length counts its whole part, the Length field included (an ITR's EID-AD Length is 4), so
// the HMACs and the OTK are whatever the Length leaves after the fixed fields.

import type { Cursor, Writer } from './cursor.js';
import { readStruct, structSize, writeStruct } from './field.js';
import { EID_AD, EID_AD_HMAC, AD_HEADER, OTK_AD, PKT_AD } from './fields.js';
import { decodeEidPrefix, encodeEidPrefix } from './record.js';
import { LISP_SEC_HMAC_IDS, LISP_SEC_KEY_WRAP_IDS, LispSecAdType } from './registry.js';
import type { EidAd, LispSecAd, OtkAd, PktAd } from './types.js';

export type LispSecCarrier = 'ecm' | 'map-reply';

const PREAMBLE_LENGTH = 8;
/** The fixed part of each AD, its Length field included: what a Length counts at least. */
const OTK_AD_FIXED = structSize(OTK_AD) + PREAMBLE_LENGTH;
const EID_AD_KDF_ONLY = structSize(EID_AD);
const EID_AD_FIXED = EID_AD_KDF_ONLY + structSize(EID_AD_HMAC);
const PKT_AD_FIXED = structSize(PKT_AD);

/** OTK-AD Length of `o`. */
export const otkAdLength = (o: OtkAd) => OTK_AD_FIXED + o.otk.length;
/** PKT-AD Length of `p`. */
export const pktAdLength = (p: PktAd) => PKT_AD_FIXED + p.pktHmac.length;

/**
 * Reads LISP-SEC Authentication Data at the cursor. Returns undefined when not even the AD Type
 * word fits. `complete` is false when a length ran past the data or an AD Type is unknown: the
 * caller cannot know where the AD ends and must not decode what it thinks follows.
 */
export function decodeLispSec(c: Cursor, carrier: LispSecCarrier, name: string): { ad: LispSecAd; complete: boolean } | undefined {
  const at = c.pos;
  const ad: LispSecAd = { adType: 0 };
  if (!readStruct(c, AD_HEADER, ad, `${name} LISP-SEC AD Type`)) return undefined;
  if (ad.adType !== LispSecAdType.LispSec) {
    // No length field covers the whole AD, so an unknown type swallows the rest.
    c.note(`${name}: unknown LISP-SEC AD Type ${ad.adType}: the rest kept as bytes`, at);
    ad.data = c.rest();
    return { ad, complete: false };
  }
  if (carrier === 'ecm') {
    const otk = decodeOtkAd(c, name);
    if (!otk) return { ad, complete: false };
    ad.otkAd = otk.otkAd;
    if (!otk.complete) return { ad, complete: false };
  }
  const eid = decodeEidAd(c, name);
  if (!eid) return { ad, complete: false };
  ad.eidAd = eid.eidAd;
  if (!eid.complete || carrier === 'ecm') return { ad, complete: eid.complete };
  const pkt = decodePktAd(c, name);
  if (!pkt) return { ad, complete: false };
  ad.pktAd = pkt.pktAd;
  return { ad, complete: pkt.complete };
}

/**
 * The window a Length field declares, `fixed` bytes (Length field included) at least. Notes a Length
 * below the fixed part or beyond the data; the window is clipped to the data either way.
 */
function lengthWindow(c: Cursor, at: number, len: number, fixed: number, what: string): { win: Cursor; complete: boolean } {
  let complete = true;
  if (len < fixed) {
    c.note(`${what} Length ${len} is less than its ${fixed} bytes of fixed fields`, at);
    complete = false;
  }
  // The Length's own word has been read.
  const body = Math.max(len, fixed) - (c.pos - at);
  if (body > c.remaining) {
    c.note(`${what} Length ${len} exceeds the ${c.remaining + c.pos - at} bytes left`, at);
    complete = false;
  }
  const win = c.window(body);
  c.pos = win.end;
  return { win, complete };
}

function decodeOtkAd(c: Cursor, name: string): { otkAd: OtkAd; complete: boolean } | undefined {
  const at = c.pos;
  const otkAd: OtkAd = { wrappingId: 0, preamble: new Uint8Array(0), otk: new Uint8Array(0) };
  const counts = readStruct(c, OTK_AD, otkAd, `${name} OTK-AD Length and OTK Wrapping ID`);
  if (!counts) return undefined;
  const wrappingId = otkAd.wrappingId;
  const { win, complete } = lengthWindow(c, at, counts.otkAdLength!, OTK_AD_FIXED, `${name} OTK-AD`);
  if (!win.need(PREAMBLE_LENGTH, `${name} OTK Preamble`)) {
    otkAd.preamble = win.rest();
    return { otkAd, complete: false };
  }
  otkAd.preamble = win.take(PREAMBLE_LENGTH);
  const otkAt = win.pos;
  otkAd.otk = win.rest();
  const wrap = LISP_SEC_KEY_WRAP_IDS.get(wrappingId);
  if (!wrap) {
    c.warn(`${name}: unknown OTK Wrapping ID ${wrappingId}`, at + 2);
  } else {
    if (otkAd.otk.length !== wrap.otkLength) {
      c.warn(`${name}: One-Time Key is ${otkAd.otk.length} bytes, ${wrap.name} carries ${wrap.otkLength}`, otkAt);
    }
    if (!wrap.wrapped && otkAd.preamble.some((b) => b !== 0)) {
      c.warn(`${name}: OTK Preamble is not zero although ${wrap.name} does not wrap the OTK`, otkAt - PREAMBLE_LENGTH);
    }
  }
  return { otkAd, complete };
}

function checkHmac(c: Cursor, id: number, hmac: Uint8Array, what: string, at: number): void {
  const alg = LISP_SEC_HMAC_IDS.get(id);
  if (!alg) c.warn(`${what} HMAC ID ${id} is unknown`, at);
  else if (hmac.length !== alg.length) c.warn(`${what} HMAC is ${hmac.length} bytes, ${alg.name} is ${alg.length}`, at);
}

function decodeEidAd(c: Cursor, name: string): { eidAd: EidAd; complete: boolean } | undefined {
  const at = c.pos;
  const eidAd: EidAd = { kdfId: 0 };
  const counts = readStruct(c, EID_AD, eidAd, `${name} EID-AD Length and KDF ID`);
  if (!counts) return undefined;
  const len = counts.eidAdLength!;
  // The ITR's EID-AD: only the KDF ID, the Map-Server fills in the rest.
  if (len === EID_AD_KDF_ONLY) return { eidAd, complete: true };
  const { win, complete } = lengthWindow(c, at, len, EID_AD_FIXED, `${name} EID-AD`);
  const hmacAt = win.pos + 2;
  const second = readStruct(win, EID_AD_HMAC, eidAd, `${name} EID-AD Record Count and EID HMAC ID`);
  if (!second) return { eidAd, complete: false };
  const count = second.recordCount!;
  eidAd.records = [];
  for (let i = 0; i < count; i++) {
    const p = decodeEidPrefix(win, `${name} EID-AD record ${i + 1} of ${count}`);
    if (!p) return { eidAd, complete: false };
    eidAd.records.push(p);
    // An unknown AFI took the rest of the EID-AD: no HMAC left to read.
    if (p.prefix.kind === 'unknown') return { eidAd, complete: false };
  }
  eidAd.eidHmac = win.rest();
  // A cut HMAC has already been reported by its Length.
  if (complete) checkHmac(c, eidAd.eidHmacId!, eidAd.eidHmac, `${name} EID-AD`, hmacAt);
  return { eidAd, complete };
}

function decodePktAd(c: Cursor, name: string): { pktAd: PktAd; complete: boolean } | undefined {
  const at = c.pos;
  const pktAd: PktAd = { pktHmacId: 0, pktHmac: new Uint8Array(0) };
  const counts = readStruct(c, PKT_AD, pktAd, `${name} PKT-AD Length and PKT HMAC ID`);
  if (!counts) return undefined;
  const { win, complete } = lengthWindow(c, at, counts.pktAdLength!, PKT_AD_FIXED, `${name} PKT-AD`);
  pktAd.pktHmac = win.rest();
  if (complete) checkHmac(c, pktAd.pktHmacId, pktAd.pktHmac, `${name} PKT-AD`, at + 2);
  return { pktAd, complete };
}

// ---- encoding --------------------------------------------------------------------------------

export function encodeLispSec(w: Writer, ad: LispSecAd): void {
  writeStruct(w, AD_HEADER, ad);
  if (ad.data) {
    w.bytes(ad.data);
    return;
  }
  if (ad.otkAd) encodeOtkAd(w, ad.otkAd);
  if (ad.eidAd) encodeEidAd(w, ad.eidAd);
  if (ad.pktAd) {
    writeStruct(w, PKT_AD, ad.pktAd, { pktAdLength: pktAdLength(ad.pktAd) });
    w.bytes(ad.pktAd.pktHmac);
  }
}

function encodeOtkAd(w: Writer, o: OtkAd): void {
  if (o.preamble.length !== PREAMBLE_LENGTH) throw new RangeError(`the OTK Preamble is ${PREAMBLE_LENGTH} bytes, not ${o.preamble.length}`);
  writeStruct(w, OTK_AD, o, { otkAdLength: otkAdLength(o) });
  w.bytes(o.preamble).bytes(o.otk);
}

function encodeEidAd(w: Writer, e: EidAd): void {
  if (e.eidHmacId === undefined) {
    writeStruct(w, EID_AD, e, { eidAdLength: EID_AD_KDF_ONLY });
    return;
  }
  const records = e.records ?? [];
  if (records.length > 255) throw new RangeError(`an EID-AD carries at most 255 records, not ${records.length}`);
  const start = w.len;
  writeStruct(w, EID_AD, e, { eidAdLength: 0 });
  writeStruct(w, EID_AD_HMAC, e, { recordCount: records.length });
  records.forEach((p) => encodeEidPrefix(w, p));
  w.bytes(e.eidHmac ?? new Uint8Array(0));
  w.patch16(start, w.len - start);
}
