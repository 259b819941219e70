import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import type { Frame } from '../../src/capture/types.js';
import { MessageType } from '../../src/dissect/registry.js';
import { packetLine } from '../../src/output/line.js';
import { writeControlLineFast } from '../../src/output/line-control-fast.js';
import { OutBuffer } from '../../src/output/out-buffer.js';
import { PLAIN } from '../../src/output/style.js';
import { LineClock, type TimeFormat } from '../../src/output/time.js';
import { controlFrame, lanes } from '../support/control-frames.js';

describe('control-message line fast path', () => {
  it('writes exactly the line the general path writes, whenever it accepts a frame', () => {
    const decoder = new PacketDecoder({});
    const seen = new Map<number, number>();
    let ecms = 0;
    const taken = { xtr: 0, iid: 0, nat: 0, mapData: 0 };
    let index = 0;
    fc.assert(
      fc.property(controlFrame, fc.constantFrom<TimeFormat>(0, 1, 2, 3, 4, 5), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 2_000_000 }), (frame, format, numeric, number, skip) => {
        // Frame numbers of every width (the label is padded to 5).
        index += 1 + (skip % 3 === 0 ? skip : 0);
        const f: Frame = { index, ...frame };
        let text = '';
        const out = new OutBuffer((b) => {
          text += Buffer.from(b).toString('latin1');
          return true;
        }, 1 << 16);
        // Two clocks of the stateful formats, each seeing this one frame from the same start.
        const fastClock = new LineClock(format);
        const clock = new LineClock(format);
        fastClock.text(f.tsSec - 1, 0);
        clock.text(f.tsSec - 1, 0);
        if (!writeControlLineFast(f, out, { numeric, number, clock: fastClock })) return;
        out.flush();
        const p = decoder.decode(f);
        expect(p?.control).toBeDefined();
        const m = p!.control!;
        const inner = 'inner' in m ? m.inner?.message : m;
        if (m.type === MessageType.ECM) ecms++;
        const l = lanes(m);
        if (l.xtr) taken.xtr++;
        if (l.iid) taken.iid++;
        if (l.nat) taken.nat++;
        if (l.mapData) taken.mapData++;
        if (inner) seen.set(inner.type, (seen.get(inner.type) ?? 0) + 1);
        const line = packetLine(p!, { numeric, style: PLAIN, time: clock.text(p!.tsSec, p!.tsNsec), ...(number ? { number: String(p!.frame) } : {}) });
        expect(text).toBe(`${line}\n`);
      }),
      { numRuns: 6000 },
    );
    // Every message type's lane is exercised, bare and in an ECM, not just never taken.
    for (const type of [MessageType.MapRequest, MessageType.MapReply, MessageType.MapRegister, MessageType.MapNotify, MessageType.MapNotifyAck, MessageType.MapReferral, MessageType.Info]) {
      expect(seen.get(type) ?? 0, `type ${type}`).toBeGreaterThan(40);
    }
    expect(ecms).toBeGreaterThan(150);
    expect(Math.min(taken.xtr, taken.iid, taken.nat, taken.mapData)).toBeGreaterThan(40);
  });
});
