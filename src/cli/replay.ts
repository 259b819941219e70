// `lispscope replay FILE --to ADDR`: re-sends the LISP messages of a capture over UDP to the one
// address named, keeping each message's original destination port (unless --port) and the
// capture's timing (scaled by --speed, or none with --as-fast-as-possible). Only what asks for an
// answer (and data) is sent unless --all-messages: a captured Map-Notify or Map-Reply sent to a
// server means nothing to it. What comes back is recorded (-w) and printed (-v). --rewrite OLD=NEW
// replaces addresses inside control messages (RLOCs, EIDs, ITR-RLOCs, ECM inner headers) and
// re-signs authenticated ones with the key when one is given.

import { CaptureError } from '../capture/types.js';
import { CraftError, parseRewrites, type Rewrites } from '../mn/craft.js';
import { sourceAddressFor } from '../mn/client.js';
import { loadReplay, MAX_REPLAY_MESSAGES, replayMessages } from '../mn/replay.js';
import { delay } from '../mn/requests.js';
import { replayedLine, replaySummary } from '../output/active.js';
import { helpText, intValue, parseArgs, UsageError, type CommandSpec } from './args.js';
import { loadKeys } from './common.js';
import type { Io } from '../output/io.js';
import { DST_MAC_OPTION, openSender } from './raw.js';
import { ACTIVE_OPTIONS, guardFor, needAddress, openTraffic, parseEndpoint } from './active.js';

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

  // Read the capture first: then a broken file fails before anything is sent.
  let loaded;
  try {
    loaded = await loadReplay(file, { only, allMessages, count, warn: (m) => io.warn(m) });
  } catch (e) {
    if (e instanceof CaptureError) throw new UsageError(e.message);
    throw e;
  }
  const { messages, answersSkipped } = loaded;
  if (loaded.truncated) io.warn(`replay: only the first ${MAX_REPLAY_MESSAGES} messages are replayed`);
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
  let r;
  try {
    r = await replayMessages(messages, {
      to,
      port,
      fast,
      speed,
      rewrites,
      keys: ring,
      source,
      local,
      signal: abort.signal,
      send: (d) => {
        if (raw) {
          if (!raw.send(d.from, d.sport, to, d.dport, d.bytes, d.checksum)) {
            io.warn(`replay: refusing to send: ${raw.refused}`);
            return false;
          }
        } else if (!socket!.send(to, d.dport, d.bytes, { checksum: d.checksum })) return false;
        if (json || !a.flags.get('verbose')) io.line(replayedLine(d, to, json));
        io.flush();
        return true;
      },
    });
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
  const { authBroken } = r;
  if (authBroken) io.warn(`replay: ${authBroken} authenticated message(s) were rewritten without their key (--keys): their authentication no longer verifies`);
  const summary = replaySummary({
    sent: r.sent,
    of: messages.length,
    to,
    rawOn: raw?.iface,
    seconds: (performance.now() - r.started) / 1000,
    rewritten: r.rewritten,
    interrupted: abort.signal.aborted,
    answersSkipped,
    received: traffic.received,
  });
  if (json) io.err(`${summary}\n`);
  else io.line(summary);
  return 0;
}
