// Hostile input: random and mutated packets never make the dissector throw or hang, and a message
// cut anywhere is reported as malformed, never silently accepted.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import { decodeControl, encodeControl } from '../../src/dissect/control.js';
import { dataHeader, decodeData, encodeData } from '../../src/dissect/data.js';
import { decodeIcmpError, encodeIcmpError } from '../../src/dissect/icmp.js';
import { decodeVxlan } from '../../src/dissect/vxlan.js';
import { encodeIpUdp } from '../../src/dissect/ip.js';
import { encodeLink } from '../../src/dissect/link.js';
import { noOverrun, notHung } from '../support/hang.js';
import { controlMessage } from '../support/arbitraries.js';

/** Bit flips, cuts, insertions, and inflated counts/lengths at random positions. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
);

function mutate(b: Uint8Array, muts: fc.Arbitrary<unknown>[] | unknown[]): Uint8Array {
  let out = b.slice();
  for (const m of muts as { kind: string; at: number; bit?: number; value?: number; bytes?: Uint8Array }[]) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    if (m.kind === 'flip') out[at]! ^= 1 << m.bit!;
    else if (m.kind === 'set') out[at] = m.value!;
    else if (m.kind === 'cut') out = out.slice(0, at);
    else {
      const n = new Uint8Array(out.length + m.bytes!.length);
      n.set(out.subarray(0, at));
      n.set(m.bytes!, at);
      n.set(out.subarray(at), at + m.bytes!.length);
      out = n;
    }
  }
  return out;
}

describe('dissector robustness', () => {
  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        noOverrun(notHung(() => decodeControl(b)));
        noOverrun(notHung(() => decodeData(b)));
        noOverrun(notHung(() => decodeVxlan(b)));
        noOverrun(notHung(() => decodeIcmpError(b, 0, b.length, 4)));
        noOverrun(notHung(() => decodeIcmpError(b, 0, b.length, 6)));
      }),
      { numRuns: 5000 },
    );
  });

  it('never throws on random bytes behind each control type', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 200 }), (t, b) => {
        const m = new Uint8Array(b.length + 1);
        m[0] = t << 4;
        m.set(b, 1);
        noOverrun(notHung(() => decodeControl(m)));
      }),
      { numRuns: 5000 },
    );
  });

  it('never throws on mutated valid messages', () => {
    fc.assert(
      fc.property(controlMessage, fc.array(mutation, { minLength: 1, maxLength: 4 }), (m, muts) => {
        noOverrun(notHung(() => decodeControl(mutate(encodeControl(m), muts))));
      }),
      { numRuns: 3000 },
    );
  });

  it('reports every cut of a message whose structure is declared (no trailing bytes)', () => {
    const declared = controlMessage.filter(
      (m) => !('unknown' in m) && m.type !== 15 && !('trailing' in m && m.trailing) && !(m.type === 8 && m.inner?.message && ('unknown' in m.inner.message || m.inner.message.type === 15)),
    );
    fc.assert(
      fc.property(declared, fc.nat(), (m, at) => {
        const b = encodeControl(m);
        const cut = b.subarray(0, at % b.length);
        const { notes } = decodeControl(cut);
        expect(notes.length).toBeGreaterThan(0);
        for (const n of notes) expect(n.offset).toBeLessThanOrEqual(b.length);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on whole frames of every link type', () => {
    const linkTypes = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];
    const decoder = new PacketDecoder({ all: true });
    let index = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...linkTypes),
        controlMessage,
        fc.array(mutation, { maxLength: 3 }),
        fc.boolean(),
        (lt, m, muts, v6) => {
          const ip = encodeIpUdp(
            { src: v6 ? '2001:db8::1' : '192.0.2.1', dst: v6 ? '2001:db8::2' : '192.0.2.2', sport: 4342, dport: 4342 },
            encodeControl(m),
          );
          const l3 = lt === 229 || (lt !== 228 && v6) ? ip : ip;
          if ((lt === 228 && v6) || (lt === 229 && !v6)) return;
          const frame = mutate(encodeLink(lt, l3), muts);
          noOverrun(notHung(() => decoder.decode({ index: ++index, tsSec: index, tsNsec: 0, linkType: lt, len: frame.length, data: frame, interfaceId: 0 })));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('never throws on ICMP errors quoting, and data packets carrying, random messages, mutated, with keys', () => {
    // Every key lookup answers, so every verification path runs on the mutated bytes.
    const decoder = new PacketDecoder({ all: true, keyFor: () => 'k' });
    let index = 0;
    fc.assert(
      fc.property(
        controlMessage,
        fc.constantFrom('icmp', 'icmp6', 'data', 'data-from-4342'),
        fc.integer({ min: 8, max: 600 }),
        fc.array(mutation, { maxLength: 3 }),
        (m, how, quote, muts) => {
          const v6 = how === 'icmp6';
          const [a, b] = v6 ? ['2001:db8::1', '2001:db8::2'] : ['192.0.2.1', '192.0.2.2'];
          const lisp = encodeIpUdp({ src: a, dst: b, sport: 4342, dport: 4342 }, encodeControl(m));
          const ip = how.startsWith('data')
            ? encodeIpUdp({ src: b, dst: a, sport: how === 'data' ? 50000 : 4342, dport: how === 'data' ? 4341 : 23000 }, encodeData(dataHeader({ iid: 0xffffff }), lisp))
            : encodeIcmpError({ src: b, dst: a, type: v6 ? 1 : 3, code: v6 ? 4 : 3, original: lisp, quote });
          const frame = mutate(ip, muts);
          noOverrun(notHung(() => decoder.decode({ index: ++index, tsSec: index, tsNsec: 0, linkType: 101, len: frame.length, data: frame, interfaceId: 0 })));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
