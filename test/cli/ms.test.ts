// `lispscope ms` against `lispscope mn`, both real processes: on loopback, across a veth pair in
// network namespaces this test creates (IPv4 and IPv6, addresses that are not loopback), and fed
// by `replay` of Open Overlay Router's own Map-Registers (../shared/captures/oor__03-*, oor__07-*,
// signed with the key "password"). The Map-Server's -w capture, analysed by `flows`, must show every
// registration and resolution answered. Tests that need namespaces or the shared captures skip
// with the reason, except under CI=true where they must run.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveCapture } from '../../src/capture/live.js';
import { PacketDecoder } from '../../src/capture/packets.js';
import { parseIPv4 } from '../../src/dissect/addr.js';
import type { ControlMessage } from '../../src/dissect/types.js';
import { gate, liveUnavailable, testNet } from '../support/live.js';
import { eachAtOnce, jsonLines, lispscope, lispscopeAsync, ROOT, SHARED } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-ms-'));
const BIN = join(ROOT, 'bin/lispscope');
const keys = join(tmp, 'sites.keys');
writeFileSync(keys, '# the sites of this test\n10.1.0.0/24 mn-site-key\n10.2.0.0/24 other-site-key\n');
const mnKey = join(tmp, 'mn.key');
writeFileSync(mnKey, 'mn-site-key\n');
const wrongKey = join(tmp, 'wrong.key');
writeFileSync(wrongKey, 'not-the-site-key\n');
const otherKey = join(tmp, 'other.key');
writeFileSync(otherKey, 'other-site-key\n');

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', TZ: 'UTC', LISPSCOPE_KEY: '' } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { child, out: () => out, err: () => err, exit };
}

async function until(what: () => boolean, label: string, ms = 10_000): Promise<void> {
  for (let t = 0; t < ms && !what(); t += 20) await new Promise((r) => setTimeout(r, 20));
  expect(what(), label).toBe(true);
}

/** Runs the CLI without blocking this process's event loop (the Map-Server child must keep answering). */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = start(args);
  return p.exit.then((code) => ({ code, stdout: p.out(), stderr: p.err() }));
}

/** Does the IPv4 prefix `p` contain address `a`? */
function contains4(p: string, a: string): boolean {
  const [net, len] = p.split('/');
  const n = parseIPv4(net!)!;
  const x = parseIPv4(a)!;
  const bits = Number(len);
  for (let i = 0; i < bits; i++) if (((n[i >> 3]! >> (7 - (i & 7))) & 1) !== ((x[i >> 3]! >> (7 - (i & 7))) & 1)) return false;
  return true;
}

function overlaps4(p: string, q: string): boolean {
  return contains4(p, q.split('/')[0]!) || contains4(q, p.split('/')[0]!);
}

describe('lispscope ms ⇄ lispscope mn on loopback', () => {
  const net = testNet();
  const msAddr = net.a;
  const mnAddr = net.b;
  const capture = join(tmp, 'loopback.pcapng');
  let ms: Proc;
  beforeAll(async () => {
    ms = start(['ms', '--listen', msAddr, '--keys', keys, '--rtr', net.c, '-w', capture]);
    await until(() => /Map-Server\/Map-Resolver on /.test(ms.err()), `ms started: ${ms.err()}`);
  });
  afterAll(() => {
    if (ms.child.exitCode === null) ms.child.kill('SIGKILL');
  });

  it('accepts an OOR-style registration (key id 1, no xTR-ID) and prints both messages as read does', async () => {
    const r = await run(['mn', 'register', '--ms', msAddr, '--source', mnAddr, '--eid', '10.1.0.5/32', '--rloc', '127.0.0.9', '--key-file', mnKey, '--key-id', '1', '--xtr-id', 'none', '--notify', '--proxy-reply']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Registered 10\\.1\\.0\\.5/32 -> 127\\.0\\.0\\.9 with ${msAddr.replace(/\./g, '\\.')} \\(HMAC-SHA-1-96, ttl 1440, no xTR-ID\\)$`, 'm'));
    await until(() => /Map-Notify/.test(ms.out()), 'the Map-Server printed its Map-Notify');
    const lines = ms.out().split('\n');
    const reg = lines.find((l) => l.includes('Map-Register'))!;
    // read's line: no xtr-id flag (I clear), SHA-1 verified with the site's key.
    expect(reg).toMatch(new RegExp(`IP ${mnAddr.replace(/\./g, '\\.')}\\.\\d+ > ${msAddr.replace(/\./g, '\\.')}\\.lisp-control: LISP Map-Register nonce 0x[0-9a-f]{16} \\[proxy-reply want-map-notify\\], auth sha1 ok, 1 record: 10\\.1\\.0\\.5/32`));
    expect(lines.find((l) => l.includes('Map-Notify'))).toMatch(/LISP Map-Notify nonce 0x[0-9a-f]{16}, auth sha1 ok, 1 record: 10\.1\.0\.5\/32/);
  });

  it('a Mobile Node keeps its xTR-ID: the same from the same EID and key, another for another EID; --site-id travels with it', async () => {
    const ids: string[] = [];
    for (const eid of ['10.1.0.6/32', '10.1.0.6/32', '10.1.0.7/32']) {
      const r = await run(['mn', 'register', '--ms', msAddr, '--source', mnAddr, '--eid', eid, '--rloc', '127.0.0.9', '--key-file', mnKey, '--notify', '--site-id', '00000000000000a7', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const o = jsonLines(r.stdout)[0]!;
      expect(o).toMatchObject({ notified: true, site_id: '00000000000000a7' });
      ids.push(o.xtr_id as string);
    }
    expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
    // What the Map-Server received carried them (read --json of its -w comes at the end).
  });

  it('resolves: a proxy answer for a registered EID; for non-LISP space the least specific prefix that covers the EID and no site', async () => {
    const r = await run(['mn', 'resolve', '10.1.0.5', '--mr', msAddr, '--source', mnAddr, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout)[0]).toMatchObject({ answered: true, from: msAddr, records: [{ eid: '10.1.0.5/32', locators: [{ rloc: '127.0.0.9' }] }] });
    for (const eid of ['10.3.0.1', '10.1.1.1', '8.8.8.8', '10.0.255.1']) {
      const n = await run(['mn', 'resolve', eid, '--mr', msAddr, '--source', mnAddr, '--json']);
      expect(n.code, n.stderr).toBe(0);
      const rec = (jsonLines(n.stdout)[0]!.records as Array<{ eid: string; ttl: number; action: string; locators: unknown[] }>)[0]!;
      expect(rec).toMatchObject({ ttl: 15, action: 'native-forward', locators: [] });
      const [net0, len] = rec.eid.split('/');
      // Covers the EID, overlaps no site, and one bit shorter would overlap one (or it is 0.0.0.0/0).
      expect(contains4(rec.eid, eid), `${rec.eid} covers ${eid}`).toBe(true);
      for (const site of ['10.1.0.0/24', '10.2.0.0/24']) expect(overlaps4(rec.eid, site), `${rec.eid} overlaps ${site}`).toBe(false);
      if (Number(len) > 0) {
        const wider = `${net0}/${Number(len) - 1}`;
        expect(['10.1.0.0/24', '10.2.0.0/24'].some((s) => overlaps4(wider, s)), `${wider} would have been wider`).toBe(true);
      }
    }
  });

  it('Info-Request: the RTR list names --rtr', async () => {
    const r = await run(['mn', 'info', '--ms', msAddr, '--source', mnAddr, '--eid', '10.1.0.5/32', '--key-file', mnKey, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout)[0]).toMatchObject({ answered: true, auth_ok: true, rtr_rlocs: [net.c], behind_nat: false, global_etr_rloc: mnAddr });
  });

  it('SIGUSR1 prints the sites table; SIGTERM prints it again, writes the capture, exits 0; flows finds every exchange answered', async () => {
    ms.child.kill('SIGUSR1');
    await until(() => /Site/.test(ms.out()) && /10\.1\.0\.5\/32/.test(ms.out().slice(ms.out().indexOf('Site'))), 'the sites table');
    const table = ms.out().slice(ms.out().indexOf('│ Site'));
    expect(table).toMatch(/10\.1\.0\.0\/24/);
    expect(table).toMatch(/10\.2\.0\.0\/24/);
    expect(table).toMatch(/127\.0\.0\.9/);
    ms.child.kill('SIGTERM');
    expect(await ms.exit).toBe(0);
    expect(ms.err()).toMatch(/stopped: 4 registrations accepted, 0 rejected, 1 Info-Replies, 1 proxy and 4 negative Map-Replies/);
    const flows = jsonLines(lispscope(['flows', '--json', capture]).stdout);
    expect(flows.map((e) => e.kind).sort()).toEqual(['nat-info', ...Array(4).fill('registration'), ...Array(5).fill('resolution')]);
    for (const e of flows) expect([e.kind, e.outcome], JSON.stringify(e)).toEqual([e.kind, e.kind === 'resolution' && e.eid !== '10.1.0.5/32' ? 'negative' : 'answered']);
    // The xTR-IDs and site-ID the Map-Server received, as read decodes them.
    const regs = jsonLines(lispscope(['read', '--json', capture]).stdout).filter((p) => p.type === 'map-register');
    expect(regs.map((p) => p.xtr_id_present)).toEqual([false, true, true, true]);
    expect(regs.slice(1).map((p) => p.site_id)).toEqual(['00000000000000a7', '00000000000000a7', '00000000000000a7']);
  });
});

describe('Publish/Subscribe (RFC 9437): mn subscribe ⇄ ms', () => {
  it('an xTR subscribes to the Mobile Node\'s EID; the MN re-registers with a new RLOC; the publication arrives, authenticated, and is acknowledged; flows on ms -w finds every exchange answered', async () => {
    // The subscriber is an xTR of site 10.2.0.0/24 (its own key); the Mobile Node is 10.1.0.5/32
    // of site 10.1.0.0/24. The Map-Server signs what it publishes to the subscriber with the key of
    // the site the subscriber's xTR-ID registered with.
    const net = testNet();
    const capture = join(tmp, 'pubsub.pcapng');
    const ms = start(['ms', '--listen', net.a, '--keys', keys, '--proxy-reply', '-v', '-w', capture]);
    try {
      await until(() => /Map-Server\/Map-Resolver on /.test(ms.err()), `ms started: ${ms.err()}`);
      const register = (rloc: string) => run(['mn', 'register', '--ms', net.a, '--source', net.b, '--eid', '10.1.0.5/32', '--rloc', rloc, '--key-file', mnKey, '--notify', '--json']);
      expect(jsonLines((await register(net.b)).stdout)[0]).toMatchObject({ notified: true });
      const xtrId = 'c0ffee00000000000000000000000042';
      const sub = start(['mn', 'subscribe', '10.1.0.5/32', '--ms', net.a, '--source', net.c, '--eid', '10.2.0.7/32', '--key-file', otherKey, '--xtr-id', xtrId, '--count', '1', '--for', '20', '--json']);
      await until(() => /"event":"subscribed"/.test(sub.out()), `subscribed: ${sub.out()} ${sub.err()}`);
      const subscribed = jsonLines(sub.out()).find((o) => o.event === 'subscribed')!;
      // Confirmed by the Map-Server's Map-Notify with the request's nonce, carrying the mapping as it is.
      expect(subscribed).toMatchObject({ confirmed: true, from: net.a, records: [{ eid: '10.1.0.5/32', locators: [{ rloc: net.b, local: false }] }] });
      expect(ms.err()).toMatch(new RegExp(`xTR-ID ${xtrId} \\(site 10\\.2\\.0\\.0/24\\) subscribed to 10\\.1\\.0\\.5/32`));
      // SIGUSR1: the subscriptions in force follow the sites table.
      ms.child.kill('SIGUSR1');
      await until(() => /Subscribed to/.test(ms.out()), 'the subscriptions table');
      const row = ms.out().slice(ms.out().indexOf('Subscribed to')).split('\n')[2]!;
      expect(row.split('│').map((c) => c.trim())).toEqual(['', '10.1.0.5/32', xtrId, net.c, '10.2.0.0/24', expect.stringMatching(/^\d+ s$/), '0', '']);
      // The Mobile Node moves.
      expect(jsonLines((await register('127.0.0.9')).stdout)[0]).toMatchObject({ notified: true });
      expect(await sub.exit).toBe(0);
      const events = jsonLines(sub.out());
      const publication = events.find((o) => o.event === 'publication')!;
      expect(publication).toMatchObject({ from: net.a, acknowledged: true, records: [{ eid: '10.1.0.5/32', locators: [{ rloc: '127.0.0.9' }] }] });
      // Its nonce is the subscription's plus one (RFC 9437).
      expect(BigInt(`0x${publication.nonce}`)).toBe(BigInt(`0x${subscribed.nonce}`) + 1n);
      expect(events.at(-1)).toMatchObject({ event: 'withdrawn', publications: 1 });
      await until(() => /withdrew its subscription to 10\.1\.0\.5\/32/.test(ms.err()), 'the Map-Server took the withdrawal');
      ms.child.kill('SIGTERM');
      expect(await ms.exit).toBe(0);
      // What goes to the subscriber is signed with its site's key whatever the EIDs in it: read
      // --keys takes that key by the subscriber's address (no EID-prefix line covers them).
      const subscriberKeys = join(tmp, 'subscriber.keys');
      writeFileSync(subscriberKeys, `${net.c} other-site-key\n`);
      const packets = jsonLines(lispscope(['read', '--json', '--keys', subscriberKeys, capture]).stdout);
      const notifies = packets.filter((p) => p.type === 'map-notify' && p.dst === net.c);
      // To the subscriber: its own registration's Map-Notify, the confirmation, the publication,
      // all with its xTR-ID.
      expect(notifies.map((p) => [p.auth_ok, p.xtr_id])).toEqual([
        [true, xtrId],
        [true, xtrId],
        [true, xtrId],
      ]);
      expect(packets.filter((p) => p.type === 'map-notify-ack').map((p) => [p.src, p.auth_ok])).toEqual([
        [net.c, true],
        [net.c, true],
      ]);
      const flows = jsonLines(lispscope(['flows', '--json', capture]).stdout);
      // A withdrawal wants no answer (json-contract: withdraw, outcome unacknowledged).
      expect(flows.map((e) => `${e.kind} ${e.eid} ${e.withdraw ? 'withdraw' : e.outcome}`)).toEqual([
        'registration 10.1.0.5/32 answered',
        'registration 10.2.0.7/32 answered',
        'subscription 10.1.0.5/32 answered',
        'registration 10.1.0.5/32 answered',
        'publication 10.1.0.5/32 answered',
        'subscription 10.1.0.5/32 withdraw',
      ]);
      expect(flows.find((e) => e.kind === 'publication')).toMatchObject({ requester: net.a, responder: net.c, subscription_nonce: subscribed.nonce });
    } finally {
      if (ms.child.exitCode === null) ms.child.kill('SIGKILL');
    }
  }, 60_000);
});

describe('lispscope ms --flows', () => {
  it('shows the exchanges as they complete (NDJSON with --json), then the sites', async () => {
    const net = testNet();
    const ms = start(['ms', '--listen', net.a, '--keys', keys, '--flows', '--json', '--for', '60']);
    try {
      await until(() => /Map-Server\/Map-Resolver on /.test(ms.err()), `ms started: ${ms.err()}`);
      expect((await run(['mn', 'register', '--ms', net.a, '--source', net.b, '--eid', '10.1.0.5/32', '--rloc', '127.0.0.9', '--key-file', mnKey, '--notify', '--proxy-reply'])).code).toBe(0);
      expect((await run(['mn', 'resolve', '10.1.0.5', '--mr', net.a, '--source', net.b])).code).toBe(0);
      // An exchange is shown when it closes: the answered ones without waiting for the end.
      await until(() => jsonLines(ms.out()).length >= 2, 'two exchanges shown while running');
      ms.child.kill('SIGTERM');
      expect(await ms.exit).toBe(0);
      const out = jsonLines(ms.out());
      expect(out.slice(0, 2).map((e) => [e.kind, e.eid, e.requester, e.responder, e.outcome])).toEqual([
        ['registration', '10.1.0.5/32', net.b, net.a, 'answered'],
        ['resolution', '10.1.0.5/32', net.b, net.a, 'answered'],
      ]);
      expect(out.at(-1)).toMatchObject({ event: 'sites', sites: [{ name: '10.1.0.0/24', accepted: 1 }, { name: '10.2.0.0/24', accepted: 0 }] });
    } finally {
      if (ms.child.exitCode === null) ms.child.kill('SIGKILL');
    }
  });
});

describe('lispscope ms refuses what it must', () => {
  const net = testNet();
  let ms: Proc;
  beforeAll(async () => {
    ms = start(['ms', '--listen', net.a, '--keys', keys, '--for', '60']);
    await until(() => /Map-Server\/Map-Resolver on /.test(ms.err()), `ms started: ${ms.err()}`);
  });
  afterAll(async () => {
    ms.child.kill('SIGTERM');
    await ms.exit;
  });

  it('a wrong key, an EID outside every site: rejected, said on stderr; mn lists the likely causes', async () => {
    const bad = await run(['mn', 'register', '--ms', net.a, '--source', net.b, '--eid', '10.1.0.5/32', '--rloc', '127.0.0.9', '--key-file', wrongKey, '--notify', '--timeout', '50', '--retries', '1']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^No Map-Notify from [\d.]+ for 10\.1\.0\.5\/32 after 2 Map-Registers; likely causes, most likely first: 1\. the key/m);
    await until(() => /authentication failed/.test(ms.err()), 'the rejection said');
    expect(ms.err()).toMatch(new RegExp(`rejected a Map-Register from ${net.b.replace(/\./g, '\\.')}:\\d+: authentication failed for site 10\\.1\\.0\\.0/24`));
    const out = await run(['mn', 'register', '--ms', net.a, '--source', net.b, '--eid', '10.9.0.5/32', '--rloc', '127.0.0.9', '--key-file', mnKey, '--notify', '--timeout', '50', '--retries', '0']);
    expect(out.code).toBe(1);
    await until(() => /not within any site/.test(ms.err()), 'the out-of-site EID said');
    expect(ms.err()).toMatch(/EID 10\.9\.0\.5\/32 is not within any site's prefixes/);
  });

  it('command-line mistakes are one line and exit 2: keys on argv, no --keys, a multicast or foreign address', async () => {
    const starKeys = join(tmp, 'star.keys');
    writeFileSync(starKeys, '* any-key\n');
    const mistakes: [string[], RegExp][] = [
      [['ms', '--listen', '127.0.0.1'], /--keys FILE is required/],
      [['ms', '--listen', '127.0.0.1', '--keys', keys, 'secret'], /unexpected argument "secret" \(keys go in the --keys file/],
      [['ms', '--listen', '224.0.0.1', '--keys', keys], /224\.0\.0\.1 is a multicast address/],
      [['ms', '--listen', '0.0.0.0', '--keys', keys], /the unspecified address/],
      [['ms', '--listen', '192.0.2.77', '--keys', keys, '--for', '1'], /cannot bind 192\.0\.2\.77:4342 \(EADDRNOTAVAIL\)/],
      [['ms', '--listen', '127.0.0.1', '--keys', join(tmp, 'none.keys')], /none\.keys: no such file/],
      [['ms', '--listen', '127.0.0.1', '--keys', keys, '--proxy-reply', '--forward-to-etr'], /exclude each other/],
    ];
    const [star, ...runs] = await eachAtOnce([['ms', '--listen', '127.0.0.1', '--keys', starKeys], ...mistakes.map(([args]) => args)], (args) => lispscopeAsync(args));
    for (const [i, [args, msg]] of mistakes.entries()) {
      const r = runs[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
    expect(star!.stderr).toMatch(/star\.keys:1: a Map-Server's sites are EID prefixes: "\*" names none/);
  });
});

const noCapture = gate('mn RTTs against a capture', await liveUnavailable());

describe.skipIf(noCapture !== undefined)('mn RTTs are the wire\'s', () => {
  const net = testNet();
  let ms: Proc;
  let capture: LiveCapture;
  /** Kernel time (ns) of each control message to or from the Mobile Node's addresses (net.b, net.c), by nonce and direction. */
  const seen = new Map<string, bigint>();
  beforeAll(async () => {
    ms = start(['ms', '--listen', net.a, '--keys', keys, '--for', '120']);
    await until(() => /Map-Server\/Map-Resolver on /.test(ms.err()), `ms started: ${ms.err()}`);
    const d = new PacketDecoder();
    const nonceOf = (m: ControlMessage): bigint | undefined =>
      'unknown' in m ? undefined : m.type === 8 ? (m.inner?.message ? nonceOf(m.inner.message) : undefined) : 'nonce' in m ? m.nonce : undefined;
    capture = LiveCapture.open({ iface: 'lo', filter: `udp and (host ${net.b} or host ${net.c})` });
    capture.start({
      frame: (f) => {
        const p = d.decode(f);
        const n = p?.control && nonceOf(p.control);
        if (n !== undefined) seen.set(`${p!.ip!.src === net.b || p!.ip!.src === net.c ? 'out' : 'in'} ${n.toString(16).padStart(16, '0')}`, BigInt(f.tsSec) * 1_000_000_000n + BigInt(f.tsNsec));
        return true;
      },
      warning: () => {},
    });
  });
  afterAll(async () => {
    await capture.stop(false);
    ms.child.kill('SIGTERM');
    await ms.exit;
  });

  /** The RTT a capture of the exchange shows: from the request leaving to the answer arriving, ms. */
  async function wireRtt(nonce: string): Promise<number> {
    await until(() => seen.has(`out ${nonce}`) && seen.has(`in ${nonce}`), `the capture saw both packets of ${nonce}`);
    return Number(seen.get(`in ${nonce}`)! - seen.get(`out ${nonce}`)!) / 1e6;
  }

  it('as root, and with -i lo: taken from a capture, they agree with ours within 0.1 ms', async () => {
    const register = ['mn', 'register', '--ms', net.a, '--source', net.b, '--eid', '10.1.0.5/32', '--rloc', '127.0.0.9', '--key-file', mnKey, '--notify', '--proxy-reply', '--json'];
    for (const extra of [[], ['-i', 'lo']]) {
      const o = jsonLines((await run([...register, ...extra])).stdout)[0]!;
      expect(o).toMatchObject({ notified: true, rtt_clock: 'capture' });
      expect(Math.abs((o.rtt_ms as number) - (await wireRtt(o.nonce as string)))).toBeLessThan(0.1);
    }
    const r = jsonLines((await run(['mn', 'resolve', '10.1.0.5', '--mr', net.a, '--source', net.b, '--json'])).stdout)[0]!;
    expect(r).toMatchObject({ answered: true, rtt_clock: 'capture' });
    expect(Math.abs((r.rtt_ms as number) - (await wireRtt(r.nonce as string)))).toBeLessThan(0.1);
  });

  it('mn run: as root, with -i lo, and after a handover its registrations are timed by the capture, within 0.1 ms of ours; --socket-clock says so', async () => {
    // The node registers 10.1.0.6/32 from net.b, then moves to net.c (SIGUSR1) and registers again.
    const cfgPath = join(tmp, 'run-rtt.json');
    const cfg = { eid: '10.1.0.6/32', rlocs: [net.b], mapServer: net.a, keyFile: mnKey, registerInterval: 60, proxyReply: true };
    const registered = async (extra: string[], move: boolean) => {
      writeFileSync(cfgPath, JSON.stringify(cfg));
      const p = start(['mn', 'run', '--config', cfgPath, '--json', ...extra]);
      await until(() => /"event":"up"/.test(p.out()), `mn run came up: ${p.err()}`);
      if (move) {
        writeFileSync(cfgPath, JSON.stringify({ ...cfg, rlocs: [net.c] }));
        p.child.kill('SIGUSR1');
        await until(() => /"event":"handover"/.test(p.out()) && jsonLines(p.out()).filter((o) => o.event === 'registered').length === 2, `the handover: ${p.err()}`);
      }
      p.child.kill('SIGTERM');
      expect(await p.exit).toBe(0);
      const events = jsonLines(p.out());
      return { up: events.find((o) => o.event === 'up')!, registered: events.filter((o) => o.event === 'registered') };
    };
    for (const [extra, move] of [[[], true], [['-i', 'lo'], false]] as const) {
      const r = await registered([...extra], move);
      expect(r.up).toMatchObject({ rtt_clock: 'capture', capture_interface: 'lo' });
      expect(r.registered.map((o) => o.rlocs)).toEqual(move ? [[net.b], [net.c]] : [[net.b]]);
      for (const o of r.registered) {
        expect(o).toMatchObject({ rtt_clock: 'capture' });
        expect(Math.abs((o.rtt_ms as number) - (await wireRtt(o.nonce as string)))).toBeLessThan(0.1);
      }
    }
    const socket = await registered(['--socket-clock'], false);
    expect(socket.up).toMatchObject({ rtt_clock: 'socket' });
    expect(socket.registered[0]).toMatchObject({ rtt_clock: 'socket' });
    expect(socket.registered[0]!.rtt_ms).toBe(socket.registered[0]!.socket_rtt_ms);
  });

  it('--socket-clock says so (what it measures is tested with the socket itself, test/mn/components)', async () => {
    const o = jsonLines((await run(['mn', 'resolve', '10.1.0.5', '--mr', net.a, '--source', net.b, '--socket-clock', '--json'])).stdout)[0]!;
    expect(o).toMatchObject({ answered: true, rtt_clock: 'socket' });
    expect(o.rtt_ms).toBe(o.socket_rtt_ms);
    expect(o.rtt_ms as number).toBeGreaterThan(0);
    const text = await run(['mn', 'resolve', '10.1.0.5', '--mr', net.a, '--source', net.b, '--socket-clock']);
    expect(text.stdout).toMatch(/^Received Map-Reply from [\d.]+ with rtt [\d.]+ ms by the socket clock \(the mapping system answered\)$/m);
  });
});

function namespacesUnavailable(): string | undefined {
  const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && ip link add name v0 type veth peer name v1 && nsenter --version']);
  if (r.error) return `unshare: ${r.error.message}`;
  return r.status === 0 ? undefined : `cannot make a network namespace with a veth pair: ${r.stderr.toString().trim()}`;
}
const noNamespaces = gate('ms and mn across a veth pair', namespacesUnavailable());

describe.skipIf(noNamespaces !== undefined)('lispscope ms ⇄ lispscope mn across a veth pair, in namespaces of their own', () => {
  it('registers, resolves, gets an Info-Reply and a pub/sub publication over IPv4 (and IPv6) addresses that are not loopback', () => {
    // This test's namespace holds vA and the Map-Servers; the Mobile Node's (a second unshare -n,
    // kept alive by sleep) holds vB. Nothing leaves the two namespaces.
    const dir = mkdtempSync(join(tmpdir(), 'lispscope-ms-veth-'));
    const cli = `"${process.execPath}" "${BIN}"`;
    const mn = (name: string, args: string) => `nsenter -t $PEER -n ${cli} mn ${args} --json > "${dir}/${name}.json" 2> "${dir}/${name}.err" || true`;
    const script = [
      'set -e',
      'ip link set lo up',
      'unshare -n sleep 40 > /dev/null 2>&1 &',
      'PEER=$!',
      'for i in $(seq 100); do [ "$(readlink /proc/$PEER/ns/net)" != "$(readlink /proc/$$/ns/net)" ] && break; sleep 0.02; done',
      'trap \'kill $MS4 $MS6 $PEER 2>/dev/null || true\' EXIT',
      'ip link add name vA type veth peer name vB',
      'ip link set vB netns $PEER',
      'ip addr add 198.51.100.1/24 dev vA',
      'ip addr add fd00:51::1/64 dev vA nodad',
      'ip link set vA up',
      "nsenter -t $PEER -n sh -c 'ip link set lo up; ip addr add 198.51.100.2/24 dev vB; ip addr add fd00:51::2/64 dev vB nodad; ip link set vB up'",
      `${cli} ms --listen 198.51.100.1 --keys "${keys}" -w "${dir}/ms4.pcapng" > "${dir}/ms4.out" 2> "${dir}/ms4.err" &`,
      'MS4=$!',
      `${cli} ms --listen fd00:51::1 --keys "${keys}" --json > "${dir}/ms6.out" 2> "${dir}/ms6.err" &`,
      'MS6=$!',
      `for i in $(seq 200); do grep -q "Map-Resolver on" "${dir}/ms4.err" && grep -q "Map-Resolver on" "${dir}/ms6.err" && break; sleep 0.05; done`,
      mn('reg4', `register --ms 198.51.100.1 --eid 10.1.0.5/32 --rloc 198.51.100.2 --key-file "${mnKey}" --key-id 1 --xtr-id none --notify --proxy-reply`),
      mn('res4', 'resolve 10.1.0.5 --mr 198.51.100.1'),
      mn('info4', `info --ms 198.51.100.1 --eid 10.1.0.5/32 --key-file "${mnKey}"`),
      // Publish/Subscribe: an xTR of the other site subscribes to the MN, which then moves.
      `nsenter -t $PEER -n ${cli} mn subscribe 10.1.0.5/32 --ms 198.51.100.1 --eid 10.2.0.7/32 --key-file "${otherKey}" --count 1 --for 20 --json > "${dir}/sub4.json" 2> "${dir}/sub4.err" &`,
      'SUB=$!',
      `for i in $(seq 200); do grep -q '"event":"subscribed"' "${dir}/sub4.json" && break; sleep 0.05; done`,
      mn('move4', `register --ms 198.51.100.1 --eid 10.1.0.5/32 --rloc 198.51.100.3 --key-file "${mnKey}" --key-id 1 --xtr-id none --notify --proxy-reply`),
      'wait $SUB; echo $? > "' + dir + '/sub4.code"',
      mn('reg6', `register --ms fd00:51::1 --eid 10.1.0.5/32 --rloc fd00:51::2 --key-file "${mnKey}" --notify --proxy-reply`),
      mn('res6', 'resolve 10.1.0.5 --mr fd00:51::1'),
      'kill -TERM $MS4 $MS6',
      'wait $MS4; echo $? > "' + dir + '/ms4.code"',
      'wait $MS6; echo $? > "' + dir + '/ms6.code"',
    ].join('\n');
    const r = spawnSync('unshare', ['-n', 'sh', '-c', script], { env: { ...process.env, NO_COLOR: '1', LISPSCOPE_KEY: '' }, timeout: 40_000 });
    expect(r.status, r.stderr.toString()).toBe(0);
    const read = (name: string) => readFileSync(join(dir, name), 'utf8');
    const json = (name: string) => jsonLines(read(`${name}.json`))[0]!;
    expect(json('reg4'), read('reg4.err')).toMatchObject({ notified: true, xtr_id: null, auth_algorithm: 'HMAC-SHA-1-96' });
    expect(json('res4')).toMatchObject({ answered: true, from: '198.51.100.1', records: [{ eid: '10.1.0.5/32', locators: [{ rloc: '198.51.100.2' }] }] });
    expect(json('info4')).toMatchObject({ answered: true, auth_ok: true, global_etr_rloc: '198.51.100.2', ms_rloc: '198.51.100.1', behind_nat: false });
    expect(json('reg6'), read('reg6.err')).toMatchObject({ notified: true });
    expect(json('res6')).toMatchObject({ answered: true, from: 'fd00:51::1', records: [{ locators: [{ rloc: 'fd00:51::2' }] }] });
    expect([read('ms4.code').trim(), read('ms6.code').trim()]).toEqual(['0', '0']);
    expect(read('ms4.out')).toMatch(/IP 198\.51\.100\.2\.\d+ > 198\.51\.100\.1\.lisp-control: LISP Map-Register .*auth sha1 ok/);
    const v6 = jsonLines(read('ms6.out'));
    expect(v6.filter((o) => o.type === 'map-register').map((o) => [o.direction, o.src, o.auth_ok])).toEqual([['received', 'fd00:51::2', true]]);
    expect(v6.at(-1)).toMatchObject({ event: 'sites', sites: [{ name: '10.1.0.0/24', registrations: [{ eid: '10.1.0.5/32', rlocs: ['fd00:51::2'] }] }, { name: '10.2.0.0/24' }] });
    expect(read('sub4.code').trim(), read('sub4.err')).toBe('0');
    expect(jsonLines(read('sub4.json')).map((o) => o.event)).toEqual(['registered', 'subscribed', 'publication', 'withdrawn']);
    expect(jsonLines(read('sub4.json')).find((o) => o.event === 'publication')).toMatchObject({ from: '198.51.100.1', records: [{ eid: '10.1.0.5/32', locators: [{ rloc: '198.51.100.3' }] }] });
    const flows = jsonLines(lispscope(['flows', '--json', join(dir, 'ms4.pcapng')]).stdout);
    expect(flows.map((e) => [e.kind, e.withdraw ? 'withdraw' : e.outcome])).toEqual([
      ['registration', 'answered'],
      ['resolution', 'answered'],
      ['nat-info', 'answered'],
      ['registration', 'answered'],
      ['subscription', 'answered'],
      ['registration', 'answered'],
      ['publication', 'answered'],
      ['subscription', 'withdraw'],
    ]);
  }, 60_000);
});

const OOR03 = join(SHARED, 'oor__03-mn-handover-rloc-change.ms.pcap');
const OOR07 = join(SHARED, 'oor__07-mn-nat-traversal.ms.pcap');
const noCaptures = noNamespaces ?? gate('ms fed by replayed OOR captures', existsSync(OOR03) && existsSync(OOR07) ? undefined : `${SHARED} lacks the oor__03/oor__07 captures`);

describe.skipIf(noCaptures !== undefined)('lispscope ms fed by replay of Open Overlay Router\'s Map-Registers', () => {
  it('accepts what OOR signed with "password" (key id 1, also relayed by its RTR inside an ECM), refuses the same again as a replay; flows finds every exchange answered', () => {
    // A namespace of its own where the Map-Server has OOR's address, 10.10.1.2, and replay sends
    // from 10.10.1.3: the captures' other addresses lie behind a veth pair whose far end nobody
    // answers on, so the Map-Replies the Map-Server sends to OOR's ITR-RLOCs leave, and go nowhere.
    const dir = mkdtempSync(join(tmpdir(), 'lispscope-ms-oor-'));
    const sites = join(dir, 'oor.keys');
    writeFileSync(sites, '3.0.0.0/24 password\n4.0.0.0/24 password\n');
    const cli = `"${process.execPath}" "${BIN}"`;
    const replay = (name: string, file: string) => `${cli} replay "${file}" --to 10.10.1.2 --source 10.10.1.3 --only control --as-fast-as-possible --wait 300 > "${dir}/${name}.out" 2> "${dir}/${name}.err"`;
    const script = [
      'set -e',
      'ip link set lo up',
      'ip link add name v0 type veth peer name v1',
      'ip addr add 10.10.1.2/16 dev v0',
      'ip addr add 10.10.1.3/16 dev v0',
      'ip link set v0 up',
      'ip link set v1 up',
      `${cli} ms --listen 10.10.1.2 --keys "${sites}" --proxy-reply -w "${dir}/ms.pcapng" > "${dir}/ms.out" 2> "${dir}/ms.err" &`,
      'MS=$!',
      'trap \'kill $MS 2>/dev/null || true\' EXIT',
      `for i in $(seq 200); do grep -q "Map-Resolver on" "${dir}/ms.err" && break; sleep 0.05; done`,
      replay('oor03', OOR03),
      replay('oor07', OOR07),
      replay('again', OOR03),
      'kill -TERM $MS',
      `wait $MS; echo $? > "${dir}/ms.code"`,
    ].join('\n');
    const r = spawnSync('unshare', ['-n', 'sh', '-c', script], { env: { ...process.env, NO_COLOR: '1' }, timeout: 40_000 });
    const read = (name: string) => readFileSync(join(dir, name), 'utf8');
    expect(r.status, `${r.stderr}\n${read('ms.err')}`).toBe(0);
    expect(read('ms.code').trim()).toBe('0');
    // Two Map-Registers (the MN's 3.0.0.3/32, the xTR's 4.0.0.0/24), each answered; then the
    // Info-Request and the Map-Register the RTR relayed in an ECM.
    expect(read('oor03.out')).toMatch(/; 2 answers came back$/m);
    expect(read('oor07.out')).toMatch(/; 2 answers came back$/m);
    expect(read('again.out')).toMatch(/; 0 answers came back$/m);
    const err = read('ms.err');
    expect(err).toMatch(/rejected a Map-Register from 10\.10\.1\.3:\d+: replayed nonce 0xe95c0f6be60a5469/);
    expect(err).toMatch(/rejected a Map-Register from 10\.10\.1\.3:\d+: replayed nonce 0xb9ffaf6fdba8f711/);
    expect(err).toMatch(/stopped: 3 registrations accepted, 2 rejected, 1 Info-Replies/);
    const packets = jsonLines(lispscope(['read', '--json', '--keys', sites, join(dir, 'ms.pcapng')]).stdout);
    const registers = packets.filter((p) => p.type === 'map-register' || (p.type === 'ecm' && (p.inner as { type?: string } | undefined)?.type === 'map-register'));
    // OOR's own bytes: every one verifies with "password" (HMAC-SHA-1-96, 20 bytes).
    // A message inside an ECM carries its verdict on the inner object (json-contract: per message type).
    expect(registers.map((p) => p.auth_ok ?? (p.inner as { auth_ok?: boolean } | undefined)?.auth_ok)).toEqual([true, true, true, true, true]);
    const notify = packets.find((p) => p.type === 'ecm' && (p.inner as { type?: string } | undefined)?.type === 'map-notify')!;
    expect(notify.inner).toMatchObject({ dst: '10.10.4.2', nonce: 'baeeb76b4fb8a298', key_id: 1 });
    expect((notify.inner as { auth_ok?: boolean }).auth_ok).toBe(true);
    // The sites table at exit: the MN's last registration came through the RTR.
    expect(read('ms.out')).toMatch(/3\.0\.0\.3\/32[\s\S]*10\.10\.6\.2[\s\S]*\(RTR, for 10\.10\.4\.2\)/);
    const flows = jsonLines(lispscope(['flows', '--json', join(dir, 'ms.pcapng')]).stdout);
    // replay sends what the Map-Server's capture holds, from one address: the xTR's SMR-invoked
    // request and the Map-Server's own forward of it are two requests to ours, each answered
    // (by proxy), and so are the RTR's request and its forward (OOR's 07 capture).
    expect(flows.map((e) => `${e.kind} ${e.eid} ${e.requester} ${e.outcome}`)).toEqual([
      'registration 3.0.0.3/32 10.10.1.3 answered',
      'resolution 3.0.0.3/32 10.10.2.2 answered',
      'resolution 3.0.0.3/32 10.10.2.2 answered',
      'registration 4.0.0.0/24 10.10.1.3 answered',
      'nat-info 3.0.0.3/32 10.10.1.3 answered',
      // Through the RTR: the xTR behind it registers (the ECM's inner source).
      'registration 3.0.0.3/32 10.10.4.2 answered',
      'resolution 4.0.0.4/32 10.10.6.2 answered',
      'resolution 4.0.0.4/32 10.10.6.2 answered',
      'resolution 3.0.0.3/32 10.10.2.2 answered',
      // The same Map-Registers again a second later, after their exchanges were answered: new
      // exchanges (json-contract: a nonce reused after its exchange closed), refused as replays.
      'registration 3.0.0.3/32 10.10.1.3 unanswered',
      'resolution 3.0.0.3/32 10.10.2.2 answered',
      'resolution 3.0.0.3/32 10.10.2.2 answered',
      'registration 4.0.0.0/24 10.10.1.3 unanswered',
    ]);
  }, 60_000);
});

describe.skipIf(noCaptures !== undefined)('lispscope ms answers an RTR as Open Overlay Router\'s RTR expects', () => {
  it('the Map-Notify for a Map-Register OOR\'s RTR relayed goes back to the RTR in an ECM with the MS-RTR authentication of the RTR\'s key', () => {
    // The Map-Server holds OOR's address 10.10.1.2 on v0; replay puts the capture's first two
    // requests on the wire of v1, the veth's far end, as they were captured: the MN's Info-Request
    // and the Map-Register the RTR relayed from 10.10.6.2:4342, which is no address of this host.
    // The RTR's key line (its address, one of --rtr) is "rtr-key", not the site's "password", so
    // that the two authentications cannot be mistaken for each other.
    const dir = mkdtempSync(join(tmpdir(), 'lispscope-ms-rtr-'));
    const sites = join(dir, 'oor.keys');
    writeFileSync(sites, '3.0.0.0/24 password\n10.10.6.2 rtr-key\n');
    const wrong = join(dir, 'wrong.keys');
    writeFileSync(wrong, '3.0.0.0/24 password\n10.10.6.2 not-the-rtr-key\n');
    const cli = `"${process.execPath}" "${BIN}"`;
    const script = [
      'set -e',
      'ip link set lo up',
      'ip link add name v0 type veth peer name v1',
      'ip addr add 10.10.1.2/16 dev v0',
      'ip link set v0 up',
      'ip link set v1 up',
      `${cli} ms --listen 10.10.1.2 --keys "${sites}" --rtr 10.10.6.2 -w "${dir}/ms.pcapng" > "${dir}/ms.out" 2> "${dir}/ms.err" &`,
      'MS=$!',
      'trap \'kill $MS 2>/dev/null || true\' EXIT',
      `for i in $(seq 200); do grep -q "Map-Resolver on" "${dir}/ms.err" && break; sleep 0.05; done`,
      `${cli} replay "${OOR07}" --to 10.10.1.2 -i v1 --dst-mac $(ip -br link show v0 | awk '{print $3}') --only control --count 2 --as-fast-as-possible --wait 300 > "${dir}/replay.out" 2> "${dir}/replay.err"`,
      `for i in $(seq 100); do grep -q "Map-Register" "${dir}/ms.out" && grep -q "Map-Notify" "${dir}/ms.out" && break; sleep 0.05; done`,
      'kill -TERM $MS',
      `wait $MS; echo $? > "${dir}/ms.code"`,
    ].join('\n');
    const r = spawnSync('unshare', ['-n', 'sh', '-c', script], { env: { ...process.env, NO_COLOR: '1' }, timeout: 40_000 });
    const read = (name: string) => readFileSync(join(dir, name), 'utf8');
    expect(r.status, `${r.stderr}\n${read('ms.err')}\n${read('replay.err')}`).toBe(0);
    expect(read('ms.code').trim()).toBe('0');
    // The RTR's line is its key, not a site.
    expect(read('ms.err')).toMatch(/Map-Server\/Map-Resolver on 10\.10\.1\.2:4342, 1 site \(3\.0\.0\.0\/24\), RTR 10\.10\.6\.2;/);
    expect(read('ms.err')).toMatch(/stopped: 1 registration accepted, 0 rejected, 1 Info-Replies/);
    expect(read('ms.err')).not.toMatch(/no key for the RTR/);
    const ecmOf = (keys: string) =>
      jsonLines(lispscope(['read', '--json', '--keys', keys, join(dir, 'ms.pcapng')]).stdout).find((p) => p.type === 'ecm' && p.src === '10.10.1.2')!;
    const notify = ecmOf(sites);
    // As OOR's Map-Server sent it in the capture (frame 4 of oor__07's .ms.pcap): to the RTR, S set,
    // marked for the RTR, AD type 2 with HMAC-SHA-1 over the Map-Notify, which carries the node's
    // xTR-ID and goes to its private address.
    expect(notify).toMatchObject({ dst: '10.10.6.2', dport: 4342, security: true, rtr: true, ms_rtr_ad_type: 2, ms_rtr_key_id: 1, ms_rtr_auth_ok: true });
    expect(notify.ms_rtr_auth).toHaveLength(40);
    expect(notify.inner).toMatchObject({ src: '10.10.1.2', dst: '10.10.4.2', dport: 4342, type: 'map-notify', nonce: 'baeeb76b4fb8a298', xtr_id_present: true, key_id: 1, auth_ok: true });
    // Another key for the RTR does not verify it: the HMAC is the RTR key's, not the site's.
    expect(ecmOf(wrong)).toMatchObject({ ms_rtr_auth_ok: false, inner: { auth_ok: true } });
  }, 60_000);
});
