// Mapping records, locators and referral records (RFC 9301 §5.4, RFC 8111 §6).

import { decodeAddress, encodeAddress } from './address.js';
import type { Cursor, Writer } from './cursor.js';
import { AFI_MAX_MASK } from './registry.js';
import type { EidPrefix, LispAddress, Locator, MappingRecord, ReferralRecord, ReferralSignature } from './types.js';

/** A mask-len larger than the address allows is kept but noted (pitfall 18). */
function checkMask(c: Cursor, eid: LispAddress, maskLen: number, what: string, at: number): void {
  let a = eid;
  if (a.kind === 'lcaf' && a.lcaf.body.kind === 'instance-id') a = a.lcaf.body.address;
  const max = AFI_MAX_MASK.get(a.afi);
  if (max !== undefined && a.kind !== 'lcaf' && maskLen > max) {
    c.note(`${what}: EID mask-len ${maskLen} exceeds ${max} for AFI ${a.afi}`, at);
  }
}

export function decodeLocator(c: Cursor, what: string): Locator | undefined {
  if (!c.need(6, `${what} header`)) return undefined;
  const priority = c.u8();
  const weight = c.u8();
  const mpriority = c.u8();
  const mweight = c.u8();
  const flags = c.u16();
  const rloc = decodeAddress(c, 0, `${what} RLOC`);
  if (!rloc) return undefined;
  const loc: Locator = {
    priority,
    weight,
    mpriority,
    mweight,
    local: (flags & 4) !== 0,
    probed: (flags & 2) !== 0,
    reachable: (flags & 1) !== 0,
    rloc,
  };
  if (flags & 0xfff8) loc.unusedFlags = flags >> 3;
  return loc;
}

export function encodeLocator(w: Writer, l: Locator): void {
  w.u8(l.priority).u8(l.weight).u8(l.mpriority).u8(l.mweight);
  w.u16(((l.unusedFlags ?? 0) << 3) | (l.local ? 4 : 0) | (l.probed ? 2 : 0) | (l.reachable ? 1 : 0));
  encodeAddress(w, l.rloc);
}

/**
 * Reads one mapping record. Returns undefined when it could not even read the EID; a record whose
 * locators ran out is returned with the locators that fit (the notes say what is missing), with
 * `complete` false so the caller stops reading further records.
 */
export function decodeMappingRecord(
  c: Cursor,
  what: string,
): { record: MappingRecord; complete: boolean } | undefined {
  const at = c.pos;
  if (!c.need(12, `${what} header`)) return undefined;
  const ttl = c.u32();
  const locCount = c.u8();
  const eidMaskLen = c.u8();
  const w2 = c.u16();
  const w3 = c.u16();
  const rsvd = w3 >> 12;
  const mapVersion = w3 & 0x0fff;
  const eid = decodeAddress(c, 0, `${what} EID`);
  if (!eid) return undefined;
  checkMask(c, eid, eidMaskLen, what, at);
  const record: MappingRecord = {
    ttl,
    eidMaskLen,
    action: w2 >> 13,
    authoritative: (w2 & 0x1000) !== 0,
    mapVersion,
    eid,
    locators: [],
  };
  if (w2 & 0x0fff) record.reserved = w2 & 0x0fff;
  if (rsvd) record.rsvd = rsvd;
  const cut = (): { record: MappingRecord; complete: false } => {
    if (record.locators.length < locCount) record.declaredLocatorCount = locCount;
    return { record, complete: false };
  };
  if (eid.kind === 'unknown') return cut();
  for (let i = 0; i < locCount; i++) {
    const loc = decodeLocator(c, `${what} locator ${i + 1} of ${locCount}`);
    if (!loc) return cut();
    record.locators.push(loc);
    if (loc.rloc.kind === 'unknown') return cut();
  }
  return { record, complete: true };
}

export function encodeMappingRecord(w: Writer, r: MappingRecord): void {
  w.u32(r.ttl).u8(r.declaredLocatorCount ?? r.locators.length).u8(r.eidMaskLen);
  w.u16(((r.action & 7) << 13) | (r.authoritative ? 0x1000 : 0) | ((r.reserved ?? 0) & 0x0fff));
  w.u16((((r.rsvd ?? 0) & 0xf) << 12) | (r.mapVersion & 0x0fff));
  encodeAddress(w, r.eid);
  for (const l of r.locators) encodeLocator(w, l);
}

/** Reads `count` mapping records, stopping (with notes) at the first that does not fit. */
export function decodeMappingRecords(c: Cursor, count: number, kind: string): MappingRecord[] {
  const records: MappingRecord[] = [];
  for (let i = 0; i < count; i++) {
    const r = decodeMappingRecord(c, `${kind} record ${i + 1} of ${count}`);
    if (!r) break;
    records.push(r.record);
    if (!r.complete) break;
  }
  return records;
}

export function decodeEidPrefix(c: Cursor, what: string): EidPrefix | undefined {
  const at = c.pos;
  if (!c.need(2, `${what} mask-len`)) return undefined;
  const reserved = c.u8();
  const maskLen = c.u8();
  const prefix = decodeAddress(c, 0, `${what} EID`);
  if (!prefix) return undefined;
  checkMask(c, prefix, maskLen, what, at);
  const p: EidPrefix = { maskLen, prefix };
  if (reserved) p.reserved = reserved;
  return p;
}

export function encodeEidPrefix(w: Writer, p: EidPrefix): void {
  w.u8(p.reserved ?? 0).u8(p.maskLen);
  encodeAddress(w, p.prefix);
}

export function decodeReferralRecord(
  c: Cursor,
  what: string,
): { record: ReferralRecord; complete: boolean } | undefined {
  const at = c.pos;
  if (!c.need(10, `${what} header`)) return undefined;
  const ttl = c.u32();
  const refCount = c.u8();
  const eidMaskLen = c.u8();
  const w2 = c.u16();
  const w3 = c.u16();
  const eid = decodeAddress(c, 0, `${what} EID`);
  if (!eid) return undefined;
  checkMask(c, eid, eidMaskLen, what, at);
  const sigCount = w3 >> 12;
  const record: ReferralRecord = {
    ttl,
    eidMaskLen,
    action: w2 >> 13,
    authoritative: (w2 & 0x1000) !== 0,
    incomplete: (w2 & 0x0800) !== 0,
    mapVersion: w3 & 0x0fff,
    eid,
    referrals: [],
    signatures: [],
  };
  if (w2 & 0x07ff) record.reserved = w2 & 0x07ff;
  const cut = (): { record: ReferralRecord; complete: false } => {
    if (record.referrals.length < refCount) record.declaredReferralCount = refCount;
    if (record.signatures.length < sigCount) record.declaredSignatureCount = sigCount;
    return { record, complete: false };
  };
  if (eid.kind === 'unknown') return cut();
  for (let i = 0; i < refCount; i++) {
    const loc = decodeLocator(c, `${what} referral ${i + 1} of ${refCount}`);
    if (!loc) return cut();
    record.referrals.push(loc);
    if (loc.rloc.kind === 'unknown') return cut();
  }
  for (let i = 0; i < sigCount; i++) {
    const sig = decodeSignature(c, `${what} signature ${i + 1} of ${sigCount}`);
    if (!sig) return cut();
    record.signatures.push(sig);
  }
  return { record, complete: true };
}

function decodeSignature(c: Cursor, what: string): ReferralSignature | undefined {
  if (!c.need(20, `${what} header`)) return undefined;
  const originalTtl = c.u32();
  const expiration = c.u32();
  const inception = c.u32();
  const keyTag = c.u16();
  const sigLen = c.u16();
  const algorithm = c.u8();
  const reserved = (c.u8() << 16) | c.u16();
  if (!c.need(sigLen, `${what} data`)) return undefined;
  const sig: ReferralSignature = { originalTtl, expiration, inception, keyTag, algorithm, signature: c.take(sigLen) };
  if (reserved) sig.reserved = reserved;
  return sig;
}

export function encodeReferralRecord(w: Writer, r: ReferralRecord): void {
  w.u32(r.ttl).u8(r.declaredReferralCount ?? r.referrals.length).u8(r.eidMaskLen);
  w.u16(((r.action & 7) << 13) | (r.authoritative ? 0x1000 : 0) | (r.incomplete ? 0x0800 : 0) | ((r.reserved ?? 0) & 0x07ff));
  w.u16((((r.declaredSignatureCount ?? r.signatures.length) & 0xf) << 12) | (r.mapVersion & 0x0fff));
  encodeAddress(w, r.eid);
  for (const l of r.referrals) encodeLocator(w, l);
  for (const s of r.signatures) {
    w.u32(s.originalTtl).u32(s.expiration).u32(s.inception).u16(s.keyTag).u16(s.signature.length);
    w.u8(s.algorithm).u8(((s.reserved ?? 0) >> 16) & 0xff).u16((s.reserved ?? 0) & 0xffff);
    w.bytes(s.signature);
  }
}
