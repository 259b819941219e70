// `lispscope read FILE...`: decode every LISP packet of capture files.

import { PacketDecoder, type LispPacket } from '../capture/packets.js';
import { readCapture } from '../capture/source.js';
import { CaptureError } from '../capture/types.js';
import { hexDump } from '../output/hex.js';
import { packetJson, writePacketJson } from '../output/json.js';
import { filterOf, keyLookup, loadKeys, parseDecodeAs } from './common.js';
import { JsonWriter } from '../output/json-writer.js';
import { writeDataJsonFast } from '../output/json-fast.js';
import { packetLine } from '../output/line.js';
import { chooseStyle } from '../output/style.js';
import { packetTree } from '../output/packet-tree.js';
import { renderTree } from '../output/tree.js';
import { helpText, intValue, parseArgs, UsageError, type CommandSpec } from './args.js';
import type { Io } from './io.js';

export const readSpec: CommandSpec = {
  name: 'read',
  summary: 'Decode the LISP packets of capture files (pcap, pcapng, gzipped or not).',
  usage: 'lispscope read [options] FILE... (FILE "-" reads stdin)',
  example: "lispscope read -n -# -c 10 capture.pcap 'udp port 4342'",
  options: [
    { name: 'read', short: 'r', kind: 'list', arg: 'FILE', help: 'capture file to read (same as a positional FILE)' },
    { name: 'verbose', short: 'V', kind: 'flag', help: 'detail tree of every packet, like Wireshark' },
    { name: 'hex', short: 'x', kind: 'flag', help: 'hex and ASCII dump of every frame' },
    { name: 'json', kind: 'flag', help: 'NDJSON output, one object per packet (see README, JSON contract)' },
    { name: 'count', short: 'c', kind: 'value', arg: 'N', help: 'stop after N packets are shown' },
    { name: 'numeric', short: 'n', kind: 'flag', help: 'numeric ports (no lisp-data / lisp-control names)' },
    { name: 'all', kind: 'flag', help: 'also show frames that are not LISP' },
    { name: 'follow', short: 'F', kind: 'flag', help: 'keep reading as the file grows (like tail -f) until interrupted' },
    { name: 'decode-as', short: 'd', kind: 'list', arg: 'udp.port=N[,data]', help: 'decode UDP port N as LISP control (or data)' },
    { name: 'keys', kind: 'value', arg: 'FILE', help: 'verify authentication with keys from FILE (<eid-prefix|ms-address|*> <key> per line)' },
    { name: 'filter', short: 'Y', kind: 'value', arg: 'EXPR', help: 'display filter, e.g. "type == map-register && eid in 10.0.0.0/8"' },
    { name: 'fail-on', kind: 'list', arg: 'WHAT', help: 'exit 1 when a shown packet is malformed or fails authentication (malformed, auth-failed)' },
    { name: 'show-keys', kind: 'flag', help: 'show key material carried in Security Key LCAFs and LISP-SEC OTK-ADs (JSON; -V always masks it)' },
    { name: 'help', short: 'h', kind: 'flag', help: 'show this help' },
  ],
};

export async function runRead(argv: string[], io: Io): Promise<number> {
  const a = parseArgs(readSpec, argv);
  if (a.flags.get('help')) {
    io.out(helpText(readSpec));
    return 0;
  }
  const files = [...(a.lists.get('read') ?? []), ...a.positional];
  if (files.length === 0) throw new UsageError('read: no capture file given (lispscope read FILE)');
  const count = intValue(readSpec, 'count', a.values.get('count'));
  const json = a.flags.get('json') ?? false;
  const verbose = a.flags.get('verbose') ?? false;
  const hex = a.flags.get('hex') ?? false;
  const style = json ? chooseStyle({ isTTY: false }) : chooseStyle(io.stdout, io.env);
  const keysPath = a.values.get('keys');
  const ring = keysPath ? loadKeys(keysPath) : undefined;
  const decodeAs = parseDecodeAs(a.lists.get('decode-as') ?? []);
  const jsonOpts = { showKeys: a.flags.get('show-keys') ?? false };
  const jw = new JsonWriter(io.buffer);
  const expr = a.values.get('filter');
  const filter = expr === undefined ? undefined : filterOf(expr);
  const failOn = new Set((a.lists.get('fail-on') ?? []).flatMap((x) => x.split(',')));
  for (const f of failOn) {
    if (f !== 'malformed' && f !== 'auth-failed') throw new UsageError(`read: --fail-on takes malformed or auth-failed, not "${f}"`);
  }
  let found = false;
  const follow = a.flags.get('follow') ?? false;
  let stop: AbortController | undefined;
  if (follow) {
    if (files.length !== 1 || files[0] === '-') throw new UsageError('read: --follow takes exactly one capture file (stdin already streams)');
    stop = new AbortController();
    const end = () => stop!.abort();
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
  }

  let shown = 0;
  for (const file of files) {
    if (count !== undefined && shown >= count) break;
    const decoder = new PacketDecoder({
      all: a.flags.get('all') ?? false,
      decodeAs,
      keyFor: ring && keyLookup(ring),
      warning: (msg) => io.warn(`${file}: ${msg}`),
    });
    const emit = (p: LispPacket, frameBytes: Uint8Array): void => {
      if (json) {
        writePacketJson(jw, p, jsonOpts);
        io.buffer.ensure(1);
        io.buffer.byte(10);
        return;
      }
      io.line(packetLine(p, { numeric: a.flags.get('numeric') ?? false, style }));
      if (verbose) {
        for (const node of packetTree(p, frameBytes).children ?? []) for (const l of renderTree(node, '    ')) io.line(l);
      }
      if (hex) for (const l of hexDump(frameBytes)) io.line(`    ${l}`);
      if (verbose || hex) io.line('');
    };
    // Plain data packets in JSON go straight from frame bytes to output (see json-fast.ts).
    const fast = json && !filter && !a.flags.get('all') && decodeAs.control.size + decodeAs.data.size === 0;
    try {
      await readCapture(file, {
        frame: (f) => {
          if (fast && writeDataJsonFast(f, io.buffer)) {
            shown++;
            if (follow) io.flush();
            return count === undefined || shown < count;
          }
          const p = decoder.decode(f);
          if (!p) return true;
          if (filter && !filter(packetJson(p, jsonOpts))) return true;
          if (failOn.has('malformed') && (p.notes.length || p.frameNotes.length)) found = true;
          if (failOn.has('auth-failed') && p.auth && !p.auth.ok) found = true;
          emit(p, f.data);
          shown++;
          // Following, output must not wait for a full buffer.
          if (follow) io.flush();
          return count === undefined || shown < count;
        },
        warning: (msg) => io.warn(msg),
      }, stop ? { follow: { signal: stop.signal } } : {});
      decoder.finish();
    } catch (e) {
      if (e instanceof CaptureError) {
        io.error(e.message);
        return 2;
      }
      throw e;
    }
  }
  return found ? 1 : 0;
}
