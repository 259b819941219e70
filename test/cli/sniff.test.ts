// `lispscope sniff` end to end: the real CLI (bin/lispscope, built) as a child process capturing on
// the loopback while this test's own UDP sockets send LISP messages made by the builders. Needs
// root (or CAP_NET_RAW), libpcap and the optional `cap` module: without them the capture tests skip
// with the reason, except under CI=true where they must run. Traffic goes only to 127.0.0.0/8, to
// addresses picked at random per test, and filters name them, so other tests' loopback traffic
// (the lab) does not get in the way.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/source.js';
import type { Frame } from '../../src/capture/types.js';
import { CaptureFileRing } from '../../src/capture/ring.js';
import { parseRing } from '../../src/cli/sniff.js';
import { exchangeLine } from '../../src/output/flows-text.js';
import { dataPacket, ecm, mapNotify, mappingRecord, mapRegister, mapReply, mapRequest } from '../../src/dissect/build.js';
import { encodeControl } from '../../src/dissect/control.js';
import { encodeLink } from '../../src/dissect/link.js';
import { lispUdpPacket } from '../../src/dissect/build.js';
import { PLAIN } from '../../src/output/style.js';
import { eachAtOnce, jsonLines, lispscope, lispscopeAsync, ROOT } from './run.js';
import { gate, liveUnavailable, sendAll, testNet, type Sent } from '../support/live.js';

const BIN = join(ROOT, 'bin/lispscope');

/** Whether `user` can run the built CLI where it is. */
function readableBy(user: { uid: number; gid: number }): boolean {
  return spawnSync(process.execPath, [BIN, '--version'], { ...user }).status === 0;
}

/**
 * What the built CLI needs to run, copied where everyone can read it: hard links where they can be
 * (the files of a clone are world-readable, its parent directory need not be).
 */
function copyForNobody(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lispscope-nobody-'));
  chmodSync(dir, 0o755);
  for (const p of ['package.json', 'bin', 'dist/src', 'native/build/Release', 'node_modules']) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    const linked = spawnSync('cp', ['-al', join(ROOT, p), join(dir, p)]);
    if (linked.status !== 0) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  }
  return dir;
}
const tmp = mkdtempSync(join(tmpdir(), 'lispscope-sniff-'));

const unavailable = gate('lispscope sniff capture tests', await liveUnavailable());
const live = describe.skipIf(unavailable !== undefined);

// ---- traffic --------------------------------------------------------------------------------

const hex16 = (v: bigint) => v.toString(16).padStart(16, '0');

/** `n` LISP messages cycling through register, notify, request, ECM, reply and data. */
function messages(src: string, n: number, seed = 1): Sent[] {
  const rec = mappingRecord({ eid: '10.1.0.5/32', locators: [{ rloc: '192.0.2.10', priority: 1, weight: 100, local: true }] });
  const out: Sent[] = [];
  for (let i = 0; i < n; i++) {
    const nonce = BigInt(seed) * 1_000_000n + BigInt(i);
    const req = mapRequest({ nonce, eids: ['10.1.0.5/32'], itrRlocs: [src], sourceEid: '10.2.0.7' });
    switch (i % 6) {
      case 0:
        out.push({ bytes: mapRegister({ nonce, records: [rec], keyId: 1, key: 'k', wantMapNotify: true }), dport: 4342, type: 'map-register', nonce: hex16(nonce) });
        break;
      case 1:
        out.push({ bytes: mapNotify({ nonce, records: [rec], keyId: 1, key: 'k' }), dport: 4342, type: 'map-notify', nonce: hex16(nonce) });
        break;
      case 2:
        out.push({ bytes: encodeControl(req), dport: 4342, type: 'map-request', nonce: hex16(nonce) });
        break;
      case 3:
        out.push({ bytes: encodeControl(ecm({ inner: { src, dst: '10.1.0.5', sport: 4342 }, message: req })), dport: 4342, type: 'ecm' });
        break;
      case 4:
        out.push({ bytes: encodeControl(mapReply({ nonce, records: [rec] })), dport: 4342, type: 'map-reply', nonce: hex16(nonce) });
        break;
      default:
        out.push({
          bytes: dataPacket({ src, dst: src, nonce: i & 0xffffff, inner: { src: '10.2.0.7', dst: '10.1.0.5', proto: 'icmp-echo-request' } }).subarray(28),
          dport: 4341,
          type: 'data',
        });
    }
  }
  return out;
}

// ---- the CLI as a child ---------------------------------------------------------------------

interface Sniffer {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once sniff says it is listening. */
  ready: Promise<void>;
  exit: Promise<number>;
}

const children: ChildProcess[] = [];
// A failed test must not leave a sniffer behind.
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function sniff(args: string[], env: NodeJS.ProcessEnv = {}): Sniffer {
  const child = spawn(process.execPath, [BIN, 'sniff', ...args], { env: { ...process.env, TZ: 'UTC', NO_COLOR: '1', ...env } });
  children.push(child);
  let out = '';
  let err = '';
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.includes('listening on')) onReady();
  });
  const exit = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  void exit.then(() => onReady());
  return { child, stdout: () => out, stderr: () => err, ready, exit };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function oneLineError(r: { code: number; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
}

async function framesOf(path: string): Promise<Frame[]> {
  const frames: Frame[] = [];
  await readCapture(path, { frame: (f) => void frames.push({ ...f, data: f.data.slice() }), warning: (m) => frames.push({ notes: [m] } as Frame) });
  return frames;
}

// ---- everywhere ------------------------------------------------------------------------------

describe('lispscope sniff (no capture needed)', () => {
  it('checks its options', async () => {
    const mistakes: [string[], RegExp][] = [
      [['sniff'], /^lispscope: sniff: no interface given \(lispscope sniff -i IFACE; -D lists them\)$/m],
      [['sniff', '-i', 'lo', '--ring', '3:10M'], /--ring needs -w FILE/],
      [['sniff', '-i', 'lo', '-w', 'x.pcap', '--ring', '1:10M'], /--ring expects N:SIZE/],
      [['sniff', '-i', 'lo', '--duration', 'soon'], /--duration needs a positive number of seconds/],
      [['sniff', '-i', 'lo', '-c', '0'], /--count needs a positive integer/],
      [['sniff', '-i', 'lo', '--flows', '-V'], /--flows shows exchanges/],
      [['sniff', '-i', 'lo', 'udp'], /unexpected argument "udp"/],
    ];
    const [help, top, ...runs] = await eachAtOnce([['sniff', '--help'], ['--help'], ...mistakes.map(([argv]) => argv)], (argv) => lispscopeAsync(argv));
    for (const [i, [, pattern]] of mistakes.entries()) oneLineError(runs[i]!, pattern);
    expect(help!.stdout).toContain('Usage: lispscope sniff -i IFACE');
    expect(top!.stdout).toMatch(/^ {2}sniff +capture live/m);
  });

  it('says in one line what to do when no libpcap binding can be loaded', async () => {
    const noCap = { LISPSCOPE_CAP: '/nonexistent/cap' };
    const noNative = { LISPSCOPE_NATIVE: '/nonexistent/lispscope_pcap.node' };
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [{ ...noCap, LISPSCOPE_PCAP: 'cap' }, /^lispscope: live capture needs libpcap through cap: the optional package cap is not installed; install libpcap-dev .*"npm install"/],
      [
        { ...noNative, LISPSCOPE_PCAP: 'native' },
        /^lispscope: live capture needs libpcap: lispscope's libpcap binding did not load \(.*\); install libpcap-dev .*"npm install" \(or npm run build:native\)\n$/,
      ],
      [
        { ...noNative, ...noCap },
        /^lispscope: live capture needs libpcap: lispscope's libpcap binding did not load \(.*\) and the optional package cap is not installed; install libpcap-dev .*"npm install"\n$/,
      ],
      [{ LISPSCOPE_PCAP: 'pcap' }, /^lispscope: LISPSCOPE_PCAP must be "native" or "cap", not "pcap"\n$/],
    ];
    const runs = await eachAtOnce(cases, ([env]) => lispscopeAsync(['sniff', '-i', 'lo'], { env }));
    for (const [i, [, pattern]] of cases.entries()) oneLineError(runs[i]!, pattern);
  });

  it('parses --ring sizes', () => {
    expect(parseRing('10:100M')).toEqual({ files: 10, maxBytes: 100 * 1024 * 1024 });
    expect(parseRing('2:4k')).toEqual({ files: 2, maxBytes: 4096 });
    expect(parseRing('3:1G')).toEqual({ files: 3, maxBytes: 1024 ** 3 });
    expect(() => parseRing('3:10')).toThrow(/SIZE >= 1024/);
    expect(() => parseRing('x')).toThrow(/N:SIZE/);
  });

  it('rotates capture files: FILE is the newest, every file complete and within SIZE', async () => {
    for (const ext of ['pcap', 'pcapng']) {
      const path = join(tmp, `ring.${ext}`);
      const ring = new CaptureFileRing(path, { linkType: 1, snaplen: 65535, iface: 'lo', ring: { files: 3, maxBytes: 1024 } });
      const frames = Array.from({ length: 40 }, (_, i) => {
        const data = encodeLink(1, lispUdpPacket({ src: '127.0.0.1', dst: '127.0.0.2', sport: 4342, dport: 4342, payload: mapRequest({ nonce: BigInt(i), eids: ['10.0.0.1/32'], itrRlocs: ['127.0.0.1'] }) }));
        return { index: i + 1, tsSec: 1_700_000_000 + i, tsNsec: 5000, linkType: 1, len: data.length, data, interfaceId: 0 } as Frame;
      });
      for (const f of frames) ring.write(f);
      ring.close();
      expect(ring.packets).toBe(40);
      expect(ring.filesStarted).toBeGreaterThan(3);
      const names = readdirSync(tmp).filter((n) => n.startsWith(`ring.${ext}`)).sort();
      expect(names).toEqual([`ring.${ext}`, `ring.${ext}.1`, `ring.${ext}.2`]);
      const kept: Frame[] = [];
      for (const n of [`ring.${ext}.2`, `ring.${ext}.1`, `ring.${ext}`]) {
        expect(statSync(join(tmp, n)).size).toBeLessThanOrEqual(1024);
        const fs = await framesOf(join(tmp, n));
        expect(fs.length).toBeGreaterThan(0);
        expect(fs.every((f) => !f.notes && f.linkType === 1)).toBe(true);
        kept.push(...fs);
      }
      // The newest frames, in order, with their times.
      const tail = frames.slice(frames.length - kept.length);
      expect(kept.map((f) => [f.tsSec, f.tsNsec, Buffer.from(f.data).toString('hex')])).toEqual(
        tail.map((f) => [f.tsSec, f.tsNsec, Buffer.from(f.data).toString('hex')]),
      );
    }
  });

  it('ends each pcapng file with libpcap\'s counters, so that a reader of the file learns what the capture lost', async () => {
    const path = join(tmp, 'stats.pcapng');
    let drops = 0;
    const ring = new CaptureFileRing(path, { linkType: 1, snaplen: 65535, iface: 'lo', statistics: () => ({ received: 50, kernelDrops: drops, interfaceDrops: 0 }) });
    const data = encodeLink(1, lispUdpPacket({ src: '127.0.0.1', dst: '127.0.0.2', sport: 4342, dport: 4342, payload: mapRequest({ nonce: 1n, eids: ['10.0.0.1/32'], itrRlocs: ['127.0.0.1'] }) }));
    ring.write({ index: 1, tsSec: 1_700_000_000, tsNsec: 0, linkType: 1, len: data.length, data, interfaceId: 0 });
    drops = 7;
    ring.close();
    const warnings: string[] = [];
    let frames = 0;
    await readCapture(path, { frame: () => void frames++, warning: (m) => void warnings.push(m) });
    expect(frames).toBe(1);
    expect(warnings).toEqual([expect.stringMatching(/stats\.pcapng: interface 0 \(lo\) lost 7 packets while capturing \(7 by the operating system\), as its interface statistics block at byte offset \d+ says$/)]);
    // Nothing lost, nothing said; and a pcap file has no place for them.
    for (const name of ['clean.pcapng', 'clean.pcap']) {
      const clean = new CaptureFileRing(join(tmp, name), { linkType: 1, snaplen: 65535, statistics: () => ({ received: 1, kernelDrops: 0, interfaceDrops: 0 }) });
      clean.write({ index: 1, tsSec: 1_700_000_000, tsNsec: 0, linkType: 1, len: data.length, data, interfaceId: 0 });
      clean.close();
      const w: string[] = [];
      await readCapture(join(tmp, name), { frame: () => {}, warning: (m) => void w.push(m) });
      expect(w).toEqual([]);
    }
  });

  it('shows an exchange in one line', () => {
    const line = exchangeLine(
      {
        kind: 'resolution',
        eid: '10.1.0.5/32',
        nonce: '0000000000000001',
        frames: [
          { frame: 3, file: 0 },
          { frame: 4, file: 0 },
        ],
        start: 1_700_000_000.25,
        requester: '127.0.0.1',
        responder: '127.0.0.2',
        rttMs: 2,
        timeToAnswerMs: 2,
        retransmissions: 1,
        outcome: 'answered',
        rlocs: ['192.0.2.10'],
      },
      PLAIN,
    );
    expect(line).toMatch(/^\d\d:\d\d:\d\d\.250 resolution 10\.1\.0\.5\/32 127\.0\.0\.1 ⇄ 127\.0\.0\.2: 2\.000 ms answered, 1 retransmission -> \[192\.0\.2\.10\], frames 3,4$/);
    const tcp = exchangeLine(
      {
        kind: 'registration',
        eid: '10.9.0.0/16',
        nonce: '0000000000000002',
        frames: [{ frame: 5, file: 0 }, { frame: 7, file: 0 }],
        start: 1_700_000_000.5,
        requester: '192.0.2.10',
        responder: '203.0.113.1',
        rttMs: 4,
        timeToAnswerMs: 4,
        retransmissions: 0,
        outcome: 'rejected',
        rejectReason: 'not-site-eid-prefix',
        transport: 'tcp',
      },
      PLAIN,
    );
    expect(tcp).toMatch(/^\d\d:\d\d:\d\d\.500 registration \(tcp\) 10\.9\.0\.0\/16 192\.0\.2\.10 ⇄ 203\.0\.113\.1: 4\.000 ms rejected \(not-site-eid-prefix\), frames 5,7$/);
  });
});

// ---- capturing --------------------------------------------------------------------------------

live('lispscope sniff on lo', () => {
  it('lists the interfaces, lo among them', () => {
    const r = lispscope(['sniff', '-D']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\. lo {2}\(loopback; 127\.0\.0\.1/m);
    // Which binding captures, on stderr: ours here (CI builds it), cap when asked for.
    expect(r.stderr).toMatch(/^lispscope: capturing through lispscope's libpcap binding \(libpcap version [^)]+\)+: kernel timestamps, original lengths, kernel drop counts\n$/);
    const c = lispscope(['sniff', '-D'], { env: { LISPSCOPE_PCAP: 'cap' } });
    expect(c.stdout).toBe(r.stdout);
    expect(c.stderr).toMatch(/^lispscope: warning: capturing through the optional package cap: .*no kernel drop counts/);
  });

  it('gives one-line errors for a bad interface and a bad BPF filter', () => {
    oneLineError(lispscope(['sniff', '-i', 'nosuch0']), /^lispscope: no interface "nosuch0" \(interfaces: .*\blo\b.*\)$/m);
    oneLineError(lispscope(['sniff', '-i', 'lo', '-f', 'udp prot 4342']), /^lispscope: bad BPF filter "udp prot 4342": syntax error$/m);
  });

  it('says what to do without the permission to capture', () => {
    // As user nobody, on a copy of the built CLI that nobody can read when the clone is not
    // (CI clones under /root).
    const nobody = { uid: 65534, gid: 65534 };
    const root = readableBy(nobody) ? ROOT : copyForNobody();
    const r = spawnSync(process.execPath, [join(root, 'bin/lispscope'), 'sniff', '-i', 'lo'], { ...nobody, encoding: 'utf8' });
    if (root !== ROOT) rmSync(root, { recursive: true, force: true });
    oneLineError({ code: r.status ?? -1, stderr: r.stderr }, /^lispscope: lo: no permission to capture \(.*\): run as root or grant the capability: setcap cap_net_raw,cap_net_admin=eip/);
  });

  it('captures and decodes every message sent (-c N --json), the same as read --json of its -w file', async () => {
    for (const ext of ['pcap', 'pcapng']) {
      const net = testNet();
      const sent = messages(net.a, 24, 2);
      const file = join(tmp, `c.${ext}`);
      const s = sniff(['-i', 'lo', '-c', String(sent.length), '--json', '-f', `udp and host ${net.b}`, '-w', file]);
      await s.ready;
      await sendAll(net.a, net.b, sent);
      expect(await s.exit).toBe(0);
      const objs = jsonLines(s.stdout());
      expect(objs.map((o) => o.type)).toEqual(sent.map((m) => m.type));
      objs.forEach((o, i) => {
        expect(o).toMatchObject({ frame: i + 1, src: net.a, dst: net.b, dport: sent[i]!.dport, len: 14 + 28 + sent[i]!.bytes.length });
        if (sent[i]!.nonce) expect(o.nonce).toBe(sent[i]!.nonce);
        expect(o.malformed).toBeUndefined();
      });
      expect(s.stderr()).toContain(`listening on lo, link-type EN10MB (Ethernet), capture filter "udp and host ${net.b}", writing ${file}`);
      expect(s.stderr()).toContain(`${sent.length} packets captured on lo, ${sent.length} LISP messages (20 control, 4 data), ${sent.length} shown`);
      expect(s.stderr()).toContain("0 packets dropped by lispscope's queue");
      expect(s.stderr()).toContain(`${sent.length} packets written to ${file}`);
      const reread = lispscope(['read', '--json', file]);
      expect(reread.code).toBe(0);
      expect(reread.stdout).toBe(s.stdout());
    }
  });

  it('shows lines (plain data packets included) as read shows its -w file', async () => {
    const net = testNet();
    const sent = messages(net.a, 12, 2);
    expect(sent.some((m) => m.dport === 4341)).toBe(true);
    const file = join(tmp, 'lines.pcap');
    for (const flags of [['-n', '-#'], []]) {
      const s = sniff(['-i', 'lo', '-c', String(sent.length), ...flags, '-f', `udp and host ${net.b}`, '-w', file]);
      await s.ready;
      await sendAll(net.a, net.b, sent);
      expect(await s.exit).toBe(0);
      expect(s.stdout().trim().split('\n')).toHaveLength(sent.length);
      const reread = lispscope(['read', ...flags, file]);
      expect(reread.code).toBe(0);
      expect(s.stdout()).toBe(reread.stdout);
    }
  });

  it('uses the LISP ports as its default filter and shows lines as read does', async () => {
    const net = testNet();
    const sent = messages(net.a, 6, 3);
    // Other loopback LISP traffic may be captured too: -Y keeps ours.
    const s = sniff(['-i', 'lo', '-n', '-c', '6', '-Y', `src == ${net.a}`]);
    await s.ready;
    expect(s.stderr()).toContain('capture filter "udp port 4341 or udp port 4342 or udp port 4789 or tcp port 4342 or icmp');
    await sendAll(net.a, net.b, sent);
    expect(await s.exit).toBe(0);
    const lines = s.stdout().trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{6} IP ${net.a.replace(/\./g, '\\.')}\\.\\d+ > ${net.b.replace(/\./g, '\\.')}\\.4342: LISP Map-Register nonce 0x${sent[0]!.nonce}`));
    expect(lines[5]).toContain(`> ${net.b}.4341: LISP data`);
  });

  it('shows by default the ICMP error that answers a Map-Register sent to a closed port', async () => {
    // Nothing listens on net.b:4342, so the kernel answers with port unreachable (not rate-limited
    // on loopback), quoting the Map-Register: what a crashed Map-Server looks like on the wire.
    const net = testNet();
    const sent = messages(net.a, 1, 0);
    const s = sniff(['-i', 'lo', '-c', '1', '--json', '-Y', `type == icmp-error && src == ${net.b}`]);
    await s.ready;
    await sendAll(net.a, net.b, sent);
    expect(await s.exit).toBe(0);
    expect(jsonLines(s.stdout())).toMatchObject([
      { type: 'icmp-error', src: net.b, dst: net.a, icmp: { type: 3, code: 3 }, quoted: { type: sent[0]!.type, nonce: sent[0]!.nonce } },
    ]);
  });

  it('adds --decode-as ports to the default filter', async () => {
    const net = testNet();
    const req = encodeControl(mapRequest({ nonce: 77n, eids: ['10.1.0.5/32'], itrRlocs: [net.a] }));
    const s = sniff(['-i', 'lo', '-c', '1', '--json', '-d', 'udp.port=5555', '-Y', `src == ${net.a}`]);
    await s.ready;
    expect(s.stderr()).toContain('capture filter "udp port 4341 or udp port 4342 or udp port 4789 or udp port 5555 or tcp port 4342 or ');
    await sendAll(net.a, net.b, [{ bytes: req, dport: 5555, type: 'map-request' }]);
    expect(await s.exit).toBe(0);
    expect(jsonLines(s.stdout())).toMatchObject([{ type: 'map-request', dport: 5555, nonce: hex16(77n) }]);
  });

  it('stops on SIGINT with a valid capture file and the totals', async () => {
    const net = testNet();
    const sent = messages(net.a, 12, 4);
    const file = join(tmp, 'int.pcapng');
    const s = sniff(['-i', 'lo', '--json', '-f', `udp and host ${net.b}`, '-w', file]);
    await s.ready;
    await sendAll(net.a, net.b, sent);
    await until(() => s.stdout().split('\n').length > sent.length);
    s.child.kill('SIGINT');
    expect(await s.exit).toBe(0);
    expect(s.stderr()).toContain(`${sent.length} packets captured on lo, ${sent.length} LISP messages`);
    expect(s.stderr()).toContain("0 packets dropped by lispscope's queue, 0 by the kernel");
    expect(s.stderr()).toContain(`${sent.length} packets written to ${file}`);
    const frames = await framesOf(file);
    expect(frames).toHaveLength(sent.length);
    expect(frames.every((f) => !f.notes)).toBe(true);
    expect(lispscope(['read', '--json', file]).stdout).toBe(s.stdout());
  });

  it('leaves at a second SIGINT when the output is not read, the capture file complete', async () => {
    const net = testNet();
    const sent = messages(net.a, 4000, 8);
    const file = join(tmp, 'stuck.pcap');
    const s = sniff(['-i', 'lo', '--json', '-f', `udp and host ${net.b}`, '-w', file]);
    await s.ready;
    s.child.stdout!.pause(); // nobody reads: the pipe fills up
    // In bursts a freshly started sniffer keeps up with on any machine.
    for (let i = 0; i < sent.length; i += 250) {
      await sendAll(net.a, net.b, sent.slice(i, i + 250));
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 500));
    s.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 500));
    expect(s.child.exitCode, s.stderr()).toBe(null); // still waiting to write its output
    s.child.kill('SIGINT');
    expect(await s.exit, s.stderr()).toBe(130);
    expect(s.stderr()).toContain(`lispscope: interrupted again: output abandoned; ${file} is complete`);
    const frames = await framesOf(file);
    expect(frames.length, s.stderr()).toBe(sent.length);
    expect(frames.every((f) => !f.notes)).toBe(true);
  });

  it('stops after --duration, and SIGTERM works too', async () => {
    const t0 = Date.now();
    const s = sniff(['-i', 'lo', '--duration', '0.5', '-f', 'udp and host 127.0.0.99']);
    expect(await s.exit).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
    expect(s.stderr()).toContain('0 packets captured on lo');
    const t = sniff(['-i', 'lo', '-f', 'udp and host 127.0.0.99']);
    await t.ready;
    t.child.kill('SIGTERM');
    expect(await t.exit).toBe(0);
    expect(t.stderr()).toContain('0 packets captured on lo');
  });

  it('rotates -w files with --ring while capturing', async () => {
    const net = testNet();
    const sent = messages(net.a, 60, 5);
    const file = join(tmp, 'live-ring.pcap');
    const s = sniff(['-i', 'lo', '-c', String(sent.length), '--json', '-f', `udp and host ${net.b}`, '-w', file, '--ring', '3:2k']);
    await s.ready;
    await sendAll(net.a, net.b, sent);
    expect(await s.exit).toBe(0);
    expect(s.stderr()).toMatch(new RegExp(`${sent.length} packets written to ${file} \\(\\d+ files, rotated\\)`));
    const objs = jsonLines(s.stdout());
    const kept: string[] = [];
    for (const n of [`${file}.2`, `${file}.1`, file]) {
      expect(statSync(n).size).toBeLessThanOrEqual(2048);
      kept.push(...jsonLines(lispscope(['read', '--json', n]).stdout).map((o) => String(o.nonce ?? o.type)));
    }
    expect(existsSync(`${file}.3`)).toBe(false);
    expect(kept.length).toBeGreaterThan(10);
    expect(kept).toEqual(objs.slice(objs.length - kept.length).map((o) => String(o.nonce ?? o.type)));
  });

  it('prints exchanges as they complete with --flows', async () => {
    const net = testNet();
    const rec = mappingRecord({ eid: '10.9.0.1/32', locators: [{ rloc: net.b, priority: 1, weight: 100 }] });
    const msgs: Sent[] = [
      { bytes: mapRegister({ nonce: 11n, records: [rec], keyId: 1, key: 'k', wantMapNotify: true }), dport: 4342, type: 'map-register' },
      { bytes: mapNotify({ nonce: 11n, records: [rec], keyId: 1, key: 'k' }), dport: 4342, type: 'map-notify' },
      { bytes: encodeControl(mapRequest({ nonce: 12n, eids: ['10.9.0.1/32'], itrRlocs: [net.a] })), dport: 4342, type: 'map-request' },
      { bytes: encodeControl(mapReply({ nonce: 12n, records: [rec] })), dport: 4342, type: 'map-reply' },
    ];
    const s = sniff(['-i', 'lo', '--flows', '--json', '--timeout', '0.3', '-c', '2', '-f', `udp and host ${net.b}`]);
    await s.ready;
    const t0 = Date.now();
    // The notify and the reply come back from b to a, as they would.
    await sendAll(net.a, net.b, [msgs[0]!]);
    await sendAll(net.b, net.a, [msgs[1]!]);
    await sendAll(net.a, net.b, [msgs[2]!]);
    await sendAll(net.b, net.a, [msgs[3]!]);
    expect(await s.exit).toBe(0);
    // Closed by the wall clock, well before the end of anything else.
    expect(Date.now() - t0).toBeLessThan(5000);
    const ex = jsonLines(s.stdout());
    expect(ex).toMatchObject([
      { kind: 'registration', eid: '10.9.0.1/32', nonce: hex16(11n), requester: net.a, responder: net.b, outcome: 'answered', frames: [1, 2] },
      { kind: 'resolution', eid: '10.9.0.1/32', nonce: hex16(12n), requester: net.a, responder: net.b, outcome: 'answered', frames: [3, 4] },
    ]);
    expect(s.stderr()).toContain('4 packets captured on lo, 4 LISP messages (4 control), 2 exchanges shown');

    // Without -c: each exchange shows while sniff goes on (the wall clock closes it), in one line.
    const t = sniff(['-i', 'lo', '--flows', '--timeout', '0.3', '-f', `udp and host ${net.b}`]);
    await t.ready;
    await sendAll(net.a, net.b, [msgs[2]!]);
    await sendAll(net.b, net.a, [msgs[3]!]);
    await until(() => t.stdout().includes('\n'));
    expect(t.child.exitCode).toBe(null);
    expect(t.stdout()).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} resolution 10\\.9\\.0\\.1/32 ${net.a.replace(/\./g, '\\.')} ⇄ ${net.b.replace(/\./g, '\\.')}: [\\d.]+ ms answered -> \\[${net.b.replace(/\./g, '\\.')}\\], frames 1,2\n$`));
    t.child.kill('SIGINT');
    expect(await t.exit).toBe(0);
  });

  it('ends quietly when the reader of its output goes away', async () => {
    const net = testNet();
    const s = sniff(['-i', 'lo', '--json', '-f', `udp and host ${net.b}`]);
    await s.ready;
    await sendAll(net.a, net.b, messages(net.a, 1, 6));
    await until(() => s.stdout().length > 0);
    s.child.stdout!.destroy();
    // Keep sending until a write fails with EPIPE.
    const stop = setInterval(() => void sendAll(net.a, net.b, messages(net.a, 1, 7)), 50);
    const code = await s.exit;
    clearInterval(stop);
    expect(code).toBe(0);
    expect(s.stderr()).not.toContain('error');
  });

  it('shows a live status line on a terminal', () => {
    // script(1) gives sniff a terminal for stderr; stdout goes to a file, so the status is rewritten in place.
    const out = join(tmp, 'tty-out.txt');
    const r = spawnSync('script', ['-qec', `${process.execPath} ${BIN} sniff -i lo --duration 2.5 -f 'udp and host 127.0.0.98' > ${out}`, '/dev/null'], {
      encoding: 'utf8',
    });
    expect(r.stdout).toMatch(/\r\x1b\[K0 packets, 0 LISP messages, 0 shown, queue drops 0, kernel drops 0/);
    expect(r.stdout).toContain('0 packets captured on lo');
    expect(readFileSync(out, 'utf8')).toBe('');
  });
});

// ---- an interface that goes away ----------------------------------------------------------------

function vethUnavailable(): string | undefined {
  const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link add name v0 type veth peer name v1']);
  if (r.error) return `unshare: ${r.error.message}`;
  return r.status === 0 ? undefined : `cannot make a veth pair in a network namespace: ${r.stderr.toString().trim()}`;
}

describe.skipIf(unavailable !== undefined || gate('sniff on an interface that disappears', vethUnavailable()) !== undefined)('lispscope sniff when its interface goes away', () => {
  it('says so in one line, keeps what it captured, and exits 2', () => {
    // In a network namespace of this test's own: a veth pair, sniff on one end, then the pair is deleted.
    const file = join(tmp, 'gone.pcapng');
    const script = [
      'ip link add name gone0 type veth peer name gone1 && ip link set gone0 up && ip link set gone1 up',
      `'${process.execPath}' '${BIN}' sniff -i gone0 -f '' -w '${file}' > /dev/null 2> '${join(tmp, 'gone.err')}' & P=$!`,
      // Delete only once sniff says it listens: a fixed sleep lost the race on a loaded machine.
      `i=0; until grep -q 'listening on gone0' '${join(tmp, 'gone.err')}' || [ $i -ge 300 ]; do sleep 0.1; i=$((i+1)); done`,
      'ip link del gone0; wait $P; echo "exit=$?"',
    ].join('\n');
    const r = spawnSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout.trim()).toBe('exit=2');
    const err = readFileSync(join(tmp, 'gone.err'), 'utf8');
    expect(err).toMatch(/^lispscope: warning: gone0: capture stopped: .+$/m);
    expect(err).toMatch(/^lispscope: \d+ packets? captured on gone0/m);
    expect(existsSync(file)).toBe(true);
  }, 70_000);
});
