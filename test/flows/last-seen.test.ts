import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataSeen, LastSeen } from '../../src/flows/last-seen.js';

type Op = { op: 'set' | 'note'; k: number | string; t: number; max: number };

describe('LastSeen', () => {
  it('keeps what a map in order of first sight keeps, through the first address, the scan and the index', () => {
    // Few keys, so that addresses repeat; up to 40 distinct ones, beyond the scan's 16.
    const key = fc.oneof(fc.integer({ min: -20, max: 20 }), fc.constantFrom('2001:db8::1', 'fe80::1'));
    const op = fc.record({ op: fc.constantFrom('set' as const, 'note' as const), k: key, t: fc.double({ noNaN: true }), max: fc.integer({ min: 0, max: 40 }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops: Op[]) => {
        const seen = new LastSeen();
        const model = new Map<number | string, number>();
        for (const { op, k, t, max } of ops) {
          if (op === 'set') seen.set(k, t);
          else seen.note(k, t, max);
          if (op === 'set' || model.has(k) || model.size < max) model.set(k, t);
          expect(seen.size).toBe(model.size);
          expect(seen.has(k)).toBe(model.has(k));
          expect(seen.get(k)).toBe(model.get(k));
          expect(seen.get('absent')).toBeUndefined();
        }
        expect([...seen]).toEqual([...model]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('DataSeen', () => {
  /** What DataSeen replaced: a LastSeen for the peers and one for the ETRs. */
  class Model {
    readonly peers = new LastSeen();
    readonly etrs = new LastSeen();
    note(ts: number, itr: Addr | undefined, etr: Addr | undefined, maxPeers: number, maxEtrs: number): void {
      if (itr !== undefined) this.peers.note(itr, ts, maxPeers);
      if (etr !== undefined) this.etrs.note(etr, ts, maxEtrs);
    }
    takeLatest(from: Model, maxPeers: number, maxEtrs: number): void {
      const latest = (into: LastSeen, list: LastSeen, max: number) => {
        for (const [a, t] of list) if ((into.size < max || into.has(a)) && (into.get(a) ?? -Infinity) < t) into.set(a, t);
      };
      latest(this.peers, from.peers, maxPeers);
      latest(this.etrs, from.etrs, maxEtrs);
    }
  }
  type Addr = number | string;

  it('keeps what two LastSeen lists keep, through packets, caps and taking another destination over', () => {
    const addr = fc.oneof(fc.integer({ min: -12, max: 12 }), fc.constantFrom('2001:db8::1', 'fe80::1'));
    const packet = fc.record({
      ts: fc.double({ min: 0, max: 100, noNaN: true }),
      itr: fc.option(addr, { nil: undefined }),
      etr: fc.option(addr, { nil: undefined }),
      maxPeers: fc.integer({ min: 0, max: 20 }),
      maxEtrs: fc.integer({ min: 0, max: 20 }),
      // Which of two lists the packet goes to; now and then the first takes the second over.
      to: fc.integer({ min: 0, max: 1 }),
      take: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(packet, { maxLength: 150 }), (packets) => {
        const seen = [new DataSeen(), new DataSeen()];
        const model = [new Model(), new Model()];
        for (const p of packets) {
          seen[p.to]!.note(p.ts, p.itr, p.etr, p.maxPeers, p.maxEtrs);
          model[p.to]!.note(p.ts, p.itr, p.etr, p.maxPeers, p.maxEtrs);
          if (p.take) {
            seen[0]!.takeLatest(seen[1]!, p.maxPeers, p.maxEtrs);
            model[0]!.takeLatest(model[1]!, p.maxPeers, p.maxEtrs);
          }
          for (let i = 0; i < 2; i++) {
            expect([...seen[i]!.peers()]).toEqual([...model[i]!.peers]);
            expect([...seen[i]!.etrs()]).toEqual([...model[i]!.etrs]);
            if (p.itr !== undefined) expect(seen[i]!.hasPeer(p.itr)).toBe(model[i]!.peers.has(p.itr));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
