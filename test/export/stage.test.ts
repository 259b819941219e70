import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { Stager } from '../../src/export/stage.js';

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
});
