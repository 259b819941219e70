import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import type { Frame } from '../../src/capture/types.js';
import { encodeControl } from '../../src/dissect/control.js';
import { encodeIpUdp } from '../../src/dissect/ip.js';
import { encodeLink } from '../../src/dissect/link.js';
import type { ControlMessage } from '../../src/dissect/types.js';
import { writeControlJsonFast } from '../../src/output/json-control-fast.js';
import { packetJsonText } from '../../src/output/json.js';
import { OutBuffer } from '../../src/output/out-buffer.js';
import { controlFrame, Lanes, none } from '../support/control-frames.js';

function fastText(f: Frame): string | undefined {
  let text = '';
  const out = new OutBuffer((b) => {
    text += Buffer.from(b).toString('latin1');
    return true;
  }, 1 << 16);
  if (!writeControlJsonFast(f, out)) return undefined;
  out.flush();
  return text;
}

describe('control-message JSON fast path', () => {
  it('writes exactly what the general path writes, whenever it accepts a frame', () => {
    const decoder = new PacketDecoder({});
    let accepted = 0;
    let ecms = 0;
    const lanes = new Lanes();
    let index = 0;
    fc.assert(
      fc.property(controlFrame, (frame) => {
        const f: Frame = { index: ++index, ...frame };
        const fast = fastText(f);
        if (fast === undefined) return;
        accepted++;
        const p = decoder.decode(f);
        expect(p?.control).toBeDefined();
        if (p!.control!.type === 8) ecms++;
        lanes.add(p!.control!);
        expect(fast).toBe(`${packetJsonText(p!)}\n`);
        // Again: the runs kept from this frame are reused, and must match.
        expect(fastText(f)).toBe(fast);
      }),
      { numRuns: 6000 },
    );
    // The lane must actually be exercised, not just never taken.
    expect(accepted).toBeGreaterThan(700);
    expect(ecms).toBeGreaterThan(150);
    expect(lanes.least()).toBeGreaterThan(40);
  });

  it('leaves a message with notes to the general path', () => {
    // A Map-Request with Record Count 0 is warned about.
    const m: ControlMessage = { type: 1, authoritative: false, mapDataPresent: false, probe: false, smr: false, pitr: false, smrInvoked: false, xtrIdPresent: false, localXtr: false, dontMapReply: false, nonce: 1n, sourceEid: none, itrRlocs: [{ kind: 'ipv4', afi: 1, addr: '192.0.2.1' }], eids: [] };
    const data = encodeLink(1, encodeIpUdp({ src: '192.0.2.1', dst: '192.0.2.2', sport: 4342, dport: 4342 }, encodeControl(m)));
    const f: Frame = { index: 1, tsSec: 0, tsNsec: 0, linkType: 1, len: data.length, data, interfaceId: 0 };
    expect(new PacketDecoder({}).decode(f)?.notes.length).toBeGreaterThan(0);
    expect(fastText(f)).toBeUndefined();
  });
});
