import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder, type LispPacket } from '../../src/capture/packets.js';
import type { Frame } from '../../src/capture/types.js';
import { encodeControl } from '../../src/dissect/control.js';
import { encodeIpUdp } from '../../src/dissect/ip.js';
import { encodeLink } from '../../src/dissect/link.js';
import { packetJson, packetJsonText } from '../../src/output/json.js';
import { controlMessage, dataFrame } from '../support/arbitraries.js';
import { eachSamplePacket } from '../support/sample-packets.js';

/** The object the filters test is the one a consumer parses from the NDJSON: same members, same order. */
function same(p: LispPacket, opts = {}): void {
  const text = packetJsonText(p, opts);
  const obj = packetJson(p, opts);
  expect(obj).toEqual(JSON.parse(text));
  expect(JSON.stringify(obj)).toBe(text);
}

describe('packet objects (packetJson) built without the text', () => {
  it('are what JSON.parse makes of the NDJSON line, on every packet of the sample captures', async () => {
    const packets = await eachSamplePacket((p) => {
      same(p);
      same(p, { showKeys: true });
    });
    expect(packets).toBeGreaterThan(300);
  });

  it('are what JSON.parse makes of the NDJSON line, on random control and data packets', () => {
    const decoder = new PacketDecoder({ all: true });
    let index = 0;
    const control = controlMessage.map((m) => encodeLink(1, encodeIpUdp({ src: '192.0.2.1', dst: '192.0.2.2', sport: 4342, dport: 4342 }, encodeControl(m))));
    fc.assert(
      fc.property(fc.oneof(control.map((data) => ({ tsSec: 1, tsNsec: 5000, linkType: 1, len: data.length, data, interfaceId: 0 })), dataFrame), (frame) => {
        const f: Frame = { index: ++index, ...frame };
        const p = decoder.decode(f);
        if (p) same(p);
      }),
      { numRuns: 2000 },
    );
  });
});
