// A packet the UI decodes on demand must be what `lispscope read --all --json` prints for its frame,
// also when its decoding depends on earlier frames: the frame that completes an IP-fragmented
// datagram, every segment of a Map-Server reliable-transport (TCP 4342) connection. The reference
// is `read`'s own path: one decoder over the file in order, packetJson of each packet; the detail
// tree (with its byte ranges, which the hex pane highlights) and the packet line are compared too.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { PacketDecoder, type LispPacket, type PacketDecoderOptions } from '../../src/capture/packets.js';
import { readCapture } from '../../src/capture/source.js';
import type { Frame } from '../../src/capture/types.js';
import { packetJsonText } from '../../src/output/json.js';
import { packetLine } from '../../src/output/line.js';
import { packetTree } from '../../src/output/packet-tree.js';
import { PLAIN } from '../../src/output/style.js';
import { FileSource } from '../../src/tui/file-source.js';
import { ALL, FrameContext, NONE } from '../../src/tui/frame-context.js';
import type { DataSource } from '../../src/tui/source.js';
import { PCAPS, SHARED } from '../cli/run.js';
import { writeContextCapture, writeLongConnection } from './context-capture.js';
import { StepSource, until } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-tui-ondemand-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CONTEXT = join(tmp, 'context.pcap');
const { frames: FRAMES, marks: MARKS } = writeContextCapture(CONTEXT);
// Gzipped, the index reads the frames back from its spool file.
const GZIPPED = join(tmp, 'context.pcap.gz');
writeFileSync(GZIPPED, gzipSync(readFileSync(CONTEXT)));

// The fixtures with IP fragments or the reliable transport (pcaps/README.md), a real Cisco
// reliable-transport capture, one whose frame numbers skip, and ours.
const CAPTURES = [
  join(PCAPS, 'ip-fragments.pcap'),
  join(PCAPS, 'reliable-tcp.pcap'),
  join(PCAPS, 'reliable-registrations.pcap'),
  join(SHARED, 'ndpi__lisp_registration.pcap'),
  // pcapng numbers custom blocks as frames (as Wireshark does): frames 1, 3, 5.
  join(PCAPS, 'format-pcapng-blocks.pcapng'),
  CONTEXT,
  GZIPPED,
];

type Options = Omit<PacketDecoderOptions, 'warning' | 'all'>;

/** What the UI shows of a packet: read's JSON, the packet list's line, the detail tree with its ranges. */
function shown(p: LispPacket, bytes: Uint8Array): string[] {
  return [packetJsonText(p), packetLine(p, { style: PLAIN }), JSON.stringify(packetTree(p, bytes))];
}

/** `read --all --json`: every frame, one decoder in file order. */
async function reference(file: string, opts: Options = {}): Promise<{ frames: Frame[]; shown: Map<number, string[]> }> {
  const d = new PacketDecoder({ ...opts, all: true });
  const frames: Frame[] = [];
  const out = new Map<number, string[]>();
  await readCapture(file, {
    frame: (f) => {
      const copy = { ...f, data: f.data.slice() };
      frames.push(copy);
      const p = d.decode(copy);
      if (p) out.set(f.index, shown(p, copy.data));
    },
    warning: () => undefined,
  });
  return { frames, shown: out };
}

/** Packets `seqs` of the source, in that order, set against the reference; returns the frames that differ. */
function differing(s: DataSource, seqs: number[], ref: Map<number, string[]>): { frame: number; ui: string; read: string }[] {
  const bad: { frame: number; ui: string; read: string }[] = [];
  for (const seq of seqs) {
    const v = s.packet(seq);
    const frame = v?.ref.frame ?? s.packetRef(seq)!.ref.frame;
    const ui = v ? shown(v.packet, v.bytes) : ['(nothing)'];
    const read = ref.get(frame) ?? ['(nothing)'];
    for (let k = 0; k < read.length; k++) if (ui[k] !== read[k]) bad.push({ frame, ui: ui[k]!, read: read[k]! });
  }
  return bad;
}

/** 0..n-1 in a shuffled order that is the same on every run. */
function shuffled(n: number): number[] {
  const a = [...Array(n).keys()];
  let x = 12345;
  for (let i = n - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const j = x % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

describe('packets decoded on demand are what read decodes in order', () => {
  it('the test capture has what it is for', async () => {
    const { shown: ref } = await reference(CONTEXT);
    expect(ref.size).toBe(FRAMES);
    const all = [...ref.values()].map((x) => x[0]!).join('\n');
    // A reassembled TCP segment, a retransmission, an early segment, what a SYN and an RST ended.
    expect(all).toMatch(/"transport":"tcp".*"fragments":\[/);
    expect(all).toContain('retransmission');
    expect(all).toContain('early: held');
    expect(all).toContain('was reset (RST)');
    expect(all).toContain('replaced by a new connection (SYN)');
  });

  for (const file of CAPTURES) {
    it(`file source: ${file.slice(file.lastIndexOf('/') + 1)}, in any order`, async () => {
      const { shown: ref } = await reference(file);
      const s = new FileSource([file]);
      await s.start();
      try {
        // Before the analysis has seen the frames, too: on-demand decoding must not need it.
        const { end } = s.packetRange();
        expect(differing(s, [...Array(end).keys()].reverse(), ref)).toEqual([]);
        await until(s, () => s.status().state === 'done');
        expect(s.packetRange().end).toBe(ref.size);
        const n = s.packetRange().end;
        expect(differing(s, [...Array(n).keys()], ref)).toEqual([]);
        // A fresh source (nothing cached, no decoder left where an earlier frame put it) in a shuffled order.
        const t = new FileSource([file]);
        await t.start();
        await until(t, () => t.status().state === 'done');
        expect(differing(t, shuffled(n), ref)).toEqual([]);
        await t.stop();
      } finally {
        await s.stop();
      }
    });
  }

  it('file source: with the reassembly bounds reached (connections evicted, idle ones expired, memory)', async () => {
    for (const tcp of [{ maxConnections: 1 }, { maxConnections: 2, idleTimeoutSec: 0.5 }, { idleTimeoutSec: 5 }, { maxBytes: 150 }]) {
      const opts: Options = { tcp, reassembly: { timeoutSec: 1 } };
      const { shown: ref } = await reference(CONTEXT, opts);
      const s = new FileSource([CONTEXT], { decoder: opts });
      await s.start();
      await until(s, () => s.status().state === 'done');
      expect({ tcp, bad: differing(s, shuffled(FRAMES), ref) }).toEqual({ tcp, bad: [] });
      await s.stop();
    }
  });

  it('file source: two captures merged, each frame as read decodes its own file', async () => {
    const files = [join(PCAPS, 'reliable-tcp.pcap'), join(PCAPS, 'ip-fragments.pcap')];
    const refs = await Promise.all(files.map((f) => reference(f)));
    const s = new FileSource(files);
    await s.start();
    await until(s, () => s.status().state === 'done');
    const { end } = s.packetRange();
    expect(end).toBe(refs[0]!.shown.size + refs[1]!.shown.size);
    for (const seq of shuffled(end)) {
      const v = s.packet(seq)!;
      expect(shown(v.packet, v.bytes)).toEqual(refs[v.ref.file]!.shown.get(v.ref.frame));
    }
    await s.stop();
  });

  it('file source: deep in a long connection, the screen does not wait for the replay; a scan does', async () => {
    const file = join(tmp, 'long.pcap');
    writeLongConnection(file, 12_000);
    const { shown: ref } = await reference(file);
    const s = new FileSource([file]);
    await s.start();
    await until(s, () => s.status().state === 'done');
    const last = s.packetRange().end - 1;
    // Too many segments to replay at once: nothing yet, the rest comes in the background ...
    expect(s.packet(last)).toBeUndefined();
    let v = s.packet(last);
    await until(s, () => (v = s.packet(last)) !== undefined);
    expect(shown(v!.packet, v!.bytes)).toEqual(ref.get(last + 1));
    expect(v!.packet.reliable).toHaveLength(1);
    // ... and the frames on the way, the ones above on the screen, are there at once.
    expect(differing(s, [last - 1, last - 2, last - 100], ref)).toEqual([]);
    // A scan (the packet filter) waits: every frame, in order.
    for (let seq = 0; seq <= last; seq++) {
      const x = s.scanPacket(seq)!;
      expect(shown(x.packet, x.bytes)).toEqual(ref.get(seq + 1));
    }
    await s.stop();
  });

  it('the index links segments into one chain per connection, as long as read keeps the connection', async () => {
    const { frames } = await reference(CONTEXT);
    const learn = (opts: ConstructorParameters<typeof FrameContext>[0]) => {
      const ctx = new FrameContext(opts);
      frames.forEach((f, i) => ctx.observe(i, f));
      return (frame: number) => ({ prev: ctx.prev(ctx.member(frame - 1)), chain: ctx.chain(ctx.member(frame - 1)) });
    };
    let link = learn({});
    // After a reset the connection is kept (late segments are ignored): a SYN on its ports goes on
    // from it. After 600 s idle it is forgotten: the next segment starts afresh, and so does its replay.
    expect(link(MARKS.synAfterRst).prev).not.toBe(NONE);
    expect(link(MARKS.afterIdle).prev).toBe(NONE);
    expect(link(MARKS.backwards).chain).not.toBe(ALL);
    // With a 0.5 s timeout, times going backwards keep D alive although it was idle for 1 s (C,
    // first in line, is not idle by its clock): from there on, everything before is replayed.
    link = learn({ tcp: { idleTimeoutSec: 0.5 } });
    expect(link(MARKS.backwards - 1).chain).not.toBe(ALL);
    expect(link(MARKS.backwards).chain).toBe(ALL);
  });

  for (const file of CAPTURES) {
    it(`live source: ${file.slice(file.lastIndexOf('/') + 1)}`, async () => {
      const { frames, shown: ref } = await reference(file);
      const s = new StepSource({ maxPackets: 1000 });
      for (const f of frames) s.feedFrame(f);
      expect(differing(s, shuffled(frames.length), ref)).toEqual([]);
      await s.stop();
    });
  }
});
