// The Map-Server's checks, the Mobile Node's retransmission when the Map-Server is silent, SMR rate
// limiting, Publish/Subscribe on both sides, and robustness: garbage on every port never takes a
// component down.

import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import { verifyAuth } from '../../src/dissect/auth.js';
import { decodeControl, encodeControl } from '../../src/dissect/control.js';
import { ecm, mapNotify, mapNotifyAck, mapRegister, mappingRecord, mapRequest, randomNonce } from '../../src/dissect/build.js';
import type { MapNotify, MapRegister, MapReply } from '../../src/dissect/types.js';
import { LispClient } from '../../src/mn/client.js';
import { toPrefix } from '../../src/mn/eid.js';
import { memoryLogger } from '../../src/mn/log.js';
import { MapServer } from '../../src/mn/map-server.js';
import { MobileNode } from '../../src/mn/mobile-node.js';
import { MapService } from '../../src/mn/map-service.js';
import { Nat } from '../../src/mn/nat.js';
import { Recorder } from '../../src/mn/recorder.js';
import { NonceTable } from '../../src/mn/requests.js';
import { Subscriber } from '../../src/mn/subscriber.js';
import { LispSocket, type Received } from '../../src/mn/socket.js';
import { Xtr } from '../../src/mn/xtr.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const FAST = { mapNotifyTimeoutMs: 40, mapRegisterRetries: 3, mapRequestTimeoutMs: 40, mapRequestRetries: 2, smrMinIntervalMs: 150, smrInvokedMinIntervalMs: 150 };

async function ms(address: string, extra: Partial<Parameters<typeof MapServer.start>[0]> = {}) {
  const recorder = new Recorder();
  const log = memoryLogger();
  const s = await MapServer.start({
    address,
    sites: [
      { name: 'mn', key: 'right-key', prefixes: ['10.1.0.0/24'] },
      { name: 'a', key: 'key-a', prefixes: ['10.2.0.0/24'] },
    ],
    recorder,
    log,
    ...extra,
  });
  cleanup.push(() => s.close());
  return { s, recorder, log };
}

async function udp(address: string): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, address, () => r()));
  cleanup.push(() => new Promise((r) => s.close(() => r(undefined))));
  return s;
}

function reg(nonce: bigint, key: string, eid = '10.1.0.5/32', rloc = '127.0.30.9', extra = {}) {
  return mapRegister({ nonce, keyId: 2, key, wantMapNotify: true, proxyReply: true, records: [mappingRecord({ eid, locators: [{ rloc, local: true }] })], ...extra });
}

describe('Map-Server', () => {
  it('rejects a wrong key, an EID outside the site, a replayed nonce; accepts the right one', async () => {
    const { s } = await ms('127.0.30.1');
    const rejected: Array<{ reason: string }> = [];
    s.on('rejected', (r) => rejected.push(r));
    const c = await LispClient.open({ towards: '127.0.30.1', source: '127.0.30.2', retry: { timeoutMs: 30, retries: 1 } });
    cleanup.push(() => c.close());
    const access = { address: '127.0.30.1', key: 'wrong-key', keyId: 2 };
    expect((await c.register(access, '10.1.0.5/32', [{ rloc: '127.0.30.2' }])).result).toBeUndefined();
    expect((await c.register({ ...access, key: 'right-key' }, '10.9.0.5/32', [{ rloc: '127.0.30.2' }])).result).toBeUndefined();
    const ok = await c.register({ ...access, key: 'right-key' }, '10.1.0.5/32', [{ rloc: '127.0.30.2' }], { proxyReply: true });
    expect(ok.result?.notify?.nonce).toBe(ok.result?.nonce);
    expect(rejected.map((r) => r.reason)).toEqual(['auth', 'auth', 'no-site', 'no-site']);
    // The same bytes again: a replay.
    const sock = await udp('127.0.30.3');
    const bytes = reg(7n, 'right-key');
    const got: Uint8Array[] = [];
    sock.on('message', (m) => got.push(new Uint8Array(m)));
    sock.send(bytes, 4342, '127.0.30.1');
    await new Promise((r) => setTimeout(r, 50));
    sock.send(bytes, 4342, '127.0.30.1');
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toHaveLength(1);
    expect(rejected.at(-1)!.reason).toBe('replay');
    expect(s.stats).toMatchObject({ accepted: 2, rejected: 5 });
    expect(MapServer.locators(s.lookup(toPrefix('10.1.0.5'))!).map((l) => (l.rloc as { addr: string }).addr)).toEqual(['127.0.30.9']);
  });

  it('replaces registrations unless merge is asked, and expires them', async () => {
    const { s } = await ms('127.0.30.11', { registrationTimeoutMs: 150 });
    const sock = await udp('127.0.30.12');
    const send = (b: Uint8Array) => sock.send(b, 4342, '127.0.30.11');
    const xtr = (n: number) => ({ xtrId: BigInt(n), siteId: 0n });
    send(reg(randomNonce(), 'key-a', '10.2.0.0/24', '127.0.30.21', { merge: true, ...xtr(1) }));
    send(reg(randomNonce(), 'key-a', '10.2.0.0/24', '127.0.30.22', { merge: true, ...xtr(2) }));
    await new Promise((r) => setTimeout(r, 50));
    const rlocs = () => (s.lookup(toPrefix('10.2.0.7')) ? MapServer.locators(s.lookup(toPrefix('10.2.0.7'))!).map((l) => (l.rloc as { addr: string }).addr) : []);
    expect(rlocs().sort()).toEqual(['127.0.30.21', '127.0.30.22']);
    send(reg(randomNonce(), 'key-a', '10.2.0.0/24', '127.0.30.23', xtr(3)));
    await new Promise((r) => setTimeout(r, 50));
    expect(rlocs()).toEqual(['127.0.30.23']);
    await new Promise((r) => setTimeout(r, 300));
    expect(rlocs()).toEqual([]);
    expect(s.stats.expired).toBeGreaterThan(0);
  });

  it('answers as a Map-Resolver: forwards to the ETR, proxy-replies, negative for the rest', async () => {
    const { s } = await ms('127.0.30.31', { unregisteredTtl: 1 });
    const x = await Xtr.start({ name: 'x', rlocs: ['127.0.30.32'], eids: ['10.2.0.0/25'], mapResolver: '127.0.30.31', mapServer: { address: '127.0.30.31', key: 'key-a' }, timers: FAST });
    cleanup.push(() => x.stop());
    expect(x.registration).toBeDefined();
    const c = await LispClient.open({ towards: '127.0.30.31', source: '127.0.30.33', retry: { timeoutMs: 50, retries: 1 } });
    cleanup.push(() => c.close());
    const etr = await c.resolve('10.2.0.7', '127.0.30.31');
    expect(etr).toMatchObject({ from: '127.0.30.32', reply: { records: [{ authoritative: true, eidMaskLen: 25 }] } });
    // A site prefix without a registration: negative, 1 minute, around the registered half.
    const hole = await c.resolve('10.2.0.200', '127.0.30.31');
    expect(hole!.reply.records[0]).toMatchObject({ ttl: 1, action: 1, eidMaskLen: 25, locators: [], eid: { addr: '10.2.0.128' } });
    const none = await c.resolve('192.0.2.1', '127.0.30.31');
    expect(none!.reply.records[0]).toMatchObject({ ttl: 15, action: 1, locators: [] });
    expect(s.resolver!.stats).toMatchObject({ forwarded: 1, negativeReplies: 2 });
  });
});

describe('Map-Server: merged registrations and NAT traversal', () => {
  it('tells the other xTRs of a merged prefix its new RLOC-set (unsolicited Map-Notify): retransmitted until their Map-Notify-Ack', async () => {
    const { s } = await ms('127.0.33.1', { mapNotifyAck: { timeoutMs: 40, retries: 2, backoff: 1 } });
    const acked: Array<{ to: string }> = [];
    const unacked: Array<{ to: string }> = [];
    s.on('notify-acked', (e) => acked.push(e));
    s.on('notify-unacknowledged', (e) => unacked.push(e));
    const common = { eids: ['10.2.0.0/24'], mapResolver: '127.0.33.1', mapServer: { address: '127.0.33.1', key: 'key-a' }, registration: { merge: true }, timers: FAST };
    const x1 = await Xtr.start({ ...common, name: 'x1', rlocs: ['127.0.33.2'] });
    cleanup.push(() => x1.stop());
    const x2 = await Xtr.start({ ...common, name: 'x2', rlocs: ['127.0.33.3'] });
    cleanup.push(() => x2.stop());
    await new Promise((r) => setTimeout(r, 100));
    // x1 heard of x2's locator and acknowledged (RFC 9301 §5.7).
    expect(acked.map((a) => a.to)).toEqual(['127.0.33.2']);
    expect(s.stats).toMatchObject({ unsolicitedNotifies: 1, acks: 1 });
    // An xTR that never acknowledges: three Map-Notifies, then given up.
    const silent = await udp('127.0.33.4');
    silent.send(reg(randomNonce(), 'key-a', '10.2.0.0/24', '127.0.33.4', { merge: true, xtrId: 9n, siteId: 0n }), 4342, '127.0.33.1');
    await new Promise((r) => setTimeout(r, 300));
    // x1 and x2 acknowledge the change; the silent one's own registration brought no notify to itself.
    expect(acked.map((a) => a.to).sort()).toEqual(['127.0.33.2', '127.0.33.2', '127.0.33.3']);
    expect(unacked).toEqual([]);
    expect(MapServer.locators(s.lookup(toPrefix('10.2.0.7'))!).map((l) => (l.rloc as { addr: string }).addr)).toEqual(['127.0.33.2', '127.0.33.3', '127.0.33.4']);
    // x2 moves: x1 and the silent xTR are told; the silent one never answers.
    await x2.stop();
    const x3 = await Xtr.start({ ...common, name: 'x3', rlocs: ['127.0.33.6'], xtrId: x2.registrar!.xtrId! });
    cleanup.push(() => x3.stop());
    await new Promise((r) => setTimeout(r, 400));
    expect(unacked.map((u) => u.to)).toEqual(['127.0.33.4']);
  });

  it('runs our RTR beside it when --rtr is ours: a Mobile Node behind a NAT registers through it', async () => {
    const recorder = new Recorder();
    const svc = await MapService.start({
      address: '127.0.34.1',
      sites: [{ name: '10.1.0.0/24', key: 'right-key', prefixes: ['10.1.0.0/24'] }],
      rtrs: ['127.0.34.6'],
      recorder,
    });
    cleanup.push(() => svc.close());
    expect(svc.rtr?.currentRlocs).toEqual(['127.0.34.6']);
    const nat = await Nat.start({ insideAddress: '127.0.34.8', publicAddress: '127.0.34.7' });
    cleanup.push(() => nat.close());
    const mn = await MobileNode.start({
      name: 'mn',
      eid: '10.1.0.5/32',
      rlocs: ['127.0.34.12'],
      gateway: nat.gateway,
      mapServer: { address: '127.0.34.1', key: 'right-key' },
      mapResolver: '127.0.34.1',
      natTraversal: true,
      timers: FAST,
    });
    cleanup.push(() => mn.stop());
    expect(mn.attachment?.info).toMatchObject({ behindNat: true, global: '127.0.34.7', rtrs: ['127.0.34.6'] });
    expect(mn.attachment?.registration).toBeDefined();
    expect(svc.rtr!.relayed).toMatchObject({ registers: 1, notifies: 1 });
    const reg = svc.ms.lookup(toPrefix('10.1.0.5'))!;
    expect(MapServer.locators(reg).map((l) => (l.rloc as { addr: string }).addr)).toEqual(['127.0.34.6']);
    expect([...reg.entries.values()][0]!.source).toBe('127.0.34.6');
    // Each datagram recorded once: the Map-Register the RTR relayed was recorded by the RTR, not again by the Map-Server.
    const d = new PacketDecoder();
    const regs = recorder.frames.map((f) => d.decode(f)).filter((p) => p?.control?.type === 3);
    expect(regs.map((p) => [p!.ip!.src, p!.ip!.dst])).toEqual([['127.0.34.6', '127.0.34.1']]);
  });
});

describe('socket clock', () => {
  it('an RTT starts when the datagram left (after a rate limit held it) and ends when the answer arrived', async () => {
    const echo = await udp('127.0.35.2');
    echo.on('message', (m, r) => echo.send(m, r.port, r.address));
    let released = 0;
    const policy = {
      refusal: () => undefined,
      // A rate limit that holds the datagram back 100 ms.
      schedule: (send: () => void) => void setTimeout(() => {
        released = performance.now();
        send();
      }, 100),
    };
    const sock = await LispSocket.open({ name: 't', address: '127.0.35.1', port: 0, policy });
    cleanup.push(() => sock.close());
    const table = new NonceTable<Received>();
    let handled = 0;
    sock.onReceive((rx) => {
      handled = performance.now();
      table.deliver((rx.control as { nonce: bigint }).nonce, rx, rx.at);
    });
    const asked = performance.now();
    const a = await table.request(
      (nonce, _attempt, sent) => sock.send('127.0.35.2', echo.address().port, encodeControl(mapRequest({ nonce, eids: ['10.1.0.5/32'], itrRlocs: ['127.0.35.1'] })), { onSent: sent }),
      { timeoutMs: 2000, retries: 0 },
    );
    expect(a).toBeDefined();
    expect(released).toBeGreaterThan(asked);
    // Stamped after the send that the rate limit let go, before the handler saw the answer.
    expect(a!.sentAt).toBeGreaterThanOrEqual(released);
    expect(a!.receivedAt).toBeLessThanOrEqual(handled);
    expect(a!.receivedAt).toBeGreaterThan(a!.sentAt);
    expect(a!.rttMs).toBe(a!.receivedAt - a!.sentAt);
  });
});

describe('Mobile Node', () => {
  it('retransmits the Map-Register with new nonces while the Map-Server is silent, then gives up', async () => {
    const silent = await udp('127.0.31.1'); // bound, never answers
    void silent;
    const recorder = new Recorder();
    const mn = new MobileNode({
      name: 'mn',
      eid: '10.1.0.5/32',
      rlocs: ['127.0.31.2'],
      mapServer: { address: '127.0.31.1', port: silent.address().port, key: 'k' },
      mapResolver: '127.0.31.1',
      recorder,
      timers: FAST,
    });
    cleanup.push(() => mn.stop());
    const t0 = performance.now();
    await mn.start();
    expect(mn.attachment?.registration).toBeUndefined();
    const regs = recorder.frames.map((f) => new PacketDecoder({ decodeAs: { control: new Set([silent.address().port]), data: new Set() } }).decode(f)?.control).filter((m): m is MapRegister => m?.type === 3);
    expect(regs).toHaveLength(4);
    expect(new Set(regs.map((m) => m.nonce)).size).toBe(4);
    // Back-off: 40 + 80 + 160 + 320 ms of waiting.
    expect(performance.now() - t0).toBeGreaterThan(550);
  });

  it('rate-limits SMRs per peer: a second move within the interval delays, not drops, the SMR', async () => {
    await ms('127.0.31.11');
    const peer = await Xtr.start({ name: 'peer', rlocs: ['127.0.31.12'], eids: ['10.2.0.0/24'], mapResolver: '127.0.31.11', mapServer: { address: '127.0.31.11', key: 'key-a' }, timers: FAST });
    cleanup.push(() => peer.stop());
    const mn = await MobileNode.start({ name: 'mn', eid: '10.1.0.5/32', rlocs: ['127.0.31.13'], mapServer: { address: '127.0.31.11', key: 'right-key' }, mapResolver: '127.0.31.11', timers: FAST });
    cleanup.push(() => mn.stop());
    expect(await mn.ping('10.2.0.7')).toBeDefined();
    const first = await mn.moveTo(['127.0.31.14']);
    expect(first.smrs).toMatchObject([{ rloc: '127.0.31.12' }]);
    expect(first.smrs[0]!.delayedMs).toBeUndefined();
    const smrs: Array<{ rloc: string }[]> = [];
    mn.on('smr-sent', (s) => smrs.push(s));
    const second = await mn.moveTo(['127.0.31.15']);
    expect(second.smrs[0]!.delayedMs).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(smrs.flat().map((s) => s.rloc)).toEqual(['127.0.31.12']);
    // The peer ends up with the last RLOC.
    await new Promise((r) => setTimeout(r, 100));
    const e = peer.mapCache.lookup(toPrefix('10.1.0.5'))!;
    expect(e.locators.map((l) => (l.rloc as { addr: string }).addr)).toEqual(['127.0.31.15']);
  });
});

describe('robustness', () => {
  it('garbage on every port is logged and dropped; the components keep working', async () => {
    const { s, log } = await ms('127.0.32.1');
    const x = await Xtr.start({ name: 'x', rlocs: ['127.0.32.2'], eids: ['10.2.0.0/24'], mapResolver: '127.0.32.1', mapServer: { address: '127.0.32.1', key: 'key-a' }, timers: FAST, log });
    cleanup.push(() => x.stop());
    const sock = await udp('127.0.32.3');
    const junk: Uint8Array[] = [
      new Uint8Array(0),
      new Uint8Array([0x30]),
      new Uint8Array([0x10, 0, 0, 1, 0, 0]),
      new Uint8Array([0x80, 0, 0, 0, 0x45, 0, 0, 20]),
      reg(1n, 'key-a').subarray(0, 30),
      encodeControl(ecm({ inner: { src: '127.0.32.3', dst: '10.2.0.7', sport: 1 }, message: new Uint8Array([1, 2, 3]) })),
      encodeControl(mapRequest({ nonce: 1n, eids: ['10.2.0.7/32'], itrRlocs: ['0.0.0.0'] })),
      Uint8Array.from({ length: 200 }, (_, i) => (i * 37) & 0xff),
    ];
    for (let i = 0; i < 200; i++) junk.push(Uint8Array.from({ length: (i * 13) % 120 }, () => Math.floor(Math.random() * 256)));
    for (const j of junk) for (const [addr, port] of [['127.0.32.1', 4342], ['127.0.32.2', 4342], ['127.0.32.2', 4341]] as const) sock.send(j, port, addr);
    await new Promise((r) => setTimeout(r, 300));
    expect(log.lines.some((l) => /malformed|unknown|dropped/.test(l))).toBe(true);
    // Still answering.
    const c = await LispClient.open({ towards: '127.0.32.1', source: '127.0.32.4', retry: { timeoutMs: 100, retries: 2 } });
    cleanup.push(() => c.close());
    const r = await c.resolve('10.2.0.7', '127.0.32.1');
    expect((r?.reply as MapReply).records[0]!.locators.length).toBe(1);
    const n = await c.register({ address: '127.0.32.1', key: 'right-key' }, '10.1.0.5/32', [{ rloc: '127.0.32.4' }]);
    expect((n.result?.notify as MapNotify).nonce).toBe(n.result!.nonce);
    expect(s.stats.accepted).toBeGreaterThanOrEqual(2);
  });
});

describe('Publish/Subscribe (RFC 9437)', () => {
  /** A subscriber's socket on the LISP control port, where the Map-Server's Map-Notifies come. */
  async function listener(address: string): Promise<{ s: dgram.Socket; got: Array<{ m: MapNotify | MapReply; bytes: Uint8Array }> }> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(4342, address, () => r()));
    cleanup.push(() => new Promise((r) => s.close(() => r(undefined))));
    const got: Array<{ m: MapNotify | MapReply; bytes: Uint8Array }> = [];
    s.on('message', (b) => {
      const m = decodeControl(new Uint8Array(b)).value;
      if (!('unknown' in m) && (m.type === 4 || m.type === 2)) got.push({ m: m as MapNotify | MapReply, bytes: new Uint8Array(b) });
    });
    return { s, got };
  }
  const subscribe = (nonce: bigint, xtrId: bigint, itr: string | { kind: 'none'; afi: 0 }, eid = '10.1.0.5/32') =>
    encodeControl(ecm({ inner: { src: '127.0.34.2', dst: '10.1.0.5', sport: 4342 }, message: mapRequest({ nonce, eids: [eid], itrRlocs: [itr], xtrId, siteId: 7n, subscribe: true }) }));

  it('keeps a subscription of a known xTR-ID, confirms it, publishes each change (nonce + 1) until acknowledged; refuses an unknown xTR-ID; a withdrawal ends it', async () => {
    const { s } = await ms('127.0.34.1', { mapNotifyAck: { timeoutMs: 40, retries: 2, backoff: 1 }, proxyReply: 'always' });
    const events: string[] = [];
    for (const e of ['subscribed', 'subscription-refused', 'subscription-unacknowledged', 'publication-acked', 'unsubscribed']) s.on(e, () => events.push(e));
    const { s: sock, got } = await listener('127.0.34.2');
    const send = (b: Uint8Array) => sock.send(b, 4342, '127.0.34.1');
    // The registrations go from the same socket: their own Map-Notifies are not the subscription's.
    const registered = new Set<bigint>();
    const register = (key: string, eid: string, rloc: string, extra = {}) => {
      const nonce = randomNonce();
      registered.add(nonce);
      send(reg(nonce, key, eid, rloc, extra));
    };
    const notifies = () => got.filter((g) => g.m.type === 4 && !registered.has(g.m.nonce)).map((g) => g.m as MapNotify);
    // The subscriber's own registration (site a, key-a) names its xTR-ID.
    register('key-a', '10.2.0.7/32', '127.0.34.2', { xtrId: 0x42n, siteId: 7n });
    register('right-key', '10.1.0.5/32', '127.0.34.9');
    await new Promise((r) => setTimeout(r, 50));
    got.length = 0;
    // An xTR-ID that registered nothing: refused, answered as a plain Map-Request (a proxy Map-Reply).
    send(subscribe(0x1000n, 0x99n, '127.0.34.2'));
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual(['subscription-refused']);
    expect(got.filter((g) => !registered.has(g.m.nonce)).map((g) => g.m.type)).toEqual([2]);
    got.length = 0;
    // The known one: a Map-Notify with the request's nonce and the mapping now, signed with key-a,
    // sent three times when nobody acknowledges it.
    send(subscribe(0x2000n, 0x42n, '127.0.34.2'));
    await new Promise((r) => setTimeout(r, 200));
    expect(notifies().map((n) => n.nonce)).toEqual([0x2000n, 0x2000n, 0x2000n]);
    expect(verifyAuth(got.find((g) => g.m.type === 4 && g.m.nonce === 0x2000n)!.bytes, 'key-a').ok).toBe(true);
    expect(notifies()[0]!.records.map((r) => r.locators.map((l) => [(l.rloc as { addr: string }).addr, l.local]))).toEqual([[['127.0.34.9', false]]]);
    expect(events.slice(1)).toEqual(['subscribed', 'subscription-unacknowledged']);
    got.length = 0;
    // The Mobile Node moves: a publication, nonce + 1, acknowledged at once this time.
    register('right-key', '10.1.0.5/32', '127.0.34.10');
    // Acknowledged as soon as it arrives (not after a fixed wait, which a loaded machine can
    // stretch past the 40 ms retransmission timer).
    for (let waited = 0; notifies().length === 0 && waited < 5000; waited += 5) await new Promise((r) => setTimeout(r, 5));
    const pub = notifies()[0]!;
    expect(pub.nonce).toBe(0x2001n);
    expect(pub.records[0]!.locators.map((l) => (l.rloc as { addr: string }).addr)).toEqual(['127.0.34.10']);
    send(mapNotifyAck({ nonce: pub.nonce, keyId: 2, key: 'key-a', records: pub.records, xtrId: 0x42n, siteId: 7n }));
    await new Promise((r) => setTimeout(r, 150));
    const sentBeforeAck = notifies().length;
    await new Promise((r) => setTimeout(r, 150));
    // Every copy is the publication (nonce + 1); once the Ack is in, no more are sent.
    expect(new Set(notifies().map((n) => n.nonce))).toEqual(new Set([0x2001n]));
    expect(notifies().length).toBe(sentBeforeAck);
    expect(events.at(-1)).toBe('publication-acked');
    // An unrelated registration publishes nothing; the withdrawal ends the subscription.
    register('key-a', '10.2.0.8/32', '127.0.34.11');
    send(subscribe(0x3000n, 0x42n, { kind: 'none', afi: 0 }));
    await new Promise((r) => setTimeout(r, 50));
    expect(events.at(-1)).toBe('unsubscribed');
    expect(s.publisher.list()).toEqual([]);
    register('right-key', '10.1.0.5/32', '127.0.34.12');
    await new Promise((r) => setTimeout(r, 50));
    expect(notifies().length).toBe(sentBeforeAck);
    expect(s.publisher.stats).toMatchObject({ subscriptions: 1, refused: 1, withdrawals: 1, publications: 1, acked: 1, unacknowledged: 1 });
  });

  it('the subscriber acknowledges every publication, reports each once, and drops a replayed or forged one', () => {
    const acks: bigint[] = [];
    const seen: bigint[] = [];
    const sub = new Subscriber({
      key: 'key-a',
      xtrId: new Uint8Array(16).fill(1),
      siteId: new Uint8Array(8),
      itrRloc: '127.0.35.2',
      port: 4342,
      send: () => true,
      reply: (_to, _port, bytes) => {
        acks.push((decodeControl(bytes).value as MapNotify).nonce);
        return true;
      },
      retry: { timeoutMs: 1000, retries: 0 },
    });
    sub.onPublication((p) => seen.push(p.notify.nonce));
    const notify = (nonce: bigint, key = 'key-a') => {
      const bytes = mapNotify({ nonce, keyId: 2, key, records: [mappingRecord({ eid: '10.1.0.5/32', locators: [{ rloc: '127.0.35.9' }] })] });
      return { m: decodeControl(bytes).value as MapNotify, bytes };
    };
    // Not subscribed yet: not ours.
    const first = notify(5n);
    expect(sub.handleNotify(first.m, first.bytes, '127.0.35.1', 4342, 0)).toBe(false);
    // As if the subscription with nonce 5 had been confirmed.
    (sub as unknown as { last: bigint }).last = 5n;
    for (const [n, key] of [[6n, 'key-a'], [6n, 'key-a'], [4n, 'key-a'], [7n, 'not-key-a'], [7n, 'key-a']] as const) {
      const x = notify(n, key);
      expect(sub.handleNotify(x.m, x.bytes, '127.0.35.1', 4342, 0)).toBe(true);
    }
    expect(seen).toEqual([6n, 7n]);
    expect(acks).toEqual([6n, 6n, 7n]);
    expect(sub.stats).toMatchObject({ publications: 2, repeats: 1, dropped: 2 });
  });
});
