// LISP-SEC (RFC 9303 §6): the Authentication Data of an S=1 ECM (before the inner IP header) and of
// an S=1 Map-Reply (after the records), decoded, encoded, flagged when damaged, and shown.

import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PacketDecoder, type LispPacket } from '../../src/capture/packets.js';
import { readCapture } from '../../src/capture/source.js';
import { concatBytes, fromHex } from '../../src/dissect/addr.js';
import {
  ecm,
  ecmLispSec,
  eidAd,
  mapReply,
  mapReplyLispSec,
  mapRequest,
  mappingRecord,
  signMapReplyPktAd,
} from '../../src/dissect/build.js';
import { decodeControl, encodeControl } from '../../src/dissect/control.js';
import { ecmInnerBytes } from '../../src/dissect/ecm.js';
import type { Ecm, MapReply } from '../../src/dissect/types.js';
import { packetJsonText } from '../../src/output/json.js';
import { controlSummary } from '../../src/output/line.js';
import { PLAIN } from '../../src/output/style.js';
import { controlTree, type TreeNode } from '../../src/output/tree.js';

const hx = (h: string) => fromHex(h)!;
const OTK = hx('00112233445566778899aabbccddeeff');
const MS_OTK = hx('ffeeddccbbaa99887766554433221100');
const NONCE = 0x0123456789abcdefn;
const req = mapRequest({ nonce: NONCE, eids: ['10.2.0.7/32'], itrRlocs: ['192.0.2.10'] });
const msEidAd = eidAd({ eids: ['10.2.0.0/16'], otk: OTK });

/** ITR -> Map-Resolver: OTK in clear, the KDF-only EID-AD. */
const itrEcm = (): Ecm => ecm({ lispSec: ecmLispSec({ otk: OTK }), inner: { src: '192.0.2.10', dst: '10.2.0.7', sport: 61001 }, message: req });
/** Map-Server -> ETR (E): a wrapped MS-OTK and the signed EID-AD. */
const msEcm = (): Ecm =>
  ecm({
    toEtr: true,
    lispSec: ecmLispSec({ otk: MS_OTK, wrappingId: 2, preamble: hx('a6a6a6a6a6a6a6a6'), eidAd: msEidAd }),
    inner: { src: '192.0.2.10', dst: '10.2.0.7', sport: 61001 },
    message: req,
  });
const reply = (): MapReply =>
  signMapReplyPktAd(
    mapReply({ nonce: NONCE, records: [mappingRecord({ eid: '10.2.0.0/16', locators: [{ rloc: '203.0.113.50', local: true }] })], lispSec: mapReplyLispSec({ eidAd: msEidAd }) }),
    MS_OTK,
  );

const hmac256 = (key: Uint8Array, data: Uint8Array) => new Uint8Array(createHmac('sha256', key).update(data).digest().subarray(0, 16));

function clean(bytes: Uint8Array) {
  const d = decodeControl(bytes);
  expect(d.notes).toEqual([]);
  return d.value;
}

describe('ECM with LISP-SEC (RFC 9303 §6.1)', () => {
  it('puts the AD between the ECM header and the inner IP header, field by field', () => {
    const bytes = encodeControl(itrEcm());
    // ECM header with S, then AD Type 1 and 24 reserved bits.
    expect([...bytes.subarray(0, 8)]).toEqual([0x88, 0, 0, 0, 1, 0, 0, 0]);
    // OTK-AD: Length 28 (itself, Wrapping ID, 8-byte Preamble, 16-byte OTK), NULL-KEY-WRAP-128 (1).
    expect([...bytes.subarray(8, 12)]).toEqual([0, 28, 0, 1]);
    expect([...bytes.subarray(12, 20)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(bytes.subarray(20, 36)).toEqual(OTK);
    // The ITR's EID-AD: Length 4, KDF ID 2 (HKDF-SHA256-128), nothing else.
    expect([...bytes.subarray(36, 40)]).toEqual([0, 4, 0, 2]);
    // The inner IPv4 header follows.
    expect(bytes[40]! >> 4).toBe(4);
    const d = clean(bytes) as Ecm;
    expect(d).toEqual(itrEcm());
    expect(d.lispSec).toEqual({ adType: 1, otkAd: { wrappingId: 1, preamble: new Uint8Array(8), otk: OTK }, eidAd: { kdfId: 2 } });
    expect(d.inner?.message).toEqual(req);
    // The inner message is found behind the AD (what --keys verification of an ECM'd message uses).
    expect(ecmInnerBytes(bytes)).toEqual(encodeControl(req));
  });

  it("decodes the Map-Server's EID-AD, whose EID HMAC covers the EID-AD with the HMAC zeroed", () => {
    const bytes = encodeControl(msEcm());
    const d = clean(bytes) as Ecm;
    expect(d).toEqual(msEcm());
    const e = d.lispSec!.eidAd!;
    expect(e).toMatchObject({ kdfId: 2, eidHmacId: 2, records: [{ maskLen: 16, prefix: { kind: 'ipv4', addr: '10.2.0.0' } }] });
    // EID-AD at 36: Length 4+4+8 (record) +16 (HMAC) = 32.
    expect([...bytes.subarray(36, 38)]).toEqual([0, 32]);
    const zeroed = concatBytes(bytes.subarray(36, 52), new Uint8Array(16));
    expect(e.eidHmac).toEqual(hmac256(OTK, zeroed));
  });

  it('flags an S bit without AD, and keeps an unknown AD Type as bytes', () => {
    const plain = encodeControl(ecm({ inner: { src: '192.0.2.10', dst: '10.2.0.7', sport: 61001 }, message: req }));
    plain[0] = 0x88;
    const a = decodeControl(plain);
    expect(a.notes).toEqual([{ offset: 4, message: 'ECM S bit set but no LISP-SEC Authentication Data: an IPv4 header follows the ECM header', level: 'warning' }]);
    expect((a.value as Ecm).inner?.message).toEqual(req);

    const bytes = encodeControl(itrEcm());
    bytes[4] = 9;
    const b = decodeControl(bytes);
    expect(b.notes).toEqual([{ offset: 4, message: 'ECM: unknown LISP-SEC AD Type 9: the rest kept as bytes', level: 'error' }]);
    const v = b.value as Ecm;
    expect(v.lispSec).toEqual({ adType: 9, data: bytes.subarray(8) });
    expect(v.inner).toBeUndefined();
    expect(encodeControl(v)).toEqual(bytes);
  });

  it('flags an unknown Wrapping ID, a key of the wrong size, a non-zero Preamble with no wrapping', () => {
    const odd = ecm({ lispSec: ecmLispSec({ otk: new Uint8Array(8), wrappingId: 9 }), inner: { src: '192.0.2.10', dst: '10.2.0.7', sport: 1 }, message: req });
    expect(decodeControl(encodeControl(odd)).notes.map((n) => n.message)).toEqual(['ECM: unknown OTK Wrapping ID 9']);
    const short = ecm({ lispSec: ecmLispSec({ otk: new Uint8Array(8), preamble: hx('0000000000000001') }), inner: { src: '192.0.2.10', dst: '10.2.0.7', sport: 1 }, message: req });
    expect(decodeControl(encodeControl(short)).notes).toEqual([
      { offset: 20, message: 'ECM: One-Time Key is 8 bytes, NULL-KEY-WRAP-128 carries 16', level: 'warning' },
      { offset: 12, message: 'ECM: OTK Preamble is not zero although NULL-KEY-WRAP-128 does not wrap the OTK', level: 'warning' },
    ]);
  });

  it('a cut at every byte of the AD is noted, never thrown, the ECM header still decoded', () => {
    const bytes = encodeControl(msEcm());
    const adEnd = 4 + 4 + 28 + 32;
    for (let cut = 4; cut < adEnd; cut++) {
      const d = decodeControl(bytes.subarray(0, cut));
      expect(d.notes.length, `cut at ${cut}`).toBeGreaterThan(0);
      expect(d.notes.every((n) => n.offset >= 4 && n.offset <= cut), `cut at ${cut}`).toBe(true);
      const v = d.value as Ecm;
      expect(v).toMatchObject({ type: 8, security: true, toEtr: true });
      expect(v.inner).toBeUndefined();
      if (cut >= 8) expect(v.lispSec?.adType).toBe(1);
      if (cut >= 12) expect(v.lispSec?.otkAd?.wrappingId).toBe(2);
      if (cut >= 36) expect(v.lispSec?.otkAd?.otk).toEqual(MS_OTK);
    }
  });

  it('an OTK-AD or EID-AD Length that does not fit is noted at the Length', () => {
    const bytes = encodeControl(itrEcm());
    const big = bytes.slice();
    big[9] = 0xf0; // OTK-AD Length 240
    expect(decodeControl(big).notes[0]).toEqual({ offset: 8, message: `ECM OTK-AD Length 240 exceeds the ${bytes.length - 8} bytes left`, level: 'error' });
    const small = bytes.slice();
    small[9] = 6; // below its 12 bytes of fixed fields
    expect(decodeControl(small).notes[0]).toEqual({ offset: 8, message: 'ECM OTK-AD Length 6 is less than its 12 bytes of fixed fields', level: 'error' });
    const eid = bytes.slice();
    eid[37] = 6; // EID-AD Length 6: neither the ITR's 4 nor the 8 a full EID-AD needs at least
    expect(decodeControl(eid).notes[0]).toEqual({ offset: 36, message: 'ECM EID-AD Length 6 is less than its 8 bytes of fixed fields', level: 'error' });
  });
});

describe('Map-Reply with LISP-SEC (RFC 9303 §6.2)', () => {
  it('decodes EID-AD and PKT-AD after the records; the PKT HMAC covers the whole reply with itself zeroed', () => {
    const bytes = encodeControl(reply());
    const d = clean(bytes) as MapReply;
    expect(d).toEqual(reply());
    expect(d.security).toBe(true);
    const ad = d.lispSec!;
    expect(ad.eidAd).toEqual(msEidAd);
    expect(ad.pktAd?.pktHmacId).toBe(2);
    // PKT-AD = the last 20 bytes: Length 20, PKT HMAC ID 2, 16-byte HMAC.
    expect([...bytes.subarray(bytes.length - 20, bytes.length - 16)]).toEqual([0, 20, 0, 2]);
    const zeroed = concatBytes(bytes.subarray(0, bytes.length - 16), new Uint8Array(16));
    expect(ad.pktAd?.pktHmac).toEqual(hmac256(MS_OTK, zeroed));
  });

  it('flags S without AD, an unknown AD Type, an HMAC not of its algorithm size', () => {
    const m = mapReply({ nonce: NONCE, security: true, records: [] });
    expect(decodeControl(encodeControl(m)).notes).toEqual([{ offset: 12, message: 'Map-Reply S bit set but no LISP-SEC Authentication Data follows the records', level: 'warning' }]);
    const bytes = encodeControl(reply());
    const at = bytes.length - 20 - 32 - 4;
    expect(bytes[at]).toBe(1);
    const u = bytes.slice();
    u[at] = 3;
    const d = decodeControl(u);
    expect(d.notes).toEqual([{ offset: at, message: 'Map-Reply: unknown LISP-SEC AD Type 3: the rest kept as bytes', level: 'error' }]);
    expect((d.value as MapReply).records).toEqual(reply().records);
    const long = mapReply({ nonce: NONCE, records: [], lispSec: mapReplyLispSec({ eidAd: eidAd(), pktHmacId: 1, pktHmac: new Uint8Array(20) }) });
    expect(decodeControl(encodeControl(long)).notes.map((n) => n.message)).toEqual(['Map-Reply PKT-AD HMAC is 20 bytes, AUTH-HMAC-SHA-1-96 is 12']);
  });

  it('a cut at every byte of the AD is noted, never thrown, the records still decoded', () => {
    const full = reply();
    const bytes = encodeControl(full);
    const adStart = bytes.length - 20 - 32 - 4;
    for (let cut = adStart; cut < bytes.length; cut++) {
      const d = decodeControl(bytes.subarray(0, cut));
      expect(d.notes.length, `cut at ${cut}`).toBeGreaterThan(0);
      expect(d.notes.every((n) => n.offset >= adStart && n.offset <= cut), `cut at ${cut}`).toBe(true);
      const v = d.value as MapReply;
      expect(v.records).toEqual(full.records);
      expect(v.nonce).toBe(NONCE);
      if (cut >= adStart + 4 + 32) expect(v.lispSec?.eidAd).toEqual(msEidAd);
    }
  });
});

describe('LISP-SEC in the outputs', () => {
  it('-V: every field with the byte range it covers', () => {
    const bytes = encodeControl(msEcm());
    const tree = controlTree(decodeControl(bytes).value, 0);
    const sec = tree.children!.find((n) => n.label === 'LISP-SEC Authentication Data')!;
    expect([sec.start, sec.end]).toEqual([4, 68]);
    const find = (n: TreeNode, prefix: string): TreeNode | undefined =>
      n.label.startsWith(prefix) ? n : n.children?.map((c) => find(c, prefix)).find((x) => x);
    const range = (prefix: string) => {
      const n = find(sec, prefix)!;
      return [n.start, n.end];
    };
    expect(range('AD Type: LISP-SEC Authentication Data (1)')).toEqual([4, 5]);
    expect(range('OTK-AD Length: 28')).toEqual([8, 10]);
    expect(range('OTK Wrapping ID: AES-KEY-WRAP-128+HKDF-SHA256 (2)')).toEqual([10, 12]);
    expect(range('One-Time-Key Preamble: a6a6a6a6a6a6a6a6')).toEqual([12, 20]);
    // Key material is masked, as in Security Key LCAFs.
    expect(range('One-Time Key (MS-OTK): <16 bytes, masked>')).toEqual([20, 36]);
    expect(range('EID-AD Length: 32')).toEqual([36, 38]);
    expect(range('KDF ID: HKDF-SHA256-128 (2)')).toEqual([38, 40]);
    expect(range('EID HMAC ID: AUTH-HMAC-SHA-256-128 (2)')).toEqual([42, 44]);
    expect(range('EID Record 1: 10.2.0.0/16')).toEqual([44, 52]);
    expect(range('EID HMAC: ')).toEqual([52, 68]);
    expect(find(tree, 'Internet Protocol Version 4, Src: ')!.start).toBe(68);
    const sport = find(tree, 'Source Port: ')!;
    expect([sport.start, sport.end]).toEqual([88, 90]);

    const r = encodeControl(reply());
    const rt = controlTree(decodeControl(r).value, 0);
    expect(find(rt, 'PKT HMAC: ')!.end).toBe(r.length);
    expect(find(rt, 'PKT-AD Length: 20')!.start).toBe(r.length - 20);
  });

  it('the one-line summary names what LISP-SEC carries', () => {
    expect(controlSummary(itrEcm(), PLAIN)).toContain('ECM [sec] (lisp-sec otk) 192.0.2.10.61001 > 10.2.0.7.4342');
    expect(controlSummary(msEcm(), PLAIN)).toContain('(lisp-sec ms-otk, eid-ad 10.2.0.0/16)');
    expect(controlSummary(reply(), PLAIN)).toMatch(/, lisp-sec eid-ad 10\.2\.0\.0\/16, pkt-ad$/);
  });

  it('JSON: lisp_sec on the fixture, the OTK only with --show-keys', async () => {
    const packets: LispPacket[] = [];
    const decoder = new PacketDecoder({});
    await readCapture(join(import.meta.dirname, '../../pcaps/lisp-sec.pcap'), {
      frame: (f) => {
        const p = decoder.decode(f);
        if (p) packets.push(p);
      },
      warning: () => {},
    });
    const json = packets.map((p) => JSON.parse(packetJsonText(p)));
    expect(json[0].lisp_sec).toEqual({
      ad_type: 1,
      otk_ad: { carries: 'otk', wrapping_id: 1, wrapping: 'NULL-KEY-WRAP-128', preamble: '0000000000000000', otk_len: 16 },
      eid_ad: { kdf_id: 2, kdf: 'HKDF-SHA256-128' },
    });
    expect(json[0].inner.type).toBe('map-request');
    expect(json[1].lisp_sec.otk_ad).toMatchObject({ carries: 'ms-otk', wrapping_id: 2, wrapping: 'AES-KEY-WRAP-128+HKDF-SHA256' });
    expect(json[1].lisp_sec.eid_ad).toMatchObject({ eid_hmac_id: 2, eid_hmac_algorithm: 'AUTH-HMAC-SHA-256-128', eids: ['10.2.0.0/16'] });
    expect(json[2].lisp_sec.pkt_ad).toMatchObject({ pkt_hmac_id: 2, pkt_hmac_algorithm: 'AUTH-HMAC-SHA-256-128' });
    expect(json[2].lisp_sec.eid_ad).toEqual(json[1].lisp_sec.eid_ad);
    expect(json[3].malformed).toEqual(['Map-Reply PKT-AD Length 20 exceeds the 14 bytes left (at byte 76)']);
    expect(json[4]).toMatchObject({ type: 'ecm', lisp_sec: { ad_type: 7 }, malformed: ['ECM: unknown LISP-SEC AD Type 7: the rest kept as bytes (at byte 4)'] });
    expect(JSON.parse(packetJsonText(packets[0]!, { showKeys: true })).lisp_sec.otk_ad.otk).toMatch(/^[0-9a-f]{32}$/);
  });
});
