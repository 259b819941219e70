// The packet filter over plain data packets read in place: the same verdict as on the packet
// decoded and its whole JSON object built, for every filter it takes; the filters that read a
// member it does not build go to the general path.

import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import { plainData, scanPlainData } from '../../src/capture/plain-data.js';
import type { Frame } from '../../src/capture/types.js';
import { compileFilterAmongPlan } from '../../src/flows/filter.js';
import { writePacketJson } from '../../src/output/json.js';
import { ObjectWriter } from '../../src/output/json-writer.js';
import { FileSource } from '../../src/tui/file-source.js';
import { PacketFilter } from '../../src/tui/packet-filter.js';
import { plainDataTest } from '../../src/tui/plain-filter.js';
import { lispscope, PCAPS } from '../cli/run.js';
import { dataFrame, ipv4 } from '../support/arbitraries.js';
import { caughtUp, until } from './helpers.js';

const compile = (text: string) => compileFilterAmongPlan(text, 'packet', ['exchange']);

type Obj = { frame: number; len: number; src: string; dst: string; sport: number; dport: number; inner?: { src: string; dst: string; proto: number } };

/** Filters on what the packet holds (so that they match about half the time) or on random values. */
const filters: ((o: Obj, addr: string, bits: number) => string)[] = [
  (_, a, bits) => `eid in ${a}/${bits}`,
  (o, a) => `eid == ${o.inner?.dst ?? a}`,
  (o, a) => `eid == ${a} || eid == ${o.inner?.src ?? a}`,
  (o) => `ip.addr == ${o.src}`,
  (_, a, bits) => `ip.dst in ${a}/${bits}`,
  (o) => `rloc == ${o.dst}`,
  (o, a) => `inner.src == ${o.inner?.src ?? a} && !(inner.dst == ${a})`,
  (o, _, bits) => `inner.proto == ${o.inner?.proto ?? bits}`,
  (o) => `udp.srcport == ${o.sport} && udp.dstport == 4341`,
  (_, __, bits) => `udp.port == ${4340 + bits}`,
  (o, _, bits) => `frame == ${o.frame + (bits & 1)}`,
  (o, _, bits) => `len > ${o.len - bits}`,
  (_, a, bits) => `type == map-register || src in ${a}/${bits}`,
  (_, a, bits) => `data && !(eid in ${a}/${bits})`,
  (_, a) => `source_eid == ${a} || records.locators.rloc == ${a} || smr`,
];

describe('packet filter over plain data packets in place', () => {
  it('gives the verdict the decoded packet\'s JSON object gets', () => {
    const decoder = new PacketDecoder({});
    const scanned = plainData();
    // The frames the lane takes (the others it hands back, undefined, to the general path).
    const plainFrame = dataFrame.map((f): Frame => ({ index: 1, ...f })).filter((f) => scanPlainData(f, scanned));
    let matched = 0;
    let runs = 0;
    fc.assert(
      fc.property(plainFrame, fc.nat(filters.length - 1), ipv4, fc.integer({ min: 0, max: 3 }), fc.nat(1_000_000), (frame, which, addr, bits, index) => {
        const f: Frame = { ...frame, index };
        const p = decoder.decode(f)!;
        const w = new ObjectWriter();
        writePacketJson(w, p);
        const whole = w.result as Obj;
        const filter = compile(filters[which]!(whole, addr, bits));
        const verdict = plainDataTest(filter)!(f);
        expect(verdict).toBe(filter.test(whole as unknown as Record<string, unknown>));
        runs++;
        if (verdict) matched++;
      }),
      { numRuns: 1500 },
    );
    // Both verdicts, often: some 70% of the runs match, 67..72% over 26 runs (so 28..33% do not).
    expect(matched).toBeGreaterThan(runs / 10);
    expect(runs - matched).toBeGreaterThan(runs / 10);
  });

  it('leaves the filters on members it does not build to the general path', () => {
    for (const text of ['flags == NL', 'inner.len > 5', 'ts > 0', 'nonce == 0x03084b', 'inner.sport == 80', 'inner.icmp_type == 8', 'lsb == 3', 'eid in 10.0.0.0/8 && iid == 1']) {
      expect(plainDataTest(compile(text)), text).toBeUndefined();
    }
    for (const text of ['eid in 10.0.0.0/8', 'rloc == 192.0.2.1', 'type == data', 'udp.port == 4341', 'frame == 3']) {
      expect(plainDataTest(compile(text)), text).toBeDefined();
    }
  });

  it('is not taken while decode-as ports are set: a frame that reads as plain data may decode otherwise', async () => {
    const file = join(PCAPS, 'data.pcap');
    const text = 'eid in 0.0.0.0/0';
    for (const [args, decodeAs] of [
      [[], undefined],
      [['-d', 'udp.port=4341'], { control: new Set([4341]), data: new Set<number>() }],
    ] as const) {
      const want = lispscope(['read', '--json', ...args, '-Y', text, file]).stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { frame: number }).frame - 1);
      const source = new FileSource([file], { decoder: decodeAs ? { decodeAs } : {}, scan: { threads: 0 } });
      await source.start();
      await until(source, () => source.status().state === 'done');
      const f = new PacketFilter(source, text);
      await caughtUp(f);
      const p = f.progress();
      const got = Array.from({ length: p.end - p.first }, (_, n) => f.at(p.first + n)!);
      f.stop();
      await source.stop();
      expect({ args, got }).toEqual({ args, got: want });
    }
  });
});

