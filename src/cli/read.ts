// `lispscope read FILE... [EXPRESSION]`: decode every LISP packet of capture files, as tcpdump and
// tshark users expect: trailing words are a capture filter (BPF), several files merge by time,
// -# numbers the frames, -t.. picks the clock, -w writes what passes the filters.

import { readFileSync, realpathSync } from 'node:fs';
import { OfflineFilter } from '../capture/bpf.js';
import { FrameFileWriter } from '../capture/frame-writer.js';
import { captureFilesAndFilter, captureLinkTypes, readCapture } from '../capture/source.js';
import { splittableFile } from '../capture/split.js';
import { CaptureError, type Frame } from '../capture/types.js';
import { mergeCaptures } from '../flows/merge.js';
import { filterHelpText } from '../output/filter-help.js';
import type { Io } from '../output/io.js';
import { defaultThreads, PARALLEL_MIN_BYTES, readParallel } from '../output/parallel.js';
import { PacketStream, packetStreamSettings, type PacketStreamSettings } from '../output/packet-stream.js';
import { chooseStyle } from '../output/style.js';
import type { TimeFormat } from '../output/time.js';
import { helpText, intValue, parseArgs, UsageError, type CommandSpec, type Parsed } from './args.js';
import { filterOf, keyLookup, loadKeys, parseDecodeAs, parseFailOn } from './common.js';

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
    { name: 'threads', kind: 'value', arg: 'N', help: 'decoding threads besides the main one for large files (default: one per other core that is free by the load average, at most 8; 0: the main thread alone)' },
    { name: 'help', short: 'h', kind: 'flag', help: 'show this help' },
  ],
};

/** The capture files and the capture filter: with -r every positional word is the expression. */
async function filesAndExpression(a: Parsed): Promise<{ files: string[]; expression: string }> {
  const fromR = a.lists.get('read') ?? [];
  if (fromR.length) return { files: fromR, expression: a.positional.join(' ') };
  return captureFilesAndFilter(a.positional);
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
  // Checked here, so that a bad filter is said before anything is read.
  if (expr !== undefined) filterOf(expr, 'packet');
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
    const linkTypes = await captureLinkTypes(files);
    firstLinkType = linkTypes.values().next().value;
    if (expression) {
      bpf = OfflineFilter.open(expression);
      try {
        bpf.checkFor(linkTypes);
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

  const settings = packetStreamSettings({
    ...text,
    numeric: a.flags.get('numeric') ?? false,
    style,
    showKeys: jsonOpts.showKeys,
    all,
    decodeAs,
    keys: keysPath && ring ? { text: readFileSync(keysPath, 'utf8'), path: keysPath } : undefined,
    filter: expr,
    bpf: expression,
    failOn,
    name: files[0]!,
  });
  const threadsGiven = intValue(readSpec, 'threads', a.values.get('threads'));
  const threads = Math.min(64, threadsGiven ?? defaultThreads());
  let found = false;
  let shown = 0;
  const more = () => count === undefined || shown < count;
  const hooks = {
    warning: (m: string) => io.warn(m),
    ...(writer ? { write: (f: Frame) => writer.write(f) } : {}),
  };

  let duplicates = 0;
  try {
    if (merge) {
      const stream = new PacketStream({ ...settings, bpf: undefined, file: 0 }, io.buffer, hooks);
      const r = await mergeCaptures(
        files,
        {
          decoder: { all, decodeAs, ...(ring ? { keyFor: keyLookup(ring) } : {}) },
          warning: (m) => io.warn(m),
          ...(bpf ? { accept: (f: Frame) => bpf.matches(f) } : {}),
          keepFrames: text.verbose || text.hex || writer !== undefined,
          ready: () => io.ready(),
        },
        (p, file, frame) => {
          stream.packet(p, frame, file);
          shown = stream.shown;
          return more();
        },
      );
      found = stream.found;
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
  if (writer) io.err(`lispscope: ${writer.packets} frame${writer.packets === 1 ? '' : 's'} written to ${writer.path}\n`);
  return found ? 1 : 0;

  async function readOne(file: string, index: number): Promise<void> {
    const s: PacketStreamSettings = { ...settings, name: file, ...(multi ? { file: index } : {}) };
    // A large file on several threads, when nothing asks for the frames one at a time in order.
    const parallel =
      threads > 0 && !follow && !writer && count === undefined && file !== '-' && PacketStream.splittable(s) && (await splittableFile(file, threadsGiven ? 0 : PARALLEL_MIN_BYTES));
    if (parallel) {
      const r = await readParallel(file, s, io, { threads });
      shown += r.shown;
      found ||= r.found;
      return;
    }
    const stream = new PacketStream(s, io.buffer, hooks);
    const before = shown;
    await readCapture(
      file,
      {
        frame: (f) => {
          stream.frame(f);
          shown = before + stream.shown;
          // Following, output must not wait for a full buffer.
          if (follow) io.flush();
          return more();
        },
        warning: (msg) => io.warn(msg),
      },
      // A slow reader of the output holds the reading back (the output queue is bounded).
      { pause: () => io.ready(), ...(stop ? { follow: { signal: stop.signal } } : {}) },
    );
    stream.finish();
    found ||= stream.found;
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
