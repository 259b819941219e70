import { mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DuckDbSink } from '../../src/export/duckdb-sink.js';
import { openExport, runQuery } from '../../src/export/query.js';
import { SinkError } from '../../src/export/sink.js';
import { removeBatch, Stager, type Batch } from '../../src/export/stage.js';

// Where batches are staged: a file export in memory (/dev/shm) when it has room, unless TMPDIR
// says where; batches that may add up to a capture's size (Parquet, live) on disk.
describe('staging directory', () => {
  const saved = process.env.TMPDIR;
  const made: Stager[] = [];
  const stager = (inMemory: boolean) => {
    const s = new Stager({ onBatch: () => {}, inMemory });
    made.push(s);
    return s;
  };
  afterEach(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    for (const s of made.splice(0)) s.dispose();
  });

  const shmRoom = (() => {
    try {
      const s = statfsSync('/dev/shm');
      return s.bavail * s.bsize >= 1 << 30;
    } catch {
      return false;
    }
  })();

  it.runIf(shmRoom)('is in /dev/shm for a file export', () => {
    delete process.env.TMPDIR;
    expect(stager(true).dir.startsWith('/dev/shm/lispscope-export-')).toBe(true);
  });

  it('is in TMPDIR when it is set', () => {
    process.env.TMPDIR = tmpdir();
    expect(stager(true).dir.startsWith(`${tmpdir()}/lispscope-export-`)).toBe(true);
  });

  it('is on disk when batches wait for the end of their input', () => {
    delete process.env.TMPDIR;
    expect(stager(false).dir.startsWith(`${tmpdir()}/lispscope-export-`)).toBe(true);
  });

  it('says in one line where rows could not be staged', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'lispscope-stage-test-'));
    try {
      const file = join(tmp, 'not-a-directory');
      writeFileSync(file, '');
      process.env.TMPDIR = file;
      expect(() => stager(true)).toThrow(new SinkError(`${file}: cannot make a staging directory (ENOTDIR); set TMPDIR to a directory with room`));
      delete process.env.TMPDIR;
      const s = stager(false);
      rmSync(s.dir, { recursive: true });
      s.text('exchanges', '{}');
      expect(() => s.cutAll()).toThrow(new SinkError(`${s.dir}: cannot stage rows (ENOENT); set TMPDIR to a directory with room`));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

// A batch's files, once read, are written over by the next batches (their pages kept): each batch
// still has a path of its own and holds its own rows only, however long the earlier batch was.
describe('batch files read', () => {
  it('are written over by later batches, which hold only their own rows', () => {
    const batches: Batch[] = [];
    const s = new Stager({ onBatch: (b) => batches.push(b) });
    try {
      const rows = (n: number, width: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(width) }));
      const text = (lines: string[]) => lines.map((l, i) => `${i + 1}\x01${l}\n`).join('');
      const first = rows(500, 200);
      for (const l of first) s.text('exchanges', l);
      s.cutAll();
      const a = batches.shift()!;
      expect(readFileSync(a.path!, 'utf8')).toBe(text(first));
      removeBatch(a);
      // Kept for the next batch, not removed.
      expect(readdirSync(s.dir)).toEqual([a.path!.slice(s.dir.length + 1)]);
      s.input('v', 'f');
      const second = rows(3, 10);
      for (const l of second) s.text('exchanges', l);
      s.cutAll();
      const b = batches.shift()!;
      expect(b.path).not.toBe(a.path);
      expect(readdirSync(s.dir)).toEqual([b.path!.slice(s.dir.length + 1)]);
      expect(readFileSync(b.path!, 'utf8')).toBe(text(second));
      // Beyond a few spare files, files read are removed.
      const more: Batch[] = [];
      for (let k = 0; k < 6; k++) {
        s.input('v', `f${k}`);
        s.text('mappings', '{}');
        s.cutAll();
        more.push(batches.shift()!);
      }
      for (const m of more) removeBatch(m);
      removeBatch(b);
      expect(readdirSync(s.dir).length).toBe(3);
    } finally {
      s.dispose();
    }
  });
});

// DuckDB reads staged lines through a read buffer within its 64 MB pool: a row as long as a 64 KiB
// datagram's JSON can be (a Map-Register of 8,000 AFI-0 locators, 110 bytes of JSON each) must load.
describe('a long row', () => {
  it('loads among short ones', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'lispscope-stage-test-'));
    const batches: Batch[] = [];
    const s = new Stager({ onBatch: (b) => batches.push(b) });
    const sink = new DuckDbSink(join(tmp, 'x.duckdb'));
    try {
      const long = 'x'.repeat(1_000_000);
      const lengths: number[] = [];
      // Tiny rows beside four long ones, so the long ones fall at different places in DuckDB's buffers.
      for (let i = 0; i < 3000; i++) {
        const pad = i % 700 === 699 ? long : 'y'.repeat(i % 300);
        lengths.push(pad.length);
        s.text('exchanges', JSON.stringify({ kind: 'registration', pad }));
      }
      s.cutAll();
      await sink.open();
      for (const b of batches) await sink.load(b);
      await sink.close();
      const duck = await openExport(join(tmp, 'x.duckdb'));
      const got: unknown[][] = [];
      try {
        await runQuery(duck, "select length(json->>'$.pad') from exchanges order by seq", () => {}, (r) => got.push(...r));
      } finally {
        duck.close();
      }
      expect(got.map(([n]) => Number(n))).toEqual(lengths);
    } finally {
      await sink.close();
      s.dispose();
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});
