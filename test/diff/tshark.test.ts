// Differential test: every LISP frame of every capture (other implementations' and our fixtures)
// decoded by us and by tshark's LISP dissector must agree field by field.
//
// Deliberate differences, each with its justification:
// - Map-Notify-Ack (type 5, RFC 9301 §5.7) and the Shared Extension Message (type 15, RFC 9304 §3)
//   are not decoded by tshark 4.0: only lisp.type is compared for them.
// - Frames either side finds malformed are compared only on the fields before the damage is
//   irrelevant to: we check that both flag them (tshark: _ws.malformed / expert) instead.
// - IP/UDP fields: tshark also dissects the packet inside a LISP data header; we summarise it, so
//   our outer (and ECM inner) values must be a prefix of tshark's list.
// - Between ports 4342 and 4341 we decide by content (JSON contract; NAT-traversal draft: the
//   Info-Reply and Data-Map-Notify go from 4342 to the MN's 4341); tshark 4.0 decodes such a
//   control message as a data header. Those frames are skipped. Likewise data an RTR sends from
//   port 4342 (a data header and a whole IP packet) is data for us and "Unknown LISP Control
//   Packet (0)" for tshark 4.0: skipped when tshark says type 0.
// - Notes: only error-level notes make a frame malformed (warnings such as lispers.net's
//   xTR-ID without the I bit do not), so such frames are compared like any other.
// - ICMP errors quoting LISP and LISP inside LISP data: tshark dissects both; the quoted / inner
//   LISP is compared like a top-level message (tshark keeps the quoted IP/UDP inside its icmp layer).
//   An ICMP error that quotes LISP ports but no LISP byte (IP header + 8 bytes) is ours to report
//   and has no lisp layer in tshark: skipped.
// - A Distinguished Name source EID (AFI 17) ends tshark's Map-Request; LISP-GPE's 16-bit nonce
//   (RFC 9305 §3) is read as 24 bits by tshark: see ourFields for both.
// - LISP-SEC (RFC 9303) is not decoded by tshark 4.0 (it has no field for it): it ignores the
//   Authentication Data after a Map-Reply's records, and in an ECM with S=1 it looks for the inner
//   IP header where the AD sits (RFC 9301 §5.8, RFC 9303 §6.1), so it decodes no inner packet. For
//   such ECMs only the ECM header is compared (see ourFields); Map-Replies compare as usual.
// - Reliable transport (TCP 4342, tshark's lisp-tcp): both report every message at the frame whose
//   segment completed it; tshark is told to reassemble segments that arrive early, as we do.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMalformed } from '../../src/capture/packets.js';
import { haveTshark, ourFields, ourPackets, requireTool, tsharkFields, type FieldMap } from '../support/tshark.js';

const SHARED = join(import.meta.dirname, '../../../shared/captures');
const FIXTURES = join(import.meta.dirname, '../../pcaps');

function captures(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => /\.pcap(ng)?$/.test(f))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

const PREFIX_FIELDS = /^(ip|ipv6|udp)\./;
const REQUIRED = [
  'lisp.type',
  'lisp.nonce',
  'lisp.records',
  'lisp.irc',
  'lisp.keyid',
  'lisp.mapping.ttl',
  'lisp.loc.priority',
  'lisp-data.flags.nonce',
  'lisp-tcp.message.type',
  'lisp-tcp.message.id',
  'lisp-tcp.message.eid.prefix.length',
  'lisp-tcp.message.registration_reject.reason',
  'lisp-tcp.message.xtrid',
  'vxlan.vni',
];
/** tshark's own marks of a LISP frame: UDP control, data, reliable transport (TCP 4342), VXLAN (a LISP fabric's data plane). */
const isLisp = (t: FieldMap) => t.has('lisp.type') || t.has('lisp-data.flags.nonce') || t.has('lisp-tcp.message.type') || t.has('vxlan.vni');
/** tshark 4.0 leaves TCP segments that arrive early out of reassembly unless told. */
const TSHARK_ARGS = ['-o', 'tcp.reassemble_out_of_order:TRUE'];

function compare(file: string, frame: number, ours: FieldMap & { malformed?: boolean }, theirs: FieldMap): string[] {
  const problems: string[] = [];
  const type = ours.get('lisp.type')?.[0];
  const names = type === '5' || type === '15' ? ['lisp.type'] : [...ours.keys()];
  for (const name of names) {
    const a = ours.get(name)!;
    const b = theirs.get(name) ?? [];
    const same = PREFIX_FIELDS.test(name) ? a.every((v, i) => b[i] === v) : a.length === b.length && a.every((v, i) => b[i] === v);
    if (!same) problems.push(`${file} frame ${frame}: ${name}: ours ${JSON.stringify(a)} tshark ${JSON.stringify(b)}`);
  }
  if (type !== '5' && type !== '15') {
    for (const name of REQUIRED) {
      if (theirs.has(name) && !ours.has(name)) problems.push(`${file} frame ${frame}: we lack ${name} (tshark ${theirs.get(name)})`);
    }
  }
  return problems;
}

describe('differential: the reliable-transport session of ndpi__lisp_registration.pcap', () => {
  const file = join(SHARED, 'ndpi__lisp_registration.pcap');
  const FIELDS = [
    'lisp-tcp.message.type',
    'lisp-tcp.message.length',
    'lisp-tcp.message.id',
    'lisp-tcp.message.eid.prefix.length',
    'lisp-tcp.message.eid.prefix.afi',
    'lisp.lcaf.iid',
    'lisp.lcaf.iid.afi',
    'lisp.lcaf.iid.ipv4',
    'lisp.lcaf.iid.ipv6',
    'lisp-tcp.message.registration_reject.reason',
    'lisp-tcp.message.registration_refresh.scope',
    'lisp-tcp.message.registration_refresh.flags.rejected',
    'lisp-tcp.message.xtrid',
    'lisp-tcp.message.siteid',
    'lisp-tcp.message.end_marker',
    'lisp.nonce',
    'lisp.keyid',
    'lisp.auth',
    'lisp.mapping.ttl',
    'lisp.mapping.eid.masklen',
    'lisp.mapping.eid.afi',
    'lisp.mapping.eid.ipv4',
    'lisp.mapping.eid.ipv6',
    'lisp.loc.priority',
    'lisp.loc.weight',
    'lisp.loc.locator',
    'lisp.xtrid',
    'lisp.siteid',
  ];

  it('agrees message by message on frames 12-14 and 27-29', async () => {
    if (!requireTool('tshark', haveTshark())) return;
    if (!existsSync(file)) return;
    const theirs = tsharkFields(file, TSHARK_ARGS);
    const ours = await ourPackets(file, (p) => ourFields(p));
    const problems: string[] = [];
    for (const frame of [12, 13, 14, 27, 28, 29]) {
      const o = ours.get(frame);
      const t = theirs.get(frame)!;
      if (!o) {
        problems.push(`frame ${frame}: we decode nothing`);
        continue;
      }
      for (const name of FIELDS) {
        if (JSON.stringify(o.get(name)) !== JSON.stringify(t.get(name))) {
          problems.push(`frame ${frame} ${name}: ours ${JSON.stringify(o.get(name))} tshark ${JSON.stringify(t.get(name))}`);
        }
      }
    }
    expect(problems).toEqual([]);
    // The frame the session's answers arrive in: ACK, Reject, Mapping Notification, ...
    expect(ours.get(29)!.get('lisp-tcp.message.type')).toEqual(['18', '19', '21', '18', '19', '21', '18', '21', '18', '21']);
    expect(ours.get(29)!.get('lisp-tcp.message.registration_reject.reason')).toEqual(['1', '1']);
    // The handshake and pure ACKs are not LISP, for tshark as for us.
    for (const frame of [24, 25, 26, 30]) expect(ours.has(frame)).toBe(false);
  });
});

describe('differential: tshark LISP dissector', () => {
  const files = [...captures(SHARED), ...captures(FIXTURES)];
  it('finds captures to compare', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  for (const file of files) {
    it(`agrees on ${file.split('/').slice(-2).join('/')}`, async () => {
      if (!requireTool('tshark', haveTshark())) return;
      const theirs = tsharkFields(file, TSHARK_ARGS);
      const ours = await ourPackets(file, (p) => ({
        fields: ourFields(p),
        malformed: isMalformed(p),
        lisp: !!p.kind,
        crossPorts: p.udp?.srcPort === 4342 && p.udp.dstPort === 4341,
        dataFromControlPort: p.byContent === 'data' && p.udp?.srcPort === 4342,
        icmpWithoutLisp: !!p.icmp && !p.icmp.quoted.lisp,
      }));
      const problems: string[] = [];
      let compared = 0;
      let malformed = 0;
      for (const [frame, o] of ours) {
        if (!o.lisp) continue;
        const t = theirs.get(frame);
        if (!t) {
          problems.push(`${file} frame ${frame}: tshark has no such frame`);
          continue;
        }
        if (o.malformed || t.has('_ws.malformed')) {
          malformed++;
          continue;
        }
        if (o.crossPorts && o.fields.has('lisp.type') && t.has('lisp-data.flags.nonce')) continue;
        if (o.dataFromControlPort && t.get('lisp.type')?.[0] === '0') continue;
        if (o.icmpWithoutLisp) continue;
        if (!isLisp(t)) {
          problems.push(`${file} frame ${frame}: we decode LISP, tshark does not`);
          continue;
        }
        problems.push(...compare(file, frame, o.fields, t));
        compared++;
      }
      for (const [frame, t] of theirs) {
        if (isLisp(t) && !ours.get(frame)?.lisp) {
          problems.push(`${file} frame ${frame}: tshark decodes LISP, we do not`);
        }
      }
      expect(problems).toEqual([]);
      // Every file has something to compare, or is broken on purpose.
      expect(compared + malformed).toBeGreaterThan(0);
    });
  }
});
