// What the fuzzer attacks: every decoder entry point, each seeded with what our fixtures and other
// implementations' captures hold, plus messages from the encoder.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PacketDecoder } from '../../src/capture/packets.js';
import { CaptureParser } from '../../src/capture/reader.js';
import { CaptureError, type Frame } from '../../src/capture/types.js';
import { isDeepStrictEqual } from 'node:util';
import { OVERRUN, type Note } from '../../src/dissect/cursor.js';
import { decodeControl, encodeControl } from '../../src/dissect/control.js';
import { decodeData } from '../../src/dissect/data.js';
import { decodeLink } from '../../src/dissect/link.js';
import { MessageType } from '../../src/dissect/registry.js';
import { decodeReliable } from '../../src/dissect/reliable.js';
import { decodeIp, decodeUdp } from '../../src/dissect/ip.js';
import { FlowEngine } from '../../src/flows/engine.js';
import { packetJsonText } from '../../src/output/json.js';
import { packetLine } from '../../src/output/line.js';
import { packetTree } from '../../src/output/packet-tree.js';
import { PLAIN } from '../../src/output/style.js';
import { renderTree } from '../../src/output/tree.js';
import type { Target } from './engine.js';

export interface Seeds {
  /** Whole capture files. */
  files: Uint8Array[];
  /** Every frame of them, with its link type. */
  frames: { linkType: number; data: Uint8Array }[];
  /** UDP payloads on 4342 (control) and 4341 (data), and TCP 4342 payloads. */
  control: Uint8Array[];
  data: Uint8Array[];
  reliable: Uint8Array[];
}

/** Reads every capture in `dirs` (our fixtures, other implementations') into seeds. */
export function loadSeeds(dirs: string[]): Seeds {
  const s: Seeds = { files: [], frames: [], control: [], data: [], reliable: [] };
  for (const dir of dirs) {
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => /\.(pcap|pcapng|gz)$/.test(n));
    } catch {
      continue;
    }
    for (const n of names) {
      let bytes: Uint8Array = readFileSync(join(dir, n));
      if (n.endsWith('.gz')) bytes = gunzipSync(bytes);
      s.files.push(bytes);
      const parser = new CaptureParser(
        {
          frame: (f) => {
            const data = f.data.slice();
            s.frames.push({ linkType: f.linkType, data });
            const link = decodeLink(f.linkType, data);
            const ip = decodeIp(data, link.offset, data.length);
            if (!ip.ok) return;
            if (ip.proto === 6) {
              const hl = (data[ip.payloadOffset + 12]! >> 4) * 4;
              if (ip.payloadEnd - ip.payloadOffset > hl) s.reliable.push(data.slice(ip.payloadOffset + hl, ip.payloadEnd));
              return;
            }
            if (ip.proto !== 17) return;
            const udp = decodeUdp(data, ip.payloadOffset, ip.payloadEnd);
            if (!udp.ok) return;
            const payload = data.slice(udp.payloadOffset, udp.payloadEnd);
            if (udp.dstPort === 4341) s.data.push(payload);
            else if (udp.srcPort === 4342 || udp.dstPort === 4342) s.control.push(payload);
          },
          warning: () => {},
        },
        { name: n },
      );
      try {
        parser.push(bytes);
        parser.end();
      } catch (e) {
        if (!(e instanceof CaptureError)) throw e;
      }
    }
  }
  return s;
}

/** A decoder that read past the end (a `need` it missed) is a bug the cursor notes: a crash here. */
function inBounds(notes: readonly Note[]): void {
  const over = notes.find((n) => n.message.startsWith(OVERRUN));
  if (over) throw new Error(`${over.message} (offset ${over.offset})`);
}

/** Hands each frame of a capture file to `frame`; a file that is not a capture at all is refused with CaptureError, by design. */
function parseCapture(b: Uint8Array, frame: (f: Frame) => void): void {
  const parser = new CaptureParser({ frame, warning: () => {} }, { name: 'fuzz' });
  try {
    parser.push(b);
    parser.end();
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
  }
}

const LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];

export function targets(seeds: Seeds): Target[] {
  // Decoders that keep state (fragments, TCP streams) are kept across inputs: their bounds are
  // part of what is tested.
  const decoders = new Map<number, PacketDecoder>();
  let index = 0;
  const frame = (linkType: number, data: Uint8Array): Frame => ({ index: ++index, tsSec: index, tsNsec: 0, linkType, len: data.length, data, interfaceId: 0 });
  const list: Target[] = [
    { name: 'control', seeds: seeds.control, run: (b) => inBounds(decodeControl(b).notes) },
    { name: 'data', seeds: seeds.data, run: (b) => inBounds(decodeData(b).notes) },
    { name: 'reliable', seeds: seeds.reliable, run: (b) => inBounds(decodeReliable(b).notes) },
    {
      name: 'capture-file',
      seeds: seeds.files.filter((f) => f.length < 8192),
      run: (b) => {
        const d = new PacketDecoder({ all: true });
        parseCapture(b, (f) => void d.decode(f));
        d.finish();
      },
    },
  ];
  // What the user reads of a packet: its line, its tree and its JSON (of Ethernet frames: the other
  // link types differ below IP, which the frame targets cover).
  const printers = new PacketDecoder({ all: true, warning: () => {} });
  list.push({
    name: 'printers',
    seeds: seeds.frames.filter((f) => f.linkType === 1).map((f) => f.data),
    run: (b) => {
      const p = printers.decode(frame(1, b));
      if (!p) return;
      packetLine(p, { style: PLAIN, number: String(p.frame) });
      for (const node of packetTree(p, b).children ?? []) renderTree(node);
      JSON.parse(packetJsonText(p));
    },
  });
  // The flow engine over a whole capture: exchanges, mappings, handovers and stats.
  list.push({
    name: 'flows',
    seeds: seeds.files.filter((f) => f.length < 8192),
    run: (b) => {
      const d = new PacketDecoder({ warning: () => {} });
      const engine = new FlowEngine();
      parseCapture(b, (f) => {
        engine.frame();
        const p = d.decode(f);
        if (p) engine.packet(p);
      });
      d.finish();
      engine.finish();
    },
  });
  // What decodes without a note encodes to bytes that decode to the same message: the same bytes,
  // but for an ECM's inner IP header, whose Identification, flags and checksum are made anew.
  list.push({
    name: 'control-roundtrip',
    seeds: seeds.control,
    run: (b) => {
      const first = decodeControl(b);
      if (first.notes.length) return;
      const bytes = encodeControl(first.value);
      const again = decodeControl(bytes);
      if (!isDeepStrictEqual(again.value, first.value) || again.notes.length) throw new Error('decode(encode(decode(b))) is not decode(b)');
      if (first.value.type !== MessageType.ECM && Buffer.compare(Buffer.from(bytes), Buffer.from(b)) !== 0) throw new Error('encode(decode(b)) is not b');
    },
  });
  for (const lt of LINK_TYPES) {
    const d = new PacketDecoder({ all: true, warning: () => {} });
    decoders.set(lt, d);
    list.push({
      name: `frame-linktype-${lt}`,
      seeds: seeds.frames.filter((f) => f.linkType === lt).map((f) => f.data),
      run: (b) => void d.decode(frame(lt, b)),
    });
  }
  return list;
}
