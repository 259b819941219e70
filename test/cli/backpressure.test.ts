// A reader slower than lispscope: the output queue is bounded and the decoding waits for it, so
// memory stays flat whatever the size of the capture. Measured on the command's own process: its
// peak RSS while nobody reads, and the waits it reports with LISPSCOPE_DEBUG.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PcapFileWriter } from '../../src/capture/writer.js';
import { dataPacket, lispUdpPacket, mapRegister, mappingRecord } from '../../src/dissect/build.js';
import { encodeLink } from '../../src/dissect/link.js';
import { ROOT } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-backpressure-'));
const PACKETS = 300_000;

/** A capture whose NDJSON is some 150 MB: a reader that holds it all would show in RSS. */
function bigCapture(): string {
  const file = join(tmp, 'big.pcap');
  const pool: Uint8Array[] = [];
  for (let i = 0; i < 64; i++) {
    if (i % 8 === 0) {
      const rec = mappingRecord({ eid: `10.0.${i}.0/24`, locators: [{ rloc: '192.0.2.10', priority: 1, weight: 100, local: true }] });
      const msg = mapRegister({ nonce: BigInt(i + 1), records: [rec], keyId: 1, key: 'k', wantMapNotify: true });
      pool.push(encodeLink(1, lispUdpPacket({ src: '192.0.2.1', dst: '192.0.2.2', sport: 4342, dport: 4342, payload: msg })));
    } else {
      const inner = { src: `10.1.0.${i}`, dst: '10.2.0.1', proto: 'udp' as const, payload: new Uint8Array(200) };
      pool.push(encodeLink(1, dataPacket({ src: '198.51.100.1', dst: '198.51.100.2', sport: 50000 + i, nonce: i, lsb: 1, inner })));
    }
  }
  const w = new PcapFileWriter(file, { linkType: 1 });
  for (let i = 0; i < PACKETS; i++) w.write({ tsSec: 1_700_000_000 + Math.floor(i / 1000), tsNsec: (i % 1000) * 1000, data: pool[i % pool.length]! });
  w.close();
  return file;
}

/** CPU ticks the process has used, all threads. */
function ticks(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function peakRssMb(pid: number): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

describe('read --json into a pipe nobody reads', () => {
  const file = bigCapture();

  for (const threads of ['0', '2']) {
    it(`waits for the reader and stays under 150 MB (--threads ${threads})`, async () => {
      const child = spawn(process.execPath, [join(ROOT, 'bin/lispscope'), 'read', '--json', '--threads', threads, file], {
        env: { ...process.env, LISPSCOPE_DEBUG: '1' },
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exit = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
      // Nobody reads stdout: once the pipe and lispscope's queue are full, it stops using CPU.
      let last = -1;
      let still = 0;
      while (still < 5) {
        await new Promise((r) => setTimeout(r, 200));
        const t = ticks(child.pid!);
        still = t === last ? still + 1 : 0;
        last = t;
      }
      expect(child.exitCode).toBe(null);
      expect(peakRssMb(child.pid!)).toBeLessThan(150);
      // Now read it all: every packet is there.
      let lines = 0;
      let tail = '';
      child.stdout.on('data', (d: Buffer) => {
        const s = tail + d.toString('latin1');
        const parts = s.split('\n');
        tail = parts.pop()!;
        lines += parts.length;
      });
      expect(await exit).toBe(0);
      expect(lines).toBe(PACKETS);
      expect(tail).toBe('');
      const waits = Number(/waited (\d+) times for the reader/.exec(err)?.[1]);
      expect(waits).toBeGreaterThan(0);
    }, 120_000);
  }
});
