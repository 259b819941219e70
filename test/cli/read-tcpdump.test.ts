// `read` as a tcpdump or tshark user types it: -v, -#, the -t clocks, a capture filter after the
// files, -w, several files merged by time, and one-line errors for what makes no sense. Expected
// values come from the packets (their JSON, their capture times), not from earlier runs.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/capture/pcap-native.js';
import { jsonLines, lispscope, PCAPS, SHARED } from './run.js';

const handover = join(PCAPS, 'mn-handover.pcapng');
const tmp = mkdtempSync(join(tmpdir(), 'lispscope-read-tcpdump-'));
const native = loadNative();
if (!native.binding && process.env.CI === 'true') throw new Error(`capture filters on files need the libpcap binding in CI: ${native.error}`);
const haveShared = existsSync(SHARED);
if (!haveShared && process.env.CI === 'true') throw new Error(`${SHARED} is missing: CI runs with ../shared`);

const lines = (s: string) => s.split('\n').filter(Boolean);

function oneLineError(argv: string[], pattern: RegExp, env?: NodeJS.ProcessEnv): void {
  const r = lispscope(argv, env ? { env } : {});
  expect(r.code, argv.join(' ')).toBe(2);
  expect(r.stdout).toBe('');
  expect(lines(r.stderr)).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

/** Frame number, time and type of every packet of the fixture, from its JSON. */
const packets = jsonLines(lispscope(['read', '--json', handover]).stdout) as { frame: number; ts: number; sport: number; dport: number; type: string }[];

describe('tcpdump habits', () => {
  it('-v is -V', () => {
    const v = lispscope(['read', '-v', '-c', '2', handover]);
    expect(v.code).toBe(0);
    expect(v.stdout).toBe(lispscope(['read', '-V', '-c', '2', handover]).stdout);
    expect(v.stdout).toContain('    Frame 2: ');
  });

  it('-# starts each line with the frame number, right-aligned as tcpdump does', () => {
    const out = lines(lispscope(['read', '-#', '-Y', 'type == map-reply', handover]).stdout);
    const replies = packets.filter((p) => p.type === 'map-reply');
    expect(out.map((l) => l.slice(0, 7))).toEqual(replies.map((p) => `${String(p.frame).padStart(5)}  `));
  });

  it('-t, -tt, -ttt, -tttt and -ttttt are tcpdump\'s clocks, in the local zone', () => {
    const first3 = packets.slice(0, 3).map((p) => p.ts);
    const col = (t: string, env: NodeJS.ProcessEnv = {}) => lines(lispscope(['read', t, '-c', '3', handover], { env }).stdout).map((l) => l.slice(0, l.indexOf('IP ')).trimEnd());
    expect(col('-t')).toEqual(['', '', '']);
    expect(col('-tt')).toEqual(first3.map((t) => t.toFixed(6)));
    const span = (s: number) => `00:00:${s.toFixed(6).padStart(9, '0')}`;
    expect(col('-ttt')).toEqual([span(0), span(first3[1]! - first3[0]!), span(first3[2]! - first3[1]!)]);
    expect(col('-ttttt')).toEqual(first3.map((t) => span(t - first3[0]!)));
    expect(col('-tttt')).toEqual(first3.map((t) => new Date(t * 1000).toISOString().replace('T', ' ').replace(/\.(\d+)Z$/, (_, ms: string) => `.${ms}000`)));
    // The same moment two hours ahead in Paris (CEST): the line and -V's arrival time agree.
    expect(col('-tttt', { TZ: 'Europe/Paris' })[0]).toBe('2024-05-01 12:00:00.000000');
    const v = lispscope(['read', '-V', '-c', '1', handover], { env: { TZ: 'Europe/Paris' } }).stdout;
    expect(v).toMatch(/^12:00:00\.000000 IP /);
    expect(v).toContain('        Arrival Time: 2024-05-01 12:00:00.000000000 UTC+02:00\n');
    expect(v).toContain('        Epoch Arrival Time: 1714557600.000000000\n');
  });

  it.skipIf(!native.binding)('takes the words after the files as a capture filter (BPF through libpcap)', () => {
    const want = packets.filter((p) => p.sport === 4341 || p.dport === 4341).map((p) => p.frame);
    expect(want.length).toBeGreaterThan(10);
    const got = (argv: string[]) => jsonLines(lispscope(['read', '--json', ...argv]).stdout).map((o) => o.frame);
    expect(got([handover, 'udp port 4341'])).toEqual(want);
    expect(got([handover, 'udp', 'port', '4341'])).toEqual(want);
    expect(got(['-r', handover, 'udp', 'port', '4341'])).toEqual(want);
    // Filter first, then -c: the first three that pass.
    expect(got(['-c', '3', handover, 'udp port 4341'])).toEqual(want.slice(0, 3));
    oneLineError(['read', handover, 'udp prot 4341'], /^lispscope: bad capture filter "udp prot 4341" for link type EN10MB \(Ethernet\): syntax error\n$/);
  });

  it('without the binding, a capture filter is one line and exit 2', () => {
    oneLineError(['read', handover, 'udp port 4341'], /capture filter "udp port 4341": filtering files with BPF needs lispscope's libpcap binding/, {
      LISPSCOPE_NATIVE: join(tmp, 'no-binding.node'),
    });
  });

  it('checks every file before printing anything', () => {
    oneLineError(['read', handover, join(tmp, 'nope.pcap')], /nope\.pcap: no such file/);
    writeFileSync(join(tmp, 'passwd'), 'root:*:0:0:root:/root:/bin/sh\n');
    oneLineError(['read', handover, join(tmp, 'passwd')], /passwd: not a capture file: expected pcap/);
  });

  it('refuses options that conflict or make no sense, in one line with exit 2', () => {
    oneLineError(['read', '--json', '-V', handover], /^lispscope: read: --json writes every field of each packet; -V shapes the text output/);
    oneLineError(['read', '--json', '-x', handover], /--json .*; -x shapes the text output/);
    oneLineError(['read', '-c', '0', handover], /^lispscope: read: -c needs a positive number of packets, not 0\n$/);
    oneLineError(['read', '-w', join(tmp, 'x.pcap'), '-V', handover], /-w writes frames to the file and prints none; -V has nothing to shape/);
    oneLineError(['read', '--count=x', handover], /--count needs a non-negative integer, not "x"/);
  });

  it('a file that is only a cut header is an error, not an empty capture', () => {
    const cut = join(tmp, 'header.pcap');
    writeFileSync(cut, readFileSync(join(PCAPS, 'data.pcap')).subarray(0, 10));
    oneLineError(['read', cut], /header\.pcap: truncated: the file ends inside its file header \(10 of 24 bytes\): no capture to read/);
    const whole = join(tmp, 'empty-capture.pcap');
    writeFileSync(whole, readFileSync(join(PCAPS, 'data.pcap')).subarray(0, 24));
    expect(lispscope(['read', whole])).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });
});

describe('read -w', () => {
  it('writes the frames that pass -Y and -c; reading them back shows the same packets', () => {
    const out = join(tmp, 'registers.pcapng');
    const r = lispscope(['read', '-Y', 'type == map-register', '-c', '3', '-w', out, handover]);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: `lispscope: 3 frames written to ${out}\n` });
    const back = jsonLines(lispscope(['read', '--json', out]).stdout);
    const orig = jsonLines(lispscope(['read', '--json', '-Y', 'type == map-register', '-c', '3', handover]).stdout);
    expect(back.map(({ frame: _f, ...rest }) => rest)).toEqual(orig.map(({ frame: _f, ...rest }) => rest));
    expect(back.map((o) => o.frame)).toEqual([1, 2, 3]);
  });

  it('keeps nanosecond times and the link type, and pcapng holds several link types', () => {
    const ns = join(PCAPS, 'format-pcap-ns.pcap');
    const out = join(tmp, 'ns.pcap');
    expect(lispscope(['read', '-w', out, ns]).code).toBe(0);
    const epochs = (f: string) => lines(lispscope(['read', '-V', f]).stdout).filter((l) => /Epoch Arrival Time|Link type/.test(l));
    expect(epochs(out)).toEqual(epochs(ns));
    expect(epochs(ns).some((l) => /\.\d{6}[1-9]\d{0,2}$|\.\d{7,8}[1-9]$/.test(l))).toBe(true);
    const mixed = join(tmp, 'mixed.pcapng');
    expect(lispscope(['read', '-w', mixed, join(PCAPS, 'link-raw-101.pcap'), join(PCAPS, 'link-ipv6.pcap')]).code).toBe(0);
    const v = lispscope(['read', '-V', mixed]).stdout;
    expect(v).toContain('Link type: RAW (101)');
    expect(v).toMatch(/Link type: (EN10MB|IPV6) \(\d+\)/);
    oneLineError(['read', '-w', join(tmp, 'mixed.pcap'), join(PCAPS, 'link-raw-101.pcap'), join(PCAPS, 'link-ipv6.pcap')].slice(0), /a pcap file has one link type \(write \.pcapng\)/);
  });

  it('refuses to overwrite a file it reads', () => {
    oneLineError(['read', '-w', handover, handover], /-w .*mn-handover\.pcapng is one of the files read/);
  });
});

describe.skipIf(!haveShared)('several files', () => {
  const mn = join(SHARED, 'oor__03-mn-handover-rloc-change.mn.pcap');
  const ms = join(SHARED, 'oor__03-mn-handover-rloc-change.ms.pcap');

  it('merge by time, name each frame FILE:FRAME and drop duplicates as flows does', () => {
    const one = (f: string) => jsonLines(lispscope(['read', '--json', f]).stdout);
    const a = one(mn);
    const b = one(ms);
    const r = lispscope(['read', '--json', mn, ms]);
    expect(r.code).toBe(0);
    const merged = jsonLines(r.stdout);
    const flows = lispscope(['flows', mn, ms]);
    const dup = /(\d+) packets seen in more than one capture were counted once/.exec(flows.stderr);
    expect(dup).not.toBeNull();
    expect(r.stderr).toBe(`lispscope: warning: ${dup![1]} packets seen in more than one capture were shown once\n`);
    expect(merged).toHaveLength(a.length + b.length - Number(dup![1]));
    const ts = merged.map((o) => o.ts as number);
    expect(ts).toEqual([...ts].sort((x, y) => x - y));
    // Every object names its capture; each capture's frames keep their order.
    expect(merged.filter((o) => o.file === 1).map((o) => o.frame)).toEqual(a.map((o) => o.frame).filter((f) => merged.some((o) => o.file === 1 && o.frame === f)));
    const text = lines(lispscope(['read', '-n', mn, ms]).stdout);
    expect(text.map((l) => l.trimStart().split(' ')[0])).toEqual(merged.map((o) => `${o.file}:${o.frame}`));
    expect(lispscope(['read', '-V', '-c', '1', mn, ms]).stdout).toMatch(/^ {4}Frame 1:\d+: /m);
  });

  it('--no-merge keeps them one after the other, duplicates included', () => {
    const r = lispscope(['read', '--json', '--no-merge', mn, ms]);
    const objs = jsonLines(r.stdout);
    const a = jsonLines(lispscope(['read', '--json', mn]).stdout).length;
    expect(objs.slice(0, a).every((o) => o.file === 1)).toBe(true);
    expect(objs.slice(a).every((o) => o.file === 2)).toBe(true);
    expect(r.stderr).toBe('');
  });

  it('mappings name frames the same way', () => {
    const m = lispscope(['mappings', mn, ms]).stdout;
    expect(m).toMatch(/│ [12]:\d+ +│/);
    expect(m).not.toMatch(/│ \d+ +│ (map|info)/);
  });
});

