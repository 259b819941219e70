// The Mappings view while a capture goes on: an EID's lines follow its mapping as it changes.

import { describe, expect, it } from 'vitest';
import type { Mapping } from '../../src/flows/types.js';
import { lispUdpPacket, mappingRecord, mapNotify, mapRegister } from '../../src/dissect/build.js';
import { mappingLines } from '../../src/tui/mappings-view.js';
import { makePaint, plain } from '../../src/tui/paint.js';
import { StepSource } from './helpers.js';

const EID = '10.1.0.5/32';
const MS = '203.0.113.1';
const paint = makePaint(false);
/** The view's lines of `m`, without terminal attributes. */
const linesOf = (m: Mapping) => mappingLines(m, 200, paint).map(plain);

/** A Map-Register of EID at `rloc` from `rloc`, and the Map-Server's Map-Notify. */
function register(s: StepSource, nonce: bigint, rloc: string): void {
  const rec = mappingRecord({ eid: EID, locators: [{ rloc, priority: 1, weight: 100, local: true }] });
  s.feed(lispUdpPacket({ src: rloc, dst: MS, sport: 4342, dport: 4342, payload: mapRegister({ nonce, records: [rec], keyId: 1, key: 'k', wantMapNotify: true }) }));
  s.feed(lispUdpPacket({ src: MS, dst: rloc, sport: 4342, dport: 4342, payload: mapNotify({ nonce, records: [rec], keyId: 1, key: 'k' }) }));
}

describe('Mappings view', () => {
  it('says why an EID shows no handover, and no longer once the EID moved', async () => {
    const s = new StepSource();
    await s.start();
    register(s, 1n, '192.0.2.10');
    // The display asks on every refresh: the mapping as of one registration.
    const before = s.mappings().find((m) => m.eid === EID)!;
    expect(before.handovers).toHaveLength(0);
    expect(before.noHandover).toMatch(/^one registration and nothing earlier/);
    expect(linesOf(before).join('\n')).toMatch(/no handover: one registration and nothing earlier/);
    // Registered at another RLOC: the EID moved.
    register(s, 2n, '192.0.2.20');
    const after = s.mappings().find((m) => m.eid === EID)!;
    expect(after.handovers.map((h) => [h.from, h.to])).toEqual([[['192.0.2.10'], ['192.0.2.20']]]);
    expect(after.noHandover).toBeUndefined();
    const lines = linesOf(after);
    expect(lines.join('\n')).not.toMatch(/no handover/);
    expect(lines.some((l) => l.startsWith('handover at'))).toBe(true);
    await s.stop();
  });
});
