// ClickHouse: the fixtures and shared captures exported to a real server (.ci/run starts Debian's
// clickhouse-server 18.16) must answer as the DuckDB export of the same inputs does. Without a
// server the tests skip with the reason, and fail under CI=true.

import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseSink, clickhouseError, parseClickHouseUrl } from '../../src/export/clickhouse-sink.js';
import { SinkUnavailable } from '../../src/export/sink.js';
import { PCAPS, SHARED } from '../cli/run.js';
import { CLICKHOUSE, cli, clickhouseGate, clickhouseSql, lines } from './support.js';

const skip = await clickhouseGate();
const tmp = mkdtempSync(join(tmpdir(), 'lispscope-ch-'));
const db = `lispscope_test_${process.pid}`;
const server = new URL(CLICKHOUSE);
const url = (user = 'default', database = db) => `clickhouse://${user}@${server.hostname}:${server.port || 8123}/${database}`;
const inputs = [PCAPS, ...(existsSync(SHARED) ? [SHARED] : [])].flatMap((d) =>
  readdirSync(d)
    .filter((f) => /\.(pcap|pcapng|pcap\.gz)$/.test(f))
    .sort()
    .map((f) => join(d, f)),
);

describe.skipIf(skip)('export to ClickHouse', () => {
  beforeAll(async () => {
    await clickhouseSql(`CREATE DATABASE IF NOT EXISTS ${db}`);
    const r = await cli(['export', ...inputs, '--to', url()]);
    // A summary line per input and warnings about damaged inputs, no error (a file may be named icmp-errors.pcap).
    for (const line of r.stderr.split('\n').filter(Boolean)) expect(line).toMatch(/^lispscope: (\S+ \([^)]*\): \d+ packets?, |warning: )/);
    expect(r.code).toBe(0);
    expect((await cli(['export', ...inputs, '--to', join(tmp, 'same.duckdb')])).code).toBe(0);
  }, 240_000);

  afterAll(async () => {
    await clickhouseSql(`DROP DATABASE IF EXISTS ${db}`);
  });

  /** The same query on both; ClickHouse's booleans are 0/1, its numbers JSON numbers or strings. */
  async function both(sql: string): Promise<[unknown[], unknown[]]> {
    const ch = lines(await clickhouseSql(`${sql.replaceAll('FROM ', `FROM ${db}.`)} FORMAT JSONEachRow`, { output_format_json_quote_64bit_integers: '0' }));
    const duck = lines((await cli(['query', join(tmp, 'same.duckdb'), sql, '--json'])).stdout);
    return [ch, duck];
  }

  it('holds as many rows per table and input as DuckDB', async () => {
    for (const t of ['packets', 'exchanges', 'mappings', 'handovers', 'handover_peers', 'captures']) {
      const [ch, duck] = await both(`SELECT vantage, file, count() AS n FROM ${t} GROUP BY vantage, file ORDER BY vantage, file`.replace('count()', 'count(*)'));
      expect(ch, t).toEqual(duck);
      if (t === 'captures') expect(ch.length).toBe(inputs.length);
    }
  });

  it('keeps every column: types, lists, nulls and the JSON text', async () => {
    const cols =
      'vantage, file, seq, frame, ts, len, src, dst, sport, dport, transport, type, nonce, inner_type, eids, rlocs, smr, probe, flags, iid, key_id, auth_ok, auth_error, malformed, json';
    const [ch, duck] = await both(`SELECT ${cols} FROM packets ORDER BY vantage, file, seq`);
    expect(ch.length).toBeGreaterThan(1000);
    // Booleans are UInt8 in ClickHouse (0/1).
    const bits = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'boolean' ? Number(v) : v]));
    const norm = (rows: unknown[]) => (rows as Record<string, unknown>[]).map((r) => ({ ...bits(r), json: JSON.parse(typeof r.json === 'string' ? r.json : JSON.stringify(r.json)) }));
    expect(norm(ch)).toEqual(norm(duck));
    const [chx, duckx] = await both('SELECT kind, eid, nonce, start, rtt_ms, outcome, rlocs, frames, seq FROM exchanges ORDER BY file, seq');
    expect(chx).toEqual(duckx);
    const [chh, duckh] = await both('SELECT eid, ts, from_rlocs, to_rlocs, peers, slowest_peer_ms FROM handovers ORDER BY file, seq');
    expect(chh).toEqual(duckh);
    const [chb, duckb] = await both("SELECT count(*) AS n FROM packets WHERE auth_ok IS NULL AND type = 'data'");
    expect(chb).toEqual(duckb);
  });

  it("keeps quotes and backslashes inside list elements (ClickHouse's array literals escape them)", async () => {
    const sink = new ClickHouseSink(parseClickHouseUrl(url(), {}));
    await sink.open();
    const path = join(tmp, 'odd.rows');
    const odd = ["it's", 'a \\ back\\slash', 'plain'];
    writeFileSync(path, `1\x01${JSON.stringify({ frame: 1, ts: 1.5, type: 'unknown', malformed: odd })}\n`);
    await sink.load({ table: 'packets', path, rows: 1, bytes: 100, vantage: 'odd', file: 'odd' });
    await sink.endInput();
    await sink.close();
    const back = lines(await clickhouseSql(`SELECT malformed, json FROM ${db}.packets WHERE vantage = 'odd' FORMAT JSONEachRow`));
    expect(back).toEqual([{ malformed: odd, json: JSON.stringify({ frame: 1, ts: 1.5, type: 'unknown', malformed: odd }) }]);
  });

  it('replaces the rows of a capture file exported again (same vantage and file), and only those', async () => {
    const file = join(PCAPS, 'mn-handover.pcapng');
    const odd = "it's a\\b";
    const tables = ['packets', 'exchanges', 'mappings', 'handovers', 'handover_peers', 'captures'];
    const counts = async () => {
      const out: Record<string, Record<string, number>> = {};
      for (const t of tables) {
        const r = lines(await clickhouseSql(`SELECT vantage, count() AS n FROM ${db}.${t} WHERE file = '${file}' GROUP BY vantage FORMAT JSONEachRow`, { output_format_json_quote_64bit_integers: '0' }));
        for (const { vantage, n } of r as { vantage: string; n: number }[]) (out[vantage] ??= {})[t] = n;
      }
      return out;
    };
    expect((await cli(['export', file, '--vantage', odd, '--to', url()])).code).toBe(0);
    expect((await cli(['export', file, '--vantage', 'other', '--to', url()])).code).toBe(0);
    const once = await counts();
    // What mappings --json and flows --json show for it: 56 packets, 11 exchanges, 14 timeline
    // entries, one handover with one peer.
    const story = { packets: 56, exchanges: 11, mappings: 14, handovers: 1, handover_peers: 1, captures: 1 };
    expect(once[odd]).toEqual(story);
    expect((await cli(['export', file, '--vantage', odd, '--to', url()])).code).toBe(0);
    expect(await counts()).toEqual(once);
    expect(once.other).toEqual(story);
  });

  it('sends an insert that failed again before the next batch, so a retry loses nothing', async () => {
    const sink = new ClickHouseSink(parseClickHouseUrl(url(), {}));
    await sink.open();
    const s = sink as unknown as { insert: (i: object) => Promise<void> };
    const real = s.insert.bind(sink);
    let calls = 0;
    // The first insert fails as an unreachable server would; the retry and the next succeed.
    s.insert = (i) => (++calls === 1 ? Promise.reject(new SinkUnavailable('down')) : real(i));
    const batch = (n: number) => {
      const path = join(tmp, `retry-${n}.rows`);
      writeFileSync(path, `1\x01${JSON.stringify({ frame: n, ts: 2.5, type: 'unknown' })}\n`);
      return { table: 'packets' as const, path, rows: 1, bytes: 50, vantage: 'retry', file: 'retry' };
    };
    await sink.load(batch(1)); // prepared; its insert fails in the background
    await sink.load(batch(2)); // sends batch 1 again first, then batch 2
    await sink.endInput();
    await sink.close();
    expect(calls).toBe(3);
    expect(lines(await clickhouseSql(`SELECT frame FROM ${db}.packets WHERE vantage = 'retry' ORDER BY frame FORMAT JSONEachRow`, { output_format_json_quote_64bit_integers: '0' }))).toEqual([
      { frame: 1 },
      { frame: 2 },
    ]);
  });

  it('says in one line what is wrong with the server, the credentials or the database', async () => {
    const missing = await cli(['export', join(PCAPS, 'data.pcap'), '--to', url('default', `${db}_missing`)]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`lispscope: clickhouse ${server.hostname}:${server.port || 8123}: database "${db}_missing" does not exist (CREATE DATABASE ${db}_missing first)`);
    const creds = await cli(['export', join(PCAPS, 'data.pcap'), '--to', url('lispscope:wrong')]);
    expect(creds.code).toBe(2);
    expect(creds.stderr.trim()).toMatch(/^lispscope: clickhouse [^ ]+: bad credentials for user "lispscope" \(/);
    expect(creds.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('ClickHouse destinations', () => {
  it('are parsed from the URL, the password from it or CLICKHOUSE_PASSWORD', () => {
    expect(parseClickHouseUrl('clickhouse://ops:s%40cret@ch.example:9000/lisp', {})).toEqual({
      url: 'http://ch.example:9000', host: 'ch.example', port: 9000, username: 'ops', password: 's@cret', database: 'lisp',
    });
    expect(parseClickHouseUrl('clickhouse://[::1]/fleet', { CLICKHOUSE_PASSWORD: 'p' })).toMatchObject({ url: 'http://[::1]:8123', host: '::1', username: 'default', password: 'p' });
  });

  it('an unreachable server is "unavailable" (a live capture buffers), an unknown host an error', () => {
    const t = parseClickHouseUrl('clickhouse://u@127.0.0.1:1/db', {});
    expect(clickhouseError(t, Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'connect')).toBeInstanceOf(SinkUnavailable);
    const dns = clickhouseError(t, Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), 'connect');
    expect(dns).not.toBeInstanceOf(SinkUnavailable);
    expect(dns.message).toBe('clickhouse 127.0.0.1:1: unknown host');
    // Newer servers word their errors differently; the code decides.
    const auth = clickhouseError(t, new Error('Code: 516. DB::Exception: u: Authentication failed: password is incorrect. (AUTHENTICATION_FAILED) (version 24.1.1)'), 'connect');
    expect(auth.message).toMatch(/^clickhouse 127\.0\.0\.1:1: bad credentials for user "u" \(u: Authentication failed/);
  });
});
