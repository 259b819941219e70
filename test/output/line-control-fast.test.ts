import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import type { Frame } from '../../src/capture/types.js';
import { MessageType } from '../../src/dissect/registry.js';
import { writeControlLineFast } from '../../src/output/line-control-fast.js';
import { controlFrame, Lanes } from '../support/control-frames.js';
import { fastLine, lineCase } from '../support/fast-line.js';

describe('control-message line fast path', () => {
  it('writes exactly the line the general path writes, whenever it accepts a frame', () => {
    const decoder = new PacketDecoder({});
    const seen = new Map<number, number>();
    let ecms = 0;
    const lanes = new Lanes();
    let index = 0;
    fc.assert(
      fc.property(controlFrame, lineCase, (frame, c) => {
        index += 1 + c.skip;
        const f: Frame = { index, ...frame };
        const fast = fastLine(f, c, writeControlLineFast);
        if (!fast) return;
        const p = decoder.decode(f);
        expect(p?.control).toBeDefined();
        const m = p!.control!;
        const inner = 'inner' in m ? m.inner?.message : m;
        if (m.type === MessageType.ECM) ecms++;
        if (inner) seen.set(inner.type, (seen.get(inner.type) ?? 0) + 1);
        lanes.add(m);
        expect(fast.text).toBe(fast.general(p!));
      }),
      { numRuns: 6000 },
    );
    // Every message type's lane is exercised, bare and in an ECM, not just never taken.
    for (const type of [MessageType.MapRequest, MessageType.MapReply, MessageType.MapRegister, MessageType.MapNotify, MessageType.MapNotifyAck, MessageType.MapReferral, MessageType.Info]) {
      expect(seen.get(type) ?? 0, `type ${type}`).toBeGreaterThan(40);
    }
    expect(ecms).toBeGreaterThan(150);
    expect(lanes.least()).toBeGreaterThan(40);
  });
});
