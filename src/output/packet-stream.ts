// What `read` (and `sniff`) do with each frame: the capture filter, the fast paths for plain data
// and common control messages, decoding, the display filter, --fail-on, and the packet's output (NDJSON, or lines with
// -V/-x), into an OutBuffer. The settings are plain data, so that a decoding worker builds the
// very same stream from them (output/parallel.ts) and writes byte for byte what this thread would.

import { OfflineFilter } from '../capture/bpf.js';
import { keyLookup } from '../capture/keys.js';
import { PacketDecoder, packetFails, type LispPacket } from '../capture/packets.js';
import type { Frame } from '../capture/types.js';
import { KeyRing } from '../dissect/keyring.js';
import { compileFilterPlan, type CompiledFilter } from '../flows/filter.js';
import { hexDump } from './hex.js';
import { writePacketJson } from './json.js';
import { writeControlJsonFast } from './json-control-fast.js';
import { writeDataJsonFast } from './json-fast.js';
import { writeControlLineFast } from './line-control-fast.js';
import { writeDataLineFast, type FastLineOptions } from './line-fast.js';
import { JsonWriter, keptPaths, PrunedObjectWriter } from './json-writer.js';
import { packetLine } from './line.js';
import type { OutBuffer } from './out-buffer.js';
import { packetTree } from './packet-tree.js';
import { chooseStyle, PLAIN, type Style } from './style.js';
import { LineClock, type TimeFormat } from './time.js';
import { renderTree } from './tree.js';

/** Everything that decides a packet's output, as plain data (it crosses to worker threads). */
export interface PacketStreamSettings {
  json: boolean;
  verbose: boolean;
  hex: boolean;
  /** Lines start with the frame number (-#). */
  number: boolean;
  time: TimeFormat;
  numeric: boolean;
  /** ANSI colours in lines. */
  color: boolean;
  showKeys: boolean;
  /** Frames that are not LISP too (--all). */
  all: boolean;
  decodeAs: { control: number[]; data: number[]; vxlan: number[] };
  /** The key file's text and name (--keys). */
  keys?: { text: string; path: string };
  /** Display filter (-Y), already checked. */
  filter?: string;
  /** Capture filter (BPF), already checked. */
  bpf?: string;
  failOn: string[];
  /** Several captures read one after the other: the 0-based index of this one (JSON `file`, FILE:FRAME labels). */
  file?: number;
  /** Name of the capture, prefixed to the decoder's warnings ('' live: sniff names its interface once). */
  name: string;
  /**
   * Instead of its output, each packet shown is written as its frame number (4 bytes, little
   * endian), and each packet the display filter refuses as its frame number with the top bit set
   * (how far the scan got): the terminal UI's `/` over worker threads.
   */
  numbers?: boolean;
}

/** The options `read` and `sniff` share, as their command lines give them. */
export interface PacketViewOptions extends Pick<PacketStreamSettings, 'json' | 'verbose' | 'hex' | 'number' | 'time' | 'numeric' | 'showKeys' | 'all' | 'name'> {
  /** The output's style: colours unless PLAIN (JSON never has them). */
  style: Style;
  decodeAs: { control: Iterable<number>; data: Iterable<number>; vxlan?: Iterable<number> };
  keys?: PacketStreamSettings['keys'] | undefined;
  filter?: string | undefined;
  bpf?: string | undefined;
  failOn: Iterable<string>;
}

/** The settings of `read`'s and `sniff`'s packet output: one mapping of their options for both. */
export function packetStreamSettings(o: PacketViewOptions): PacketStreamSettings {
  return {
    json: o.json,
    verbose: o.verbose,
    hex: o.hex,
    number: o.number,
    time: o.time,
    numeric: o.numeric,
    color: !o.json && o.style !== PLAIN,
    showKeys: o.showKeys,
    all: o.all,
    decodeAs: { control: [...o.decodeAs.control], data: [...o.decodeAs.data], vxlan: [...(o.decodeAs.vxlan ?? [])] },
    ...(o.keys ? { keys: o.keys } : {}),
    ...(o.filter !== undefined ? { filter: o.filter } : {}),
    ...(o.bpf ? { bpf: o.bpf } : {}),
    failOn: [...o.failOn],
    name: o.name,
  };
}

export interface PacketStreamHooks {
  warning(message: string): void;
  /** Instead of being shown, a packet's frame is written to a capture file (-w). */
  write?: (f: Frame) => void;
  /** Decode only what needs no state kept between frames; the rest is reported as deferred. */
  deferStateful?: boolean;
}

/** The settings' display filter, capture filter and key lookup, built once per thread. */
function built(s: PacketStreamSettings) {
  const ring = s.keys ? KeyRing.parse(s.keys.text, s.keys.path) : undefined;
  return {
    filter: s.filter === undefined ? undefined : compileFilterPlan(s.filter, 'packet'),
    bpf: s.bpf ? OfflineFilter.open(s.bpf) : undefined,
    keyFor: ring && !('error' in ring) ? keyLookup(ring) : undefined,
  };
}

/** LISP messages decoded, by kind (a reliable-transport segment counts the messages it completed). */
export interface PacketKinds {
  lisp: number;
  control: number;
  data: number;
  reliable: number;
}

/** Counts a decoded packet in `k` by its kind. */
export function countKinds(k: PacketKinds, p: LispPacket): void {
  if (!p.kind) return;
  const n = p.kind === 'reliable' ? (p.reliable?.length ?? 0) : 1;
  k.lisp += n;
  if (p.kind === 'control') k.control++;
  else if (p.kind === 'data') k.data++;
  else k.reliable += n;
}

export class PacketStream {
  /** Packets shown (or written). */
  shown = 0;
  readonly kinds: PacketKinds = { lisp: 0, control: 0, data: 0, reliable: 0 };
  /** A shown packet is one --fail-on names. */
  found = false;
  readonly decoder: PacketDecoder;
  private readonly jw: JsonWriter;
  private readonly style: Style;
  private readonly clock: LineClock;
  private readonly filter: CompiledFilter | undefined;
  /** Builds of each packet's object only what the display filter reads. */
  private readonly filterObject: PrunedObjectWriter | undefined;
  private readonly bpf: OfflineFilter | undefined;
  private readonly failOn: ReadonlySet<string>;
  private readonly fast: boolean;
  /**
   * Common control messages straight from frame bytes too (json-control-fast.ts, line-control-fast.ts):
   * not with keys, whose verdicts need the decoder, nor in colour.
   */
  private readonly fastControl: boolean;
  /** Plain data packets as lines straight from frame bytes (line-fast.ts), when set. */
  private readonly fastLine: FastLineOptions | undefined;
  private readonly jsonOpts: { showKeys: boolean };

  constructor(
    private readonly s: PacketStreamSettings,
    private readonly out: OutBuffer,
    private readonly hooks: PacketStreamHooks,
  ) {
    const b = built(s);
    this.filter = b.filter;
    this.filterObject = b.filter && new PrunedObjectWriter(keptPaths(b.filter.paths));
    this.bpf = b.bpf;
    const decodeAs = { control: new Set(s.decodeAs.control), data: new Set(s.decodeAs.data), vxlan: new Set(s.decodeAs.vxlan) };
    this.decoder = new PacketDecoder({
      all: s.all,
      decodeAs,
      ...(b.keyFor ? { keyFor: b.keyFor } : {}),
      warning: (msg) => hooks.warning(s.name ? `${s.name}: ${msg}` : msg),
      ...(hooks.deferStateful ? { deferStateful: true } : {}),
    });
    this.jw = new JsonWriter(out);
    this.style = s.color ? chooseStyle({ isTTY: true }, {}) : chooseStyle({ isTTY: false });
    this.clock = new LineClock(s.time);
    this.failOn = new Set(s.failOn);
    this.jsonOpts = { showKeys: s.showKeys };
    // Plain data packets in JSON go straight from frame bytes to output (see json-fast.ts).
    const plain = s.file === undefined && !s.filter && !s.numbers && !s.all && !hooks.write && s.decodeAs.control.length + s.decodeAs.data.length + s.decodeAs.vxlan.length === 0;
    this.fast = plain && s.json;
    this.fastLine = plain && !s.json && !s.verbose && !s.hex ? { numeric: s.numeric, number: s.number, clock: this.clock } : undefined;
    this.fastControl = (this.fast || (this.fastLine !== undefined && !s.color)) && !s.keys;
  }

  /** Line output keeps a clock from packet to packet (-ttt, -ttttt): it cannot be split over threads. */
  static splittable(s: PacketStreamSettings): boolean {
    return s.json || (s.time !== 3 && s.time !== 5);
  }

  /**
   * One frame of the capture. Returns true when it was deferred (deferStateful): it needs the
   * decoder that keeps state, and nothing was written for it.
   */
  frame(f: Frame): boolean {
    if (this.bpf && !this.bpf.matches(f)) return false;
    if (this.fast ? writeDataJsonFast(f, this.out) : this.fastLine !== undefined && writeDataLineFast(f, this.out, this.fastLine)) {
      this.shown++;
      this.kinds.lisp++;
      this.kinds.data++;
      return false;
    }
    if (this.fastControl && (this.fast ? writeControlJsonFast(f, this.out) : writeControlLineFast(f, this.out, this.fastLine!))) {
      this.shown++;
      this.kinds.lisp++;
      this.kinds.control++;
      return false;
    }
    const p = this.decoder.decode(f);
    if (p) {
      countKinds(this.kinds, p);
      this.packet(p, f);
    }
    return this.decoder.deferred;
  }


  /**
   * A decoded packet (`frame`: its frame, when kept), shown when it passes the display filter;
   * `file` when captures are merged (0-based).
   */
  packet(p: LispPacket, frame: Frame | undefined, file = this.s.file): void {
    if (this.filter) {
      writePacketJson(this.filterObject!.reset(), p, this.jsonOpts);
      const obj = this.filterObject!.result as Record<string, unknown>;
      if (file !== undefined) obj.file = file + 1;
      if (!this.filter.test(obj)) {
        if (this.s.numbers) this.number(p.frame | 0x80000000);
        return;
      }
    }
    if (this.failOn.size && packetFails(this.failOn, p)) this.found = true;
    this.shown++;
    if (this.s.numbers) {
      this.number(p.frame);
      return;
    }
    if (this.hooks.write) {
      if (frame) this.hooks.write(frame);
      return;
    }
    const out = this.out;
    if (this.s.json) {
      writePacketJson(this.jw, p, this.jsonOpts, file === undefined ? undefined : file + 1);
      out.ensure(1);
      out.byte(10);
      return;
    }
    const label = file === undefined ? String(p.frame) : `${file + 1}:${p.frame}`;
    const number = this.s.number || file !== undefined ? { number: label } : {};
    this.line(packetLine(p, { numeric: this.s.numeric, style: this.style, time: this.clock.text(p.tsSec, p.tsNsec), ...number }));
    const bytes = frame?.data ?? new Uint8Array(0);
    if (this.s.verbose) {
      for (const node of packetTree(p, bytes, label).children ?? []) for (const l of renderTree(node, '    ')) this.line(l);
    }
    if (this.s.hex) for (const l of hexDump(bytes)) this.line(`    ${l}`);
    if (this.s.verbose || this.s.hex) this.line('');
  }

  /** End of the capture: what the decoder still waits for is reported. */
  finish(): void {
    this.decoder.finish();
  }

  /** A 32-bit number, little endian (the `numbers` setting). */
  private number(n: number): void {
    const out = this.out;
    out.ensure(4);
    out.byte(n & 0xff);
    out.byte((n >>> 8) & 0xff);
    out.byte((n >>> 16) & 0xff);
    out.byte(n >>> 24);
  }

  private line(s: string): void {
    this.out.text(s);
    this.out.ensure(1);
    this.out.byte(10);
  }
}
