// The sweep passes over an open exchange until its end as last computed (exchanges.ts, liveUntil),
// trusting every change that brings an end earlier to void that bound: it must close each exchange
// at the same packet as a sweep that looks at every open exchange every time.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import type { Frame } from '../../src/capture/types.js';
import { encodeControl } from '../../src/dissect/control.js';
import { encodeIpUdp } from '../../src/dissect/ip.js';
import { encodeLink } from '../../src/dissect/link.js';
import type { ControlMessage } from '../../src/dissect/types.js';
import { FlowEngine } from '../../src/flows/engine.js';
import { exchangeJson } from '../../src/output/json-flows.js';
import { typical, typicalEcm } from '../support/control-frames.js';

const host = fc.constantFrom('192.0.2.1', '192.0.2.2', '198.51.100.3');
const nonce = fc.constantFrom(0n, 1n, 7n);
const message = fc.oneof({ weight: 3, arbitrary: typical }, { weight: 1, arbitrary: typicalEcm });

function withNonce(m: ControlMessage, n: bigint): ControlMessage {
  if ('unknown' in m) return m;
  if (m.type === 8) return m.inner?.message ? { ...m, inner: { ...m.inner, message: withNonce(m.inner.message, n) } } : m;
  return 'nonce' in m ? { ...m, nonce: n } : m;
}

type Part = { dt: number; data: Uint8Array };
const encoded = (m: ControlMessage, src: string, dst: string, sport: number, dport: number) => encodeLink(1, encodeIpUdp({ src, dst, sport, dport }, encodeControl(m)));
// Gaps around the waits (LINGER 3 s, WAIT_BASE 10-20 s, back-off up to 60 s) and the sweep's half second;
// now and then a step back, as in captures merged by time.
const gap = fc.constantFrom(0, 0.001, 0.3, 0.6, 1, 1, 2.5, 3.5, 5, 9, 9, 11, 25, -0.2, -2);

/**
 * A request sent a few times, and answers (any message, the tracker decides what it answers)
 * with its nonce, back the way it came; parts of several conversations interleave.
 */
const conversation = fc
  .record({ request: message, answer: message, nonce, src: host, dst: host, sport: fc.constantFrom(4342, 40000), dport: fc.constantFrom(4342, 61000) })
  .chain((r) => {
    const q = encoded(withNonce(r.request, r.nonce), r.src, r.dst, r.sport, r.dport);
    const a = encoded(withNonce(r.answer, r.nonce), r.dst, r.src, r.dport, r.sport);
    return fc.array(fc.record({ answer: fc.boolean(), dt: gap }), { minLength: 1, maxLength: 6 }).map((steps) => steps.map((s, i): Part => ({ dt: s.dt, data: i > 0 && s.answer ? a : q })));
  });

const capture = fc.array(conversation, { minLength: 1, maxLength: 12 }).chain((convs) =>
  // Interleaved: each conversation's parts keep their order.
  fc.shuffledSubarray(convs.flatMap((c, i) => c.map((_, j) => [i, j] as const)), { minLength: convs.flatMap((c) => c).length }).map((order) => {
    const next = convs.map(() => 0);
    return order.map(([i]) => convs[i]![next[i]!++]!);
  }),
);

/** Exchanges as they close (order `close`), each with the frame it closed at. */
function run(parts: Part[], fullSweeps: boolean): [number, number, unknown][] {
  const out: [number, number, unknown][] = [];
  let at = 0;
  const engine = new FlowEngine({ order: 'close', onExchange: (e, startIndex) => out.push([at, startIndex, exchangeJson(e)]) });
  // The tracker's bounds (private): what the sweep passes over.
  const tracker = engine.exchanges as unknown as { liveUntil: number[] };
  const decoder = new PacketDecoder({});
  let t = 1_700_000_000;
  for (const { dt, data } of parts) {
    at++;
    t += dt;
    const tsSec = Math.floor(t);
    const f: Frame = { index: at, tsSec, tsNsec: Math.round((t - tsSec) * 1e9), linkType: 1, len: data.length, data, interfaceId: 0 };
    // Every bound void: the sweep looks at every open exchange.
    if (fullSweeps) tracker.liveUntil.fill(-Infinity);
    engine.frame();
    const p = decoder.decode(f);
    if (p) engine.packet(p);
  }
  at++;
  engine.finish();
  return out;
}

describe('the sweep', () => {
  it('closes every exchange at the same packet as a sweep that looks at them all', () => {
    let closedEarly = 0;
    fc.assert(
      fc.property(capture, (parts) => {
        const full = run(parts, true);
        closedEarly += full.filter(([at]) => at <= parts.length).length;
        expect(run(parts, false)).toEqual(full);
      }),
      { numRuns: 400 },
    );
    // Exchanges must close on time, before the end of the capture, for the comparison to mean anything.
    expect(closedEarly).toBeGreaterThan(500);
  });
});
