// A display filter builds only the members of a packet's object on the paths it reads
// (PrunedObjectWriter): every field it can name must read the same values there as in the whole
// object, on real and random packets.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder, type LispPacket } from '../../src/capture/packets.js';
import { encodeControl } from '../../src/dissect/control.js';
import { encodeIpUdp } from '../../src/dissect/ip.js';
import { encodeLink } from '../../src/dissect/link.js';
import { fieldList } from '../../src/flows/filter-fields.js';
import { compileFilterPlan, values } from '../../src/flows/filter.js';
import { packetJson, writePacketJson } from '../../src/output/json.js';
import { keptPaths, PrunedObjectWriter } from '../../src/output/json-writer.js';
import { controlMessage, dataFrame } from '../support/arbitraries.js';
import { eachSamplePacket } from '../support/sample-packets.js';

const FIELDS = fieldList('packet');

/** Fields a few at a time (neighbours in the schema share path prefixes), the address fields together, and all of them. */
const SETS: (typeof FIELDS)[] = [
  ...Array.from({ length: Math.ceil(FIELDS.length / 6) }, (_, i) => FIELDS.slice(i * 6, i * 6 + 6)),
  FIELDS.filter(([n]) => /^(eid|rloc|inner\.|records\.|nonce)/.test(n)),
  FIELDS,
];

const writers = SETS.map((fields) => {
  const paths = [...new Set(fields.flatMap(([n]) => compileFilterPlan(n, 'packet').paths))];
  return { fields, writer: new PrunedObjectWriter(keptPaths(paths)) };
});

let compared = 0;

/** Every field of every set reads the same values in the pruned object as in the whole one. */
function same(p: LispPacket): void {
  const whole = packetJson(p);
  const want = new Map(FIELDS.map(([name, def]) => [name, JSON.stringify(values(whole, name, def))]));
  for (const { fields, writer } of writers) {
    writePacketJson(writer.reset(), p);
    const pruned = writer.result as Record<string, unknown>;
    for (const [name, def] of fields) {
      const got = JSON.stringify(values(pruned, name, def));
      if (got !== '[]') compared++;
      if (got !== want.get(name)) expect({ name, got, packet: whole }).toEqual({ name, got: want.get(name), packet: whole });
    }
  }
}

describe('pruned packet objects (PrunedObjectWriter)', () => {
  it('hold what the whole object holds on every path a filter reads: the sample captures', async () => {
    const packets = await eachSamplePacket(same);
    expect(packets).toBeGreaterThan(300);
    expect(compared).toBeGreaterThan(10_000);
  });

  it('hold what the whole object holds on every path a filter reads: random control and data packets', () => {
    const decoder = new PacketDecoder({ all: true });
    let index = 0;
    const control = controlMessage.map((m) => encodeLink(1, encodeIpUdp({ src: '192.0.2.1', dst: '192.0.2.2', sport: 4342, dport: 4342 }, encodeControl(m))));
    fc.assert(
      fc.property(fc.oneof(control.map((data) => ({ tsSec: 1, tsNsec: 5000, linkType: 1, len: data.length, data, interfaceId: 0 })), dataFrame), (frame) => {
        const p = decoder.decode({ index: ++index, ...frame });
        if (p) same(p);
      }),
      { numRuns: 500 },
    );
  });

  it('leave out what no path reads', () => {
    const decoder = new PacketDecoder({ all: true });
    const data = encodeLink(1, encodeIpUdp({ src: '192.0.2.1', dst: '192.0.2.2', sport: 4342, dport: 4342 }, new Uint8Array(0)));
    const p = decoder.decode({ index: 1, tsSec: 1, tsNsec: 0, linkType: 1, len: data.length, data, interfaceId: 0 })!;
    const w = new PrunedObjectWriter(keptPaths(compileFilterPlan('udp.port == 4342', 'packet').paths));
    writePacketJson(w, p);
    expect(Object.keys(packetJson(p))).toContain('ts');
    expect(w.result).toEqual({ sport: 4342, dport: 4342, type: (packetJson(p) as { type?: string }).type });
  });
});
