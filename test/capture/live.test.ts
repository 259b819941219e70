// Live capture (src/capture/live.ts) and injection (src/capture/inject.ts) through libpcap on the
// loopback. The queue, the filter and link-type helpers are tested everywhere; capturing needs root
// (or CAP_NET_RAW), libpcap and the optional `cap` module: without them those tests skip with the
// reason, except under CI=true where they must run. Traffic goes only to 127.0.0.0/8, to addresses
// picked at random per run, and the capture filter names them: other tests' loopback traffic
// (the lab) is never counted.

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openInjector } from '../../src/capture/inject.js';
import { spawn } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { capLinkType, defaultBufferSize, defaultFilter, FrameQueue, LiveCapture, LiveCaptureError, listInterfaces, loadCap, loadLibpcap, type Libpcap } from '../../src/capture/live.js';
import { OfflineFilter } from '../../src/capture/bpf.js';
import { PacketDecoder } from '../../src/capture/packets.js';
import { loadNative } from '../../src/capture/pcap-native.js';
import { CapLibpcap } from '../../src/capture/pcap-cap.js';
import type { Frame } from '../../src/capture/types.js';
import {
  dataPacket,
  ecm,
  infoRequest,
  lispUdpPacket,
  mapNotify,
  mappingRecord,
  mapReferral,
  mapRegister,
  mapReply,
  mapRequest,
  negativeMapReply,
  referralRecord,
} from '../../src/dissect/build.js';
import { encodeControl } from '../../src/dissect/control.js';
import { encodeLink } from '../../src/dissect/link.js';
import { packetJson } from '../../src/output/json.js';
import { gate, liveUnavailable, sendAll, testNet, type Sent } from '../support/live.js';

// ---- can we capture here? -------------------------------------------------------------------

const unavailable = gate('live capture tests', await liveUnavailable());

/** Both bindings where they load (CI builds both: a missing one fails there). */
const bindings: { name: 'native' | 'cap'; pcap: Libpcap }[] = [];
if (unavailable === undefined) {
  for (const name of ['native', 'cap'] as const) {
    try {
      bindings.push({ name, pcap: loadLibpcap(name) });
    } catch (e) {
      gate(`live capture through ${name}`, (e as Error).message);
    }
  }
}
const live = describe.skipIf(unavailable !== undefined);
const nativeBinding = gate('libpcap filter checks', loadNative().binding ? undefined : loadNative().error ?? 'binding not built') === undefined;

// ---- traffic --------------------------------------------------------------------------------

/** One of every kind of LISP message, as a UDP payload with its destination port. */
function lispMessages(src: string, seed: number): Sent[] {
  const n = (k: number) => BigInt(seed) * 1000n + BigInt(k);
  const hex = (v: bigint) => v.toString(16).padStart(16, '0');
  const rec = mappingRecord({ eid: '10.1.0.5/32', locators: [{ rloc: '192.0.2.10', priority: 1, weight: 100, local: true }] });
  const req = mapRequest({ nonce: n(2), eids: ['10.1.0.5/32'], itrRlocs: [src], sourceEid: '10.2.0.7' });
  return [
    { bytes: mapRegister({ nonce: n(1), records: [rec], keyId: 1, key: 'k', wantMapNotify: true }), dport: 4342, type: 'map-register', nonce: hex(n(1)) },
    { bytes: mapNotify({ nonce: n(1), records: [rec], keyId: 1, key: 'k' }), dport: 4342, type: 'map-notify', nonce: hex(n(1)) },
    { bytes: encodeControl(req), dport: 4342, type: 'map-request', nonce: hex(n(2)) },
    { bytes: encodeControl(ecm({ inner: { src, dst: '10.1.0.5', sport: 4342 }, message: req })), dport: 4342, type: 'ecm' },
    { bytes: encodeControl(mapReply({ nonce: n(2), records: [rec] })), dport: 4342, type: 'map-reply', nonce: hex(n(2)) },
    { bytes: encodeControl(negativeMapReply({ nonce: n(3), eid: '10.3.0.0/16', action: 1 })), dport: 4342, type: 'map-reply', nonce: hex(n(3)) },
    { bytes: infoRequest({ nonce: n(4), eid: '10.1.0.5/32', keyId: 1, key: 'k' }), dport: 4342, type: 'info-request', nonce: hex(n(4)) },
    {
      bytes: encodeControl(mapReferral({ nonce: n(5), records: [referralRecord({ eid: '10.0.0.0/8', action: 0, referrals: [{ rloc: '192.0.2.1' }] })] })),
      dport: 4342,
      type: 'map-referral',
      nonce: hex(n(5)),
    },
    {
      bytes: dataPacket({ src, dst: src, nonce: 0x123, inner: { src: '10.2.0.7', dst: '10.1.0.5', proto: 'icmp-echo-request' } }).subarray(28),
      dport: 4341,
      type: 'data',
    },
  ];
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for captured packets');
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---- everywhere ------------------------------------------------------------------------------

describe('FrameQueue', () => {
  const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);

  it('hands frames back in order with their times, and counts what does not fit', () => {
    const q = new FrameQueue(3, 100);
    expect(q.push(bytes(10, 1), 10, 5, 1)).toBe(true);
    expect(q.push(bytes(20, 2), 15, 6, 2)).toBe(true); // only the first 15 bytes
    expect(q.push(bytes(10, 3), 10, 7, 3)).toBe(true);
    expect(q.push(bytes(10, 4), 10, 8, 4)).toBe(false); // 3 frames at most
    expect(q.drops).toBe(1);
    const seen: [number, number, number, number][] = [];
    while (q.shift((d, s, u) => seen.push([d.length, d[0]!, s, u]))) {
      /* drain */
    }
    expect(seen).toEqual([
      [10, 1, 5, 1],
      [15, 2, 6, 2],
      [10, 3, 7, 3],
    ]);
    expect(q.push(bytes(100, 9), 100, 0, 0)).toBe(false); // larger than the byte ring can hold
    expect(q.drops).toBe(2);
  });

  it('behaves as a bounded FIFO under any sequence of pushes and shifts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 70 }).map((n) => ({ push: n })), fc.constant({ shift: true as const })), { maxLength: 300 }),
        (ops) => {
          const q = new FrameQueue(8, 200);
          const model: number[][] = [];
          let drops = 0;
          let tag = 0;
          for (const op of ops) {
            if ('push' in op) {
              tag = (tag + 1) & 0xff;
              const ok = q.push(bytes(op.push, tag), op.push, tag, tag);
              if (ok) model.push([op.push, tag]);
              else drops++;
              // Refused only when full: too many frames, or no contiguous room at either end.
              if (!ok && model.length < 8 && op.push <= 40 && model.reduce((s, m) => s + Math.max(m[0]!, 1), 0) + op.push <= 100) return false;
            } else {
              const got = q.shift((d, s) => [d.length, s, d.every((b) => b === s) ? 1 : 0]);
              const want = model.shift();
              if (!want) {
                if (got) return false;
              } else if (!got || got.value[0] !== want[0] || got.value[1] !== want[1] || got.value[2] !== 1) return false;
            }
            if (q.length !== model.length) return false;
            if (q.bytesQueued !== model.reduce((n, m) => n + m[0]!, 0)) return false;
          }
          return q.drops === drops;
        },
      ),
    );
  });

  it('stays empty when the callback of shift clears it', () => {
    const q = new FrameQueue(4, 100);
    q.push(bytes(5, 1), 5, 0, 0);
    q.push(bytes(5, 2), 5, 0, 0);
    q.shift(() => q.clear());
    expect(q.length).toBe(0);
    expect(q.push(bytes(5, 3), 5, 0, 0)).toBe(true);
    expect(q.length).toBe(1);
  });
});

describe('holding the capture', () => {
  /** A binding that captures nothing by itself: the test hands it packets and sees what it is told. */
  function fakeBinding() {
    const told: boolean[] = [];
    let onPacket: ((data: Uint8Array, tsSec: number, tsNsec: number, origLen: number) => void) | undefined;
    const pcap: Libpcap = {
      binding: 'native',
      devices: () => [{ name: 'fake0', addresses: [], loopback: false }],
      open: (_iface, _filter, opts) => {
        onPacket = opts.onPacket;
        const hold = (held: boolean) => {
          told.push(held);
          if (!held) letGo();
        };
        return { linkType: 1, snaplen: 65535, kernelTimes: true, originalLengths: true, stats: () => undefined, send: () => {}, hold, close: () => {} };
      },
    };
    let letGo = () => {};
    return { pcap, told, packet: (v: number) => onPacket!(new Uint8Array(10).fill(v), v, 0, 10), onLetGo: (f: () => void) => (letGo = f) };
  }

  it('holds the binding once the queue is a quarter full, and lets it go once drained, losing nothing', async () => {
    const b = fakeBinding();
    const c = LiveCapture.open({ iface: 'fake0', filter: '', pcap: b.pcap, queueFrames: 16, queueBytes: 4096 });
    for (let v = 1; v <= 3; v++) b.packet(v);
    expect(b.told).toEqual([]);
    b.packet(4); // 4 of 16 frames
    expect(b.told).toEqual([true]);
    b.packet(5); // what the binding had already taken still comes, and is queued
    expect(b.told).toEqual([true]);
    const seen: number[] = [];
    c.start({ frame: (f: Frame) => (seen.push(f.data[0]!), true), warning: () => {} });
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(b.told).toEqual([true, false]);
    expect(c.stats().queueDrops).toBe(0);
    await c.stop();
  });

  it('takes what waited in the kernel when it stops, even past what the queue holds', async () => {
    const b = fakeBinding();
    const c = LiveCapture.open({ iface: 'fake0', filter: '', pcap: b.pcap, queueFrames: 8, queueBytes: 4096 });
    for (let v = 1; v <= 2; v++) b.packet(v);
    expect(b.told).toEqual([true]);
    // Letting go hands over at once what the kernel kept: 7 more, the queue takes 6 and counts 1.
    b.onLetGo(() => {
      for (let v = 3; v <= 9; v++) b.packet(v);
    });
    const seen: number[] = [];
    c.start({ frame: (f: Frame) => (seen.push(f.data[0]!), true), warning: () => {} });
    await c.stop();
    expect(b.told).toEqual([true, false]);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(c.stats().queueDrops).toBe(1);
  });

  it('holds it by bytes too: a few large frames fill the queue as much as many small ones', () => {
    const b = fakeBinding();
    const c = LiveCapture.open({ iface: 'fake0', filter: '', pcap: b.pcap, queueFrames: 1000, queueBytes: 40 });
    b.packet(1);
    expect(b.told).toEqual([true]); // 10 of 40 bytes
    void c.stop(false);
  });
});

describe('capture helpers', () => {
  it('gives the loopback a large ring only through cap, whose ring has a 64 KiB slot a packet there', () => {
    const MiB = 1024 * 1024;
    expect(defaultBufferSize('lo', true, 'cap')).toBe(128 * MiB);
    expect(defaultBufferSize('any', false, 'cap')).toBe(128 * MiB);
    expect(defaultBufferSize('eth0', false, 'cap')).toBe(32 * MiB);
    // Our binding packs packets into TPACKET_V3 blocks: 32 MiB holds tens of thousands of LISP packets on lo.
    for (const [iface, loopback] of [['lo', true], ['any', false], ['eth0', false]] as const) expect(defaultBufferSize(iface, loopback, 'native')).toBe(32 * MiB);
  });

  it('builds the default capture filter from the LISP ports and --decode-as', () => {
    const ports = (f: string) => [...f.matchAll(/udp port (\d+)/g)].map((m) => Number(m[1]));
    expect(ports(defaultFilter())).toEqual([4341, 4342, 4789]);
    expect(ports(defaultFilter({ control: new Set([5000]), data: new Set([4341, 8472]) }))).toEqual([4341, 4342, 4789, 5000, 8472]);
    expect(defaultFilter()).toContain('tcp port 4342');
  });

  // What the default filter lets through, judged by libpcap itself on hand-made raw IPv4/IPv6
  // packets: what a file read decodes by default must not be lost live.
  it.skipIf(!nativeBinding)('lets through LISP, VXLAN, the ICMP errors quoting them and later fragments, and nothing else', () => {
    const f = OfflineFilter.open(defaultFilter());
    const v4 = (proto: number, l4: number[], fragOffset = 0) =>
      [0x45, 0, 0, 20 + l4.length, 0, 1, fragOffset >> 8, fragOffset & 0xff, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, ...l4];
    const v6 = (next: number, l4: number[]) => [0x60, 0, 0, 0, 0, l4.length, next, 64, ...new Array(15).fill(0), 1, ...new Array(15).fill(0), 2, ...l4];
    const udp = (sport: number, dport: number) => [sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, 0, 12, 0, 0, 0, 0, 0, 0];
    const icmp = (type: number, code: number) => [type, code, 0, 0, 0, 0, 0, 0];
    const passes = (linkType: number, bytes: number[]) => f.matches({ index: 1, tsSec: 0, tsNsec: 0, linkType, data: Uint8Array.from(bytes), len: bytes.length, interfaceId: 0 });
    const IPV4 = 228;
    const IPV6 = 229;
    expect(passes(IPV4, v4(17, udp(40000, 4342)))).toBe(true);
    expect(passes(IPV4, v4(17, udp(4341, 4341)))).toBe(true);
    expect(passes(IPV4, v4(17, udp(40000, 4789)))).toBe(true);
    expect(passes(IPV4, v4(6, [0x10, 0xf6, 0x9c, 0x40, ...new Array(16).fill(0)]))).toBe(true); // TCP 4342
    expect(passes(IPV4, v4(1, icmp(3, 3)))).toBe(true); // port unreachable
    expect(passes(IPV4, v4(1, icmp(11, 0)))).toBe(true); // TTL exceeded
    expect(passes(IPV4, v4(17, [1, 2, 3, 4], 185))).toBe(true); // a later fragment, no UDP header
    expect(passes(IPV6, v6(58, icmp(2, 0)))).toBe(true); // Packet Too Big
    expect(passes(IPV6, v6(58, icmp(1, 4)))).toBe(true);
    expect(passes(IPV6, v6(44, [17, 0, 0, 8, 0, 0, 0, 1]))).toBe(true);
    expect(passes(IPV6, v6(17, udp(4342, 50000)))).toBe(true);
    // Not LISP: DNS, pings, ICMPv6 neighbour discovery, a first fragment of something else.
    expect(passes(IPV4, v4(17, udp(40000, 53)))).toBe(false);
    expect(passes(IPV4, v4(1, icmp(8, 0)))).toBe(false);
    expect(passes(IPV6, v6(58, icmp(135, 0)))).toBe(false);
    expect(passes(IPV4, v4(17, udp(40000, 53), 0x2000))).toBe(false);
  });

  it("maps cap's link types to LINKTYPE values", () => {
    expect(capLinkType('ETHERNET')).toBe(1);
    expect(capLinkType('LINKTYPE_LINUX_SLL')).toBe(113);
    expect(capLinkType('RAW')).toBe(101);
    expect(capLinkType('NULL')).toBe(0);
    expect(capLinkType('Unknown linktype 276')).toBe(276);
    expect(capLinkType('Unknown linktype 12')).toBe(101);
    expect(() => capLinkType('WHATEVER')).toThrow(LiveCaptureError);
  });

  it('says in one line what to do when cap is not there', () => {
    let err: unknown;
    try {
      loadCap('/nonexistent/cap-module');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LiveCaptureError);
    const e = err as LiveCaptureError;
    expect(e.reason).toBe('cap-missing');
    expect(e.message).not.toContain('\n');
    expect(e.message).toMatch(/not installed.*libpcap-dev.*npm install/);
  });
});

// ---- on the loopback --------------------------------------------------------------------------

live.each(bindings)('live capture on lo through $name', ({ name, pcap }) => {
  const open: LiveCapture[] = [];
  afterAll(async () => {
    for (const c of open) await c.stop(false);
  });

  function capture(iface: string, filter: string, opts: { queueFrames?: number; bufferSize?: number } = {}) {
    const c = LiveCapture.open({ iface, filter, pcap, ...opts });
    open.push(c);
    return c;
  }

  it('captures and decodes every LISP message sent over UDP, with real times, in order', async () => {
    const net = testNet();
    const sent = lispMessages(net.a, 7);
    const c = capture('lo', `udp and host ${net.b}`);
    expect(c.linkType).toBe(1);
    const decoder = new PacketDecoder({});
    const got: { frame: Frame; json: Record<string, unknown> }[] = [];
    c.start({
      frame: (f) => {
        const p = decoder.decode(f);
        got.push({ frame: { ...f, data: f.data.slice() }, json: p ? packetJson(p) : {} });
      },
      warning: () => {},
    });
    const before = Date.now() / 1000;
    await sendAll(net.a, net.b, sent);
    await until(() => got.length >= sent.length);
    const after = Date.now() / 1000;
    await c.stop();
    expect(got.map((g) => g.json.type)).toEqual(sent.map((m) => m.type));
    got.forEach((g, i) => {
      const m = sent[i]!;
      expect(g.json).toMatchObject({ frame: i + 1, src: net.a, dst: net.b, dport: m.dport });
      if (m.nonce) expect(g.json.nonce).toBe(m.nonce);
      expect(g.json.malformed).toBeUndefined();
      expect(g.frame.len).toBe(14 + 20 + 8 + m.bytes.length);
      // cap stamps in microseconds when it hands the packet over; ours has the kernel's nanoseconds.
      if (name === 'cap') expect(g.frame.tsNsec % 1000).toBe(0);
      const ts = g.frame.tsSec + g.frame.tsNsec / 1e9;
      expect(ts).toBeGreaterThanOrEqual(before - 0.002);
      expect(ts).toBeLessThanOrEqual(after + 0.002);
      if (i > 0) expect(ts).toBeGreaterThanOrEqual(got[i - 1]!.frame.tsSec + got[i - 1]!.frame.tsNsec / 1e9);
    });
    expect(c.stats()).toMatchObject({ received: sent.length, delivered: sent.length, queued: 0, queueDrops: 0, kernelDrops: name === 'cap' ? undefined : 0 });
    expect(c.kernelTimes).toBe(name === 'native');
  });

  it('captures on "any" as Linux cooked frames', async () => {
    const net = testNet();
    const sent = lispMessages(net.a, 8).slice(0, 3);
    const c = capture('any', `udp and host ${net.b}`);
    expect(c.linkType).toBe(113);
    const decoder = new PacketDecoder({});
    const types: unknown[] = [];
    c.start({ frame: (f) => void types.push(packetJson(decoder.decode(f)!).type), warning: () => {} });
    await sendAll(net.a, net.b, sent);
    await until(() => types.length >= sent.length);
    await c.stop();
    expect(types).toEqual(sent.map((m) => m.type));
  });

  it('counts the frames a full queue refused, and hands over the rest', async () => {
    const net = testNet();
    const sent = lispMessages(net.a, 9);
    const c = capture('lo', `udp and host ${net.b}`, { queueFrames: 4 });
    const seen: number[] = [];
    c.start({ frame: (f) => void seen.push(f.index), warning: () => {} });
    c.pause(); // decoding stalls: frames pile up in the queue
    await sendAll(net.a, net.b, sent);
    // Our binding is held once the queue is a quarter full, and the rest waits in the kernel's ring
    // (it counts them as they arrive); cap hands everything over and the queue refuses the rest.
    await until(() => (c.stats().kernelReceived ?? c.stats().received) >= sent.length);
    await new Promise((r) => setTimeout(r, 50)); // the kernel hands over a block 10 ms after its first packet at the latest
    const held = c.stats();
    expect(held.delivered).toBe(0);
    expect(held.queued).toBeGreaterThan(0);
    expect(held.queued).toBeLessThanOrEqual(4);
    // Stopping takes what waited in the kernel: the queue refuses what does not fit, and counts it.
    c.resume();
    await c.stop();
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(c.stats()).toMatchObject({ delivered: 4, queueDrops: sent.length - 4 });
  });

  it('stops when the sink says so, without handing over what was still queued', async () => {
    const net = testNet();
    const sent = lispMessages(net.a, 10);
    const c = capture('lo', `udp and host ${net.b}`);
    const seen: number[] = [];
    c.pause();
    c.start({ frame: (f) => (seen.push(f.index), seen.length < 2), warning: () => {} });
    await sendAll(net.a, net.b, sent);
    await until(() => c.stats().received >= sent.length);
    c.resume();
    await c.done;
    expect(seen).toEqual([1, 2]);
    expect(c.stopped).toBe(true);
  });

  it('reports a bad interface and a bad filter in one line', () => {
    const bad = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as LiveCaptureError;
      }
      throw new Error('no error');
    };
    const e1 = bad(() => LiveCapture.open({ iface: 'nosuch0', filter: '', pcap }));
    expect(e1.reason).toBe('no-such-device');
    expect(e1.message).toMatch(/^no interface "nosuch0" \(interfaces: .*\blo\b.*\)$/);
    const e2 = bad(() => LiveCapture.open({ iface: 'lo', filter: 'udp prot 4342', pcap }));
    expect(e2.reason).toBe('bad-filter');
    expect(e2.message).toBe('bad BPF filter "udp prot 4342": syntax error');
    expect(listInterfaces(pcap).some((i) => i.name === 'lo' && i.loopback && i.addresses.includes('127.0.0.1'))).toBe(true);
  });

  it('injects frames on lo that a capture sees byte for byte, from a handle of its own or the capture\'s', async () => {
    const net = testNet();
    const frames = [1, 2, 3].map((k) =>
      encodeLink(
        1,
        lispUdpPacket({ src: net.c, dst: net.b, sport: 4342, dport: 4342, payload: mapRequest({ nonce: BigInt(k), eids: ['10.0.0.1/32'], itrRlocs: [net.c] }) }),
      ),
    );
    const c = capture('lo', `udp and host ${net.b}`);
    const got: Uint8Array[] = [];
    c.start({ frame: (f) => void got.push(f.data.slice()), warning: () => {} });
    const inj = openInjector('lo', { pcap });
    expect(inj.linkType).toBe(1);
    inj.send(frames[0]!);
    inj.send(frames[1]!);
    expect(inj.sent).toBe(2);
    inj.close();
    expect(() => inj.send(frames[0]!)).toThrow(/closed/);
    const same = openInjector(c);
    same.send(frames[2]!);
    await until(() => got.length >= 3);
    await c.stop();
    expect(got.map((g) => Buffer.from(g).toString('hex'))).toEqual(frames.map((f) => Buffer.from(f).toString('hex')));
  });

  it('sends a batch of frames in one call (sendmmsg through our binding), each captured byte for byte', async () => {
    const net = testNet();
    const frames = [1, 2, 3, 4, 5].map((k) =>
      encodeLink(1, lispUdpPacket({ src: net.c, dst: net.b, sport: 4342, dport: 4342, payload: mapRequest({ nonce: BigInt(k), eids: ['10.0.0.1/32'], itrRlocs: [net.c] }) })),
    );
    const ends = new Uint32Array(frames.length);
    frames.reduce((n, f, i) => (ends[i] = n + f.length), 0);
    const bytes = new Uint8Array(ends[ends.length - 1]!);
    frames.forEach((f, i) => bytes.set(f, i === 0 ? 0 : ends[i - 1]!));
    const c = capture('lo', `udp and host ${net.b}`);
    const got: Uint8Array[] = [];
    c.start({ frame: (f) => void got.push(f.data.slice()), warning: () => {} });
    const inj = openInjector('lo', { pcap });
    if (name === 'native') expect(() => inj.sendBatch(bytes, Uint32Array.of(60, 30))).toThrow(/lo: cannot send 2 frames: frame ends out of order/);
    expect(inj.sendBatch(bytes, ends)).toBe(5);
    expect(inj.sent).toBe(5);
    inj.close();
    expect(() => inj.sendBatch(bytes, ends)).toThrow(/closed/);
    await until(() => got.length >= 5);
    await c.stop();
    expect(got.map((g) => Buffer.from(g).toString('hex'))).toEqual(frames.map((f) => Buffer.from(f).toString('hex')));
  });

  it('says why a frame cannot be sent on "any"', () => {
    const inj = openInjector('any', { pcap });
    try {
      expect(() => inj.send(new Uint8Array(60))).toThrow(/any: cannot send a 60-byte frame: .*isn't supported/);
    } finally {
      inj.close();
    }
  });
});

/** Sends `count` small UDP datagrams from another process, as fast as it can. */
function flood(from: string, to: string, count: number): Promise<void> {
  const code = `const s=require('dgram').createSocket('udp4');s.on('error',()=>{});s.bind(0,'${from}',async()=>{const b=Buffer.alloc(64);for(let i=0;i<${count};i++){await new Promise(r=>s.send(b,4342,'${to}',r));}s.close();});`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve());
  });
}

describe.skipIf(!bindings.some((b) => b.name === 'native'))('kernel statistics through our binding', () => {
  it('counts what the kernel dropped while the reader was stalled: delivered + dropped covers every packet sent', async () => {
    const net = testNet();
    const pcap = bindings.find((b) => b.name === 'native')!.pcap;
    // A small kernel buffer, and a reader that does not read while another process floods it.
    const c = LiveCapture.open({ iface: 'lo', filter: `udp and dst host ${net.b}`, bufferSize: 256 * 1024, pcap });
    let delivered = 0;
    c.start({ frame: () => void delivered++, warning: () => {} });
    const sent = 20000;
    const done = flood(net.a, net.b, sent);
    // Block this event loop (the capture's poll with it) until the flood has filled the buffer.
    const t0 = Date.now();
    while (Date.now() - t0 < 1500) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    await done;
    await until(() => delivered + (c.stats().kernelDrops ?? 0) >= sent, 5000);
    await c.stop();
    const s = c.stats();
    expect(s.kernelDrops).toBeGreaterThan(0);
    expect(delivered).toBeLessThan(sent);
    expect(delivered + s.kernelDrops!).toBeGreaterThanOrEqual(sent);
    expect(s.queueDrops).toBe(0);
  });

  it('takes each packet on the loopback once: the kernel leaves the sent copy out of its ring', async () => {
    const net = testNet();
    const pcap = bindings.find((b) => b.name === 'native')!.pcap;
    const c = LiveCapture.open({ iface: 'lo', filter: `udp and dst host ${net.b}`, pcap });
    let delivered = 0;
    c.start({ frame: () => void delivered++, warning: () => {} });
    const sent = 500;
    await flood(net.a, net.b, sent);
    await until(() => delivered >= sent);
    await c.stop();
    // The kernel counts what its filter accepted: with the sent copies it would be twice the packets.
    expect(c.stats().kernelReceived).toBe(sent);
    expect(delivered).toBe(sent);
  });
});

describe.skipIf(!bindings.some((b) => b.name === 'cap'))('cap handles', () => {
  it('are never collected once closed: libuv still lists the poll handle inside each', async () => {
    // A Cap that says when it is collected: cap's close() stops its uv poll handle without closing it,
    // so collecting the object that holds it frees memory libuv's list of handles still points into.
    const cap = loadCap();
    const made: WeakRef<object>[] = [];
    class Watched extends cap.Cap {
      constructor() {
        super();
        made.push(new WeakRef(this));
      }
    }
    const pcap = new CapLibpcap({ Cap: Watched });
    for (let i = 0; i < 3; i++) pcap.open('lo', `udp and host ${testNet().b}`, { bufferSize: 1 << 20, onPacket: () => {} }).close();
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // WeakRefs are cleared after the job that collected their target: collect, then look in a later one.
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
    await new Promise((r) => setImmediate(r));
    expect(made).toHaveLength(3);
    expect(made.filter((w) => w.deref() === undefined)).toHaveLength(0);
  });
});
