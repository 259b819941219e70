// `lispscope sniff -i IFACE`: live capture through libpcap, decoded and shown as `read` shows a file
// (one line, -V, -x, --json), or as exchanges while they complete (--flows), optionally written to
// pcap/pcapng (-w, rotated with --ring) or exported (--export). This file reads the options and
// wires: the session's mechanics (the -w file, --duration, signals, holding the capture while the
// output is congested) are capture/live-session.ts's, the status line and the totals
// output/live-status.ts's.

import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import { defaultFilter, LiveCapture, LiveCaptureError, linkTypeName, loadLibpcap } from '../capture/live.js';
import { captureFileFor, LiveSession } from '../capture/live-session.js';
import type { CaptureFileRing } from '../capture/ring.js';
import type { Frame } from '../capture/types.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT, VXLAN_PORT } from '../dissect/registry.js';
import { ExchangeStream } from '../output/exchange-stream.js';
import { bindingText, listText } from '../output/interfaces.js';
import { liveTotalsLines, StatusLine } from '../output/live-status.js';
import { PacedFlush } from '../output/paced-flush.js';
import { PacketStream, packetStreamSettings, type PacketKinds } from '../output/packet-stream.js';
import { chooseStyle } from '../output/style.js';
import { LineClock, type TimeFormat } from '../output/time.js';
import { helpText, intValue, parseArgs, UsageError, type CommandSpec } from './args.js';
import { filterHelpText } from '../output/filter-help.js';
import { filterOf, filtersForAll, keyLookup, loadKeys, parseDecodeAs, parseFailOn } from './common.js';
import { openDestination } from '../export/destination.js';
import { LiveExport } from '../export/live.js';
import { SinkError } from '../export/sink.js';
import { partitionOf } from './export.js';
import type { Io } from '../output/io.js';

export const sniffSpec: CommandSpec = {
  name: 'sniff',
  summary: 'Capture LISP traffic live on an interface (libpcap) and decode it as it arrives.',
  usage: 'lispscope sniff -i IFACE [options]   (lispscope sniff -D lists the interfaces)',
  example: 'lispscope sniff -i eth0 -c 10 -w lisp.pcapng',
  options: [
    { name: 'interface', short: 'i', kind: 'value', arg: 'IFACE', help: 'interface to capture on ("any": all of them)' },
    { name: 'list-interfaces', short: 'D', kind: 'flag', help: 'list the interfaces libpcap can capture on' },
    {
      name: 'capture-filter',
      short: 'f',
      kind: 'value',
      arg: 'EXPR',
      help: `BPF capture filter (default: UDP ${LISP_DATA_PORT}, ${LISP_CONTROL_PORT}, ${VXLAN_PORT} and --decode-as ports, TCP ${LISP_CONTROL_PORT}, ICMP errors, later IP fragments)`,
    },
    { name: 'count', short: 'c', kind: 'value', arg: 'N', help: 'stop after N packets are shown (with --flows: N exchanges)' },
    { name: 'duration', kind: 'value', arg: 'SEC', help: 'stop after SEC seconds' },
    { name: 'write', short: 'w', kind: 'value', arg: 'FILE', help: 'also write every captured frame to FILE (.pcapng: pcapng, else pcap)' },
    { name: 'ring', kind: 'value', arg: 'N:SIZE', help: 'with -w: keep N files of at most SIZE bytes (k, M, G: KiB, MiB, GiB): FILE, FILE.1, ...' },
    { name: 'no-promiscuous-mode', short: 'p', kind: 'flag', help: 'do not put the interface into promiscuous mode (tcpdump -p); lispscope\'s binding only' },
    { name: 'buffer-size', short: 'B', kind: 'value', arg: 'KiB', help: 'libpcap kernel buffer in KiB (default 32768; through cap 131072 on the loopback and "any")' },
    { name: 'verbose', short: 'V', shortAliases: ['v'], kind: 'flag', help: 'detail tree of every packet, like Wireshark (-v is the same)' },
    { name: 'number', short: '#', kind: 'flag', help: 'each line starts with the frame number (tcpdump -#)' },
    { name: 'time', short: 't', kind: 'count', help: 'tcpdump\'s clocks: -t none, -tt epoch, -ttt since the previous packet, -tttt date and time, -ttttt since the first' },
    { name: 'hex', short: 'x', kind: 'flag', help: 'hex and ASCII dump of every frame' },
    { name: 'json', kind: 'flag', help: 'NDJSON output, one object per packet (or exchange with --flows)' },
    { name: 'numeric', short: 'n', kind: 'flag', help: 'numeric ports (no lisp-data / lisp-control names)' },
    { name: 'all', kind: 'flag', help: 'also show captured frames that are not LISP' },
    { name: 'decode-as', short: 'd', kind: 'list', arg: 'udp.port=N[,data|vxlan]', help: 'decode UDP port N as LISP control (or data, or VXLAN); adds it to the default capture filter' },
    { name: 'keys', kind: 'value', arg: 'FILE', help: 'verify authentication with keys from FILE' },
    { name: 'show-keys', kind: 'flag', help: 'show key material carried in Security Key LCAFs and LISP-SEC OTK-ADs (JSON)' },
    { name: 'filter', short: 'Y', kind: 'value', arg: 'EXPR', help: 'display filter on packets (on exchanges with --flows)' },
    { name: 'flows', kind: 'flag', help: 'show exchanges (registration, resolution, smr, ...) as they complete instead of packets' },
    { name: 'timeout', kind: 'value', arg: 'SEC', help: 'with --flows: an unanswered request closes this long after its last transmission (default per kind: 10 s, RLOC-probes 20 s)' },
    { name: 'fail-on', kind: 'list', arg: 'WHAT', help: 'exit 1 when a shown packet has an error note (malformed), a warning or an error (warning), or fails authentication (auth-failed)' },
    { name: 'export', kind: 'value', arg: 'DEST', help: 'export packets, exchanges and handovers as they come: x.duckdb, dir/ or clickhouse://user@host:8123/db (see docs/export.md)' },
    { name: 'vantage', kind: 'value', arg: 'NAME', help: 'with --export: label of this capture point (default: the interface)' },
    { name: 'partition', kind: 'value', arg: 'input|hour', help: 'with --export dir/: Parquet files at the end (input) or every hour' },
    { name: 'export-buffer', kind: 'value', arg: 'MiB', help: 'with --export: rows kept while the database is unreachable, then dropped and counted (default 256)' },
    { name: 'help', short: 'h', kind: 'flag', help: 'show this help' },
  ],
};

// ---------------------------------------------------------------------------------------------
// --ring N:SIZE (the files themselves: capture/ring.ts)

/** `N:SIZE`, SIZE in bytes or with k/M/G (KiB, MiB, GiB). */
export function parseRing(spec: string): { files: number; maxBytes: number } {
  const m = /^(\d+):(\d+)([kKmMgG]?)$/.exec(spec);
  const files = m ? Number(m[1]) : NaN;
  const unit = m ? ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[m[3]!.toLowerCase()]! : 1;
  const maxBytes = m ? Number(m[2]) * unit : NaN;
  if (!m || files < 2 || maxBytes < 1024) {
    throw new UsageError(`sniff: --ring expects N:SIZE with N >= 2 files of SIZE >= 1024 bytes (e.g. 10:100M), not "${spec}"`);
  }
  return { files, maxBytes };
}

// ---------------------------------------------------------------------------------------------
// The command

function positiveSeconds(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0)) throw new UsageError(`sniff: --${name} needs a positive number of seconds, not "${v}"`);
  return n;
}

export async function runSniff(argv: string[], io: Io): Promise<number> {
  const a = parseArgs(sniffSpec, argv);
  if (a.flags.get('help')) {
    io.out(helpText(sniffSpec));
    return 0;
  }
  if (a.positional.length) throw new UsageError(`sniff: unexpected argument "${a.positional[0]}" (a capture filter goes after -f)`);
  if (a.flags.get('list-interfaces')) {
    try {
      const pcap = loadLibpcap();
      io.out(listText(pcap));
      // On stderr, so that the list stays what tcpdump -D prints; cap's limits are worth a warning.
      if (pcap.binding === 'cap') io.warn(bindingText(pcap));
      else io.err(`lispscope: ${bindingText(pcap)}\n`);
    } catch (e) {
      if (e instanceof LiveCaptureError) {
        io.error(e.message);
        return 2;
      }
      throw e;
    }
    return 0;
  }
  const iface = a.values.get('interface');
  if (iface === undefined) throw new UsageError('sniff: no interface given (lispscope sniff -i IFACE; -D lists them)');
  const count = intValue(sniffSpec, 'count', a.values.get('count'));
  if (count === 0) throw new UsageError('sniff: --count needs a positive integer, not "0"');
  const duration = positiveSeconds('duration', a.values.get('duration'));
  const timeout = positiveSeconds('timeout', a.values.get('timeout'));
  const bufferKiB = intValue(sniffSpec, 'buffer-size', a.values.get('buffer-size'));
  if (bufferKiB !== undefined && (bufferKiB < 64 || bufferKiB > 4 * 1024 * 1024)) {
    throw new UsageError(`sniff: --buffer-size takes 64 to 4194304 KiB, not ${bufferKiB}`);
  }
  const writePath = a.values.get('write');
  if (writePath === '-') throw new UsageError('sniff: -w needs a file name (writing the capture to stdout is not supported)');
  const ringSpec = a.values.get('ring');
  const ring = ringSpec === undefined ? undefined : parseRing(ringSpec);
  if (ring && writePath === undefined) throw new UsageError('sniff: --ring needs -w FILE');
  const json = a.flags.get('json') ?? false;
  const verbose = a.flags.get('verbose') ?? false;
  const hex = a.flags.get('hex') ?? false;
  const flows = a.flags.get('flows') ?? false;
  const all = a.flags.get('all') ?? false;
  const number = a.flags.get('number') ?? false;
  const clock = new LineClock(Math.min(a.counts.get('time') ?? 0, 5) as TimeFormat);
  if (flows && (verbose || hex || all || number || clock.format)) throw new UsageError('sniff: --flows shows exchanges; -V, -x, -#, -t and --all apply to packets');
  const shaping = [verbose && '-V', hex && '-x', number && '-#', clock.format && '-t'].filter(Boolean);
  if (json && shaping.length) throw new UsageError(`sniff: --json writes every field of each packet; ${shaping[0]} shapes the text output (use one or the other)`);
  const numeric = a.flags.get('numeric') ?? false;
  const decodeAs = parseDecodeAs(a.lists.get('decode-as') ?? []);
  const keysPath = a.values.get('keys');
  const keyRing = keysPath ? loadKeys(keysPath) : undefined;
  const jsonOpts = { showKeys: a.flags.get('show-keys') ?? false };
  const expr = a.values.get('filter');
  if (expr === 'help') {
    io.out(filterHelpText(flows ? 'exchange' : 'packet'));
    return 0;
  }
  const filter = expr === undefined ? undefined : filterOf(expr, flows ? 'exchange' : 'packet');
  const failOn = parseFailOn('sniff', a.lists.get('fail-on') ?? []);
  const bpf = a.values.get('capture-filter') ?? defaultFilter(decodeAs);
  const exportDest = a.values.get('export');
  const partition = partitionOf('sniff', a.values.get('partition'));
  const exportBuffer = intValue(sniffSpec, 'export-buffer', a.values.get('export-buffer'));
  if (exportDest === undefined && (a.values.has('vantage') || partition || exportBuffer !== undefined)) {
    throw new UsageError('sniff: --vantage, --partition and --export-buffer go with --export DEST');
  }
  if (exportDest !== undefined && (flows || json || verbose || hex || all)) {
    throw new UsageError('sniff: --export writes packets and exchanges to DEST; --flows, --json, -V, -x and --all show them instead');
  }
  let session: LiveSession | undefined;
  let live: LiveExport | undefined;
  if (exportDest !== undefined) {
    try {
      live = new LiveExport(openDestination(exportDest, { ...(partition ? { partition } : {}), env: io.env }), {
        label: { vantage: a.values.get('vantage') ?? iface, file: iface },
        decoder: { decodeAs, ...(keyRing ? { keyFor: keyLookup(keyRing) } : {}) },
        warning: (m) => io.warn(m),
        ...(timeout !== undefined ? { timeout } : {}),
        ...(expr !== undefined ? { filters: filtersForAll(expr) } : {}),
        ...(exportBuffer !== undefined ? { maxBufferedBytes: exportBuffer * 2 ** 20 } : {}),
        hourly: partition === 'hour',
        onState: (m) => io.warn(m),
        onReady: () => session?.resume(),
      });
      // Bad URL, credentials or database: said before capturing anything.
      await live.open();
    } catch (e) {
      if (e instanceof SinkError) {
        io.error(e.message);
        return 2;
      }
      throw e;
    }
  }

  const stdoutTty = isatty(1);
  const style = json ? chooseStyle({ isTTY: false }) : chooseStyle({ isTTY: stdoutTty }, io.env);
  const info = (s: string) => io.err(`lispscope: ${s}\n`);

  let capture: LiveCapture;
  try {
    const promiscuous = !a.flags.get('no-promiscuous-mode');
    capture = LiveCapture.open({ iface, filter: bpf, ...(bufferKiB !== undefined ? { bufferSize: bufferKiB * 1024 } : {}), ...(promiscuous ? {} : { promiscuous }) });
    // cap opens every interface in promiscuous mode: say that -p could not be honoured.
    if (!promiscuous && capture.binding === 'cap') io.warn('-p: the cap package always captures in promiscuous mode; lispscope\'s own binding honours -p');
  } catch (e) {
    await live?.abort();
    if (e instanceof LiveCaptureError) {
      io.error(e.message);
      return 2;
    }
    throw e;
  }

  let file: CaptureFileRing | undefined;
  if (writePath !== undefined) {
    try {
      file = captureFileFor(capture, writePath, ring);
    } catch (e) {
      await capture.stop(false);
      const code = (e as NodeJS.ErrnoException).code;
      io.error(`${writePath}: cannot write${code ? ` (${code})` : ''}: ${(e as Error).message.replace(/^\w+: /, '')}`);
      return 2;
    }
  }
  // A congested output holds the capture (its queue takes what arrives, and counts what it cannot)
  // until it has drained to half; so does an export whose database is behind.
  const s = (session = new LiveSession(capture, { ...(file ? { file } : {}), ...(duration !== undefined ? { duration } : {}), holders: [io, ...(live ? [live] : [])] }));
  let pipeClosed = false;
  io.onError((e) => {
    if (e.code === 'EPIPE') {
      pipeClosed = true;
      s.stop(false);
    } else s.fail(`cannot write the output: ${e.message}`);
  });

  // Packets are shown as `read` shows a file's (output/packet-stream.ts); exchanges as they
  // complete (output/exchange-stream.ts); an export writes both.
  const exchanges = flows
    ? new ExchangeStream({
        json,
        style,
        ...(filter ? { filter } : {}),
        ...(timeout !== undefined ? { timeout } : {}),
        ...(count !== undefined ? { count } : {}),
        onLimit: () => s.stop(false),
        decoder: { all, decodeAs, ...(keyRing ? { keyFor: keyLookup(keyRing) } : {}) },
        warning: (msg) => io.warn(msg),
        line: (text) => io.line(text),
      })
    : undefined;
  const stream =
    exchanges || live
      ? undefined
      : new PacketStream(
          packetStreamSettings({
            json,
            verbose,
            hex,
            number,
            time: clock.format,
            numeric,
            style,
            showKeys: jsonOpts.showKeys,
            all,
            decodeAs,
            keys: keysPath && keyRing ? { text: readFileSync(keysPath, 'utf8'), path: keysPath } : undefined,
            filter: expr,
            failOn,
            name: '',
          }),
          io.buffer,
          { warning: (msg) => io.warn(msg) },
        );
  const kinds: PacketKinds = stream?.kinds ?? exchanges?.kinds ?? { lisp: 0, control: 0, data: 0, reliable: 0 };
  let seen = 0;
  const shown = () => exchanges?.shown ?? seen;
  const onFrame = (f: Frame): boolean => {
    if (exchanges) return exchanges.frame(f);
    if (live) {
      live.frame(f);
      seen = live.packets;
    } else {
      stream!.frame(f);
      seen = stream!.shown;
    }
    return count === undefined || seen < count;
  };

  const progress = () => ({ frames: s.frames, kinds, shown: shown(), stats: capture.stats() });
  const status = isatty(2) ? new StatusLine(progress, { stdoutTty, info }) : undefined;
  const pacer = new PacedFlush(io.buffer);
  if (exchanges) {
    s.every(500, () => {
      exchanges.sweep(Date.now() / 1000);
      pacer.schedule();
    });
  }
  await s.run(
    {
      frame: onFrame,
      warning: (m) => io.warn(m),
      batchEnd: () => {
        pacer.schedule();
        if (live?.error) s.fail(live.error.message);
      },
    },
    () => info(`listening on ${iface}, link-type ${linkTypeName(capture.linkType)}, capture filter "${bpf}"${file ? `, writing ${file.path}` : ''}`),
  );
  status?.stop();
  pacer.stop();

  stream?.finish();
  exchanges?.finish();
  await io.idle();
  let exported: Awaited<ReturnType<LiveExport['finish']>> | undefined;
  if (live) {
    const st = capture.stats();
    try {
      exported = await live.finish(st.queueDrops + (st.kernelDrops ?? 0) + (st.interfaceDrops ?? 0));
    } catch (e) {
      if (!(e instanceof SinkError)) throw e;
      s.failure ??= e.message;
    }
    kinds.lisp = exported?.lisp_packets ?? kinds.lisp;
    kinds.control = exported?.control_packets ?? 0;
    kinds.data = exported?.data_packets ?? 0;
  }
  const writeError = s.close();

  status?.clear();
  const totals = liveTotalsLines({
    ...progress(),
    iface,
    shows: live ? 'exported' : flows ? 'exchanges' : 'packets',
    ...(file ? { file: { path: file.path, packets: file.packets, filesStarted: file.filesStarted } } : {}),
    ...(exported && exportDest !== undefined ? { export: { dest: exportDest, rows: exported.rows, droppedRows: exported.droppedRows } } : {}),
  });
  for (const l of totals) info(l);
  const err = s.failure ?? writeError;
  if (err) {
    io.error(err);
    return 2;
  }
  // Already said as a warning when it happened; the capture is incomplete all the same.
  if (capture.failed) return 2;
  if (pipeClosed) return 0;
  return stream?.found ? 1 : 0;
}
