// `lispscope mn ...` against a lab Map-Server/Map-Resolver and xTR started in this test, on
// loopback. The CLI runs as a child process (asynchronously: the lab must keep answering).

import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interfaceAddresses } from '../../src/mn/config.js';
import { toPrefix } from '../../src/mn/eid.js';
import { Lab, LAB_KEYS } from '../../src/mn/lab.js';
import { MapServer } from '../../src/mn/map-server.js';
import { writePcap } from '../../src/capture/writer.js';
import { lispUdpPacket, mapRegister, mappingRecord, randomNonce } from '../../src/dissect/build.js';
import { LINKTYPE_RAW } from '../../src/dissect/link.js';
import { eachAtOnce, jsonLines, lispscope, ROOT } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-mn-'));
const keyFile = join(tmp, 'mn.key');
writeFileSync(keyFile, `# the lab's Mobile Node site\n10.1.0.0/24 ${LAB_KEYS.mn}\n`);
const badKey = join(tmp, 'bad.key');
writeFileSync(badKey, 'not-the-key\n');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/lispscope'), ...args], { env: { ...process.env, NO_COLOR: '1', LISPSCOPE_KEY: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

let lab: Lab;
beforeAll(async () => {
  lab = await Lab.start({ base: '127.0.41.0' });
  await lab.run('register');
  expect(lab.steps.every((s) => s.ok)).toBe(true);
  // The Mobile Nodes here are the CLI's. The lab's own has the same EID and key, hence the same
  // stable xTR-ID: its refreshes (every 3 s) would replace their registrations, and a peer that
  // resolved the EID then would talk to it instead (a handover with no peer to SMR).
  await lab.mn!.stop();
});
afterAll(async () => {
  await lab.stop();
});

describe('lispscope mn', () => {
  it('resolve: like lig, the mapping, the RTT and who answered', async () => {
    const a = lab.addresses;
    const r = await run(['mn', 'resolve', '10.2.0.7', '--mr', a.ms]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Send Map-Request to 127\.0\.41\.1 for 10\.2\.0\.7\/32 \(ITR-RLOC [\d.]+, port \d+\) \.\.\.$/m);
    expect(r.stdout).toMatch(/^Received Map-Reply from 127\.0\.41\.2 with rtt [\d.]+ ms by the (socket clock|capture clock on lo) \(the ETR answered\)$/m);
    expect(r.stdout).toMatch(/^ {2}10\.2\.0\.0\/24 {2}ttl 1440 {2}authoritative$/m);
    expect(r.stdout).toMatch(/^ {2}127\.0\.41\.2 +up +1\/100 +LR$/m);
    const neg = await run(['mn', 'resolve', '10.99.0.1', '--mr', a.ms, '--json']);
    expect(neg.code).toBe(0);
    const o = jsonLines(neg.stdout)[0]!;
    expect(o).toMatchObject({ command: 'resolve', answered: true, from: a.ms, records: [{ eid: '10.64.0.0/10', ttl: 15, action: 'native-forward', locators: [] }] });
    expect(o.rtt_ms).toEqual(expect.any(Number));
  });

  it('resolve: retransmits with back-off and exits 1 when nobody answers', async () => {
    // A Map-Resolver that takes every datagram and answers none: no ICMP error either.
    const sink = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sink.bind(4342, '127.0.41.99', resolve));
    try {
      const t0 = Date.now();
      const r = await run(['mn', 'resolve', '10.2.0.7', '--mr', '127.0.41.99', '--timeout', '50', '--retries', '2', '-v']);
      expect(r.code).toBe(1);
      expect(r.stdout.match(/LISP ECM/g)).toHaveLength(3);
      expect(r.stdout).toMatch(/No Map-Reply from 127\.0\.41\.99 after 3 Map-Requests$/m);
      expect(Date.now() - t0).toBeGreaterThan(350);
    } finally {
      sink.close();
    }
  });

  it('says "port unreachable from X" at the first ICMP error instead of retransmitting into silence', async () => {
    // Nothing listens on 127.0.41.98: the kernel answers the first datagram with an ICMP port unreachable.
    const r = await run(['mn', 'resolve', '10.2.0.7', '--mr', '127.0.41.98', '--timeout', '2000', '--retries', '3', '-v']);
    expect(r.code).toBe(1);
    expect(r.stdout.match(/LISP ECM/g)).toHaveLength(1);
    expect(r.stdout).toMatch(/^No Map-Reply from 127\.0\.41\.98: port unreachable from 127\.0\.41\.98 \(nothing listens on 127\.0\.41\.98:4342\)$/m);
    const reg = await run(['mn', 'register', '--ms', '127.0.41.98', '--eid', '10.1.0.5/32', '--rloc', '127.0.41.70', '--key-file', keyFile, '--notify', '--json']);
    expect(reg.code).toBe(1);
    expect(jsonLines(reg.stdout)[0]).toMatchObject({ command: 'register', notified: false, icmp: { from: '127.0.41.98', reason: 'port unreachable', to: '127.0.41.98', port: 4342 } });
  });

  it('a registration recorded by mn and by the lab it registers with: one answered exchange from each side and merged', async () => {
    const a = lab.addresses;
    const from = lab.recorder.frames.length;
    const mnFile = join(tmp, 'mn-side.pcap');
    const r = await run(['mn', 'register', '--ms', a.ms, '--eid', '10.1.0.5/32', '--rloc', '127.0.41.72', '--key-file', keyFile, '--notify', '--xtr-id', 'none', '-w', mnFile]);
    expect(r.code, r.stderr).toBe(0);
    // The lab's side: what it recorded meanwhile (the Map-Register it received from outside, its Map-Notify).
    const labFile = join(tmp, 'lab-side.pcap');
    writeFileSync(labFile, writePcap(lab.recorder.frames.slice(from), { linkType: LINKTYPE_RAW, precision: 'ns' }));
    const registrations = (file: string[]) => jsonLines(lispscope(['flows', '--json', ...file]).stdout).filter((e) => e.kind === 'registration' && e.eid === '10.1.0.5/32' && (e.rlocs as string[]).includes('127.0.41.72'));
    for (const side of [[mnFile], [labFile], [mnFile, labFile]]) {
      const ex = registrations(side);
      expect(ex, side.join(' ')).toHaveLength(1);
      // The Mobile Node asked, the Map-Server answered (the lab's capture held the Map-Notify without its Map-Register).
      expect(ex[0], side.join(' ')).toMatchObject({ responder: a.ms, outcome: 'answered', retransmissions: 0 });
      expect(ex[0]!.requester).not.toBe(a.ms);
    }
    // Each packet is in both captures and counted once: two frames, whichever capture saw each first.
    expect(registrations([mnFile, labFile])[0]!.frames).toHaveLength(2);
  });

  it('register: signed with the key from the file or LISPSCOPE_KEY, never printed; a wrong key is refused', async () => {
    const a = lab.addresses;
    const ok = await run(['mn', 'register', '--ms', a.ms, '--eid', '10.1.0.9/32', '--rloc', '127.0.41.70', '--key-file', keyFile, '--notify', '--timeout', '50', '--retries', '1']);
    // 10.1.0.9 is not the lab MN's site prefix (10.1.0.5/32): refused.
    expect(ok.code).toBe(1);
    const good = await run(['mn', 'register', '--ms', a.ms, '--eid', '10.1.0.5/32', '--rloc', '127.0.41.70', '--rloc', '127.0.41.71', '--key-file', keyFile, '--notify', '--proxy-reply']);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^Registered 10\.1\.0\.5\/32 -> 127\.0\.41\.70, 127\.0\.41\.71 with 127\.0\.41\.1 \(HMAC-SHA-256-128, ttl 1440, xTR-ID [0-9a-f]{32}, site-ID 0{16}\)$/m);
    expect(good.stdout).toMatch(/^Map-Notify from 127\.0\.41\.1 with rtt [\d.]+ ms by the (socket clock|capture clock on lo), nonce 0x[0-9a-f]{16} \(same nonce, authenticated\), after 1 attempt$/m);
    const reg = lab.ms.lookup(toPrefix('10.1.0.5'))!;
    expect(MapServer.locators(reg).map((l) => (l.rloc as { addr: string }).addr)).toEqual(['127.0.41.70', '127.0.41.71']);
    const env = await run(['mn', 'register', '--ms', a.ms, '--eid', '10.1.0.5/32', '--rloc', a.mnA, '--notify', '--proxy-reply', '--json'], { LISPSCOPE_KEY: LAB_KEYS.mn });
    expect(env.code).toBe(0);
    expect(jsonLines(env.stdout)[0]).toMatchObject({ command: 'register', notified: true, attempts: 1, auth_algorithm: 'HMAC-SHA-256-128' });
    const bad = await run(['mn', 'register', '--ms', a.ms, '--eid', '10.1.0.5/32', '--rloc', a.mnA, '--key-file', badKey, '--notify', '--timeout', '50', '--retries', '1']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/No Map-Notify from 127\.0\.41\.1 for 10\.1\.0\.5\/32 after 2 Map-Registers; likely causes, most likely first: 1\. the key .*; 2\. the key id \(2, HMAC-SHA-256-128: Open Overlay Router accepts only 1, --key-id 1\); 3\. the xTR-ID .*; 4\. the Map-Server address or port \(127\.0\.41\.1:4342; no ICMP error came back\)$/m);
    for (const r of [good, env, bad]) expect(r.stdout + r.stderr).not.toContain(LAB_KEYS.mn);
    const none = await run(['mn', 'register', '--ms', a.ms, '--eid', '10.1.0.5/32', '--rloc', a.mnA]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/needs the site key: --key-file FILE or the LISPSCOPE_KEY environment variable/);
  });

  it('probe, smr, info', async () => {
    const a = lab.addresses;
    const probe = await run(['mn', 'probe', a.xtrA, '--eid', '10.2.0.0/24', '--json']);
    expect(probe.code).toBe(0);
    expect(jsonLines(probe.stdout)[0]).toMatchObject({ command: 'probe', answered: true, probe: true, probed_locator: a.xtrA, from: a.xtrA });
    const smrs: unknown[] = [];
    lab.xtrA.on('smr-received', (s) => smrs.push(s));
    const smr = await run(['mn', 'smr', a.xtrA, '--eid', '10.1.0.5/32', '--peer-eid', '10.2.0.0/24']);
    expect(smr.code).toBe(0);
    expect(smr.stdout).toMatch(/^SMR sent to 127\.0\.41\.2:4342 for 10\.1\.0\.5\/32 \(nonce 0x[0-9a-f]{16}\)/m);
    await new Promise((r) => setTimeout(r, 50));
    expect(smrs).toMatchObject([{ eid: '10.1.0.5/32' }]);
    const info = await run(['mn', 'info', '--ms', a.ms, '--eid', '10.1.0.5/32', '--key-file', keyFile]);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/^Info-Reply from 127\.0\.41\.1 with rtt [\d.]+ ms by the (socket clock|capture clock on lo), authentication ok$/m);
    expect(info.stdout).toMatch(/^ {2}RTRs +127\.0\.41\.6$/m);
    expect(info.stdout).toMatch(/no NAT between us and the Map-Server/);
  });

  it('ping: encapsulated echo through the ETR after registering our EID', async () => {
    const a = lab.addresses;
    const r = await run(['mn', 'ping', '10.2.0.7', '--rloc', a.xtrA, '--eid', '10.1.0.5/32', '--source', '127.0.41.50', '--ms', a.ms, '--key-file', keyFile, '--interval', '0.05', '-c', '3']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^echo reply from 10\.2\.0\.7: seq 1 time [\d.]+ ms$/m);
    expect(r.stdout).toMatch(/^3 sent, 3 received, 0% lost \(times (socket clock|capture clock on lo)\)$/m);
    const udp = await run(['mn', 'ping', '10.2.0.7', '--rloc', a.xtrA, '--eid', '10.1.0.5/32', '--source', '127.0.41.50', '--ms', a.ms, '--key-file', keyFile, '--udp', '-c', '1', '--json']);
    expect(jsonLines(udp.stdout)[0]).toMatchObject({ command: 'ping', answered: true, from: '10.2.0.7' });
  });

  it('ping keeps its interval after a loss (nothing answers): every echo leaves before the first is given up', async () => {
    const r = await run(['mn', 'ping', '10.2.0.7', '--rloc', '127.0.41.97', '--eid', '10.1.0.5/32', '--source', '127.0.41.51', '--interval', '0.05', '-c', '3', '--timeout', '500', '-v']);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    const sent = lines.map((l, i) => (/LISP data .* 10\.1\.0\.5 > 10\.2\.0\.7: ICMP echo request/.test(l) ? i : -1)).filter((i) => i >= 0);
    expect(sent).toHaveLength(3);
    expect(sent[2]).toBeLessThan(lines.findIndex((l) => l.startsWith('no echo reply: seq 1')));
    expect(r.stdout).toMatch(/^3 sent, 0 received, 100% lost/m);
    // As root the capture that times the echoes also hears the ICMP errors they draw.
    if (/capture clock/.test(r.stdout)) expect(r.stdout).toMatch(/^no echo reply: seq 1: port unreachable from 127\.0\.41\.97 \(nothing listens on 127\.0\.41\.97:4341\)$/m);
  });

  it('inject exits 1 when --wait saw no answer; replay -v shows what comes back, unverified unless --keys verifies it', async () => {
    const inj = await run(['inject', 'map-request', '--to', '127.0.41.96', '--eid', '10.2.0.7', '--wait', '100']);
    expect(inj.code).toBe(1);
    expect(inj.stdout).toMatch(/^0 answers within 100 ms$/m);
    const file = join(tmp, 'register.pcap');
    const msg = () => mapRegister({ nonce: randomNonce(), keyId: 2, key: LAB_KEYS.mn, wantMapNotify: true, proxyReply: true, records: [mappingRecord({ eid: '10.1.0.5/32', locators: [{ rloc: '127.0.41.70', local: true }] })] });
    const pcap = (bytes: Uint8Array) => writeFileSync(file, writePcap([{ tsSec: 1_700_000_000, tsNsec: 0, data: lispUdpPacket({ src: '192.0.2.1', dst: '192.0.2.2', sport: 5000, dport: 4342, payload: bytes }) }], { linkType: LINKTYPE_RAW }));
    pcap(msg());
    const plain = await run(['replay', file, '--to', lab.addresses.ms, '-v', '--wait', '300']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/LISP Map-Register nonce 0x[0-9a-f]{16} \[proxy-reply want-map-notify\], auth sha256 unverified/);
    expect(plain.stdout).toMatch(/127\.0\.41\.1\.4342 > [\d.]+\.\d+: LISP Map-Notify nonce 0x[0-9a-f]{16}, auth sha256 unverified/);
    expect(plain.stdout).toMatch(/; 1 answer came back$/m);
    pcap(msg());
    const keys = join(tmp, 'lab.keys');
    writeFileSync(keys, `10.1.0.0/24 ${LAB_KEYS.mn}\n`);
    const verified = await run(['replay', file, '--to', lab.addresses.ms, '-v', '--wait', '300', '--keys', keys]);
    expect(verified.stdout).toMatch(/LISP Map-Register .*auth sha256 ok/);
    expect(verified.stdout).toMatch(/LISP Map-Notify .*auth sha256 ok/);
  });

  it('refuses what the user did not name, multicast and broadcast', async () => {
    const mistakes: [string[], RegExp][] = [
      [['mn', 'resolve', '10.2.0.7', '--mr', '224.0.0.1'], /refusing to send: 224\.0\.0\.1 is a multicast address/],
      [['mn', 'probe', '255.255.255.255', '--eid', '10.2.0.0/24'], /broadcast/],
      [['mn', 'resolve', '10.2.0.7'], /--mr is required/],
      [['mn', 'frob'], /unknown command "frob"/],
      [['mn', 'register', '--ms', '127.0.41.1', '--eid', '10.1.0.5/32', '--rloc', '127.0.41.70', '--key', 'x'], /unknown option --key/],
    ];
    const runs = await eachAtOnce(mistakes, ([args]) => run(args));
    for (const [i, [args, msg]] of mistakes.entries()) {
      const r = runs[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('run: a Mobile Node that hands over on SIGUSR1 after re-reading its configuration', async () => {
    const a = lab.addresses;
    const cfgPath = join(tmp, 'mn.json');
    const cfg = { eid: '10.1.0.5/32', rlocs: ['127.0.41.60'], mapServer: a.ms, keyFile: 'mn.key', registerInterval: 60 };
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const written = join(tmp, 'run.pcapng');
    const child = spawn(process.execPath, [join(ROOT, 'bin/lispscope'), 'mn', 'run', '--config', cfgPath, '--json', '-w', written], { env: { ...process.env, NO_COLOR: '1' } });
    try {
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const waitFor = async (re: RegExp) => {
        for (let i = 0; i < 100 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 50));
        expect(out + err).toMatch(re);
      };
      await waitFor(/"event":"up"/);
      expect(jsonLines(out).find((o) => o.event === 'registered')).toMatchObject({ rlocs: ['127.0.41.60'] });
      // The peer talks to the MN (forgetting what earlier tests taught it); then the MN moves.
      lab.xtrA.mapCache.remove(toPrefix('10.1.0.5/32'));
      expect(await lab.xtrA.ping('10.1.0.5', { src: '10.2.0.7' })).toBeDefined();
      writeFileSync(cfgPath, JSON.stringify({ ...cfg, rlocs: ['127.0.41.61'] }));
      child.kill('SIGUSR1');
      await waitFor(/"event":"handover"/);
      const events = jsonLines(out);
      expect(events.find((o) => o.event === 'handover')).toMatchObject({ from: ['127.0.41.60'], to: ['127.0.41.61'], smrs: [a.xtrA] });
      expect(events.filter((o) => o.event === 'registered').at(-1)).toMatchObject({ rlocs: ['127.0.41.61'] });
      await new Promise((r) => setTimeout(r, 100));
      const e = lab.xtrA.mapCache.lookup(toPrefix('10.1.0.5'))!;
      expect(e.locators.map((l) => (l.rloc as { addr: string }).addr)).toEqual(['127.0.41.61']);
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      expect(code).toBe(0);
      expect(jsonLines(out).at(-1)).toMatchObject({ event: 'down' });
      // -w holds what arrived too: flows sees both registrations answered.
      const flows = jsonLines(lispscope(['flows', '--json', written]).stdout).filter((e) => e.kind === 'registration');
      expect(flows.map((e) => e.outcome)).toEqual(['answered', 'answered']);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('reads interface addresses for the RLOCs', () => {
    expect(interfaceAddresses(['lo'], 'ipv4')).toContain('127.0.0.1');
    expect(interfaceAddresses(['no-such-interface'], 'ipv4')).toEqual([]);
  });
});
