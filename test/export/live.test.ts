// Live export: the loader's queue (backpressure, an unreachable database buffered to a bound then
// dropped and counted), and `sniff --export` end to end on the loopback.

import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readCapture } from '../../src/capture/source.js';
import type { Frame } from '../../src/capture/types.js';
import { LiveExport } from '../../src/export/live.js';
import { mapNotify, mappingRecord, mapRegister, mapRequest, dataPacket } from '../../src/dissect/build.js';
import { encodeControl } from '../../src/dissect/control.js';
import { Loader } from '../../src/export/loader.js';
import { SinkError, SinkUnavailable, type Sink } from '../../src/export/sink.js';
import type { Batch } from '../../src/export/stage.js';
import { lispscope, PCAPS, ROOT } from '../cli/run.js';
import { gate, liveUnavailable, sendAll, testNet, type Sent } from '../support/live.js';
import { cli, lines } from './support.js';

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-live-export-'));

/** A snapshot of a DuckDB file another process writes (with its WAL, where recent rows are). */
function snapshot(from: string, to: string): void {
  rmSync(`${to}.wal`, { force: true });
  copyFileSync(from, to);
  if (existsSync(`${from}.wal`)) copyFileSync(`${from}.wal`, `${to}.wal`);
}

/** A sink that is down while `down` says so, and records what it loaded. */
function fakeSink(state: { down: boolean; fatal?: boolean }) {
  const loaded: number[] = [];
  const sink: Sink = {
    label: 'fake',
    open: async () => {},
    beginInput: async () => {},
    endInput: async () => {},
    close: async () => {},
    load: async (b: Batch) => {
      if (state.fatal) throw new SinkError('fake: table is gone');
      if (state.down) throw new SinkUnavailable('fake: unreachable (ECONNREFUSED)');
      loaded.push(b.rows);
    },
  };
  return { sink, loaded };
}

let n = 0;
function batch(rows: number, bytes: number): Batch {
  const path = join(tmp, `b${++n}`);
  writeFileSync(path, 'x');
  return { table: 'packets', path, rows, bytes, vantage: 'v', file: 'f' };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('the loader', () => {
  it('holds the reader back while batches queue up, and lets it go as they load', async () => {
    const state = { down: false };
    const { sink, loaded } = fakeSink(state);
    let release: () => void = () => {};
    const slow: Sink = { ...sink, load: (b) => new Promise<void>((r) => (release = () => void sink.load(b).then(r))) };
    const l = new Loader(slow, { maxQueued: 2 });
    l.push(batch(10, 100));
    expect(l.pause()).toBeUndefined();
    l.push(batch(10, 100));
    const waiting = l.pause();
    expect(waiting).toBeInstanceOf(Promise);
    let resumed = false;
    void waiting!.then(() => (resumed = true));
    await tick();
    expect(resumed).toBe(false);
    release();
    await tick();
    expect(resumed).toBe(true);
    release();
    await l.drained();
    expect(loaded).toEqual([10, 10]);
    expect(l.loadedRows).toBe(20);
  });

  it('keeps batches while the database is unreachable, up to its bound, then drops the oldest and counts their rows', async () => {
    const state = { down: true };
    const { sink, loaded } = fakeSink(state);
    const told: string[] = [];
    const l = new Loader(sink, { maxQueued: 2, maxBufferedBytes: 300, retryMs: 5, onState: (m) => told.push(m) });
    for (let i = 1; i <= 6; i++) {
      l.push(batch(i, 100));
      await tick();
    }
    // 600 bytes pushed, 300 kept: the three oldest (1 + 2 + 3 rows) are gone.
    expect(l.droppedRows).toBe(6);
    expect(l.congested).toBe(false); // a down database does not stop the capture
    expect(told[0]).toMatch(/^fake: unreachable \(ECONNREFUSED\); keeping up to 0 MiB of rows and retrying$/);
    state.down = false;
    await l.drained();
    expect(loaded).toEqual([4, 5, 6]);
    expect(told[told.length - 1]).toBe('fake: reachable again');
  });

  it('gives up what it holds when told to (the end of a live capture)', async () => {
    const { sink } = fakeSink({ down: true });
    const l = new Loader(sink, { maxBufferedBytes: 1 << 20, retryMs: 5 });
    l.push(batch(7, 10));
    await tick();
    l.abandon();
    await l.drained();
    expect(l.droppedRows).toBe(7);
  });

  it('stops at the first error that is not about reaching the database', async () => {
    const { sink } = fakeSink({ down: false, fatal: true });
    const l = new Loader(sink, { maxBufferedBytes: 1 << 20 });
    l.push(batch(1, 10));
    await expect(l.drained()).rejects.toThrow('fake: table is gone');
    expect(l.pause()).toBeUndefined();
  });
});

describe('a live export', () => {
  afterEach(() => vi.useRealTimers());

  it('writes timeline entries while the capture runs, and each handover once its peers are no longer followed', async () => {
    // The batch timer must not run on the wall clock here: the capture's own times drive the flushes.
    vi.useFakeTimers();
    const rows: Record<string, Record<string, unknown>[]> = {};
    const sink: Sink = {
      label: 'recording',
      open: async () => {},
      beginInput: async () => {},
      endInput: async () => {},
      close: async () => {},
      load: async (b: Batch) => {
        const list = (rows[b.table] ??= []);
        const json = b.path ? readFileSync(b.path, 'utf8').split('\n').filter(Boolean) : [];
        for (const l of json) list.push(JSON.parse(l.slice(l.indexOf('\x01') + 1)) as Record<string, unknown>);
        // Plain data rows (one batch with the JSON rows, live): counted.
        list.push(...Array.from({ length: b.rows - json.length }, () => ({})));
      },
    };
    const live = new LiveExport(sink, { label: { vantage: 'mn', file: 'lo' }, warning: () => {}, onState: () => {} });
    await live.open();
    const frames: Frame[] = [];
    const file = join(PCAPS, 'mn-handover.pcapng');
    await readCapture(file, { frame: (f) => (frames.push({ ...f, data: f.data.slice() }), true), warning: () => {} });
    const ts = (f: Frame) => f.tsSec + f.tsNsec / 1e9;
    const settled = async () => {
      for (let i = 0; i < 10; i++) await Promise.resolve();
      await live.loader.drained();
    };
    const mappings = lines((await cli(['mappings', '--json', file])).stdout) as { eid: string; timeline: object[]; handovers: { ts: number; frame: number }[] }[];
    const moved = mappings.find((m) => m.handovers.length === 1)!;
    const handover = moved.handovers[0]!;
    // Up to the frame before the MN's new registration: its timeline so far, no handover.
    const before = frames.findIndex((f) => f.index === handover.frame);
    for (const f of frames.slice(0, before)) live.frame(f);
    live.flush(ts(frames[before - 1]!));
    await settled();
    const entriesBefore = moved.timeline.filter((t) => (t as { frame: number }).frame < handover.frame).length;
    expect(rows.mappings!.filter((r) => r.eid === moved.eid)).toEqual(moved.timeline.slice(0, entriesBefore).map((t) => ({ eid: moved.eid, ...t })));
    expect(rows.handovers).toBeUndefined();
    // The rest of the capture: the handover is found, and its peer followed for the tracking time
    // (5 minutes) after it; only then is it final.
    for (const f of frames.slice(before)) live.frame(f);
    live.flush(ts(frames[frames.length - 1]!));
    await settled();
    expect(rows.handovers).toBeUndefined();
    live.flush(handover.ts + 301);
    await settled();
    expect(rows.handovers).toEqual([{ eid: moved.eid, ...handover }]);
    expect(rows.handover_peers).toHaveLength(1);
    // At the end, nothing twice: the tables hold what mappings --json prints.
    const s = await live.finish(0);
    expect(s.handovers).toBe(1);
    expect(rows.handovers).toHaveLength(1);
    const byEid = (list: Record<string, unknown>[]) => [...list].sort((a, b) => String(a.eid).localeCompare(String(b.eid)) || (a.ts as number) - (b.ts as number));
    expect(byEid(rows.mappings!)).toEqual(byEid(mappings.flatMap((m) => m.timeline.map((t) => ({ eid: m.eid, ...t })))));
    expect(rows.packets).toHaveLength(frames.length);
  });
});

// ---- sniff --export ------------------------------------------------------------------------------

const unavailable = gate('sniff --export capture tests', await liveUnavailable());

describe('sniff --export', () => {
  it('checks its options before capturing', () => {
    const both = lispscope(['sniff', '-i', 'lo', '--export', join(tmp, 'x.duckdb'), '--json']);
    expect(both.code).toBe(2);
    expect(both.stderr.trim()).toMatch(/^lispscope: sniff: --export writes packets and exchanges to DEST; --flows, --json/);
    const alone = lispscope(['sniff', '-i', 'lo', '--vantage', 'x']);
    expect(alone.stderr.trim()).toBe('lispscope: sniff: --vantage, --partition and --export-buffer go with --export DEST');
    const down = lispscope(['sniff', '-i', 'lo', '--export', 'clickhouse://default@127.0.0.1:1/db']);
    expect(down.code).toBe(2);
    expect(down.stderr.trim()).toBe('lispscope: clickhouse 127.0.0.1:1: unreachable (ECONNREFUSED)');
  });

  it.skipIf(unavailable !== undefined)('writes what it captures, the exchanges and a captures row', async () => {
    const net = testNet();
    const db = join(tmp, 'live.duckdb');
    const pcap = join(tmp, 'live.pcap');
    const child = spawn(process.execPath, [join(ROOT, 'bin/lispscope'), 'sniff', '-i', 'lo', '-f', `udp and host ${net.b}`, '--export', db, '--vantage', 'edge-1', '-w', pcap], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    let err = '';
    const ready = new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => ((err += d.toString()), err.includes('listening on') && resolve())));
    const exit = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    await Promise.race([ready, exit]);
    const rec = mappingRecord({ eid: '10.1.0.5/32', locators: [{ rloc: net.a, priority: 1, weight: 100, local: true }] });
    const msgs: Sent[] = [];
    for (let i = 0; i < 20; i++) {
      const nonce = 0x5000n + BigInt(i);
      msgs.push({ bytes: mapRegister({ nonce, records: [rec], keyId: 1, key: 'k', wantMapNotify: true }), dport: 4342, type: 'map-register' });
      msgs.push({ bytes: mapNotify({ nonce, records: [rec], keyId: 1, key: 'k' }), dport: 4342, type: 'map-notify' });
      msgs.push({ bytes: encodeControl(mapRequest({ nonce: nonce + 0x100000n, eids: ['10.9.0.1/32'], itrRlocs: [net.a] })), dport: 4342, type: 'map-request' });
      msgs.push({ bytes: dataPacket({ src: net.a, dst: net.b, nonce: i, inner: { src: '10.2.0.7', dst: '10.1.0.5', proto: 'icmp-echo-request' } }).subarray(28), dport: 4341, type: 'data' });
    }
    await sendAll(net.a, net.b, msgs);
    // A batch leaves every second: the packets are in the database while the capture still runs.
    const inDb = async () => lines((await cli(['query', db, 'select count(*) as n from packets', '--json'])).stdout)[0]?.n;
    const deadline = Date.now() + 20_000;
    let early: unknown;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      // The writer holds the file: read a copy.
      try {
        snapshot(db, `${db}.copy`);
        early = lines((await cli(['query', `${db}.copy`, 'select count(*) as n from packets', '--json'])).stdout)[0]?.n;
      } catch {
        early = undefined;
      }
      if (early === 80) break;
    }
    expect(early).toBe(80);
    child.kill('SIGINT');
    expect(await exit).toBe(0);
    expect(await inDb()).toBe(80);
    // The same packets and exchanges as the capture file sniff wrote beside says.
    const flows = lines((await cli(['flows', '--json', pcap])).stdout);
    expect(err).toMatch(new RegExp(`exported to .*live\\.duckdb: 80 packets, ${flows.length} exchanges, 0 handovers; 0 rows dropped`));
    const exported = lines((await cli(['query', db, 'select json from exchanges order by seq', '--json'])).stdout).map((r) => r.json);
    expect(exported).toEqual(flows);
    const q = lines((await cli(['query', db, 'select type, count(*) as n from packets group by type order by type', '--json'])).stdout);
    expect(q).toEqual([
      { type: 'data', n: 20 },
      { type: 'map-notify', n: 20 },
      { type: 'map-register', n: 20 },
      { type: 'map-request', n: 20 },
    ]);
    const c = lines((await cli(['query', db, 'select vantage, file, format, lisp_packets, drops, export_drops from captures', '--json'])).stdout);
    expect(c).toEqual([{ vantage: 'edge-1', file: 'lo', format: 'live', lisp_packets: 80, drops: 0, export_drops: 0 }]);
    expect(existsSync(db)).toBe(true);
  });
});
