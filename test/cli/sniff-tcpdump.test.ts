// sniff as tcpdump users type it: -# numbers the lines, -tt prints epoch times, -v is -V, and
// --json refuses the text options. Captured on the loopback from this test's own UDP socket, to
// addresses picked for the run.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mappingRecord, mapRegister } from '../../src/dissect/build.js';
import { gate, liveUnavailable, sendAll, testNet } from '../support/live.js';
import { lispscope, ROOT } from './run.js';

const unavailable = gate('sniff -# -tt capture test', await liveUnavailable());

describe('sniff with tcpdump options', () => {
  it('refuses --json with -V or -#, in one line', () => {
    for (const opt of ['-V', '-#', '-tt']) {
      const r = lispscope(['sniff', '-i', 'lo', '--json', opt]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^lispscope: sniff: --json writes every field of each packet; ${opt.slice(0, 2)} shapes the text output`));
    }
  });

  it.skipIf(unavailable !== undefined)('numbers the frames and prints epoch times', async () => {
    const net = testNet();
    const child = spawn(process.execPath, [join(ROOT, 'bin/lispscope'), 'sniff', '-i', 'lo', '-c', '2', '-#', '-tt', '-v', '-n', '-f', `udp and host ${net.b}`], {
      env: { ...process.env, NO_COLOR: '1', TZ: 'UTC' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const ready = new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => ((err += d.toString()), /listening on/.test(err) && resolve())));
    const exit = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    await ready;
    const rec = mappingRecord({ eid: '10.1.0.5/32', locators: [{ rloc: '192.0.2.10', priority: 1, weight: 100, local: true }] });
    const before = Date.now() / 1000;
    await sendAll(net.a, net.b, [1n, 2n].map((nonce) => ({ bytes: mapRegister({ nonce, records: [rec], keyId: 1, key: 'k' }), dport: 4342, type: 'map-register' })));
    expect(await exit).toBe(0);
    const lines = out.split('\n').filter((l) => /^ +\d+ {2}\d+\.\d{6} IP /.test(l));
    expect(lines).toHaveLength(2);
    // The frame numbers as captured (the first two frames), epoch times of this run.
    expect(lines.map((l) => l.trim().split(/\s+/)[0])).toEqual(['1', '2']);
    for (const l of lines) expect(Math.abs(Number(l.trim().split(/\s+/)[1]) - before)).toBeLessThan(60);
    expect(out).toMatch(/^ {4}Frame 1: /m);
  });
});
