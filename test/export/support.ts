// The CLI in this process (no node start-up per command), and the ClickHouse gate.

import { main } from '../../src/cli/main.js';
import { memoryIo } from '../../src/output/io.js';
import { gate } from '../support/live.js';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(argv: string[]): Promise<Ran> {
  const io = memoryIo({ env: { ...process.env, NO_COLOR: '1' } });
  const code = await main(argv, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

export const lines = (s: string) =>
  s
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** The ClickHouse server the tests use (.ci/run starts one): LISPSCOPE_CLICKHOUSE, default 127.0.0.1:8123. */
export const CLICKHOUSE = process.env.LISPSCOPE_CLICKHOUSE ?? 'http://127.0.0.1:8123';

export async function clickhouseSql(sql: string, settings: Record<string, string> = {}): Promise<string> {
  const r = await fetch(`${CLICKHOUSE}/?${new URLSearchParams(settings)}`, { method: 'POST', body: sql });
  const text = await r.text();
  if (!r.ok) throw new Error(`ClickHouse: ${text.trim()}`);
  return text;
}

/** Why ClickHouse tests cannot run (skip with the reason; a failure under CI=true), or undefined. */
export async function clickhouseGate(): Promise<string | undefined> {
  let why: string | undefined;
  try {
    if ((await clickhouseSql('SELECT 1')).trim() !== '1') why = `${CLICKHOUSE} answers, but not as ClickHouse`;
  } catch (e) {
    why = `no ClickHouse server at ${CLICKHOUSE} (${(e as Error).message}; .ci/clickhouse start DIR starts one)`;
  }
  return gate('the ClickHouse export tests', why);
}
