// export and query from the command line: destinations, errors in one line, table and NDJSON
// output, Parquet partitioned by hour, re-export replacing rows.

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/source.js';
import { PcapngFileWriter } from '../../src/capture/writer.js';
import { PCAPS } from '../cli/run.js';
import { cli, lines } from './support.js';

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-export-cli-'));
const demo = join(PCAPS, 'mn-handover.pcapng');
const keys = join(PCAPS, 'mn-handover.keys');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('lispscope export', () => {
  it('writes a DuckDB file that query reads, and replaces an input exported again', async () => {
    const db = join(tmp, 'a.duckdb');
    for (let i = 0; i < 2; i++) {
      const r = await cli(['export', demo, join(PCAPS, 'control-map-reply.pcap'), '--to', db, '--keys', keys, '--vantage', 'mn', '--vantage', 'ms']);
      expect(r.code).toBe(0);
      // A line per input, counted in words that agree with the number (its one handover, below).
      expect(r.stderr).toMatch(/\(mn\): 56 packets, \d+ exchanges, \d+ mapping entries, 1 handover → /);
    }
    const q = await cli(['query', db, 'select vantage, count(*) as n, count(*) filter (where auth_ok) as verified from packets group by vantage order by vantage', '--json']);
    expect(q.code).toBe(0);
    // mn-handover: 56 LISP packets; its 5 Map-Registers, 5 Map-Notifies and the Info-Request/Reply pair are signed with the key in mn-handover.keys.
    expect(lines(q.stdout)).toEqual([
      { vantage: 'mn', n: 56, verified: 12 },
      { vantage: 'ms', n: 11, verified: 0 },
    ]);
    const t = await cli(['query', db, "select kind, outcome, rtt_ms from exchanges where vantage = 'mn' and kind = 'smr'"]);
    expect(t.stdout).toMatch(/│ kind\s+│ outcome\s+│ rtt_ms\s+│\n│ smr\s+│ answered\s+│ \d+/);
    const j = lines((await cli(['query', db, "select json from handovers where vantage = 'mn'", '--json'])).stdout);
    expect(j).toEqual([{ json: expect.objectContaining({ eid: '10.1.0.5/32', from: ['192.0.2.10'], to: ['198.51.100.20'] }) }]);
    const none = await cli(['query', db, 'select * from captures where false']);
    expect(none.stdout).toContain('(no rows; columns: vantage, file, seq, exported');
  });

  it('says in captures what the capturing tool lost, as pcapng Interface Statistics Blocks report it', async () => {
    const frames: { tsSec: number; tsNsec: number; data: Uint8Array; len: number }[] = [];
    await readCapture(join(PCAPS, 'data.pcap'), { frame: (f) => void frames.push({ tsSec: f.tsSec, tsNsec: f.tsNsec, data: f.data.slice(), len: f.len }), warning: () => {} });
    const path = join(tmp, 'lossy.pcapng');
    const w = new PcapngFileWriter(path, { interfaces: [{ linkType: 1, snaplen: 65535 }] });
    const isb = (dropped: bigint, osDropped: bigint) =>
      w.writeBlock({ type: 'isb', interfaceId: 0, tsSec: frames[0]!.tsSec, tsNsec: 0, received: 100n, dropped, osDropped, delivered: BigInt(frames.length) });
    w.write(frames[0]!);
    isb(2n, 3n); // 5 lost so far
    for (const f of frames.slice(1)) w.write(f);
    isb(2n, 10n); // cumulative: 12 in all
    w.close();
    const db = join(tmp, 'lossy.duckdb');
    expect((await cli(['export', path, join(PCAPS, 'data.pcap'), join(PCAPS, 'mn-handover.pcapng'), '--to', db])).code).toBe(0);
    const r = lines((await cli(['query', db, 'select vantage, format, drops from captures order by vantage', '--json'])).stdout);
    expect(r).toEqual([
      { vantage: 'data', format: 'pcap', drops: null },
      { vantage: 'lossy', format: 'pcapng', drops: 12 },
      { vantage: 'mn-handover', format: 'pcapng', drops: 0 },
    ]);
  });

  it('filters with -Y what it exports, as read, flows and mappings do', async () => {
    const db = join(tmp, 'y.duckdb');
    expect((await cli(['export', demo, '--to', db, '-Y', 'eid in 10.1.0.0/16'])).code).toBe(0);
    const r = lines((await cli(['query', db, 'select (select count(*) from exchanges) e, (select count(distinct eid) from mappings) m', '--json'])).stdout);
    const flows = lines((await cli(['flows', '--json', '-Y', 'eid in 10.1.0.0/16', demo])).stdout);
    const mappings = lines((await cli(['mappings', '--json', '-Y', 'eid in 10.1.0.0/16', demo])).stdout);
    expect(r).toEqual([{ e: flows.length, m: mappings.length }]);
  });

  it('writes Parquet, one file per table per input, or per hour in Hive layout', async () => {
    const dir = join(tmp, 'pq');
    expect((await cli(['export', demo, '--to', `${dir}/`])).code).toBe(0);
    const names = files(dir).map((f) => relative(dir, f)).sort();
    const tables = ['captures', 'exchanges', 'handover_peers', 'handovers', 'mappings', 'packets'];
    expect(names.map((n) => n.replace(/-[0-9a-f]{8}\.parquet$/, '.parquet'))).toEqual(tables.map((t) => `${t}/mn-handover--mn-handover.pcapng.parquet`));
    // The same file name in another directory is another input: its files stand beside.
    const other = join(tmp, 'other');
    mkdirSync(other);
    copyFileSync(demo, join(other, 'mn-handover.pcapng'));
    expect((await cli(['export', join(other, 'mn-handover.pcapng'), '--to', `${dir}/`])).code).toBe(0);
    expect(files(join(dir, 'packets'))).toHaveLength(2);
    expect((await cli(['export', demo, '--to', `${dir}/`])).code).toBe(0); // again: replaces its own
    expect(lines((await cli(['query', dir, 'select count(*) n from packets', '--json'])).stdout)).toEqual([{ n: 112 }]);
    const hourly = join(tmp, 'pqh');
    expect((await cli(['export', demo, '--to', `${hourly}/`, '--partition', 'hour'])).code).toBe(0);
    // The capture runs from 10:00:00 to 10:01:38 UTC on 2024-05-01 (1714557600 to 1714557698).
    expect(files(join(hourly, 'packets')).map((f) => relative(hourly, f))).toEqual([expect.stringMatching(/^packets\/hour=2024-05-01T10\/mn-handover--mn-handover\.pcapng-[0-9a-f]{8}-0-\d+\.parquet$/)]);
    const q = lines((await cli(['query', hourly, 'select hour, count(*) n from packets group by hour', '--json'])).stdout);
    expect(q).toEqual([{ hour: '2024-05-01T10', n: 56 }]);
    for (const f of files(dir)) expect(statSync(f).size).toBeGreaterThan(0);
  });

  it('compresses the json column with ZSTD, and exports into a file of an older storage format too', async () => {
    const db = join(tmp, 'zstd.duckdb');
    expect((await cli(['export', demo, '--to', db])).code).toBe(0);
    const compression = async (path: string) =>
      lines((await cli(['query', path, "select distinct compression from pragma_storage_info('packets') where column_name = 'json' and segment_type = 'JSON'", '--json'])).stdout);
    expect(await compression(db)).toEqual([{ compression: 'ZSTD' }]);
    // A database file as DuckDB creates it by default (as lispscope did before it asked for the 1.2 format).
    const old = join(tmp, 'old.duckdb');
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(old);
    (await instance.connect()).closeSync();
    instance.closeSync();
    expect((await cli(['export', demo, '--to', old])).code).toBe(0);
    const n = lines((await cli(['query', old, 'select count(*) as n, count(json) as j from packets', '--json'])).stdout);
    expect(n).toEqual([{ n: 56, j: 56 }]);
    expect((await compression(old))[0]!.compression).not.toBe('ZSTD');
  });

  it('says in one line what is wrong', async () => {
    const cases: [string[], RegExp][] = [
      [['export', demo], /^lispscope: export: no destination/],
      [['export', '--to', join(tmp, 'x.duckdb')], /^lispscope: export: no capture file given/],
      [['export', demo, '--to', 'x.sqlite'], /^lispscope: x\.sqlite: say what it is: x\.duckdb .*, dir\/ .* or clickhouse:/],
      [['export', demo, '--to', 'postgres://u@h/db'], /^lispscope: postgres:\/\/u@h\/db: unknown destination scheme/],
      [['export', demo, '--to', 'clickhouse://u@h:8123'], /name one database after the host/],
      [['export', demo, '--to', 'clickhouse://u@h:99999/db'], /not a valid URL/],
      [['export', demo, '--to', join(tmp, 'z.duckdb'), '--partition', 'hour'], /--partition hour is for Parquet directories/],
      [['export', demo, '--to', join(tmp, 'z.duckdb'), '--vantage', 'a', '--vantage', 'b'], /2 --vantage names for 1 inputs/],
      [['export', join(tmp, 'missing.pcap'), '--to', join(tmp, 'z.duckdb')], /missing\.pcap: no such file/],
      [['query', join(tmp, 'nothing.duckdb'), 'select 1'], /nothing\.duckdb: no such file or directory/],
      [['query', tmp, 'select 1'], /no Parquet files of an export/],
    ];
    for (const [argv, re] of cases) {
      const r = await cli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(re);
    }
    const db = join(tmp, 'q.duckdb');
    await cli(['export', demo, '--to', db]);
    const bad = await cli(['query', db, 'select nope from packets']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^lispscope: query: .*nope/);
    writeFileSync(join(tmp, 'not.duckdb'), 'hello, this is not a database file at all.........................');
    const notDb = await cli(['query', join(tmp, 'not.duckdb'), 'select 1']);
    expect(notDb.code).toBe(2);
    expect(notDb.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(tmp, 'missing.duckdb'))).toBe(false);
  });
});
