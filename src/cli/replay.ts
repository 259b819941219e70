// `lispscope replay FILE --to ADDR`: re-sends the LISP messages of a capture over UDP to the one
// address named, keeping each message's original destination port (unless --port) and the
// capture's timing (scaled by --speed, or none with --as-fast-as-possible). Only what asks for an
// answer (and data) is sent unless --all-messages: a captured Map-Notify or Map-Reply sent to a
// server means nothing to it. What comes back is recorded (-w) and printed (-v). --rewrite OLD=NEW
// replaces addresses inside control messages (RLOCs, EIDs, ITR-RLOCs, ECM inner headers) and
// re-signs authenticated ones with the key when one is given.

import { PacketDecoder } from '../capture/packets.js';
import { readCapture } from '../capture/source.js';
import { CaptureError } from '../capture/types.js';
import { copyBytes } from '../dissect/addr.js';
import { parsePrefix } from '../dissect/address.js';
import { controlTypeName, MessageType } from '../dissect/registry.js';
import type { ControlMessage } from '../dissect/types.js';
import { CraftError, parseRewrites, rewriteControl, type Rewrites } from '../mn/craft.js';
import { sourceAddressFor } from '../mn/client.js';
import { delay } from '../mn/requests.js';
import { helpText, intValue, parseArgs, UsageError, type CommandSpec } from './args.js';
import { loadKeys, messageEids } from './common.js';
import type { Io } from '../output/io.js';
import { DST_MAC_OPTION, openSender } from './raw.js';
import { ACTIVE_OPTIONS, emitJson, guardFor, needAddress, openTraffic, parseEndpoint } from './mn.js';


export const replaySpec: CommandSpec = {
  name: 'replay',
  summary:
    'Re-send the LISP messages of a capture over UDP to --to ADDR only, keeping their destination ports and timing. --rewrite OLD=NEW replaces addresses inside control messages and re-signs authenticated ones when --keys gives their key. With -i IF the datagrams are built whole (the captured source address and port, --to as destination) and sent raw on the interface through libpcap.',
  usage: 'lispscope replay FILE --to ADDR [--port N] [--speed X | --as-fast-as-possible] [--rewrite OLD=NEW]... [--keys FILE] [-i IF]',
  example: 'lispscope replay handover.pcapng --to 127.0.1.99 --only control --speed 2',
  options: [
    { name: 'to', kind: 'value', arg: 'ADDR', help: 'where every message goes (required; the only destination)' },
    { name: 'port', kind: 'value', arg: 'N', help: 'send to this port instead of each message\'s original one' },
    { name: 'speed', kind: 'value', arg: 'X', help: 'play X times faster than captured (default 1)' },
    { name: 'as-fast-as-possible', kind: 'flag', help: 'no pauses (still paced by --rate when given)' },
    { name: 'rewrite', kind: 'list', arg: 'OLD=NEW', help: 'replace address OLD by NEW inside control messages (repeatable)' },
    { name: 'keys', kind: 'value', arg: 'FILE', help: 're-sign rewritten authenticated messages with keys from FILE (`read --keys` form); -v verifies with them' },
    { name: 'count', short: 'c', kind: 'value', arg: 'N', help: 'stop after N messages' },
    { name: 'only', kind: 'value', arg: 'control|data', help: 'replay only control messages, or only data packets' },
    { name: 'all-messages', kind: 'flag', help: 'also send the captured answers (Map-Reply, Map-Notify, Map-Notify-Ack, Info-Reply, Map-Referral); by default only requests and data' },
    { name: 'wait', kind: 'value', arg: 'MS', help: 'after the last message, listen this long for answers (default 500)' },
    { name: 'interface', short: 'i', kind: 'value', arg: 'IF', help: 'send raw on interface IF through libpcap, from the captured source address and port (root or CAP_NET_RAW)' },
    DST_MAC_OPTION,
    ...ACTIVE_OPTIONS.map((o) => (o.name === 'rate' ? { ...o, help: 'send at most N datagrams a second (default: no limit beyond the timing)' } : o)),
    { name: 'help', short: 'h', kind: 'flag', help: 'show this help' },
  ],
};

interface Message {
  frame: number;
  ts: number;
  src: string;
  sport: number;
  dport: number;
  kind: 'control' | 'data';
  bytes: Uint8Array;
  type: string;
  control?: ControlMessage;
}

const MAX_MESSAGES = 1_000_000;

/** An answer to someone's request: sending it to a server asks nothing of it. */
export function isAnswer(m: ControlMessage): boolean {
  if ('unknown' in m) return false;
  switch (m.type) {
    case MessageType.MapReply:
    case MessageType.MapNotify:
    case MessageType.MapNotifyAck:
    case MessageType.MapReferral:
      return true;
    case MessageType.Info:
      return m.reply;
    case MessageType.ECM:
      return !!m.inner?.message && isAnswer(m.inner.message);
    default:
      return false;
  }
}


export async function runReplay(argv: string[], io: Io): Promise<number> {
  const a = parseArgs(replaySpec, argv);
  if (a.flags.get('help')) {
    io.out(helpText(replaySpec));
    return 0;
  }
  if (a.positional.length !== 1) throw new UsageError('replay: give exactly one capture FILE (lispscope replay FILE --to ADDR)');
  const file = a.positional[0]!;
  const to = needAddress(a.values.get('to'), '--to', 'replay');
  const port = intValue(replaySpec, 'port', a.values.get('port'));
  if (port !== undefined && (port < 1 || port > 65535)) throw new UsageError('replay: --port must be 1..65535');
  const fast = a.flags.get('as-fast-as-possible') ?? false;
  const speedText = a.values.get('speed');
  if (fast && speedText !== undefined) throw new UsageError('replay: --speed and --as-fast-as-possible exclude each other');
  const speed = speedText === undefined ? 1 : Number(speedText);
  if (!Number.isFinite(speed) || speed <= 0) throw new UsageError(`replay: --speed needs a positive number, not "${speedText}"`);
  const count = intValue(replaySpec, 'count', a.values.get('count'));
  const only = a.values.get('only');
  if (only !== undefined && only !== 'control' && only !== 'data') throw new UsageError('replay: --only takes control or data');
  let rewrites: Rewrites;
  try {
    rewrites = parseRewrites(a.lists.get('rewrite') ?? []);
  } catch (e) {
    if (e instanceof CraftError) throw new UsageError(`replay: ${e.message}`);
    throw e;
  }
  const keysPath = a.values.get('keys');
  const ring = keysPath ? loadKeys(keysPath) : undefined;
  const allMessages = a.flags.get('all-messages') ?? false;
  const wait = intValue(replaySpec, 'wait', a.values.get('wait')) ?? 500;
  let answersSkipped = 0;

  // Read the capture first: then a broken file fails before anything is sent.
  const messages: Message[] = [];
  let truncated = false;
  const decoder = new PacketDecoder({ warning: (m) => io.warn(`${file}: ${m}`) });
  try {
    await readCapture(file, {
      frame: (f) => {
        const p = decoder.decode(f);
        if (!p || !p.udp || !p.lisp || (p.kind !== 'control' && p.kind !== 'data')) return true;
        if (only && p.kind !== only) return true;
        if (p.control && !allMessages && isAnswer(p.control)) {
          answersSkipped++;
          return true;
        }
        if (messages.length >= MAX_MESSAGES) {
          truncated = true;
          return false;
        }
        messages.push({
          frame: p.frame,
          ts: p.ts,
          src: p.ip!.src,
          sport: p.udp.srcPort,
          dport: p.udp.dstPort,
          kind: p.kind,
          bytes: copyBytes(p.lisp),
          type: p.control ? controlTypeName(p.control) : 'data',
          ...(p.control ? { control: p.control } : {}),
        });
        return count === undefined || messages.length < count;
      },
      warning: (m) => io.warn(m),
    });
  } catch (e) {
    if (e instanceof CaptureError) throw new UsageError(e.message);
    throw e;
  }
  if (truncated) io.warn(`replay: only the first ${MAX_MESSAGES} messages are replayed`);
  if (messages.length === 0) {
    io.warn(`${file}: no LISP messages to replay${answersSkipped ? ` (${answersSkipped} answers skipped: --all-messages sends them)` : ''}`);
    return 0;
  }

  const src = a.values.get('source');
  const source = src === undefined ? undefined : parseEndpoint(src, '--source', 'replay');
  const local = source?.address ?? (await sourceAddressFor(to));
  const guard = guardFor(a, 'replay', [to], undefined, 0, 1);
  const traffic = openTraffic(a, io, 'replay', ring ? { key: ring } : {});
  const { raw, socket } = await openSender(a, io, 'replay', { to, source, local, guard, traffic, recordReceived: true });
  const json = a.flags.get('json') ?? false;
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  let sent = 0;
  let rewritten = 0;
  let authBroken = 0;
  const t0 = performance.now();
  try {
    for (const m of messages) {
      if (abort.signal.aborted) break;
      if (!fast) {
        const due = ((m.ts - messages[0]!.ts) * 1000) / speed - (performance.now() - t0);
        if (due > 0) await delay(due, abort.signal);
        if (abort.signal.aborted) break;
      }
      let bytes = m.bytes;
      let changed = false;
      if (m.control && rewrites.size) {
        const key = ring?.lookup(messageEids(m.control), [parsePrefix(to)!]);
        const r = rewriteControl(m.control, m.bytes, rewrites, key);
        bytes = r.bytes;
        changed = r.changed;
        if (r.changed) rewritten++;
        if (r.authBroken) authBroken++;
      }
      const dport = port ?? m.dport;
      const checksum = m.kind === 'control';
      if (raw) {
        // The captured sender (rewritten when asked), unless --source names one; same family as --to.
        const from = source?.address ?? rewrites.get(m.src) ?? m.src;
        const sameFamily = from.includes(':') === to.includes(':');
        if (!raw.send(sameFamily ? from : local, source?.port ?? m.sport, to, dport, bytes, checksum)) {
          io.warn(`replay: refusing to send: ${raw.refused}`);
          break;
        }
      } else if (!socket!.send(to, dport, bytes, { checksum })) break;
      sent++;
      if (json) emitJson(io, { frame: m.frame, type: m.type, to, dport, len: bytes.length, rewritten: changed });
      else if (!a.flags.get('verbose')) io.line(`frame ${m.frame}: ${m.type} to ${to}:${dport}, ${bytes.length} bytes${changed ? ', rewritten' : ''}`);
      io.flush();
    }
    // Paced datagrams still queued leave before the socket closes; then the last answers come back.
    while (guard.pending && !abort.signal.aborted) await delay(20, abort.signal);
    await delay(Math.max(wait, 20), abort.signal);
  } finally {
    process.off('SIGINT', onSignal);
    await socket?.close();
    await raw?.close();
    guard.close();
    traffic.close();
  }
  if (authBroken) io.warn(`replay: ${authBroken} authenticated message(s) were rewritten without their key (--keys): their authentication no longer verifies`);
  const skipped = answersSkipped ? `, ${answersSkipped} captured answer${answersSkipped === 1 ? '' : 's'} not sent (--all-messages sends them)` : '';
  const back = raw ? '' : `; ${traffic.received} answer${traffic.received === 1 ? '' : 's'} came back`;
  const summary = `replayed ${sent} of ${messages.length} LISP messages to ${to}${raw ? ` raw on ${raw.iface}` : ''} in ${((performance.now() - t0) / 1000).toFixed(2)} s${rewritten ? ` (${rewritten} rewritten)` : ''}${abort.signal.aborted ? ' (interrupted)' : ''}${skipped}${back}`;
  if (json) io.err(`${summary}\n`);
  else io.line(summary);
  return 0;
}
