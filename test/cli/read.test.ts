import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { writePcap } from '../../src/capture/writer.js';
import { mapRequest } from '../../src/dissect/build.js';
import { encodeControl } from '../../src/dissect/control.js';
import { encodeIpUdp } from '../../src/dissect/ip.js';
import { encodeLink } from '../../src/dissect/link.js';
import { chooseStyle } from '../../src/output/style.js';
import { jsonLines, lispscope, ROOT, SHARED } from './run.js';

const ndpi = join(SHARED, 'ndpi__lisp_registration.pcap');
const jeremie = join(SHARED, 'jeremiejig-tcpdump__lisp.pcap');
const tmp = mkdtempSync(join(tmpdir(), 'lispscope-read-'));

function oneLineError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
}

describe('lispscope read', () => {
  it('prints one line per LISP packet', () => {
    const r = lispscope(['read', '-n', ndpi]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(22); // 16 UDP LISP frames and 6 of the reliable transport over TCP 4342
    expect(lines[8]).toBe('13:31:27.436154 IP 10.0.123.1.4342 > 10.0.123.2.15373: LISP Registration Refresh id 0 scope all');
    expect(lines[0]).toBe(
      '13:31:25.554430 IP 10.0.123.2.4342 > 10.0.123.1.4342: LISP Map-Register nonce 0x67ab931f9e8b974a [xtr-id want-map-notify], auth sha1, 1 record: 10.0.0.2/32 ttl 1440 -> [10.0.123.2 p22/w22 LR]',
    );
    expect(lines[2]).toContain('[100]192.168.102.0/26');
  });

  it('colours only a terminal, and never with NO_COLOR', () => {
    expect(chooseStyle({ isTTY: true }, {}).type('x')).toBe('\x1b[1;36mx\x1b[0m');
    expect(chooseStyle({ isTTY: true }, { NO_COLOR: '1' }).type('x')).toBe('x');
    expect(chooseStyle({ isTTY: false }, {}).type('x')).toBe('x');
    // Through a pipe (what these tests run under) the real CLI prints no escape codes ...
    expect(lispscope(['read', '-c', '2', ndpi], { env: { NO_COLOR: '' } }).stdout).not.toContain('\x1b[');
    // ... and on a terminal (script(1) gives it one) it does, unless NO_COLOR is set.
    const onTty = (env: string) =>
      spawnSync('script', ['-qec', `${env} ${process.execPath} ${join(ROOT, 'bin/lispscope')} read -c 1 ${ndpi}`, '/dev/null'], {
        env: { ...process.env, NO_COLOR: '' },
      }).stdout.toString();
    expect(onTty('')).toContain('\x1b[1;36mMap-Register');
    expect(onTty('NO_COLOR=1')).not.toContain('\x1b[');
  });

  it('names the LISP ports unless -n', () => {
    expect(lispscope(['read', '-c', '1', ndpi]).stdout).toContain('10.0.123.2.lisp-control > 10.0.123.1.lisp-control');
  });

  it('writes NDJSON per the contract', () => {
    const r = lispscope(['read', '--json', jeremie]);
    expect(r.code).toBe(0);
    const objs = jsonLines(r.stdout);
    const reg = objs.find((o) => o.type === 'map-register')!;
    expect(reg).toMatchObject({
      frame: 8,
      src: '137.194.11.171',
      dst: '137.194.11.169',
      sport: 4342,
      dport: 4342,
      nonce: '0000000000000000',
      proxy_reply: true,
      want_map_notify: true,
      key_id: 1,
      auth_len: 20,
      records: [{ eid: '172.20.128.0/24', ttl: 10, action: 'no-action', authoritative: true, map_version: 0 }],
    });
    const ecm = objs.find((o) => o.type === 'ecm')!;
    expect(ecm.inner).toMatchObject({ src: '172.20.128.0', dst: '172.20.0.10', sport: 4342, dport: 4342, type: 'map-request', eids: ['172.20.0.10/32'] });
    const data = objs.find((o) => o.type === 'data')!;
    expect(data).toMatchObject({ flags: '', inner: { src: '172.20.128.20', dst: '172.20.0.10', proto: 17 } });
    for (const o of objs) {
      expect(typeof o.frame).toBe('number');
      expect(typeof o.ts).toBe('number');
      if (o.nonce !== undefined) expect(o.nonce).toMatch(o.type === 'data' ? /^[0-9a-f]{6}$/ : /^[0-9a-f]{16}$/);
    }
  });

  it('stops after -c N packets', () => {
    expect(lispscope(['read', '-n', '-c', '3', ndpi]).stdout.trim().split('\n')).toHaveLength(3);
    expect(lispscope(['read', '-nc3', ndpi]).stdout.trim().split('\n')).toHaveLength(3);
  });

  it('shows non-LISP frames with --all', () => {
    const lisp = lispscope(['read', '-n', jeremie]).stdout.trim().split('\n').length;
    const all = lispscope(['read', '-n', '--all', jeremie]).stdout.trim().split('\n');
    expect(all.length).toBeGreaterThan(lisp);
    expect(all).toContain('20:09:31.814972 IP 137.194.11.169.58760 > 137.194.15.218.53: UDP, length 41');
    expect(all.some((l) => /^[\d:.]+ ARP, Request who-has /.test(l))).toBe(true);
  });

  it('reads stdin with -r - and gzip transparently', () => {
    const gz = gzipSync(readFileSync(ndpi));
    const r = lispscope(['read', '-n', '-r', '-'], { input: gz });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(22);
  });

  it('prints a detail tree with -V and hex with -x', () => {
    const r = lispscope(['read', '-V', '-x', '-c', '1', ndpi]);
    expect(r.stdout).toContain('Locator/ID Separation Protocol (Map-Register)');
    expect(r.stdout).toContain('Key ID: 0x0001 (Key 0, HMAC-SHA-1-96)');
    expect(r.stdout).toContain('xTR-ID: d0f4d45814b6d3e32183c9432e4b58f2');
    expect(r.stdout).toMatch(/0x0000: aabb cc00 0100 aabb cc00 0200 0800 45c0  \.{14}E\./);
  });

  it('rejects an unknown option with one line and exit 2', () => {
    oneLineError(lispscope(['read', '--bogus', ndpi]), /unknown option --bogus/);
    oneLineError(lispscope(['read', '-Q', ndpi]), /unknown option -Q/);
    oneLineError(lispscope(['frobnicate']), /unknown command "frobnicate"/);
    oneLineError(lispscope(['read', '-c', 'x', ndpi]), /--count needs a non-negative integer/);
  });

  it('rejects a missing file and a file that is not a capture', () => {
    oneLineError(lispscope(['read', join(tmp, 'nope.pcap')]), /nope\.pcap: no such file/);
    const notCap = join(tmp, 'notes.txt');
    writeFileSync(notCap, 'hello, this is not a capture\n');
    const r = lispscope(['read', notCap]);
    oneLineError(r, /notes\.txt: not a capture file: expected pcap .* or pcapng/);
    // What the file holds is not repeated (it could be a password file).
    expect(r.stderr).not.toMatch(/hello|68656c6c/);
  });

  it('analyses what precedes the damage of a truncated file and names the byte offset', () => {
    const full = readFileSync(ndpi);
    const cut = join(tmp, 'cut.pcap');
    writeFileSync(cut, full.subarray(0, 700));
    const r = lispscope(['read', '-n', cut]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').length).toBeGreaterThan(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/truncated.*byte offset \d+/);
  });

  it('decodes LISP on other ports with --decode-as', () => {
    const request = encodeControl(mapRequest({ nonce: 0x1122334455667788n, eids: ['10.1.0.5/32'], itrRlocs: ['192.0.2.1'] }));
    const ip = encodeIpUdp({ src: '192.0.2.1', dst: '192.0.2.2', sport: 40000, dport: 14342 }, request);
    const file = join(tmp, 'odd-port.pcap');
    writeFileSync(file, writePcap([{ tsSec: 1, tsNsec: 0, data: encodeLink(1, ip) }], { linkType: 1 }));
    expect(lispscope(['read', '--json', file]).stdout).toBe('');
    const r = lispscope(['read', '--json', '--decode-as', 'udp.port=14342', file]);
    expect(jsonLines(r.stdout)[0]).toMatchObject({ type: 'map-request', nonce: '1122334455667788', eids: ['10.1.0.5/32'] });
    const asData = lispscope(['read', '--json', '-d', 'udp.port==14342,lisp-data', file]);
    expect(jsonLines(asData.stdout)[0]).toMatchObject({ type: 'data' });
    oneLineError(lispscope(['read', '--decode-as', 'tcp.port=1', ndpi]), /--decode-as expects udp\.port=N/);
  });
});

describe('lispscope read --follow', () => {
  it('keeps reading a capture as it grows, and stops cleanly on SIGINT', async () => {
    const { spawn } = await import('node:child_process');
    const { appendFileSync } = await import('node:fs');
    const full = readFileSync(ndpi);
    // The global header and the first record, then the rest in two steps, one cut mid-record.
    const file = join(tmp, 'growing.pcap');
    writeFileSync(file, full.subarray(0, 24 + 16 + 130));
    const child = spawn(process.execPath, [join(ROOT, 'bin/lispscope'), 'read', '-n', '--follow', file], { env: { ...process.env, TZ: 'UTC', NO_COLOR: '1' } });
    let out = '';
    let err = '';
    const lines = () => out.trim().split('\n').filter(Boolean).length;
    // Each step waits for the lines it should bring (or for the reader to end), however long a
    // loaded machine takes: the test's timeout bounds it.
    let wanted = 0;
    let arrived = () => {};
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (lines() >= wanted) arrived();
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    const until = (n: number) =>
      new Promise<void>((resolve) => {
        wanted = n;
        arrived = resolve;
        if (lines() >= n) resolve();
        void closed.then(() => resolve());
      });
    try {
      await until(1);
      expect(lines()).toBe(1);
      appendFileSync(file, full.subarray(24 + 16 + 130, 700));
      await until(3);
      appendFileSync(file, full.subarray(700));
      await until(22);
      expect(lines()).toBe(22); // as many as a one-shot read of the whole file shows
    } finally {
      child.kill('SIGINT');
    }
    expect(await closed).toBe(0);
    expect(err).toBe('');
  });
});
