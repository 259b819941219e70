// `replay -i` and `inject -i`: datagrams built whole and sent raw through libpcap. On the loopback a
// capture of this test's own checks them byte for byte; in a network namespace this test creates
// (where 127/8 packets injected on lo may reach sockets: route_localnet), inject talks to a real
// lab and captures the Map-Reply; in two namespaces joined by a veth pair, inject reaches an IPv6
// peer with the MAC it finds in the neighbour cache. Needs root, libpcap and `cap` (and unshare,
// nsenter, ip and veth for the namespaces): without them the tests skip with the reason, except
// under CI=true where they must run.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LiveCapture } from '../../src/capture/live.js';
import { PacketDecoder } from '../../src/capture/packets.js';
import { readCapture } from '../../src/capture/source.js';
import type { Frame } from '../../src/capture/types.js';
import { writePcapng } from '../../src/capture/writer.js';
import { decodeControl } from '../../src/dissect/control.js';
import { verifyUdpChecksum } from '../../src/dissect/ip.js';
import { LINKTYPE_RAW } from '../../src/dissect/link.js';
import type { LispPacket } from '../../src/capture/packets.js';
import { runLab } from '../../src/mn/lab.js';
import { gate, liveUnavailable } from '../support/live.js';
import { jsonLines, lispscope, ROOT } from './run.js';

function namespaceUnavailable(): string | undefined {
  const r = spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up']);
  if (r.error) return `unshare: ${r.error.message}`;
  return r.status === 0 ? undefined : `cannot make a network namespace: ${r.stderr.toString().trim()}`;
}

const unavailable = gate('raw replay/inject tests', await liveUnavailable());
const noNamespace = unavailable ?? gate('raw inject in a network namespace', namespaceUnavailable());

function vethUnavailable(): string | undefined {
  const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link add name v0 type veth peer name v1 && nsenter --version']);
  if (r.error) return `unshare: ${r.error.message}`;
  return r.status === 0 ? undefined : `cannot make a veth pair and enter namespaces: ${r.stderr.toString().trim()}`;
}

const noVeth = noNamespace ?? gate('raw inject over a veth pair (IPv6 neighbours)', vethUnavailable());

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-raw-'));
const x = 100 + Math.floor(Math.random() * 100);
const y = Math.floor(Math.random() * 250);
const TARGET = `127.${x}.${y}.2`;

/** Captures on lo what goes to TARGET while `run` runs, decoded. */
async function captured(run: () => void): Promise<Array<{ p: LispPacket; frame: Uint8Array; ip: Uint8Array }>> {
  const got: Array<{ p: LispPacket; frame: Uint8Array; ip: Uint8Array }> = [];
  const d = new PacketDecoder();
  const c = LiveCapture.open({ iface: 'lo', filter: `udp and dst host ${TARGET}` });
  c.start({
    frame: (f: Frame) => {
      const p = d.decode(f);
      if (p?.ip) got.push({ p, frame: f.data.slice(), ip: f.data.slice(14) });
    },
    warning: () => {},
  });
  run();
  await new Promise((r) => setTimeout(r, 200));
  await c.stop();
  return got;
}

describe.skipIf(unavailable !== undefined)('raw sending on lo', () => {
  const capture = join(tmp, 'lab.pcapng');
  const originals: LispPacket[] = [];
  beforeAll(async () => {
    const lab = await runLab({ scenario: 'register', base: `127.${x}.${(y + 1) % 250}.0` });
    writeFileSync(capture, writePcapng(lab.frames, { linkType: LINKTYPE_RAW }));
    const d = new PacketDecoder();
    for (const f of lab.frames) {
      const p = d.decode(f);
      if (p?.lisp && p.udp) originals.push(p);
    }
  });

  it('inject -i builds the whole datagram: --source address and port, checksums a capture accepts', async () => {
    const out = join(tmp, 'inject.pcap');
    let r = { code: -1, stdout: '', stderr: '' };
    const got = await captured(() => {
      r = lispscope(['inject', 'map-request', '--eid', '10.9.0.1/32', '--nonce', 'a1b2c3d4e5f60718', '--to', TARGET, '--source', `127.${x}.${y}.1:4999`, '-i', 'lo', '-w', out]);
    });
    expect(r.code, r.stderr).toBe(0);
    // Only the warning that sockets will not see it (route_localnet is off outside namespaces).
    expect(r.stderr).not.toMatch(/error/i);
    expect(got).toHaveLength(1);
    const { p, frame, ip } = got[0]!;
    expect([p.ip!.src, p.udp!.srcPort, p.udp!.dstPort, p.kind]).toEqual([`127.${x}.${y}.1`, 4999, 4342, 'control']);
    expect(p.ip!.checksumOk).toBe(true);
    expect(verifyUdpChecksum(frame, p.ip!, p.udp!)).toBe(true);
    expect(jsonLines(lispscope(['read', '--json', out]).stdout)[0]).toMatchObject({ type: 'map-request', nonce: 'a1b2c3d4e5f60718', eids: ['10.9.0.1/32'] });
    // -w holds exactly the IP packet that went on the wire.
    const written: Uint8Array[] = [];
    await readCapture(out, { frame: (f) => void written.push(f.data.slice()), warning: () => {} });
    expect(written.map((b) => Buffer.from(b).toString('hex'))).toEqual([Buffer.from(ip).toString('hex')]);
  });

  it('replay -i re-sends each message from its captured source address and port, payload unchanged', async () => {
    let r = { code: -1, stdout: '', stderr: '' };
    const got = await captured(() => {
      r = lispscope(['replay', capture, '--to', TARGET, '-i', 'lo', '--as-fast-as-possible', '--all-messages']);
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`replayed ${originals.length} of ${originals.length} LISP messages to ${TARGET.replace(/\./g, '\\.')} raw on lo`));
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    expect(got.map(({ p }) => [p.ip!.src, p.udp!.srcPort, p.udp!.dstPort, hex(p.lisp!)])).toEqual(
      originals.map((p) => [p.ip!.src, p.udp!.srcPort, p.udp!.dstPort, hex(p.lisp!)]),
    );
  });

  it('refuses a loopback destination on another interface and a bad --dst-mac, in one line', () => {
    // An interface of this network namespace that is up (/sys/class/net shows the host's inside `unshare -n`).
    const eth = spawnSync('ip', ['-o', 'link', 'show', 'up'])
      .stdout.toString()
      .split('\n')
      .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1])
      .find((i) => i && i !== 'lo');
    const cases: Array<[string[], RegExp]> = [[['inject', 'map-request', '--eid', '10.9.0.1/32', '--to', TARGET, '-i', 'lo', '--dst-mac', 'zz'], /not a MAC address/]];
    if (eth) cases.push([['inject', 'map-request', '--eid', '10.9.0.1/32', '--to', TARGET, '-i', eth], /loopback address/]);
    for (const [args, msg] of cases) {
      const r = lispscope(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });
});

describe.skipIf(noNamespace !== undefined)('raw inject in a network namespace of its own', () => {
  it('an ECM Map-Request injected on lo reaches the lab\'s Map-Resolver; --wait captures the ETR\'s Map-Reply', () => {
    // Everything runs inside the namespace: its lo, its route_localnet, nothing leaves it.
    const bin = join(ROOT, 'bin/lispscope');
    const script = [
      'set -e',
      'ip link set lo up',
      'echo 1 > /proc/sys/net/ipv4/conf/lo/route_localnet',
      `"${process.execPath}" "${bin}" lab --scenario register --duration 6 -q > /dev/null 2>&1 &`,
      'for i in $(seq 100); do [ -e /proc/net/udp ] && grep -qi ":10F6 " /proc/net/udp && break; sleep 0.05; done',
      'sleep 0.5',
      `"${process.execPath}" "${bin}" inject map-request --ecm --eid 10.2.0.1/32 --to 127.0.1.1 --source 127.0.0.9 -i lo --wait 1000 --json`,
      'kill %1 2>/dev/null || true',
    ].join('\n');
    const r = spawnSync('unshare', ['-n', 'sh', '-c', script], { env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000 });
    const out = jsonLines(r.stdout.toString());
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(out[0]).toMatchObject({ type: 'ecm', direction: 'sent', src: '127.0.0.9' });
    const reply = out.find((o) => o.type === 'map-reply');
    expect(reply, r.stdout.toString()).toMatchObject({ direction: 'received', dst: '127.0.0.9', nonce: (out[0]!.inner as { nonce: string }).nonce });
    expect(JSON.stringify(reply)).toContain('10.2.0.0/24');
  });
});

describe.skipIf(noVeth !== undefined)('raw inject to an IPv6 peer over a veth pair, in namespaces of its own', () => {
  it('finds the next hop\'s MAC in the neighbour cache (on-link and through a link-local gateway), and says when it is not there', () => {
    // This test's namespace (unshare -n) holds vethA; the peer's (a second unshare -n, kept alive by
    // sleep) holds vethB and a UDP socket on port 4342 that writes down every datagram it receives.
    // A frame to any MAC but vethB's is dropped by the peer's IPv6 layer (PACKET_OTHERHOST), so
    // what the socket gets had the right destination MAC. Nothing leaves the two namespaces.
    const dir = mkdtempSync(join(tmpdir(), 'lispscope-raw6-'));
    const node = `"${process.execPath}"`;
    const cli = `${node} "${join(ROOT, 'bin/lispscope')}"`;
    const receiver = [
      "const s = require('node:dgram').createSocket({ type: 'udp6' });",
      "s.on('message', (m, r) => console.log(JSON.stringify({ from: r.address, hex: m.toString('hex') })));",
      "s.bind(4342, '::');",
      'setTimeout(() => process.exit(0), 25000);',
    ].join(' ');
    writeFileSync(join(dir, 'receiver.cjs'), receiver);
    const inject = (args: string, step: string) =>
      `code=0; ${cli} inject map-request --eid 10.9.0.1/32 ${args} > "${dir}/${step}.out" 2> "${dir}/${step}.err" || code=$?; echo $code > "${dir}/${step}.code"`;
    const neighbour = (address: string) => `for i in $(seq 100); do ip -6 neigh show ${address} dev vethA | grep -q lladdr && break; sleep 0.05; done`;
    const script = [
      'set -e',
      'ip link set lo up',
      'unshare -n sleep 30 > /dev/null 2>&1 &',
      'PEER=$!',
      'for i in $(seq 100); do [ "$(readlink /proc/$PEER/ns/net)" != "$(readlink /proc/$$/ns/net)" ] && break; sleep 0.02; done',
      'trap \'kill $RECV $PEER 2>/dev/null || true\' EXIT',
      'ip link add name vethA type veth peer name vethB',
      'ip link set vethB netns $PEER',
      'ip addr add fd00:a::1/64 dev vethA nodad',
      'ip addr add fe80::a/64 dev vethA nodad',
      'ip link set vethA up',
      'ip -6 route add 2001:db8:9::/64 via fe80::b dev vethA',
      "nsenter -t $PEER -n sh -c 'ip link set lo up; ip addr add fd00:a::2/64 dev vethB nodad; ip addr add fe80::b/64 dev vethB nodad; ip addr add 2001:db8:9::2/128 dev vethB nodad; ip link set vethB up'",
      `nsenter -t $PEER -n ${node} "${dir}/receiver.cjs" > "${dir}/received.ndjson" 2> "${dir}/receiver.err" &`,
      'RECV=$!',
      'for i in $(seq 200); do nsenter -t $PEER -n grep -qi ":10F6 " /proc/net/udp6 && break; sleep 0.05; done',
      // Nothing has been sent to the peer yet: the neighbour cache does not know it.
      inject('--nonce 00000000000000a1 --to fd00:a::2 --source fd00:a::1 -i vethA', 'empty'),
      // A datagram through a socket makes the kernel solicit the peer (and so fill the cache).
      inject('--nonce 00000000000000a2 --to fd00:a::2 --source fd00:a::1', 'prime'),
      neighbour('fd00:a::2'),
      inject('--nonce 00000000000000a3 --to fd00:a::2 --source fd00:a::1 -i vethA', 'onlink'),
      // The wrong MAC on purpose: the peer must not get this one.
      inject('--nonce 00000000000000a4 --to fd00:a::2 --source fd00:a::1 -i vethA --dst-mac 02:00:00:00:00:99', 'wrongmac'),
      // Through a gateway: the route's next hop is the peer's link-local fe80::b.
      inject('--nonce 00000000000000b1 --to 2001:db8:9::2 --source fd00:a::1', 'prime-gw'),
      neighbour('fe80::b'),
      inject('--nonce 00000000000000b2 --to 2001:db8:9::2 --source fd00:a::1 -i vethA', 'gateway'),
      'ip -6 neigh show dev vethA > "' + dir + '/neigh.txt"',
      'sleep 0.5',
    ].join('\n');
    // Within the test's time; whatever outlives a kill ends by itself (sleep 30, the receiver's 25 s).
    const r = spawnSync('unshare', ['-n', 'sh', '-c', script], { env: { ...process.env, NO_COLOR: '1' }, timeout: 25_000 });
    expect(r.status, r.stderr.toString()).toBe(0);
    const step = (name: string) => ({
      code: Number(readFileSync(join(dir, `${name}.code`), 'utf8')),
      stdout: readFileSync(join(dir, `${name}.out`), 'utf8'),
      stderr: readFileSync(join(dir, `${name}.err`), 'utf8'),
    });

    const empty = step('empty');
    expect(empty.code).toBe(2);
    expect(empty.stderr.trim().split('\n')).toEqual(['lispscope: inject: -i vethA: no MAC address known for fd00:a::2 (not in the neighbour cache: ping fd00:a::2 first); give --dst-mac']);
    for (const name of ['prime', 'onlink', 'wrongmac', 'prime-gw', 'gateway']) expect(step(name).code, `${name}: ${step(name).stderr}`).toBe(0);
    expect(step('onlink').stdout).toMatch(/IP6? fd00:a::1\.\d+ > fd00:a::2\.(4342|lisp-control): LISP Map-Request nonce 0x00000000000000a3/);

    const received = jsonLines(readFileSync(join(dir, 'received.ndjson'), 'utf8')).map((m) => {
      const msg = decodeControl(Buffer.from(m.hex as string, 'hex')).value as { type: number; nonce?: bigint };
      return `${m.from as string} ${msg.type} ${msg.nonce?.toString(16)}`;
    });
    const neigh = readFileSync(join(dir, 'neigh.txt'), 'utf8');
    expect(received, neigh).toEqual(['fd00:a::1 1 a2', 'fd00:a::1 1 a3', 'fd00:a::1 1 b1', 'fd00:a::1 1 b2']);
   }, 40_000);
});
