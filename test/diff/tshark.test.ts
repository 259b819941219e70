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
//   control message as a data header. Those frames are skipped.
// - A Distinguished Name source EID (AFI 17) ends tshark's Map-Request; LISP-GPE's 16-bit nonce
//   (RFC 9305 §3) is read as 24 bits by tshark: see ourFields for both.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
const REQUIRED = ['lisp.type', 'lisp.nonce', 'lisp.records', 'lisp.irc', 'lisp.keyid', 'lisp.mapping.ttl', 'lisp.loc.priority', 'lisp-data.flags.nonce'];

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

describe('differential: tshark LISP dissector', () => {
  const files = [...captures(SHARED), ...captures(FIXTURES)];
  it('finds captures to compare', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  for (const file of files) {
    it(`agrees on ${file.split('/').slice(-2).join('/')}`, async () => {
      if (!requireTool('tshark', haveTshark())) return;
      const theirs = tsharkFields(file);
      const ours = await ourPackets(file, (p) => ({
        fields: ourFields(p),
        malformed: p.notes.length + p.frameNotes.length > 0,
        lisp: !!p.kind,
        crossPorts: p.udp?.srcPort === 4342 && p.udp.dstPort === 4341,
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
        if (!t.has('lisp.type') && !t.has('lisp-data.flags.nonce')) {
          problems.push(`${file} frame ${frame}: we decode LISP, tshark does not`);
          continue;
        }
        problems.push(...compare(file, frame, o.fields, t));
        compared++;
      }
      for (const [frame, t] of theirs) {
        if ((t.has('lisp.type') || t.has('lisp-data.flags.nonce')) && !ours.get(frame)?.lisp) {
          problems.push(`${file} frame ${frame}: tshark decodes LISP, we do not`);
        }
      }
      expect(problems).toEqual([]);
      // Every file has something to compare, or is broken on purpose.
      expect(compared + malformed).toBeGreaterThan(0);
    });
  }
});
