// Same numbers everywhere: for every fixture and every shared real capture, the export holds
// exactly what `read --json`, `stats`, `flows --json` and `mappings --json` print: as many packets
// as stats counts (and the same objects as read prints for them), the exchanges line for line,
// the mapping timelines and handovers entry for entry. DuckDB file and Parquet directory alike.

import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbSink } from '../../src/export/duckdb-sink.js';
import { exportFiles } from '../../src/export/export.js';
import { ParquetSink } from '../../src/export/parquet-sink.js';
import { openExport, runQuery } from '../../src/export/query.js';
import type { Duck } from '../../src/export/duck.js';
import { gate } from '../support/live.js';
import { PCAPS, SHARED } from '../cli/run.js';
import { cli, lines } from './support.js';

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-export-'));
const captures = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /\.(pcap|pcapng|pcap\.gz)$/.test(f))
    .sort()
    .map((f) => join(dir, f));

const sharedMissing = gate('the export tests on ../shared/captures', existsSync(SHARED) ? undefined : `${SHARED} is missing`);
const inputs = [...captures(PCAPS), ...(sharedMissing ? [] : captures(SHARED))];

async function rows(duck: Duck, sql: string): Promise<unknown[][]> {
  const out: unknown[][] = [];
  await runQuery(duck, sql, () => {}, (r) => out.push(...r));
  return out;
}

/** `json` column of a table for one input, in `seq` order, as objects. */
async function jsonOf(duck: Duck, table: string, file: string): Promise<Record<string, unknown>[]> {
  const r = await rows(duck, `select json from ${table} where file = '${file.replace(/'/g, "''")}' order by seq`);
  return r.map(([j]) => JSON.parse(j as string) as Record<string, unknown>);
}

let duck: Duck;
let parquet: Duck;

beforeAll(async () => {
  const opts = { warning: () => {}, batchBytes: 4096 };
  const list = inputs.map((path) => ({ path, vantage: path.startsWith(SHARED) ? 'shared' : 'fixtures' }));
  // Tiny batches: every table crosses batch boundaries on the larger captures.
  await exportFiles(list, new DuckDbSink(join(tmp, 'all.duckdb')), opts);
  await exportFiles(list, new ParquetSink(join(tmp, 'pq'), 'input'), opts);
  // Plain data packets the general way too (JSON rows), to compare with their typed rows.
  await exportFiles(list, new DuckDbSink(join(tmp, 'json-rows.duckdb')), { ...opts, plainRows: false });
  duck = await openExport(join(tmp, 'all.duckdb'));
  parquet = await openExport(join(tmp, 'pq'));
}, 240_000);

afterAll(() => {
  duck?.close();
  parquet?.close();
});

describe.each(inputs.map((f) => [f.slice(f.lastIndexOf('/') + 1), f]))('export of %s', (_name, file) => {
  it('packets: as many as stats counts, each the object read --json prints', async () => {
    const stats = lines((await cli(['stats', '--json', file])).stdout)[0]!;
    const read = lines((await cli(['read', '--json', file])).stdout).filter((p) => 'type' in p || 'messages' in p);
    const exported = await jsonOf(duck, 'packets', file);
    expect(exported.length).toBe(stats.lisp_packets);
    expect(exported).toEqual(read);
    expect(await jsonOf(parquet, 'packets', file)).toEqual(exported);
    const [[n]] = (await rows(duck, `select lisp_packets from captures where file = '${file}'`)) as [[number]];
    expect(n).toBe(stats.lisp_packets);
  });

  it('exchanges: flows --json line for line', async () => {
    const flows = lines((await cli(['flows', '--json', file])).stdout);
    expect(await jsonOf(duck, 'exchanges', file)).toEqual(flows);
    expect(await jsonOf(parquet, 'exchanges', file)).toEqual(flows);
  });

  it('mappings, handovers and their peers: mappings --json entry for entry', async () => {
    const mappings = lines((await cli(['mappings', '--json', file])).stdout) as { eid: string; timeline: object[]; handovers: { ts: number; frame: number; peers: object[] }[] }[];
    const timeline = mappings.flatMap((m) => m.timeline.map((t) => ({ eid: m.eid, ...t })));
    const handovers = mappings.flatMap((m) => m.handovers.map((h) => ({ eid: m.eid, ...h })));
    const peers = mappings.flatMap((m) => m.handovers.flatMap((h) => h.peers.map((p) => ({ eid: m.eid, handover_ts: h.ts, handover_frame: h.frame, ...p }))));
    expect(await jsonOf(duck, 'mappings', file)).toEqual(timeline);
    expect(await jsonOf(duck, 'handovers', file)).toEqual(handovers);
    expect(await jsonOf(duck, 'handover_peers', file)).toEqual(peers);
    expect(await jsonOf(parquet, 'handovers', file)).toEqual(handovers);
  });
});

describe('columns', () => {
  it('are read from the JSON they sit beside', async () => {
    // Every column that names a contract field holds that field's value, on every packet.
    const bad = await rows(
      duck,
      `select count(*) from packets where frame is distinct from (json->>'$.frame')::BIGINT or ts is distinct from (json->>'$.ts')::DOUBLE ` +
        `or src is distinct from (json->>'$.src') or type is distinct from (json->>'$.type') or auth_ok is distinct from (json->>'$.auth_ok')::BOOLEAN`,
    );
    expect(bad).toEqual([[0]]);
  });

  it('of plain data packets staged as typed fields equal those read from their JSON', async () => {
    await rows(duck, `attach '${join(tmp, 'json-rows.duckdb')}' as j (read_only)`);
    const [[plain]] = (await rows(duck, "select count(*) from packets where type = 'data'")) as [[bigint]];
    // The fixtures and real captures hold plain data packets (IPv4 and IPv6 inside, with and
    // without nonce and Instance ID), not only data packets the general decoder takes.
    expect(Number(plain)).toBeGreaterThan(100);
    const diff = await rows(duck, '(select * from packets except all select * from j.packets) union all (select * from j.packets except all select * from packets)');
    expect(diff).toEqual([]);
    await rows(duck, 'detach j');
  });

  it('gather the EIDs and RLOCs of control messages, ECMs included', async () => {
    const file = join(PCAPS, 'mn-handover.pcapng');
    const r = await rows(duck, `select type, inner_type, eids, rlocs, nonce from packets where file = '${file}' and frame in (1, 7, 9) order by frame`);
    // Frame 1: the MN's Map-Register of 10.1.0.5/32 at 192.0.2.10 (see pcaps/README.md); 7: an ECM'd
    // Map-Request for it with the requester's ITR-RLOC; 9: the proxy Map-Reply.
    expect(r[0]).toEqual(['map-register', null, ['10.1.0.5/32'], ['192.0.2.10'], 'e960fcfe4812f358']);
    expect(r[1]!.slice(0, 3)).toEqual(['ecm', 'map-request', ['10.1.0.5/32']]);
    expect(r[1]![4]).toMatch(/^[0-9a-f]{16}$/);
    expect(r[2]!.slice(0, 4)).toEqual(['map-reply', null, ['10.1.0.5/32'], ['192.0.2.10']]);
  });
});
