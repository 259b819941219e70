// The packet filter over common control messages read in place: on every path it builds, the
// object holds what the decoded packet's whole JSON object holds there, so that every filter it
// takes gets the same verdict; the filters that read a member it does not build go to the general path.

import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import { plainControl, scanPlainControl } from '../../src/capture/plain-control.js';
import type { Frame } from '../../src/capture/types.js';
import { compileFilterAmongPlan, values } from '../../src/flows/filter.js';
import { lookupField } from '../../src/flows/filter-fields.js';
import { writePacketJson } from '../../src/output/json.js';
import { ObjectWriter } from '../../src/output/json-writer.js';
import { FileSource } from '../../src/tui/file-source.js';
import { PacketFilter } from '../../src/tui/packet-filter.js';
import { plainControlMembers, plainControlTest } from '../../src/tui/plain-control-filter.js';
import { lispscope, PCAPS } from '../cli/run.js';
import { ipv4 } from '../support/arbitraries.js';
import { controlFrame } from '../support/control-frames.js';
import { caughtUp, until } from './helpers.js';

const compile = (text: string) => compileFilterAmongPlan(text, 'packet', ['exchange']);
type Obj = Record<string, unknown>;

const decoder = new PacketDecoder({});
function whole(f: Frame): Obj {
  const w = new ObjectWriter();
  writePacketJson(w, decoder.decode(f)!);
  return w.result as Obj;
}

const PLAIN = { type: 'string' as const, help: '' };
/** The values on one path, arrays looked through, as the filter reads them. */
const at = (o: Obj, path: string) => values(o as never, path, PLAIN);

/** The paths built, those no common control message has, and some that are not built. */
const PATHS = [
  ...['frame', 'len', 'src', 'dst', 'sport', 'dport', 'type', 'nonce', 'eid', 'eids', 'source_eid', 'records.eid', 'map_reply.eid'],
  ...['inner.src', 'inner.dst', 'inner.sport', 'inner.dport', 'inner.type', 'inner.nonce', 'inner.eid', 'inner.eids', 'inner.source_eid', 'inner.records.eid', 'inner.map_reply.eid'],
  ...['itr_rlocs', 'records.locators.rloc', 'map_reply.locators.rloc', 'nat.global_etr_rloc', 'nat.rtr_rlocs'],
  ...['inner.itr_rlocs', 'inner.records.locators.rloc', 'inner.map_reply.locators.rloc', 'inner.nat.global_etr_rloc', 'inner.nat.rtr_rlocs'],
  ...['messages.eid', 'quoted.eids', 'quoted.inner.nonce', 'inner.lisp.records.eid', 'records.eid.x', 'inner.src.x'],
  ...['ttl', 'records.ttl', 'probe', 'inner.ttl', 'ddt', 'records.locators.priority', 'nat.ms_rloc', 'key_id'],
];

const EID = lookupField('packet', 'eid')!;

/** Filters on what the packet holds (so that they match often) or on random values. */
const filters: ((o: Obj, addr: string, n: number) => string)[] = [
  (o, a, n) => `eid == ${pick(values(o as never, 'eid', EID), n) ?? a}`,
  (o, a, n) => `eid in ${eidAddress(pick(values(o as never, 'eid', EID), n)) ?? a}/${n % 33}`,
  (_, a, n) => `eid in ${a}/${n % 9}`,
  (o, a, n) => `eids == ${pick(at(o, 'eids'), n) ?? a} || inner.eids == ${pick(at(o, 'inner.eids'), n) ?? a}`,
  (o, a, n) => `records.eid == ${pick(at(o, 'records.eid'), n) ?? a} && type != map-notify`,
  (o, a) => `source_eid == ${pick(at(o, 'source_eid'), 0) ?? a} || inner.source_eid == ${pick(at(o, 'inner.source_eid'), 0) ?? a}`,
  (o, a) => `inner.eid == ${pick(at(o, 'inner.eid'), 0) ?? a} || !(inner.records.eid == ${pick(at(o, 'inner.records.eid'), 0) ?? a})`,
  (o, _, n) => `nonce == 0x${pick(values(o as never, 'nonce', lookupField('packet', 'nonce')!), n) ?? 'e95c0f6be60a5469'}`,
  (o, a, n) => `inner.src == ${(o.inner as Obj | undefined)?.src ?? a} || inner.dport == ${n & 1 ? 4342 : n}`,
  (o, _, n) => `inner.type == ${(o.inner as Obj | undefined)?.type ?? 'map-reply'} && inner.sport > ${n}`,
  (o) => `type == ${o.type} && ip.addr == ${o.src}`,
  (o, a, n) => `udp.port == ${n & 1 ? o.sport : 4342} && !(dst == ${a})`,
  (o, _, n) => `frame == ${(o.frame as number) + (n & 1)} || len > ${(o.len as number) - (n % 3)}`,
  (_, a) => `map-register || eid == ${a}`,
  (o, a, n) => `rloc == ${pick(values(o as never, 'rloc', lookupField('packet', 'rloc')!), n) ?? a}`,
  (o, a, n) => `itr_rlocs == ${pick(at(o, 'itr_rlocs'), n) ?? a} || inner.records.locators.rloc == ${pick(at(o, 'inner.records.locators.rloc'), n) ?? a}`,
  (o, a, n) => `nat.rtr_rlocs == ${pick(at(o, 'nat.rtr_rlocs'), n) ?? a} || !(nat.global_etr_rloc == ${pick(at(o, 'nat.global_etr_rloc'), n) ?? a})`,
];

function pick(all: unknown[], n: number): string | undefined {
  // An EID the general path writes as an object (an LCAF the scan does not take) is no operand.
  const vs = all.filter((v): v is string => typeof v === 'string' && /^[\w.:[\]/]+$/.test(v));
  return vs.length ? vs[n % vs.length] : undefined;
}

/** The address of an EID text (without `[iid]` and `/mask`), for `in`. */
function eidAddress(text: string | undefined): string | undefined {
  return text?.replace(/^\[\d+\]/, '').replace(/\/\d+$/, '');
}

describe('packet filter over common control messages in place', () => {
  it('builds on every path it reads what the decoded packet\'s JSON object holds there', () => {
    const scanned = plainControl();
    let built = 0;
    let ecms = 0;
    let index = 0;
    fc.assert(
      fc.property(controlFrame, fc.subarray(PATHS, { minLength: 1, maxLength: 6 }), (frame, paths) => {
        const f: Frame = { index: ++index, ...frame };
        const members = plainControlMembers(paths);
        const o = members?.(f);
        if (!scanPlainControl(f, scanned)) {
          expect(o).toBeUndefined();
          return;
        }
        if (o === undefined) return;
        built++;
        if (scanned.ecm >= 0) ecms++;
        const w = whole(f);
        for (const path of paths) expect({ path, got: at(o, path) }).toEqual({ path, got: at(w, path) });
      }),
      { numRuns: 8000 },
    );
    // Some 1,030 built per run, 980..1,106 over 26 runs; ECMs some 380, 336..405.
    expect(built).toBeGreaterThan(600);
    expect(ecms).toBeGreaterThan(150);
  });

  it('gives the verdict the decoded packet\'s JSON object gets', () => {
    const scanned = plainControl();
    let taken = 0;
    let matched = 0;
    let index = 0;
    fc.assert(
      fc.property(controlFrame, fc.nat(filters.length - 1), ipv4, fc.nat(1000), (frame, which, addr, n) => {
        const f: Frame = { index: ++index, ...frame };
        // The frames it does not take it hands back, undefined (the first property holds that).
        if (!scanPlainControl(f, scanned)) return;
        const p = decoder.decode(f)!;
        const w = new ObjectWriter();
        writePacketJson(w, p);
        const o = w.result as Obj;
        const filter = compile(filters[which]!(o, addr, n));
        const verdict = plainControlTest(filter)!(f);
        if (verdict === undefined) return;
        taken++;
        if (verdict) matched++;
        expect(verdict).toBe(filter.test(o));
      }),
      { numRuns: 6000 },
    );
    // Both verdicts, often: some 1,185 taken per run, 1,138..1,224 over 26 runs, 52..58% of them matched.
    expect(taken).toBeGreaterThan(750);
    expect(matched).toBeGreaterThan(taken / 5);
    expect(taken - matched).toBeGreaterThan(taken / 5);
  });

  it('leaves the filters on members it does not build to the general path', () => {
    const either = (m: string) => `${m} || inner.${m}`;
    for (const text of [either('probe'), either('records.ttl > 3'), either('nat.ms_rloc == 192.0.2.1'), either('key_id == 1'), `eid in 10.0.0.0/8 && (${either('records.locators.priority < 2')})`, 'ts > 0', 'auth_ok', 'ddt']) {
      expect(plainControlTest(compile(text)), text).toBeUndefined();
    }
    for (const text of ['eid in 10.0.0.0/8', 'type == map-register', 'nonce == 0x01', 'udp.port == 4342', 'frame == 3', 'inner.ttl > 3', 'records.ttl > 3', 'rloc == 192.0.2.1 || eid == ::1']) {
      expect(plainControlTest(compile(text)), text).toBeDefined();
    }
  });
});

describe('packet filter over captures of control messages', () => {
  const texts = ['eid in 0.0.0.0/0', 'eid in 10.0.0.0/8 || eids in ::/0', 'records.eid == 3.0.0.3/32 || inner.eids in 4.0.0.0/8', 'nonce == 0x5c0f6be60a5469e9 || ip.dst in 10.10.0.0/16', 'inner.type == map-request && inner.src in 0.0.0.0/1', 'rloc in 10.10.0.0/16 && !(rloc == 10.10.1.2)'];
  for (const name of ['control-ecm.pcap', 'control-info.pcap', 'control-map-referral.pcap', 'control-map-register.pcap', 'control-map-reply.pcap', 'control-map-request.pcap', 'lcaf.pcap', 'mn-handover.pcapng']) {
    it(`selects what read -Y selects in ${name}`, async () => {
      const file = join(PCAPS, name);
      const source = new FileSource([file], { scan: { threads: 0 } });
      await source.start();
      await until(source, () => source.status().state === 'done');
      for (const text of texts) {
        const want = lispscope(['read', '--json', '-Y', text, file]).stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { frame: number }).frame - 1);
        const f = new PacketFilter(source, text);
        await caughtUp(f);
        const p = f.progress();
        const got = Array.from({ length: p.end - p.first }, (_, n) => f.at(p.first + n)!);
        f.stop();
        expect({ text, got }).toEqual({ text, got: want });
      }
      await source.stop();
    });
  }
});
