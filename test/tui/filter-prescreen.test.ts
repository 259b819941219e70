// The packet filter skips the packets whose type (learnt by the analysis, which decoded them
// anyway) rules them out, without reading them back. Skipping must never change the matches:
//  - the type a file source knows for a packet is the `type` of that packet's JSON object;
//  - a filter's verdict from the type alone, when it has one, is its verdict on every object of
//    that type (random filters, the objects of real captures);
//  - so the matches are those of decoding and testing every packet, which the last test checks
//    end to end on every sample capture, alone and merged.

import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { compileFilter, compileFilterPlan } from '../../src/flows/filter.js';
import { PACKET_TYPES } from '../../src/flows/filter-fields.js';
import { packetJson } from '../../src/output/json.js';
import { FileSource } from '../../src/tui/file-source.js';
import { PacketFilter } from '../../src/tui/packet-filter.js';
import { caughtUp } from './helpers.js';
import { PCAPS, SHARED } from '../cli/run.js';
import { gate } from '../support/live.js';
import { writeBigCapture } from './big-capture.js';
import { writeContextCapture } from './context-capture.js';
import { until } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-tui-prescreen-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CONTEXT = join(tmp, 'context.pcap');
writeContextCapture(CONTEXT);
const BIG = join(tmp, 'big.pcap');
writeBigCapture(BIG, 3_000);

const OOR = ['mn', 'ms', 'xtr'].map((v) => join(SHARED, `oor__03-mn-handover-rloc-change.${v}.pcap`));
const OOR_NAT = ['mn', 'ms', 'rtr', 'xtr'].map((v) => join(SHARED, `oor__07-mn-nat-traversal.${v}.pcap`));
const noShared = gate('filter pre-screen on the OOR captures', [...OOR, ...OOR_NAT].every((f) => existsSync(f)) ? undefined : `${SHARED} lacks the oor__03/oor__07 captures`);

/** Every sample capture alone, ours with fragments and TCP, and the OOR vantage points merged. */
const INPUTS: string[][] = [
  ...readdirSync(PCAPS)
    .filter((n) => /\.(pcap|pcapng|pcap\.gz)$/.test(n))
    .map((n) => [join(PCAPS, n)]),
  [CONTEXT],
  [BIG],
  ...(noShared ? [] : [OOR, OOR_NAT, ...OOR_NAT.map((f) => [f])]),
];

/** Filters the UI's users write: on the type, and on what only decoding tells. */
const ATOMS = [
  'type == map-register',
  'type == map-request',
  'type != data',
  'type == data',
  'map-reply',
  'map-notify',
  'ecm',
  'info-reply',
  'type matches "^map-(reg|not)"',
  'type contains reply',
  'type',
  'smr',
  'probe',
  'eid in 10.0.0.0/8',
  'rloc == 10.10.1.2',
  'udp.port == 4342',
  'nonce == 0x1001',
  'frame > 5',
  'malformed',
  'inner.type == map-request',
];

const filterText: fc.Arbitrary<string> = fc.letrec<{ f: string }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...ATOMS),
    tie('f').map((a) => `!(${a})`),
    fc.tuple(tie('f'), tie('f')).map(([a, b]) => `(${a}) && (${b})`),
    fc.tuple(tie('f'), tie('f')).map(([a, b]) => `(${a}) || (${b})`),
  ),
})).f;

interface Decoded {
  seq: number;
  json: Record<string, unknown>;
  known: string | undefined;
}

/** Every packet of the source, decoded and as the filter's shortcut knows it, once the analysis is done. */
async function load(files: string[]): Promise<{ source: FileSource; packets: Decoded[] }> {
  const source = new FileSource(files);
  await source.start();
  await until(source, () => source.status().state === 'done' || source.status().state === 'error', 60_000);
  const packets: Decoded[] = [];
  const { first, end } = source.packetRange();
  for (let seq = first; seq < end; seq++) {
    const v = source.scanPacket(seq);
    if (v) packets.push({ seq, json: packetJson(v.packet), known: source.knownType(seq) });
  }
  return { source, packets };
}

const name = (files: string[]) => files.map((f) => f.slice(f.lastIndexOf('/') + 1)).join(' + ');

describe('the packet filter skips what the type rules out, and finds the same matches', () => {
  const objects: Record<string, unknown>[] = [];

  for (const files of INPUTS) {
    it(`the type the source knows is the packet's JSON type: ${name(files)}`, async () => {
      const { source, packets } = await load(files);
      try {
        const known = packets.filter((p) => p.known !== undefined);
        expect(known.filter((p) => p.json.type !== p.known).map((p) => ({ seq: p.seq, known: p.known, json: p.json.type }))).toEqual([]);
        for (const p of packets) objects.push(p.json);
      } finally {
        await source.stop();
      }
    }, 60_000);
  }

  it('the big capture is known almost entirely (every packet but what the analysis could not tell)', async () => {
    const { source, packets } = await load([BIG]);
    expect(packets.filter((p) => p.known === undefined).length).toBe(0);
    await source.stop();
  });

  it('a verdict from the type alone is the filter\'s verdict on every object of that type (random filters, real packets)', () => {
    expect(objects.length).toBeGreaterThan(1000);
    // One object of each distinct JSON (the big capture repeats itself).
    const distinct = [...new Map(objects.map((o) => [JSON.stringify(o), o])).values()];
    const types = new Set(distinct.map((o) => o.type).filter((t) => typeof t === 'string'));
    // The type values at stake: the captures hold most control types and data.
    expect(types.size).toBeGreaterThanOrEqual(8);
    let decided = 0;
    fc.assert(
      fc.property(filterText, (text) => {
        const { test, byType } = compileFilterPlan(text, 'packet');
        for (const o of distinct) {
          if (typeof o.type !== 'string') continue;
          const v = byType(o.type);
          if (v === undefined) continue;
          decided++;
          if (v !== test(o)) throw new Error(`${text}: type ${o.type} says ${v}, the object says ${!v}: ${JSON.stringify(o)}`);
        }
      }),
      { numRuns: 300 },
    );
    // The property is not empty: many filters are decided by the type.
    expect(decided).toBeGreaterThan(1000);
  });

  it('decides what the type decides, and nothing else', () => {
    const v = (text: string, type: string) => compileFilterPlan(text, 'packet').byType(type);
    expect(v('type == map-register', 'map-register')).toBe(true);
    expect(v('type == map-register', 'data')).toBe(false);
    expect(v('map-register && eid == 10.0.0.1', 'data')).toBe(false);
    expect(v('map-register && eid == 10.0.0.1', 'map-register')).toBeUndefined();
    expect(v('map-register || eid == 10.0.0.1', 'map-register')).toBe(true);
    expect(v('map-register || eid == 10.0.0.1', 'data')).toBeUndefined();
    expect(v('!(type != data)', 'data')).toBe(true);
    expect(v('eid == 10.0.0.1', 'data')).toBeUndefined();
    // `inner.type` is another field: the packet's own type does not decide it.
    expect(v('inner.type == map-request', 'encapsulated-control')).toBeUndefined();
    for (const t of PACKET_TYPES) expect(v('type', t)).toBe(true);
  });

  for (const files of INPUTS.filter((f) => f.length > 1 || f[0] === BIG || f[0] === CONTEXT || f[0]!.endsWith('mn-handover.pcapng'))) {
    it(`end to end: the filter's matches are those of decoding every packet: ${name(files)}`, async () => {
      const { source, packets } = await load(files);
      try {
        // The last ones read plain data packets in place (plain-filter.ts).
        const inPlace = ['eid in 10.0.0.0/8', 'rloc == 10.10.1.2 || ip.src in 192.0.2.0/24', 'udp.port == 4341 && frame > 5', '!(eid in 10.1.0.0/16) && len > 100'];
        for (const text of [...ATOMS.slice(0, 12), 'map-register && eid in 10.0.0.0/8', '!data && !map-request', 'data || map-notify', ...inPlace]) {
          const test = compileFilter(text, 'packet');
          const want = packets.filter((p) => test(p.json)).map((p) => p.seq);
          const f = new PacketFilter(source, text);
          await caughtUp(f);
          const p = f.progress();
          const got: number[] = [];
          for (let n = p.first; n < p.end; n++) got.push(f.at(n)!);
          f.stop();
          expect({ text, got }).toEqual({ text, got: want });
        }
      } finally {
        await source.stop();
      }
    }, 60_000);
  }
});
