// Cross-checks against Wireshark's and tcpdump's own readers and writers: files our writer makes
// must read the same in tshark/capinfos, files their tools make must read the same in ours.
// The tests of each group run side by side (each on files of its own): tshark's start-up is most of
// their cost, and the tools run beside each other on every core.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture } from '../../src/capture/source.js';
import type { Frame } from '../../src/capture/types.js';
import {
  writePcap,
  writePcapng,
  writePcapngSections,
  PcapngFileWriter,
  type CapturePacket,
  type PcapngBlock,
  type PcapngSection,
  type PcapWriteOptions,
} from '../../src/capture/writer.js';
import { encodeLink } from '../../src/dissect/link.js';
import { encodeIpUdp } from '../../src/dissect/ip.js';
import { collect, copyFrame, rng, runAsync, toolsOrSkip } from './helpers.js';

const ok = toolsOrSkip('tshark', 'capinfos', 'editcap', 'mergecap', 'tcpdump');
const CAPTURES = join(import.meta.dirname, '../../../shared/captures');
/** Side by side under a loaded machine's share of two cores, a test's tshark runs can take a while. */
const TOOLS_TIMEOUT = 120_000;

/** Wireshark's WTAP encapsulation short names for the LINKTYPEs we write. */
const WTAP_NAME: Record<number, string> = {
  0: 'null',
  1: 'ether',
  12: 'rawip',
  14: 'rawip',
  101: 'rawip',
  108: 'loop',
  113: 'linux-sll',
  228: 'rawip4',
  229: 'rawip6',
  276: 'linux-sll2',
};

interface TsharkFrame {
  index: number;
  time: string;
  len: number;
  caplen: number;
  interfaceId: number;
}

async function tsharkFrames(file: string): Promise<TsharkFrame[]> {
  const out = await runAsync('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.interface_id']);
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [n, t, len, cap, ifid] = l.split('\t');
      return { index: Number(n), time: t!, len: Number(len), caplen: Number(cap), interfaceId: Number(ifid || 0) };
    });
}

/** capinfos' per-interface encapsulation names, in interface order. */
async function capinfosEncaps(file: string): Promise<string[]> {
  const out = await runAsync('capinfos', ['-M', file]);
  // capinfos repeats the list once per section: take the first one.
  const n = Number(/Number of interfaces in file: (\d+)/.exec(out)?.[1] ?? 0);
  return [...out.matchAll(/Encapsulation = .*\(\d+ - ([\w-]+)\)/g)].slice(0, n).map((m) => m[1]!);
}

const time = (f: Pick<Frame, 'tsSec' | 'tsNsec'>): string => `${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}`;

function ours(file: string): Frame[] {
  return collect(readFileSync(file)).frames;
}

/**
 * Our frames equal tshark's. tshark also numbers `numberedRecords` non-packet records (custom
 * blocks, ...) that we count but do not deliver; it shows no time for SPBs, which we give as 0.
 */
async function expectSame(file: string, fcsBytes = 0, numberedRecords = 0): Promise<Frame[]> {
  const mine = ours(file);
  const indices = new Set(mine.map((f) => f.index));
  const all = await tsharkFrames(file);
  const theirs = all.filter((t) => indices.has(t.index)).map((t) => ({ ...t, time: t.time || '0.000000000' }));
  expect(all.length).toBe(mine.length + numberedRecords);
  expect(mine.map((f) => ({ index: f.index, time: time(f), len: f.len + fcsBytes, caplen: f.data.length + fcsBytes, interfaceId: f.interfaceId }))).toEqual(
    theirs,
  );
  return mine;
}

function lispPacket(r: () => number, i: number, v6 = false): Uint8Array {
  const payload = new Uint8Array(12 + (i % 50));
  payload[0] = 0x10;
  for (let k = 4; k < payload.length; k++) payload[k] = Math.floor(r() * 256);
  return v6
    ? encodeIpUdp({ src: '2001:db8::1', dst: '2001:db8::2', sport: 4342, dport: 4342 }, payload)
    : encodeIpUdp({ src: '192.0.2.1', dst: '192.0.2.2', sport: 4342, dport: 4342, id: i }, payload);
}

/** Packets whose random payloads depend on the arguments only (the tests run in no fixed order). */
function packets(n: number, linkType = 1, base = 1_700_000_000): CapturePacket[] {
  const r = rng(5 + n * 1000 + linkType + base);
  return Array.from({ length: n }, (_, i) => ({
    tsSec: base + i * 3,
    tsNsec: (i * 123_456_791) % 1_000_000_000,
    data: encodeLink(linkType, lispPacket(r, i, linkType === 229)),
  }));
}

describe.runIf(ok).concurrent('tshark and capinfos read what we write', { timeout: TOOLS_TIMEOUT }, () => {
  let dir: string;
  const path = (n: string): string => join(dir, n);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lispscope-oracle-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const pcapVariants: [string, PcapWriteOptions][] = [
    ['us-le', {}],
    ['us-be', { endian: 'be' }],
    ['ns-le', { precision: 'ns' }],
    ['ns-be', { endian: 'be', precision: 'ns' }],
    ['modified', { modified: true }],
    ['modified-be', { modified: true, endian: 'be' }],
    ['snaplen-40', { snaplen: 40 }],
  ];
  for (const [name, opts] of pcapVariants) {
    it(`pcap ${name}`, async ({ expect }) => {
      const f = path(`${name}.pcap`);
      writeFileSync(f, writePcap(packets(25), opts));
      expect(await expectSame(f)).toHaveLength(25);
      expect(await capinfosEncaps(f)).toEqual(['ether']);
    });
  }

  it('pcap with every link type', async ({ expect }) => {
    await Promise.all(
      Object.keys(WTAP_NAME)
        .map(Number)
        .map(async (lt) => {
          const f = path(`lt-${lt}.pcap`);
          writeFileSync(f, writePcap(packets(3, lt), { linkType: lt, precision: 'ns' }));
          await expectSame(f);
          expect(await capinfosEncaps(f)).toEqual([WTAP_NAME[lt]]);
          // tshark finds the IP packet inside each framing.
          const src = (await runAsync('tshark', ['-n', '-r', f, '-T', 'fields', '-e', 'ip.src', '-e', 'ipv6.src'])).trim().split('\n');
          expect(src.map((l) => l.trim())).toEqual(Array(3).fill(lt === 229 ? '2001:db8::1' : '192.0.2.1'));
        }),
    );
  });

  it('pcap with a declared FCS (tshark counts the FCS in the lengths, we strip it)', async ({ expect }) => {
    const f = path('fcs.pcap');
    writeFileSync(
      f,
      writePcap(
        packets(4).map((p) => ({ ...p, data: Uint8Array.from([...p.data, 0xde, 0xad, 0xbe, 0xef]) })),
        { fcsLen: 4 },
      ),
    );
    await expectSame(f, 4);
    expect((await runAsync('tshark', ['-r', f, '-T', 'fields', '-e', 'eth.fcs'])).trim().split('\n')).toEqual(Array(4).fill('0xdeadbeef'));
  });

  for (const endian of ['le', 'be'] as const) {
    it(`pcapng ${endian}: several sections, IDB options, every packet block kind, skipped blocks`, async ({ expect }) => {
      const lts = Object.keys(WTAP_NAME).map(Number);
      const tsresols = [6, 9, 3, 0x80 | 20, 0x80 | 30, 0x80 | 32, 0, 10, 7, 1];
      const sections: PcapngSection[] = [
        {
          endian,
          interfaces: lts.map((linkType, i) => ({ linkType, tsresol: tsresols[i]!, name: `if${i}` })),
          blocks: [
            { type: 'nrb', records: [{ ip: '192.0.2.1', names: ['xtr.example'] }] },
            ...lts.map((lt, i) => ({ ...packets(1, lt, 1_700_000_000 + i)[0]!, interfaceId: i })),
            { type: 'isb', interfaceId: 0, tsSec: 1_700_000_100, tsNsec: 0, received: 10n, dropped: 0n },
            { type: 'custom', pen: 32473, data: Uint8Array.of(1, 2, 3) },
          ],
        },
        {
          endian: endian === 'le' ? 'be' : 'le',
          interfaces: [{ linkType: 101, snaplen: 60, tsoffset: 1_000_000_000 }, { linkType: 1, tsresol: 9, tsoffset: -100 }],
          blocks: [
            { type: 'spb', packet: packets(1, 101)[0]! },
            { type: 'pb', packet: { ...packets(1, 1)[0]!, interfaceId: 1 } },
            { type: 'epb', packet: { ...packets(1, 101)[0]!, tsSec: 1_500_000_000 } },
            { ...packets(1, 1, 1_600_000_000)[0]!, interfaceId: 1 },
          ],
        },
      ];
      const f = path(`multi-${endian}.pcapng`);
      writeFileSync(f, writePcapngSections(sections));
      const mine = await expectSame(f, 0, 1);
      expect(mine).toHaveLength(lts.length + 4);
      // capinfos lists the interfaces of both sections in order.
      expect(await capinfosEncaps(f)).toEqual([...lts.map((lt) => WTAP_NAME[lt]!), 'rawip', 'ether']);
    });
  }

  it('non-packet records that tshark numbers keep our frame numbers aligned', async ({ expect }) => {
    const raw = (blockType: number): PcapngBlock => ({ type: 'raw', blockType, body: new Uint8Array(64) });
    const ps = packets(4);
    const f = path('records.pcapng');
    writeFileSync(
      f,
      writePcapngSections([
        { blocks: [ps[0]!, { type: 'custom', pen: 32473, data: Uint8Array.of(1, 2, 3) }, raw(0x204), ps[1]!, raw(0x216), ps[2]!, raw(0x221), raw(0x208), ps[3]!] },
      ]),
    );
    expect((await expectSame(f, 0, 4)).map((fr) => fr.index)).toEqual([1, 4, 6, 8]);
  });

  it('pcapng from the streaming writer', async ({ expect }) => {
    const f = path('stream.pcapng');
    const w = new PcapngFileWriter(f, { interfaces: [{ linkType: 1 }, { linkType: 113, tsresol: 9 }] });
    for (const p of packets(10)) w.write(p);
    for (const p of packets(5, 113)) w.write({ ...p, interfaceId: 1 });
    w.newSection({ endian: 'be', linkType: 229 });
    for (const p of packets(5, 229)) w.write(p);
    w.close();
    expect(await expectSame(f)).toHaveLength(20);
    expect(await capinfosEncaps(f)).toEqual(['ether', 'linux-sll', 'rawip6']);
  });
});

describe.runIf(ok).concurrent('we read what editcap, mergecap and tcpdump write', { timeout: TOOLS_TIMEOUT }, () => {
  let dir: string;
  const path = (n: string): string => join(dir, n);
  const src = packets(40);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lispscope-tools-'));
    writeFileSync(path('src.pcap'), writePcap(src, { precision: 'ns' }));
    writeFileSync(path('sll.pcap'), writePcap(packets(10, 113, 1_700_000_001), { linkType: 113 }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['pcapng', 'ns'],
    ['pcap', 'us'],
    ['nsecpcap', 'ns'],
    ['modpcap', 'us'],
  ])('editcap -F %s', async (format, precision) => {
    const out = path(`out.${format}`);
    await runAsync('editcap', ['-F', format, path('src.pcap'), out]);
    const mine = await expectSame(out);
    expect(mine).toHaveLength(40);
    mine.forEach((f, i) => {
      expect(Array.from(f.data)).toEqual(Array.from(src[i]!.data));
      const ns = src[i]!.tsNsec;
      expect(f.tsNsec).toBe(precision === 'ns' ? ns : Math.floor(ns / 1000) * 1000);
    });
  });

  it('editcap -s (snaplen) and -C (chop) output', async ({ expect }) => {
    await runAsync('editcap', ['-F', 'pcapng', '-s', '50', path('src.pcap'), path('snap.pcapng')]);
    const mine = await expectSame(path('snap.pcapng'));
    expect(mine.every((f) => f.data.length <= 50 && f.len > 50)).toBe(true);
  });

  it('mergecap of two link types into one pcapng with two interfaces', async ({ expect }) => {
    await runAsync('mergecap', ['-F', 'pcapng', '-w', path('merged.pcapng'), path('src.pcap'), path('sll.pcap')]);
    const mine = await expectSame(path('merged.pcapng'));
    expect(mine).toHaveLength(50);
    expect(new Set(mine.map((f) => `${f.interfaceId}:${f.linkType}`))).toEqual(new Set(['0:1', '1:113']));
  });

  it('tcpdump -w rewrites, µs and ns', async ({ expect }) => {
    await runAsync('tcpdump', ['-r', path('src.pcap'), '-w', path('td.pcap')]);
    await runAsync('tcpdump', ['--time-stamp-precision=nano', '-r', path('src.pcap'), '-w', path('td-ns.pcap')]);
    expect(await expectSame(path('td.pcap'))).toHaveLength(40);
    const ns = await expectSame(path('td-ns.pcap'));
    expect(ns.map((f) => f.tsNsec)).toEqual(src.map((p) => p.tsNsec));
  });

  it('a gzip-compressed editcap pcapng is read by readCapture', async ({ expect }) => {
    // Not out.pcapng: `editcap -F pcapng` above writes that one, at the same time.
    const out = path('gz.pcapng.gz');
    await runAsync('editcap', ['-F', 'pcapng', path('src.pcap'), path('gz.pcapng')]);
    await runAsync('gzip', ['-9', path('gz.pcapng')]);
    expect(readFileSync(out).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const frames: Frame[] = [];
    const res = await readCapture(out, { frame: (f) => void frames.push(copyFrame(f)), warning: (m) => expect.fail(m) });
    expect(res.format).toBe('pcapng');
    expect(frames.map(time)).toEqual((await tsharkFrames(out)).map((t) => t.time));
  });
});

describe.runIf(ok).concurrent('real captures match tshark', { timeout: TOOLS_TIMEOUT }, () => {
  const files = readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap'));
  it('finds the shared captures', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });
  for (const name of files) {
    it(name, async ({ expect }) => {
      const file = join(CAPTURES, name);
      const frames: Frame[] = [];
      const warnings: string[] = [];
      const res = await readCapture(file, { frame: (f) => void frames.push(copyFrame(f)), warning: (m) => void warnings.push(m) });
      expect(warnings).toEqual([]);
      expect(res.frames).toBe(frames.length);
      expect(frames.map((f) => ({ index: f.index, time: time(f), len: f.len, caplen: f.data.length, interfaceId: f.interfaceId }))).toEqual(
        await tsharkFrames(file),
      );
      expect(frames.every((f) => f.linkType === 1)).toBe(true);
    });
  }

  it('one of them is nanosecond pcap', () => {
    const ns = files.filter((f) => readFileSync(join(CAPTURES, f)).subarray(0, 4).equals(Buffer.from([0x4d, 0x3c, 0xb2, 0xa1])));
    expect(ns.length).toBeGreaterThan(0);
    for (const f of ns) expect(ours(join(CAPTURES, f)).some((fr) => fr.tsNsec % 1000 !== 0)).toBe(true);
  });
});

describe.runIf(ok).concurrent('pcapng: default writer output', { timeout: TOOLS_TIMEOUT }, () => {
  it('writePcapng defaults to little-endian µs with one EN10MB interface', async ({ expect }) => {
    const dir = mkdtempSync(join(tmpdir(), 'lispscope-default-'));
    try {
      const f = join(dir, 'd.pcapng');
      writeFileSync(f, writePcapng(packets(3)));
      expect(readFileSync(f).subarray(8, 12)).toEqual(Buffer.from([0x4d, 0x3c, 0x2b, 0x1a]));
      expect(await runAsync('capinfos', ['-M', f])).toMatch(/Time precision = microseconds \(6\)/);
      await expectSame(f);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
