// Differential test: every LISP frame of every capture (other implementations' and our fixtures)
// decoded by us and by tshark's LISP dissector must agree field by field.
//
// Deliberate differences, each with its justification:
// - Map-Notify-Ack (type 5, RFC 9301 §5.7) and the Shared Extension Message (type 15, RFC 9304 §3)
//   are not decoded by tshark 4.0: only lisp.type is compared for them.
// - A frame either side finds damaged (ours: an error-level note; tshark: a LISP dissector that ran
//   out of bytes or threw, an error-level expert info in a LISP layer, or a frame the capture cut)
//   is compared up to the damage: each field's values as far as both sides got. Both sides must
//   find the damage, or the frame must match one of DELIBERATE_DAMAGE, which says why we differ.
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
import { isMalformed, type LispPacket } from '../../src/capture/packets.js';
import { DataFlag } from '../../src/dissect/data.js';
import { LIMITS, LISP_CONTROL_PORT, LISP_DATA_PORT, MessageType } from '../../src/dissect/registry.js';
import { DAMAGE, haveTshark, ourFields, ourPackets, requireTool, tsharkFields, type FieldMap } from '../support/tshark.js';

/** tshark is the oracle: missing, every comparison skips (and CI fails). */
const TSHARK = requireTool('tshark', haveTshark());
const SHARED = join(import.meta.dirname, '../../../shared/captures');
const FIXTURES = join(import.meta.dirname, '../../pcaps');

/** The captures of `dir`; a missing directory fails under CI and is skipped with a reason elsewhere. */
function captures(dir: string): string[] {
  if (!existsSync(dir)) {
    if (process.env.CI === 'true') throw new Error(`${dir} is required in CI but is missing`);
    console.warn(`skipping the captures of ${dir}: it is missing`);
    return [];
  }
  return readdirSync(dir)
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .map((f) => join(dir, f));
}

/** A capture a test needs: missing, it fails under CI and skips with a printed reason elsewhere. */
function requireCapture(file: string): boolean {
  if (existsSync(file)) return true;
  if (process.env.CI === 'true') throw new Error(`${file} is required in CI but is missing`);
  console.warn(`skipping: ${file} is missing`);
  return false;
}

/**
 * Frames one side finds damaged and the other does not, on purpose. Each is still compared up to
 * the damage; `ours` says which side sees it.
 */
const DELIBERATE_DAMAGE: { ours: boolean; reason: string; applies: (p: LispPacket) => boolean }[] = [
  {
    ours: true,
    reason: 'an unassigned control message type (RFC 9301 §12.2) cannot be decoded, and we say so; tshark 4.0 names it "Unknown LISP Control Packet" without an error',
    applies: (p) => !!p.control && 'unknown' in p.control && p.control.data.length > 0,
  },
  {
    ours: true,
    reason: 'an empty UDP datagram to the control port is an empty LISP message for us; tshark hands no bytes to LISP',
    applies: (p) => !!p.control && 'unknown' in p.control && p.control.data.length === 0,
  },
  {
    ours: true,
    reason: 'LISP-SEC Authentication Data (RFC 9303) that does not fit: tshark 4.0 does not decode LISP-SEC at all',
    applies: (p) => !!p.control && 'type' in p.control && (lispSecOf(p.control) !== undefined),
  },
  {
    ours: true,
    reason: `an ECM nested deeper than ${LIMITS.ecmDepth} levels: our bound on the work a crafted packet may cost (RFC 9301 §5.8 paths nest three)`,
    applies: (p) => p.notes.some((n) => n.level === 'error' && n.message.startsWith('ECM nested deeper')),
  },
  {
    ours: true,
    reason: 'a LISP data header without P (RFC 9300 §5.3) carries an IPv4 or IPv6 packet, so a payload that is neither is damage; tshark hands it to its data dissector',
    applies: (p) => !!p.data && !p.data.inner && (p.data.header.flags & (DataFlag.P | DataFlag.K)) === 0 && p.data.payload.length > 0,
  },
  {
    ours: false,
    reason: 'a Distinguished Name source EID (AFI 17): RFC 9301 §5.2 and RFC 8060 §4.1 allow any AFI there; tshark 4.0 stops at it',
    applies: (p) => p.control?.type === MessageType.MapRequest && 'sourceEid' in p.control && p.control.sourceEid.kind === 'dn',
  },
  {
    ours: false,
    reason: 'an ITR-RLOC of AFI 0, which RFC 9437 §5 uses to withdraw a subscription; tshark 4.0 stops at it',
    applies: (p) => p.control?.type === MessageType.MapRequest && 'itrRlocs' in p.control && p.control.itrRlocs.some((a) => a.kind === 'none'),
  },
];

function lispSecOf(m: NonNullable<LispPacket['control']>): unknown {
  if ('unknown' in m) return undefined;
  if (m.type === MessageType.MapReply) return m.lispSec;
  if (m.type === MessageType.ECM) return m.lispSec ?? (m.inner?.message && lispSecOf(m.inner.message));
  return undefined;
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

/**
 * Compares every field we give with tshark's. On a damaged frame only as far as both got: each
 * field's values up to the shorter list, and no field is required.
 */
function compare(file: string, frame: number, ours: FieldMap, theirs: FieldMap, damaged: boolean): { problems: string[]; values: number } {
  const problems: string[] = [];
  let values = 0;
  const type = ours.get('lisp.type')?.[0];
  const names = type === '5' || type === '15' ? ['lisp.type'] : [...ours.keys()];
  for (const name of names) {
    const a = ours.get(name)!;
    const b = theirs.get(name) ?? [];
    const n = damaged || PREFIX_FIELDS.test(name) ? Math.min(a.length, b.length) : a.length;
    const same = (damaged || a.length === b.length || PREFIX_FIELDS.test(name)) && a.slice(0, n).every((v, i) => b[i] === v);
    if (!same) problems.push(`${file} frame ${frame}: ${name}: ours ${JSON.stringify(a)} tshark ${JSON.stringify(b)}`);
    values += n;
  }
  if (!damaged && type !== '5' && type !== '15') {
    for (const name of REQUIRED) {
      if (theirs.has(name) && !ours.has(name)) problems.push(`${file} frame ${frame}: we lack ${name} (tshark ${theirs.get(name)})`);
    }
  }
  return { problems, values };
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

  it.skipIf(!TSHARK || !requireCapture(file))('agrees message by message on frames 12-14 and 27-29', async () => {
    const [theirs, ours] = await Promise.all([tsharkFields(file, TSHARK_ARGS), ourPackets(file, (p) => ourFields(p))]);
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
  if (!existsSync(SHARED)) it.skip(`${SHARED} is missing: its captures are not compared`, () => {});
  // tshark's runs of the next files start while this one is compared, so that they use the other core.
  const AHEAD = 2;
  const running = new Map<string, Promise<Map<number, FieldMap>>>();
  const theirsOf = (i: number): Promise<Map<number, FieldMap>> => {
    for (const f of files.slice(i, i + AHEAD + 1)) if (!running.has(f)) running.set(f, tsharkFields(f, TSHARK_ARGS));
    const theirs = running.get(files[i]!)!;
    running.delete(files[i]!);
    return theirs;
  };
  files.forEach((file, i) => {
    it.skipIf(!TSHARK)(`agrees on ${file.split('/').slice(-2).join('/')}`, { timeout: 120_000 }, async () => {
      const tshark = theirsOf(i);
      const ours = await ourPackets(file, (p) => ({
        fields: ourFields(p),
        damaged: isMalformed(p),
        deliberate: DELIBERATE_DAMAGE.filter((d) => d.applies(p)),
        lisp: !!p.kind,
        crossPorts: p.udp?.srcPort === LISP_CONTROL_PORT && p.udp.dstPort === LISP_DATA_PORT,
        dataFromControlPort: p.byContent === 'data' && p.udp?.srcPort === LISP_CONTROL_PORT,
        icmpWithoutLisp: !!p.icmp && !p.icmp.quoted.lisp,
        udpLengthZero: p.udp?.length === 0,
      }));
      const theirs = await tshark;
      const problems: string[] = [];
      let values = 0;
      for (const [frame, o] of ours) {
        if (!o.lisp) continue;
        const t = theirs.get(frame);
        if (!t) {
          problems.push(`${file} frame ${frame}: tshark has no such frame`);
          continue;
        }
        if (o.crossPorts && o.fields.has('lisp.type') && t.has('lisp-data.flags.nonce')) continue;
        if (o.dataFromControlPort && t.get('lisp.type')?.[0] === '0') continue;
        if (o.icmpWithoutLisp) continue;
        // Deliberate difference: a UDP Length of 0 (RFC 768 says at least 8) is a warning for us,
        // who read the IP payload; tshark stops at UDP.
        if (o.udpLengthZero && !isLisp(t)) continue;
        const theirDamage = t.has(DAMAGE);
        if (o.damaged !== theirDamage && !o.deliberate.some((d) => d.ours === o.damaged)) {
          problems.push(
            o.damaged
              ? `${file} frame ${frame}: we find damage, tshark does not`
              : `${file} frame ${frame}: tshark finds damage (${t.get(DAMAGE)!.join('; ')}), we do not`,
          );
        }
        const damaged = o.damaged || theirDamage;
        if (!damaged && !isLisp(t)) {
          problems.push(`${file} frame ${frame}: we decode LISP, tshark does not`);
          continue;
        }
        const c = compare(file, frame, o.fields, t, damaged);
        problems.push(...c.problems);
        values += c.values;
      }
      for (const [frame, t] of theirs) {
        if (isLisp(t) && !ours.get(frame)?.lisp) {
          problems.push(`${file} frame ${frame}: tshark decodes LISP, we do not`);
        }
      }
      expect(problems).toEqual([]);
      // Every file has values both sides decoded (a file all damage still has what precedes it).
      expect(values).toBeGreaterThan(0);
    });
  });
});
