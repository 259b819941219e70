// The data sources behind the terminal UI: capture files (one, several merged, gzipped, broken),
// a live interface through a fake libpcap module, and the lab.

import { EventEmitter } from 'node:events';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { CapHandle, CapModule } from '../../src/capture/live.js';
import { lispUdpPacket, mappingRecord, mapNotify, mapRegister } from '../../src/dissect/build.js';
import { FileSource } from '../../src/tui/file-source.js';
import { LabSource } from '../../src/tui/lab-source.js';
import { LiveSource } from '../../src/tui/live-source.js';
import type { DataSource } from '../../src/tui/source.js';
import { lispscope, PCAPS } from '../cli/run.js';
import { writeBigCapture } from './big-capture.js';
import { until } from './helpers.js';

const HANDOVER = join(PCAPS, 'mn-handover.pcapng');
const tmp = mkdtempSync(join(tmpdir(), 'lispscope-tui-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const done = (s: DataSource) => until(s, () => s.status().state === 'done' || s.status().state === 'error');

describe('FileSource', () => {
  it('indexes, analyses and decodes on demand: the same sessions as lispscope flows', async () => {
    const s = new FileSource([HANDOVER]);
    await s.start();
    await done(s);
    const flows = lispscope(['flows', '--json', HANDOVER]).stdout.trim().split('\n').map((l) => JSON.parse(l) as { nonce: string; kind: string });
    const { list } = s.sessions();
    expect(list.map((x) => x.exchange.nonce)).toEqual(flows.map((f) => f.nonce));
    expect(s.packetRange()).toEqual({ first: 0, end: 56 });
    expect(s.counters()).toMatchObject({ frames: 56, lisp: 56, sessions: flows.length, handovers: 1, unanswered: 0 });
    const smr = list.find((x) => x.exchange.kind === 'smr')!;
    const seq = s.seqOf(smr.exchange.frames[0]!)!;
    expect(seq).toBe(36);
    const v = s.packet(seq)!;
    expect(v.ref).toEqual({ frame: 37, file: 0 });
    expect(v.packet.control && 'smr' in v.packet.control && v.packet.control.smr).toBe(true);
    expect(v.bytes.length).toBe(v.packet.caplen);
    expect(s.packet(seq)).toBe(v); // cached
    expect(s.mappings().find((m) => m.eid === '10.1.0.5/32')!.handovers).toHaveLength(1);
    // The MN is known by its handover, the MS and MR by where Map-Registers and ECMs go.
    const roles = s.roles();
    expect([...roles.get('198.51.100.20')!]).toContain('MN');
    expect([...roles.get('203.0.113.1')!]).toEqual(['MS']);
    expect([...roles.get('203.0.113.2')!]).toEqual(['MR']);
    await s.stop();
  });

  it('merges several captures by time like flows, and reads gzipped ones through a spool', async () => {
    const a = join(tmp, 'a.pcapng');
    copyFileSync(HANDOVER, a);
    const s = new FileSource([HANDOVER, a]);
    expect(s.multiFile).toBe(true);
    await s.start();
    await done(s);
    expect(s.packetRange().end).toBe(112);
    // Merged by time: each frame of the first file is followed by its copy from the second.
    expect(s.packetRef(0)!.ref).toEqual({ frame: 1, file: 0 });
    expect(s.packetRef(1)!.ref).toEqual({ frame: 1, file: 1 });
    expect(s.seqOf({ frame: 37, file: 1 })).toBe(73);
    expect(s.packet(73)!.ref).toEqual({ frame: 37, file: 1 });
    expect(s.counters().duplicates).toBe(56);
    expect(s.sessions().total).toBe(11);
    await s.stop();

    const gz = new FileSource([join(PCAPS, 'format-gzip.pcap.gz')]);
    await gz.start();
    await done(gz);
    expect(gz.packetRange().end).toBe(3);
    expect(gz.packet(2)!.packet.kind).toBe('data');
    expect(gz.packet(0)!.packet.control?.type).toBe(3);
    await gz.stop();
  });

  it('indexes the whole file long before the analysis is through it (the index takes turns of many chunks)', async () => {
    const file = join(tmp, 'turns.pcap');
    // 200,000 frames of 112 bytes: some 21 chunks of the index's, as many of the analysis's.
    writeBigCapture(file, 200_000);
    // A clock that never moves: the index's turn never runs out, whatever else runs on the machine.
    const now = vi.spyOn(performance, 'now').mockReturnValue(0);
    try {
      const s = new FileSource([file]);
      let analysedWhenIndexed: number | undefined;
      s.subscribe(() => {
        if (analysedWhenIndexed === undefined && !s.status().text.startsWith('reading')) analysedWhenIndexed = s.counters().frames;
      });
      await s.start();
      await done(s);
      expect(s.packetRange().end).toBe(200_000);
      expect(s.counters().frames).toBe(200_000);
      // Chunk for chunk (the analysis's turn for each of the index's), both end together.
      expect(analysedWhenIndexed).toBeLessThan(200_000 / 4);
      await s.stop();
    } finally {
      now.mockRestore();
    }
  });

  it('refuses what is not a capture before the UI starts, and reports damage later as a warning', async () => {
    await expect(new FileSource([join(tmp, 'nope.pcap')]).start()).rejects.toThrow(/nope\.pcap: no such file/);
    const junk = join(tmp, 'junk.pcap');
    writeFileSync(junk, 'hello, this is not a capture');
    await expect(new FileSource([junk]).start()).rejects.toThrow(/not a capture file: expected pcap/);
    const cut = new FileSource([join(PCAPS, 'truncated.pcap')]);
    await cut.start();
    await done(cut);
    expect(cut.status().warnings.join('\n')).toMatch(/truncated/);
    expect(cut.packetRange().end).toBe(2);
    await cut.stop();
  });
});

describe('LiveSource', () => {
  /** A libpcap stand-in: frames are "captured" when the test calls emit(). */
  function fakeCap(): { cap: CapModule; emit: (frame: Uint8Array) => void } {
    let handle: (EventEmitter & { buffer?: Buffer }) | undefined;
    class Cap extends EventEmitter implements CapHandle {
      buffer?: Buffer;
      static deviceList() {
        return [{ name: 'fake0', addresses: [{ addr: '192.0.2.1' }] }];
      }
      open(_d: string, _f: string, _b: number, buffer: Buffer): string {
        this.buffer = buffer;
        handle = this as never;
        return 'RAW';
      }
      close(): boolean {
        return true;
      }
      send(): void {}
    }
    return {
      cap: { Cap } as unknown as CapModule,
      emit: (frame) => {
        frame.forEach((b, i) => (handle!.buffer![i] = b));
        handle!.emit('packet', frame.length, false);
      },
    };
  }

  it('captures into a bounded ring: the newest packets are kept, the sessions come from the engine', async () => {
    const { cap, emit } = fakeCap();
    const s = new LiveSource({ iface: 'fake0', cap, maxPackets: 100 });
    await s.start();
    const rec = mappingRecord({ eid: '10.1.0.5/32', locators: [{ rloc: '192.0.2.10', priority: 1, weight: 100, local: true }] });
    for (let i = 0; i < 150; i++) {
      const nonce = BigInt(i + 1);
      emit(lispUdpPacket({ src: '192.0.2.10', dst: '203.0.113.1', sport: 4342, dport: 4342, payload: mapRegister({ nonce, records: [rec], keyId: 1, key: 'k', wantMapNotify: true }) }));
      emit(lispUdpPacket({ src: '203.0.113.1', dst: '192.0.2.10', sport: 4342, dport: 4342, payload: mapNotify({ nonce, records: [rec], keyId: 1, key: 'k' }) }));
    }
    await until(s, () => s.packetRange().end === 300);
    expect(s.packetRange()).toEqual({ first: 200, end: 300 });
    expect(s.packet(199)).toBeUndefined();
    expect(s.packet(299)!.packet.control?.type).toBe(4);
    expect(s.counters()).toMatchObject({ frames: 300, lisp: 300, drops: 0, evictedPackets: 200 });
    expect(s.status().text).toMatch(/capturing on fake0/);
    // Exchanges close on the wall clock (timeout 3 s after the last packet): end the capture instead.
    await s.stop();
    await until(s, () => s.sessions().total === 150);
    expect(s.sessions().list[0]!.exchange).toMatchObject({ kind: 'registration', outcome: 'answered' });
    expect(s.seqOf({ frame: 300, file: 0 })).toBe(299);
    expect(s.seqOf({ frame: 3, file: 0 })).toBeUndefined();
  });

  it('fails with the one line sniff gives when live capture is not possible', async () => {
    const s = new LiveSource({ iface: 'nosuchif0' });
    const err = await s.start().then(
      () => undefined,
      (e: Error) => e,
    );
    const sniff = lispscope(['sniff', '-i', 'nosuchif0']).stderr.trim();
    expect(`lispscope: ${err?.message}`).toBe(sniff);
  });
});

describe('LabSource', () => {
  it('runs a lab scenario, shows its packets and sessions as they are sent, and stops cleanly', async () => {
    const s = new LabSource({ scenario: 'handover', base: '127.0.61.0' });
    await s.start();
    await until(s, () => /steps passed/.test(s.status().text), 20_000);
    expect(s.status().text).toMatch(/scenario handover: 6 of 6 steps passed/);
    expect(s.lab?.mn).toBeDefined();
    expect(s.localTargets.mapResolver).toBe('127.0.61.1');
    expect(s.packetRange().end).toBeGreaterThan(20);
    const first = s.packet(0)!;
    expect(first.sender).toBe('xtr-a');
    await until(s, () => s.sessions().list.some((x) => x.exchange.kind === 'smr'), 10_000);
    expect(s.mappings().find((m) => m.eid === '10.1.0.5/32')!.handovers.length).toBeGreaterThanOrEqual(1);
    expect([...s.roles().get('127.0.61.10')!]).toContain('MN');
    await s.stop();
  });
});
