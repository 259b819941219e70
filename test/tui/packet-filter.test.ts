// The packet filter behind the UI's `/` on the Packets pane: the packets `read -Y` would print,
// found by a scan in slices that goes on with the packets that arrive and forgets the ones the
// source no longer keeps.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { lispUdpPacket, mappingRecord, mapNotify, mapRegister } from '../../src/dissect/build.js';
import { FilterError } from '../../src/flows/filter.js';
import { FileSource } from '../../src/tui/file-source.js';
import { PacketFilter } from '../../src/tui/packet-filter.js';
import { writeBigCapture } from './big-capture.js';
import { caughtUp, StepSource, until } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-tui-filter-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The sequence numbers of every match still kept. */
function matches(f: PacketFilter): number[] {
  const p = f.progress();
  const out: number[] = [];
  for (let n = p.first; n < p.end; n++) out.push(f.at(n)!);
  return out;
}

describe('PacketFilter', () => {
  it('refuses a filter that does not compile, with its column', () => {
    const s = new StepSource();
    expect(() => new PacketFilter(s, 'type == map-register &&')).toThrow(FilterError);
    expect(() => new PacketFilter(s, 'rtt_ms > x')).toThrow(/"\>" needs a number, not "x", at column 10/);
  });

  it('goes on with the packets that arrive and forgets the ones a live source evicts', async () => {
    const s = new StepSource({ maxPackets: 100 });
    const rec = mappingRecord({ eid: '10.1.0.5/32', locators: [{ rloc: '192.0.2.10', priority: 1, weight: 100, local: true }] });
    const feed = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const nonce = BigInt(i + 1);
        s.feed(lispUdpPacket({ src: '192.0.2.10', dst: '203.0.113.1', sport: 4342, dport: 4342, payload: mapRegister({ nonce, records: [rec], keyId: 1, key: 'k', wantMapNotify: true }) }));
        s.feed(lispUdpPacket({ src: '203.0.113.1', dst: '192.0.2.10', sport: 4342, dport: 4342, payload: mapNotify({ nonce, records: [rec], keyId: 1, key: 'k' }) }));
      }
    };
    feed(0, 20);
    const f = new PacketFilter(s, 'type == map-notify && nonce == 0x3');
    await caughtUp(f);
    expect(matches(f)).toEqual([5]);
    const all = new PacketFilter(s, 'type == map-notify');
    await caughtUp(all);
    expect(matches(all)).toEqual(Array.from({ length: 20 }, (_, i) => 2 * i + 1));
    // More packets: scanned as they come, without being asked.
    feed(20, 70);
    expect(all.progress().caughtUp).toBe(false);
    await caughtUp(all);
    // The ring keeps the newest 100 packets (40..139): the matches before them are gone.
    expect(s.packetRange()).toEqual({ first: 40, end: 140 });
    const p = all.progress();
    expect(p).toMatchObject({ first: 20, end: 70, scanned: 100, of: 100, caughtUp: true });
    expect(all.at(19)).toBeUndefined();
    expect(matches(all)).toEqual(Array.from({ length: 50 }, (_, i) => 41 + 2 * i));
    // The first match at or after a packet, by match number.
    expect(all.lowerBound(0)).toBe(20);
    expect(all.lowerBound(42)).toBe(21);
    expect(all.lowerBound(1000)).toBe(70);
    expect(matches(f)).toEqual([]);
    f.stop();
    all.stop();
    await s.stop();
  });

  it('scans a large capture in slices of a few milliseconds, reporting matches as it finds them', async () => {
    const file = join(tmp, 'big.pcap');
    writeBigCapture(file, 100_000);
    const s = new FileSource([file]);
    await s.start();
    await until(s, () => s.status().state === 'done', 60_000);
    // The scan's clock advances 1 ms whenever it is read, so a slice's length in packets does not
    // depend on the machine: the filter reads it every 16 packets and yields once 8 ms have passed.
    let clock = 0;
    const now = vi.spyOn(performance, 'now').mockImplementation(() => ++clock);
    try {
      const f = new PacketFilter(s, 'type == map-reply');
      const slices: number[] = [];
      const partial: number[] = [];
      let scanned = 0;
      f.subscribe(() => {
        const p = f.progress();
        slices.push(p.scanned - scanned);
        scanned = p.scanned;
        if (!p.caughtUp) partial.push(p.end);
      });
      // What the event loop does between slices (a key press, a redraw) runs before the scan ends.
      let between: boolean | undefined;
      setTimeout(() => (between = !f.progress().caughtUp), 0);
      await caughtUp(f);
      // Every tenth packet of the capture is a Map-Reply (frames 2, 12, 22, ...).
      expect(f.progress()).toMatchObject({ first: 0, end: 10_000, scanned: 100_000, of: 100_000, caughtUp: true });
      expect([f.at(0), f.at(1), f.at(9_999)]).toEqual([1, 11, 99_991]);
      expect(Math.max(...slices)).toBeLessThanOrEqual(8 * 16);
      expect(slices.length).toBeGreaterThanOrEqual(100_000 / (8 * 16));
      expect(between).toBe(true);
      // Matches were there to show long before the scan ended.
      expect(partial.length).toBeGreaterThan(10);
      expect(partial[0]).toBeLessThan(10_000);
      f.stop();
    } finally {
      now.mockRestore();
    }
    await s.stop();
  }, 60_000);
});
