// `lispscope lab` end to end: the real CLI runs a scenario on loopback, prints the packets and the
// steps, writes a capture that `read` and `flows` analyse, stops cleanly on Ctrl-C.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eachAtOnce, jsonLines, lispscope, lispscopeAsync, ROOT } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-lab-'));

describe('lispscope lab', () => {
  it('runs the handover scenario, prints every packet and the steps, writes a pcapng', () => {
    const file = join(tmp, 'handover.pcapng');
    const r = lispscope(['lab', '--scenario', 'handover', '--base', '127.0.40.0', '-n', '-w', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.some((l) => /^mn +\S+ IP 127\.0\.40\.11\.\d+ > 127\.0\.40\.2\.4342: LISP SMR nonce 0x[0-9a-f]{16} \[smr\]/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('xtr-a') && l.includes('[smr-invoked]'))).toBe(true);
    expect(lines.some((l) => l.startsWith('ms') && l.includes('Map-Notify') && l.includes('auth sha256 ok'))).toBe(true);
    expect(r.stdout).toMatch(/scenario handover: 6 of 6 steps passed/);
    expect(r.stdout).toMatch(/authentication: \d+ verified, 0 failed/);
    expect(r.stdout).toContain(`wrote 24 packets to ${file}`);
    // The capture, read back by our reader and analysed by the flow engine.
    const read = jsonLines(lispscope(['read', '--json', file]).stdout);
    expect(read).toHaveLength(24);
    expect(new Set(read.map((o) => o.type))).toEqual(new Set(['map-register', 'map-notify', 'info-request', 'info-reply', 'ecm', 'map-reply', 'data', 'map-request']));
    const flows = jsonLines(lispscope(['flows', '--json', file]).stdout);
    const smr = flows.find((f) => f.kind === 'smr');
    expect(smr).toMatchObject({ outcome: 'answered', requester: '127.0.40.11', responder: '127.0.40.2' });
    expect(flows.filter((f) => f.kind === 'registration').every((f) => f.outcome === 'answered')).toBe(true);
  });

  it('writes NDJSON in the read --json form with the sender, steps on stderr', () => {
    const file = join(tmp, 'register.pcap');
    const r = lispscope(['lab', '--scenario', 'register', '--base', '127.0.40.32', '--json', '-w', file]);
    expect(r.code).toBe(0);
    const objs = jsonLines(r.stdout);
    expect(objs.length).toBe(8);
    for (const o of objs) expect(o).toMatchObject({ frame: expect.any(Number), sender: expect.any(String), type: expect.any(String) });
    expect(objs.filter((o) => o.type === 'map-notify').every((o) => o.auth_ok === true)).toBe(true);
    expect(r.stderr).toMatch(/scenario register: 2 of 2 steps passed/);
    expect(readFileSync(file).readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(jsonLines(lispscope(['read', '--json', file]).stdout)).toHaveLength(8);
  });

  it('says what is wrong in one line', async () => {
    const mistakes: [string[], RegExp][] = [
      [['--scenario', 'nope'], /unknown scenario "nope"/],
      [['--base', '10.0.0.0'], /loopback/],
      [['--duration', 'x'], /--duration/],
      [['extra'], /unexpected argument/],
    ];
    const [help, ...runs] = await eachAtOnce([['--help'], ...mistakes.map(([args]) => args)], (args) => lispscopeAsync(['lab', ...args]));
    for (const [i, [args, msg]] of mistakes.entries()) {
      const r = runs[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
    expect(help!.stdout).toMatch(/--scenario NAME/);
  });

  it('stops cleanly on Ctrl-C while holding', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/lispscope'), 'lab', '--scenario', 'register', '--duration', '30', '--base', '127.0.40.64', '-q', '--log'], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    // Interrupt once the scenario is done and the lab is holding: it says so (or exits early).
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d) => {
        err += d;
        if (/^lab up: /m.test(err)) resolve();
      });
      child.on('exit', () => resolve());
    });
    expect(err).toMatch(/ok MN registers/);
    expect(err).toMatch(/^lab up: scenario register, 2 of 2 steps passed; holding until 30 s after the start/m);
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(0);
    // Not held until the end of the hold (30 s after the start): a bound of seconds, not a tight one.
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(out).toMatch(/scenario register: 2 of 2 steps passed in [\d.]+ s \(interrupted\)/);
  });
});
