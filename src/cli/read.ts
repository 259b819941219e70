// `lispscope read FILE... [EXPRESSION]`: decode every LISP packet of capture files, as tcpdump and
// tshark users expect: trailing words are a capture filter (BPF), several files merge by time,
// -# numbers the frames, -t.. picks the clock, -w writes what passes the filters.

import { realpathSync } from 'node:fs';
import { OfflineFilter } from '../capture/bpf.js';
import { FrameFileWriter } from '../capture/frame-writer.js';
import { PacketDecoder, type LispPacket } from '../capture/packets.js';
import { probeCapture, readCapture } from '../capture/source.js';
import { CaptureError, type Frame } from '../capture/types.js';
import { mergeCaptures } from '../flows/merge.js';
import { hexDump } from '../output/hex.js';
import { packetJson, writePacketJson } from '../output/json.js';
import { JsonWriter } from '../output/json-writer.js';
import { writeDataJsonFast } from '../output/json-fast.js';
import { packetLine } from '../output/line.js';
import { chooseStyle } from '../output/style.js';
import { packetTree } from '../output/packet-tree.js';
import { LineClock, type TimeFormat } from '../output/time.js';
import { renderTree } from '../output/tree.js';
import { helpText, intValue, parseArgs, UsageError, type CommandSpec, type Parsed } from './args.js';
import { filterHelpText } from '../output/filter-help.js';
import { filterOf, keyLookup, loadKeys, packetFails, parseDecodeAs, parseFailOn } from './common.js';
import type { Io } from './io.js';

export const readSpec: CommandSpec = {
  name: 'read',
  summary:
    'Decode the LISP packets of capture files (pcap, pcapng, gzipped or not). Words after the files are a capture filter (BPF, as tcpdump takes it); several files merge by time.',
  usage: 'lispscope read [options] FILE... [EXPRESSION]   (FILE "-" reads stdin; after -r FILE every word is the EXPRESSION)',
  example: "lispscope read -n -# -c 10 capture.pcap 'udp port 4342'",
  options: [
    { name: 'read', short: 'r', kind: 'list', arg: 'FILE', help: 'capture file to read (same as a positional FILE)' },
    { name: 'verbose', short: 'V', shortAliases: ['v'], kind: 'flag', help: 'detail tree of every packet, like Wireshark (-v is the same)' },
    { name: 'hex', short: 'x', kind: 'flag', help: 'hex and ASCII dump of every frame' },
    { name: 'json', kind: 'flag', help: 'NDJSON output, one object per packet (docs/json.md)' },
    { name: 'count', short: 'c', kind: 'value', arg: 'N', help: 'stop after N packets are shown' },
    { name: 'number', short: '#', kind: 'flag', help: 'each line starts with the frame number (with several files FILE:FRAME, always)' },
    {
      name: 'time',
      short: 't',
      kind: 'count',
      help: 'tcpdump\'s clocks: -t none, -tt seconds since the epoch, -ttt since the previous packet, -tttt date and time, -ttttt since the first packet',
    },
    { name: 'numeric', short: 'n', kind: 'flag', help: 'numeric ports (no lisp-data / lisp-control names)' },
    { name: 'all', kind: 'flag', help: 'also show frames that are not LISP' },
    { name: 'follow', short: 'F', kind: 'flag', help: 'keep reading as the file grows (like tail -f) until interrupted' },
    { name: 'decode-as', short: 'd', kind: 'list', arg: 'udp.port=N[,data|vxlan]', help: 'decode UDP port N as LISP control (or data, or VXLAN)' },
    { name: 'keys', kind: 'value', arg: 'FILE', help: 'verify authentication with keys from FILE (<eid-prefix|ms-address|*> <key> per line)' },
    { name: 'filter', short: 'Y', kind: 'value', arg: 'EXPR', help: 'display filter, e.g. "type == map-register && eid in 10.0.0.0/8"' },
    { name: 'write', short: 'w', kind: 'value', arg: 'FILE', help: 'write the frames that pass -Y, the capture filter and -c to FILE (.pcapng: pcapng, else pcap), times and link types kept' },
    { name: 'no-merge', kind: 'flag', help: 'several files one after the other instead of merged by time (duplicates kept)' },
    { name: 'fail-on', kind: 'list', arg: 'WHAT', help: 'exit 1 when a shown packet has an error note (malformed), a warning or an error (warning), or fails authentication (auth-failed)' },
    { name: 'show-keys', kind: 'flag', help: 'show key material carried in Security Key LCAFs and LISP-SEC OTK-ADs (JSON; -V always masks it)' },
    { name: 'help', short: 'h', kind: 'flag', help: 'show this help' },
  ],
};

/** A word that names a capture file rather than starting a capture filter. */
function looksLikeFile(word: string): boolean {
  return word === '-' || /[/\\]|\.(pcap|pcapng|cap|gz|dmp)$/i.test(word);
}

/**
 * The capture files and the capture filter (tcpdump's order: files, then the expression). With -r
 * every positional word is the expression; without, the leading words that are files (existing, or
 * named like one) are the files.
 */
async function filesAndExpression(a: Parsed): Promise<{ files: string[]; expression: string }> {
  const fromR = a.lists.get('read') ?? [];
  const words = a.positional;
  if (fromR.length) return { files: fromR, expression: words.join(' ') };
  let n = 0;
  while (n < words.length) {
    const w = words[n]!;
    if (!looksLikeFile(w) && !(await isFile(w))) break;
    n++;
  }
  // The first word is a file whatever it looks like: "no such file" says more than a filter error.
  if (n === 0 && words.length) n = 1;
  return { files: words.slice(0, n), expression: words.slice(n).join(' ') };
}

async function isFile(path: string): Promise<boolean> {
  try {
    await probeCapture(path);
    return true;
  } catch {
    // Only a readable capture counts here; what is wrong with a file is said when it is probed as one.
    return false;
  }
}

interface Text {
  json: boolean;
  verbose: boolean;
  hex: boolean;
  number: boolean;
  time: TimeFormat;
}

/** The output options, with their conflicts refused in one line each. */
function textOptions(a: Parsed, writing: boolean): Text {
  const t: Text = {
    json: a.flags.get('json') ?? false,
    verbose: a.flags.get('verbose') ?? false,
    hex: a.flags.get('hex') ?? false,
    number: a.flags.get('number') ?? false,
    time: Math.min(a.counts.get('time') ?? 0, 5) as TimeFormat,
  };
  const shaping = [t.verbose && '-V', t.hex && '-x', t.number && '-#', t.time && '-t'].filter(Boolean);
  if (t.json && shaping.length) throw new UsageError(`read: --json writes every field of each packet; ${shaping[0]} shapes the text output (use one or the other)`);
  if (writing && (t.json || shaping.length)) throw new UsageError(`read: -w writes frames to the file and prints none; ${t.json ? '--json' : shaping[0]} has nothing to shape`);
  return t;
}

export async function runRead(argv: string[], io: Io): Promise<number> {
  const a = parseArgs(readSpec, argv);
  if (a.flags.get('help')) {
    io.out(helpText(readSpec));
    return 0;
  }
  const writePath = a.values.get('write');
  if (writePath === '-') throw new UsageError('read: -w needs a file name (writing a capture to stdout is not supported)');
  const text = textOptions(a, writePath !== undefined);
  const count = intValue(readSpec, 'count', a.values.get('count'));
  if (count === 0) throw new UsageError('read: -c needs a positive number of packets, not 0');
  const style = text.json ? chooseStyle({ isTTY: false }) : chooseStyle(io.stdout, io.env);
  const keysPath = a.values.get('keys');
  const ring = keysPath ? loadKeys(keysPath) : undefined;
  const decodeAs = parseDecodeAs(a.lists.get('decode-as') ?? []);
  const jsonOpts = { showKeys: a.flags.get('show-keys') ?? false };
  const expr = a.values.get('filter');
  if (expr === 'help') {
    io.out(filterHelpText('packet'));
    return 0;
  }
  const filter = expr === undefined ? undefined : filterOf(expr, 'packet');
  const failOn = parseFailOn('read', a.lists.get('fail-on') ?? []);
  const all = a.flags.get('all') ?? false;
  const follow = a.flags.get('follow') ?? false;

  const { files, expression } = await filesAndExpression(a);
  if (files.length === 0) throw new UsageError('read: no capture file given (lispscope read FILE)');
  if (follow && (files.length !== 1 || files[0] === '-')) throw new UsageError('read: --follow takes exactly one capture file (stdin already streams)');
  const multi = files.length > 1;
  const merge = multi && !a.flags.get('no-merge');

  // Everything that can be wrong with the input is said before the first line of output.
  let bpf: OfflineFilter | undefined;
  let writer: FrameFileWriter | undefined;
  let firstLinkType: number | undefined;
  try {
    const linkTypes = new Set<number>();
    for (const f of files) {
      if (f === '-') continue;
      const { linkType } = await probeCapture(f);
      if (linkType !== undefined) linkTypes.add(linkType);
    }
    firstLinkType = linkTypes.values().next().value;
    if (expression) {
      bpf = OfflineFilter.open(expression);
      try {
        for (const lt of linkTypes.size ? linkTypes : [1]) bpf.check(lt);
      } catch (e) {
        // One word that is not a filter was most likely meant as a file.
        if (e instanceof CaptureError && !/\s/.test(expression)) throw new CaptureError(`${expression}: not a capture file, nor a capture filter (${e.message.replace(/^.*: /, '')})`);
        throw e;
      }
    }
    if (writePath !== undefined) {
      const target = realTarget(writePath);
      if (files.some((f) => f !== '-' && realTarget(f) === target)) throw new UsageError(`read: -w ${writePath} is one of the files read`);
      writer = new FrameFileWriter(writePath);
    }
  } catch (e) {
    if (e instanceof CaptureError) {
      io.error(e.message);
      return 2;
    }
    throw e;
  }

  let stop: AbortController | undefined;
  if (follow) {
    stop = new AbortController();
    const end = () => stop!.abort();
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
  }

  const jw = new JsonWriter(io.buffer);
  const clock = new LineClock(text.time);
  const numeric = a.flags.get('numeric') ?? false;
  let found = false;
  let shown = 0;
  const more = () => count === undefined || shown < count;

  /** One packet that passed the filters: shown (or written), counted. */
  const take = (p: LispPacket, frame: Frame | undefined, file: number): void => {
    if (packetFails(failOn, p)) found = true;
    shown++;
    if (writer) {
      if (frame) writer.write(frame);
      return;
    }
    if (text.json) {
      writePacketJson(jw, p, jsonOpts, multi ? file + 1 : undefined);
      io.buffer.ensure(1);
      io.buffer.byte(10);
    } else {
      const label = multi ? `${file + 1}:${p.frame}` : String(p.frame);
      const number = text.number || multi ? { number: label } : {};
      io.line(packetLine(p, { numeric, style, time: clock.text(p.tsSec, p.tsNsec), ...number }));
      const bytes = frame?.data ?? new Uint8Array(0);
      if (text.verbose) {
        for (const node of packetTree(p, bytes, label).children ?? []) for (const l of renderTree(node, '    ')) io.line(l);
      }
      if (text.hex) for (const l of hexDump(bytes)) io.line(`    ${l}`);
      if (text.verbose || text.hex) io.line('');
    }
    // Following, output must not wait for a full buffer.
    if (follow) io.flush();
  };
  const passes = (p: LispPacket, file: number): boolean => {
    if (!filter) return true;
    const obj = packetJson(p, jsonOpts);
    if (multi) obj.file = file + 1;
    return filter(obj);
  };

  let duplicates = 0;
  try {
    if (merge) {
      const r = await mergeCaptures(
        files,
        {
          decoder: { all, decodeAs, ...(ring ? { keyFor: keyLookup(ring) } : {}) },
          warning: (m) => io.warn(m),
          ...(bpf ? { accept: (f: Frame) => bpf.matches(f) } : {}),
          keepFrames: text.verbose || text.hex || writer !== undefined,
        },
        (p, file, frame) => {
          if (passes(p, file)) take(p, frame, file);
          return more();
        },
      );
      duplicates = r.duplicates;
    } else {
      for (let i = 0; i < files.length && more(); i++) await readOne(files[i]!, i);
    }
  } catch (e) {
    if (e instanceof CaptureError) {
      io.error(e.message);
      return 2;
    }
    throw e;
  } finally {
    writer?.close(firstLinkType);
  }
  if (duplicates) io.warn(`${duplicates} ${duplicates === 1 ? 'packet' : 'packets'} seen in more than one capture ${duplicates === 1 ? 'was' : 'were'} shown once`);
  if (writer) {
    io.flush();
    process.stderr.write(`lispscope: ${writer.packets} frame${writer.packets === 1 ? '' : 's'} written to ${writer.path}\n`);
  }
  return found ? 1 : 0;

  async function readOne(file: string, index: number): Promise<void> {
    const decoder = new PacketDecoder({ all, decodeAs, keyFor: ring && keyLookup(ring), warning: (msg) => io.warn(`${file}: ${msg}`) });
    // Plain data packets in JSON go straight from frame bytes to output (see json-fast.ts).
    const fast = text.json && !multi && !filter && !all && decodeAs.control.size + decodeAs.data.size + (decodeAs.vxlan?.size ?? 0) === 0;
    await readCapture(
      file,
      {
        frame: (f) => {
          if (bpf && !bpf.matches(f)) return true;
          if (fast && writeDataJsonFast(f, io.buffer)) {
            shown++;
            if (follow) io.flush();
            return more();
          }
          const p = decoder.decode(f);
          if (p && passes(p, index)) take(p, f, index);
          return more();
        },
        warning: (msg) => io.warn(msg),
      },
      stop ? { follow: { signal: stop.signal } } : {},
    );
    decoder.finish();
  }
}

/** The file a path names (the path itself when it does not exist yet). */
function realTarget(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
