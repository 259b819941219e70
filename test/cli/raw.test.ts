// `replay -i` and `inject -i`: datagrams built whole and sent raw through libpcap. On the loopback a
// capture of this test's own checks them byte for byte; in a network namespace this test creates
// (where 127/8 packets injected on lo may reach sockets: route_localnet), inject talks to a real
// lab and captures the Map-Reply. Needs root, libpcap and `cap` (and unshare and ip for the
// namespace): without them the tests skip with the reason, except under CI=true where they must run.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LiveCapture } from '../../src/capture/live.js';
import { PacketDecoder } from '../../src/capture/packets.js';
import { readCapture } from '../../src/capture/source.js';
import type { Frame } from '../../src/capture/types.js';
import { writePcapng } from '../../src/capture/writer.js';
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
      r = lispscope(['replay', capture, '--to', TARGET, '-i', 'lo', '--as-fast-as-possible']);
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`replayed ${originals.length} of ${originals.length} LISP messages to ${TARGET.replace(/\./g, '\\.')} raw on lo`));
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    expect(got.map(({ p }) => [p.ip!.src, p.udp!.srcPort, p.udp!.dstPort, hex(p.lisp!)])).toEqual(
      originals.map((p) => [p.ip!.src, p.udp!.srcPort, p.udp!.dstPort, hex(p.lisp!)]),
    );
  });

  it('refuses a loopback destination on another interface and a bad --dst-mac, in one line', () => {
    const eth = spawnSync('sh', ['-c', 'ls /sys/class/net']).stdout.toString().split(/\s+/).find((i) => i && i !== 'lo');
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
