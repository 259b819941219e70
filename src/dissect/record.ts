// Mapping records, locators and referral records (RFC 9301 §5.4, RFC 8111 §6).

import { decodeAddress, encodeAddress } from './address.js';
import type { Cursor, Writer } from './cursor.js';
import { readStruct, structSize, writeStruct } from './field.js';
import { EID_RECORD, LOCATOR, MAPPING_RECORD, REFERRAL_RECORD } from './fields.js';
import { AFI_MAX_MASK } from './registry.js';
import type { EidPrefix, LispAddress, Locator, MappingRecord, ReferralRecord, ReferralSignature } from './types.js';

const NO_ADDRESS: LispAddress = { kind: 'none', afi: 0 };

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
  const loc: Locator = { priority: 0, weight: 0, mpriority: 0, mweight: 0, local: false, probed: false, reachable: false, rloc: NO_ADDRESS };
  if (!readStruct(c, LOCATOR, loc, `${what} header`)) return undefined;
  const rloc = decodeAddress(c, 0, `${what} RLOC`);
  if (!rloc) return undefined;
  loc.rloc = rloc;
  return loc;
}

export function encodeLocator(w: Writer, l: Locator): void {
  writeStruct(w, LOCATOR, l);
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
  const record: MappingRecord = { ttl: 0, eidMaskLen: 0, action: 0, authoritative: false, mapVersion: 0, eid: NO_ADDRESS, locators: [] };
  // The header and the EID's AFI.
  const counts = readStruct(c, MAPPING_RECORD, record, `${what} header`, structSize(MAPPING_RECORD) + 2);
  if (!counts) return undefined;
  const locCount = counts.locatorCount!;
  const eid = decodeAddress(c, 0, `${what} EID`);
  if (!eid) return undefined;
  record.eid = eid;
  checkMask(c, eid, record.eidMaskLen, what, at);
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

/** The counts of a record's header: as the wire said them when fewer were there to decode. */
export function recordCounts(r: MappingRecord): Record<string, number> {
  return { locatorCount: r.declaredLocatorCount ?? r.locators.length };
}

export function referralCounts(r: ReferralRecord): Record<string, number> {
  return { referralCount: r.declaredReferralCount ?? r.referrals.length, signatureCount: r.declaredSignatureCount ?? r.signatures.length };
}

export function encodeMappingRecord(w: Writer, r: MappingRecord): void {
  writeStruct(w, MAPPING_RECORD, r, recordCounts(r));
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
  const p: EidPrefix = { maskLen: 0, prefix: NO_ADDRESS };
  if (!readStruct(c, EID_RECORD, p, `${what} mask-len`)) return undefined;
  const prefix = decodeAddress(c, 0, `${what} EID`);
  if (!prefix) return undefined;
  checkMask(c, prefix, p.maskLen, what, at);
  p.prefix = prefix;
  return p;
}

export function encodeEidPrefix(w: Writer, p: EidPrefix): void {
  writeStruct(w, EID_RECORD, p);
  encodeAddress(w, p.prefix);
}

export function decodeReferralRecord(
  c: Cursor,
  what: string,
): { record: ReferralRecord; complete: boolean } | undefined {
  const at = c.pos;
  const record: ReferralRecord = {
    ttl: 0,
    eidMaskLen: 0,
    action: 0,
    authoritative: false,
    incomplete: false,
    mapVersion: 0,
    eid: NO_ADDRESS,
    referrals: [],
    signatures: [],
  };
  const counts = readStruct(c, REFERRAL_RECORD, record, `${what} header`);
  if (!counts) return undefined;
  const refCount = counts.referralCount!;
  const sigCount = counts.signatureCount!;
  const eid = decodeAddress(c, 0, `${what} EID`);
  if (!eid) return undefined;
  record.eid = eid;
  checkMask(c, eid, record.eidMaskLen, what, at);
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
  writeStruct(w, REFERRAL_RECORD, r, referralCounts(r));
  encodeAddress(w, r.eid);
  for (const l of r.referrals) encodeLocator(w, l);
  for (const s of r.signatures) {
    w.u32(s.originalTtl).u32(s.expiration).u32(s.inception).u16(s.keyTag).u16(s.signature.length);
    w.u8(s.algorithm).u8(((s.reserved ?? 0) >> 16) & 0xff).u16((s.reserved ?? 0) & 0xffff);
    w.bytes(s.signature);
  }
}
