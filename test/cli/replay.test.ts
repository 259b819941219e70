// `lispscope replay` and `lispscope inject` against test sockets on loopback: what arrives is
// exactly what the capture (or the options) say, sent only where the user said.

import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import { writePcap, writePcapng } from '../../src/capture/writer.js';
import { verifyAuth } from '../../src/dissect/auth.js';
import { lispUdpPacket, mapReply, mapRequest, mappingRecord } from '../../src/dissect/build.js';
import { decodeControl, encodeControl } from '../../src/dissect/control.js';
import { LINKTYPE_RAW } from '../../src/dissect/link.js';
import type { Ecm, MapRegister, MapRequest } from '../../src/dissect/types.js';
import { LAB_KEYS, runLab, type LabResult } from '../../src/mn/lab.js';
import { eachAtOnce, jsonLines, lispscope, lispscopeAsync, ROOT } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-replay-'));
const SINK = '127.0.42.100';

interface Sink {
  got: Array<{ port: number; from: number; bytes: Uint8Array }>;
  sockets: dgram.Socket[];
}

async function sink(ports: number[], address = SINK): Promise<Sink> {
  const s: Sink = { got: [], sockets: [] };
  for (const port of ports) {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (m, r) => s.got.push({ port, from: r.port, bytes: new Uint8Array(m) }));
    await new Promise<void>((r) => sock.bind(port, address, () => r()));
    s.sockets.push(sock);
  }
  return s;
}

const drain = () => new Promise((r) => setTimeout(r, 100));
const close = (s: Sink) => Promise.all(s.sockets.map((x) => new Promise((r) => x.close(() => r(undefined)))));

let lab: LabResult;
const capture = join(tmp, 'lab.pcapng');
const messages: Array<{ dport: number; bytes: Uint8Array; answer: boolean }> = [];

/** Map-Reply, Map-Notify, Map-Notify-Ack, Map-Referral, Info-Reply (RFC 9301 §5.1; the NAT draft's R bit): answers, not requests. */
function isAnswer(lisp: Uint8Array, kind: string | undefined): boolean {
  if (kind !== 'control') return false;
  const type = lisp[0]! >> 4;
  return [2, 4, 5, 6].includes(type) || (type === 7 && (lisp[0]! & 0x08) !== 0);
}

beforeAll(async () => {
  lab = await runLab({ scenario: 'handover', base: '127.0.42.0' });
  writeFileSync(capture, writePcapng(lab.frames, { linkType: LINKTYPE_RAW }));
  const d = new PacketDecoder();
  for (const f of lab.frames) {
    const p = d.decode(f);
    if (p?.lisp && p.udp) messages.push({ dport: p.udp.dstPort, bytes: new Uint8Array(p.lisp), answer: isAnswer(p.lisp, p.kind) });
  }
});

describe('lispscope replay', () => {
  let s: Sink;
  beforeAll(async () => {
    s = await sink([4341, 4342, 9999]);
  });
  afterAll(async () => {
    await close(s);
  });

  it('re-sends the requests and data of a capture, byte for byte, to the original ports; --all-messages the answers too', async () => {
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    const requests = messages.filter((m) => !m.answer);
    const answers = messages.length - requests.length;
    expect(answers).toBeGreaterThan(3);
    for (const [args, want] of [
      [[], requests],
      [['--all-messages'], messages],
    ] as const) {
      s.got.length = 0;
      const r = lispscope(['replay', capture, '--to', SINK, '--as-fast-as-possible', '--wait', '0', ...args]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const skipped = want === requests ? `, ${answers} captured answers not sent \\(--all-messages sends them\\)` : '';
      expect(r.stdout).toMatch(new RegExp(`replayed ${want.length} of ${want.length} LISP messages to ${SINK.replace(/\./g, '\\.')} in [\\d.]+ s${skipped}; 0 answers came back$`, 'm'));
      await drain();
      // Replies went to ephemeral ports in the capture: only 4341/4342 have a listener here.
      for (const port of [4341, 4342]) {
        const sent = want.filter((m) => m.dport === port).map((m) => hex(m.bytes));
        expect(sent.length).toBeGreaterThan(3);
        expect(s.got.filter((g) => g.port === port).map((g) => hex(g.bytes))).toEqual(sent);
      }
    }
    expect(messages.some((m) => m.dport !== 4341 && m.dport !== 4342)).toBe(true);
  });

  it('--port, --count, --only, --json', async () => {
    s.got.length = 0;
    const r = lispscope(['replay', capture, '--to', SINK, '--port', '9999', '--only', 'control', '-c', '5', '--as-fast-as-possible', '--json']);
    expect(r.code).toBe(0);
    const objs = jsonLines(r.stdout);
    expect(objs).toHaveLength(5);
    expect(objs[0]).toMatchObject({ frame: 1, type: 'map-register', to: SINK, dport: 9999, rewritten: false });
    await drain();
    expect(s.got.map((g) => g.port)).toEqual([9999, 9999, 9999, 9999, 9999]);
  });

  it('--rewrite replaces addresses and re-signs with --keys (else says the authentication broke)', async () => {
    const keys = join(tmp, 'lab.keys');
    writeFileSync(keys, lab.keys);
    s.got.length = 0;
    const r = lispscope(['replay', capture, '--to', SINK, '--as-fast-as-possible', '--only', 'control', '--rewrite', `${lab.addresses.mnA}=127.0.42.200`, '--keys', keys]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    await drain();
    const regs = s.got.map((g) => ({ g, m: decodeControl(g.bytes).value })).filter((x) => x.m.type === 3 && (x.m as MapRegister).mobileNode);
    const first = regs[0]!;
    expect((first.m as MapRegister).records[0]!.locators[0]!.rloc).toMatchObject({ addr: '127.0.42.200' });
    expect(verifyAuth(first.g.bytes, LAB_KEYS.mn).ok).toBe(true);
    // The ECM'd Map-Request's ITR-RLOC and inner source moved too.
    const e = s.got.map((g) => decodeControl(g.bytes)).find((d) => d.value.type === 8 && (d.value as Ecm).inner?.src === '127.0.42.200')!;
    expect(e.notes).toEqual([]);
    expect(((e.value as Ecm).inner!.message as MapRequest).itrRlocs[0]).toMatchObject({ addr: '127.0.42.200' });
    const broken = lispscope(['replay', capture, '--to', SINK, '--as-fast-as-possible', '--only', 'control', '--rewrite', `${lab.addresses.mnA}=127.0.42.200`]);
    expect(broken.stderr).toMatch(/authenticated message\(s\) were rewritten without their key/);
  });

  it('keeps the capture\'s timing, scaled by --speed', async () => {
    const file = join(tmp, 'timed.pcap');
    const pkt = (i: number) => ({
      tsSec: 1_700_000_000,
      tsNsec: i * 200_000_000,
      data: lispUdpPacket({ src: '192.0.2.1', dst: '192.0.2.2', sport: 5000, dport: 4342, payload: mapRequest({ nonce: BigInt(i + 1), eids: ['10.1.0.5/32'], itrRlocs: ['192.0.2.1'] }) }),
    });
    writeFileSync(file, writePcap([0, 1, 2].map(pkt), { linkType: LINKTYPE_RAW }));
    let t0 = Date.now();
    expect(lispscope(['replay', file, '--to', SINK, '--speed', '2']).code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    t0 = Date.now();
    expect(lispscope(['replay', file, '--to', SINK, '--speed', '2', '--rate', '5']).code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400); // 5/s: 3 datagrams need 0.4 s
  });

  it('refuses to send anywhere not named, and says what is wrong in one line', async () => {
    const mistakes: [string[], RegExp][] = [
      [['replay', capture], /--to is required/],
      [['replay', capture, '--to', '224.0.0.9'], /multicast/],
      [['replay', capture, '--to', '255.255.255.255'], /broadcast/],
      [['replay', capture, '--to', SINK, '-i', 'no-such-if0'], /no-such-if0|libpcap/],
      [['replay', capture, '--to', SINK, '--rewrite', '1.2.3.4'], /OLD=NEW/],
      [['replay', join(tmp, 'none.pcap'), '--to', SINK], /no such file/],
      [['inject', 'map-request', '--eid', '10.1.0.5', '--to', '239.1.1.1'], /multicast/],
      [['inject', 'map-register', '--eid', '10.1.0.5/32', '--rloc', '127.0.0.1', '--to', SINK], /needs the site key/],
      [['inject', 'map-request', '--to', SINK, '-i', 'no-such-if0'], /no-such-if0|libpcap/],
    ];
    const runs = await eachAtOnce(mistakes, ([args]) => lispscopeAsync(args, { env: { LISPSCOPE_KEY: '' } }));
    for (const [i, [args, msg]] of mistakes.entries()) {
      const r = runs[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });
});

describe('lispscope inject', () => {
  let s: Sink;
  beforeAll(async () => {
    s = await sink([4342]);
  });
  afterAll(async () => {
    await close(s);
  });

  it('crafts messages from options: ECM Map-Request, SMR, signed Map-Register, Info-Request', async () => {
    const key = join(tmp, 'k');
    writeFileSync(key, 'secret phrase\n');
    s.got.length = 0;
    const runs = [
      ['inject', 'map-request', '--to', SINK, '--eid', '10.2.0.7', '--ecm', '--source-eid', '10.1.0.5', '--nonce', 'abc'],
      ['inject', 'smr', '--to', SINK, '--eid', '10.2.0.0/24', '--source-eid', '10.1.0.5', '--itr-rloc', '127.0.42.7'],
      ['inject', 'map-register', '--to', SINK, '--eid', '10.1.0.5/32', '--rloc', '127.0.42.7', '--notify', '--proxy-reply', '--key-file', key, '--key-id', '1'],
      ['inject', 'info-request', '--to', SINK, '--eid', '10.1.0.5/32', '--key-file', key],
      ['inject', 'map-reply', '--to', SINK, '--eid', '10.64.0.0/10', '--ttl', '15'],
    ];
    for (const args of runs) {
      const r = lispscope(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/LISP /);
    }
    await drain();
    const got = s.got.map((g) => decodeControl(g.bytes).value);
    expect(got[0]).toMatchObject({ type: 8, inner: { dst: '10.2.0.7', message: { type: 1, nonce: 0xabcn, sourceEid: { addr: '10.1.0.5' } } } });
    expect(got[1]).toMatchObject({ type: 1, smr: true, itrRlocs: [{ addr: '127.0.42.7' }] });
    expect(got[2]).toMatchObject({ type: 3, proxyReply: true, wantMapNotify: true, keyId: 0, algorithmId: 1 });
    expect(verifyAuth(s.got[2]!.bytes, 'secret phrase').ok).toBe(true);
    expect(got[3]).toMatchObject({ type: 7, reply: false });
    expect(verifyAuth(s.got[3]!.bytes, 'secret phrase').ok).toBe(true);
    expect(got[4]).toMatchObject({ type: 2, records: [{ ttl: 15, action: 1, locators: [] }] });
  });

  it('sends a message given in the read --json form, and shows what comes back with --wait', async () => {
    const objs = jsonLines(lispscope(['read', '--json', capture]).stdout);
    const ecmObj = objs.find((o) => o.type === 'ecm')!;
    s.got.length = 0;
    const r = lispscope(['inject', '--to', SINK, '--message', JSON.stringify(ecmObj)]);
    expect(r.code).toBe(0);
    await drain();
    const sent = messages.find((m) => decodeControl(m.bytes).value.type === 8)!;
    expect(decodeControl(s.got[0]!.bytes).value).toEqual(decodeControl(sent.bytes).value);
    // A responder that answers the Map-Request: inject prints both.
    const responder = dgram.createSocket('udp4');
    responder.on('message', (m, rinfo) => {
      const q = decodeControl(new Uint8Array(m)).value as MapRequest;
      const a = mapReply({ nonce: q.nonce, records: [mappingRecord({ eid: '10.2.0.0/24', locators: [{ rloc: '127.0.42.2' }] })] });
      responder.send(encodeControl(a), rinfo.port, rinfo.address);
    });
    await new Promise<void>((res) => responder.bind(4342, '127.0.42.101', () => res()));
    const out = await new Promise<string>((res) => {
      const c = spawn(process.execPath, [join(ROOT, 'bin/lispscope'), 'inject', 'map-request', '--to', '127.0.42.101', '--eid', '10.2.0.7', '--wait', '300', '--json'], { env: { ...process.env, NO_COLOR: '1' } });
      let o = '';
      c.stdout.on('data', (d) => (o += d));
      c.on('exit', () => res(o));
    });
    await new Promise((r) => responder.close(() => r(undefined)));
    const lines = jsonLines(out);
    expect(lines.map((l) => [l.direction, l.type])).toEqual([
      ['sent', 'map-request'],
      ['received', 'map-reply'],
    ]);
    expect(lines[1]!.nonce).toBe(lines[0]!.nonce);
  });
});
