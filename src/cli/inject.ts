// `lispscope inject`: craft one LISP control message, from options or from a JSON object in the
// `read --json` form, and send it to the address named with --to (and nowhere else): over UDP, or raw
// on an interface with -i.
// With --wait, what comes back is printed too.

import { readFileSync } from 'node:fs';
import { ephemeralPort } from '../capture/raw-sender.js';
import { CRAFTABLE, CraftError, craftFromJson, firstEid, messageFromOptions, needsKey } from '../mn/craft.js';
import { sourceAddressFor } from '../mn/client.js';
import { delay } from '../mn/requests.js';
import { helpText, intValue, parseArgs, UsageError, type CommandSpec } from './args.js';
import type { Io } from '../output/io.js';
import { DST_MAC_OPTION, openSender } from './raw.js';
import { ACTIVE_OPTIONS, guardFor, keyIdOf, needAddress, openTraffic, parseEndpoint, readKey } from './active.js';
import { LISP_CONTROL_PORT } from '../dissect/registry.js';

export const injectSpec: CommandSpec = {
  name: 'inject',
  summary: `Craft one LISP control message and send it over UDP to --to ADDR: from options (TYPE is ${CRAFTABLE.filter((t) => t !== 'ecm').join(', ')}; --ecm wraps a Map-Request) or from a JSON object as \`read --json\` prints it (--message / --from), ECMs included. Authenticated messages are signed with --key-file or LISPSCOPE_KEY. With -i IF the datagram is built whole (IP and UDP headers from --source, or this host's address and a random port) and sent raw on the interface through libpcap; --wait then captures the answers on that interface.`,
  usage: 'lispscope inject TYPE --to ADDR [--port N] [--eid PFX] [--rloc A]... [-i IF] [options] | lispscope inject --to ADDR --message JSON|--from FILE',
  example: 'lispscope inject map-request --ecm --eid 10.2.0.7 --to 127.0.1.1 --wait 200',
  options: [
    { name: 'to', kind: 'value', arg: 'ADDR', help: 'where to send (required; the only destination)' },
    { name: 'port', kind: 'value', arg: 'N', help: `destination UDP port (default ${LISP_CONTROL_PORT})` },
    { name: 'message', kind: 'value', arg: 'JSON', help: 'the message as a `read --json` object' },
    { name: 'from', kind: 'value', arg: 'FILE', help: 'read that JSON object from FILE ("-": stdin; the first line that is an object)' },
    { name: 'eid', kind: 'list', arg: 'PFX', help: 'EID-record(s) of a Map-Request, the record of a Map-Reply/Map-Register/Map-Notify, the EID of an Info-Request' },
    { name: 'rloc', kind: 'list', arg: 'ADDR', help: 'locator(s) of the record' },
    { name: 'itr-rloc', kind: 'list', arg: 'ADDR', help: 'ITR-RLOC(s) of a Map-Request (default: our source address)' },
    { name: 'source-eid', kind: 'value', arg: 'ADDR', help: 'Source-EID of a Map-Request' },
    { name: 'nonce', kind: 'value', arg: 'HEX', help: 'the nonce (default random)' },
    { name: 'ttl', kind: 'value', arg: 'MIN', help: 'Record TTL in minutes (default 1440)' },
    { name: 'probe', kind: 'flag', help: 'P: RLOC-probe (Map-Request) or probe reply (Map-Reply)' },
    { name: 'smr-invoked', kind: 'flag', help: 's: an SMR-invoked Map-Request' },
    { name: 'pitr', kind: 'flag', help: 'p: sent by a PITR' },
    { name: 'ecm', kind: 'flag', help: 'wrap the Map-Request in an ECM, as for a Map-Resolver' },
    { name: 'proxy-reply', kind: 'flag', help: 'P of a Map-Register' },
    { name: 'notify', kind: 'flag', help: 'M (want-map-notify) of a Map-Register' },
    { name: 'action', kind: 'value', arg: 'ACT', help: 'action of a negative Map-Reply (default native-forward when there is no --rloc)' },
    { name: 'key-file', kind: 'value', arg: 'FILE', help: 'site key for authenticated messages (else LISPSCOPE_KEY)' },
    { name: 'key-id', kind: 'value', arg: '1|2', help: 'HMAC-SHA-1-96 or HMAC-SHA-256-128 (default 2)' },
    { name: 'wait', kind: 'value', arg: 'MS', help: 'then listen this long and print what comes back' },
    { name: 'interface', short: 'i', kind: 'value', arg: 'IF', help: 'send raw on interface IF through libpcap (root or CAP_NET_RAW)' },
    DST_MAC_OPTION,
    ...ACTIVE_OPTIONS,
    { name: 'help', short: 'h', kind: 'flag', help: 'show this help' },
  ],
};

function readJsonObject(text: string, where: string): Record<string, unknown> {
  const line = text.split(/\r?\n/).find((l) => l.trim().startsWith('{')) ?? text;
  try {
    const v = JSON.parse(line) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`inject: ${where}: ${(e as Error).message}`);
  }
}

/** The `read --json` form of the message the options describe. */
function fromOptions(a: ReturnType<typeof parseArgs>, type: string, itrDefault: string, sport: number): Record<string, unknown> {
  try {
    return messageFromOptions(
      type,
      {
        eids: a.lists.get('eid') ?? [],
        rlocs: a.lists.get('rloc') ?? [],
        itrRlocs: a.lists.get('itr-rloc'),
        ttl: intValue(injectSpec, 'ttl', a.values.get('ttl')),
        nonce: a.values.get('nonce'),
        sourceEid: a.values.get('source-eid'),
        action: a.values.get('action'),
        probe: a.flags.get('probe') ?? false,
        smrInvoked: a.flags.get('smr-invoked') ?? false,
        pitr: a.flags.get('pitr') ?? false,
        ecm: a.flags.get('ecm') ?? false,
        proxyReply: a.flags.get('proxy-reply') ?? false,
        wantMapNotify: a.flags.get('notify') ?? false,
        keyId: () => keyIdOf(a, 'inject'),
      },
      itrDefault,
      sport,
    );
  } catch (e) {
    if (e instanceof CraftError) throw new UsageError(`inject: ${e.message}`);
    throw e;
  }
}

export async function runInject(argv: string[], io: Io): Promise<number> {
  const a = parseArgs(injectSpec, argv);
  if (a.flags.get('help')) {
    io.out(helpText(injectSpec));
    return 0;
  }
  const to = needAddress(a.values.get('to'), '--to', 'inject');
  const port = intValue(injectSpec, 'port', a.values.get('port')) ?? LISP_CONTROL_PORT;
  if (port < 1 || port > 65535) throw new UsageError('inject: --port must be 1..65535');
  const type = a.positional[0];
  if (a.positional.length > 1) throw new UsageError(`inject: unexpected argument "${a.positional[1]}"`);
  const jsonText = a.values.get('message');
  const fromFile = a.values.get('from');
  if (!type && jsonText === undefined && fromFile === undefined) throw new UsageError(`inject: give a TYPE (${CRAFTABLE.join(', ')}) or --message/--from`);
  if (type && (jsonText !== undefined || fromFile !== undefined)) throw new UsageError('inject: give a TYPE with options, or --message/--from, not both');

  const src = a.values.get('source');
  const source = src === undefined ? undefined : parseEndpoint(src, '--source', 'inject');
  const local = source?.address ?? (await sourceAddressFor(to));
  const guard = guardFor(a, 'inject', [to]);
  const traffic = openTraffic(a, io, 'inject', { print: true });
  const rawPort = source?.port ?? ephemeralPort();
  const wait = intValue(injectSpec, 'wait', a.values.get('wait')) ?? 0;
  const { raw, socket } = await openSender(a, io, 'inject', {
    to,
    source,
    local,
    guard,
    traffic,
    recordReceived: true,
    controlPort: port,
    ...(wait ? { listenPort: rawPort } : {}),
  });
  const sport = socket?.port ?? rawPort;
  try {
    let obj: Record<string, unknown>;
    if (jsonText !== undefined) obj = readJsonObject(jsonText, '--message');
    else if (fromFile !== undefined) {
      let text: string;
      try {
        text = readFileSync(fromFile === '-' ? 0 : fromFile, 'utf8');
      } catch (e) {
        throw new UsageError(`inject: ${fromFile}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      }
      obj = readJsonObject(text, fromFile);
    } else obj = fromOptions(a, type!, local, sport);
    const key = needsKey(obj) ? readKey('inject', a.values.get('key-file'), io.env, firstEid(obj) ?? firstEid((obj.inner ?? {}) as Record<string, unknown>), to) : undefined;
    traffic.key = key;
    let crafted;
    try {
      crafted = craftFromJson(obj, key);
    } catch (e) {
      if (e instanceof CraftError) throw new UsageError(`inject: ${e.message}`);
      throw e;
    }
    if (raw) {
      if (!raw.send(local, sport, to, port, crafted.bytes, true)) {
        io.warn(`inject: refusing to send: ${raw.refused}`);
        return 1;
      }
    } else if (!socket!.send(to, port, crafted.bytes)) return 1;
    await delay(Math.max(wait, 20)); // let the datagram leave, and answers arrive
    // The packets were printed as they went (NDJSON with --json): only a count is left to say.
    if (wait && !a.flags.get('json')) io.line(`${traffic.received} answer${traffic.received === 1 ? '' : 's'} within ${wait} ms`);
    // Waiting for answers that did not come is a failure, as an unanswered `mn resolve` is.
    return wait && traffic.received === 0 ? 1 : 0;
  } finally {
    await socket?.close();
    await raw?.close();
    guard.close();
    traffic.close();
  }
}
