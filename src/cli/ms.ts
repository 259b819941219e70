// `lispscope ms`: a standalone Map-Server/Map-Resolver on one address of this host (src/mn's
// MapServer, the one the lab runs), for testing a real xTR, Mobile Node or RTR. Every message it
// receives and sends is printed as `read` prints it (or NDJSON), or the exchanges as they complete
// (--flows); -w records both directions; SIGUSR1 prints the sites table, SIGINT/SIGTERM print it,
// close the file and exit 0. Keys come only from the --keys file.

import { parsePrefix } from '../dissect/address.js';
import { KeyRing } from '../dissect/keyring.js';
import { LISP_CONTROL_PORT } from '../dissect/registry.js';
import { MapService } from '../mn/map-service.js';
import { parseSiteKeys } from '../mn/sites.js';
import { MapServerTraffic, serviceLine, sitesOutput, stoppedLine } from '../output/ms.js';
import { chooseStyle } from '../output/style.js';
import { helpText, intValue, parseArgs, UsageError, type CommandSpec } from './args.js';
import { openRecording, readKeyFile } from './common.js';
import type { Io } from '../output/io.js';
import { needAddress } from './active.js';
import { exchangeLine } from '../output/flows-text.js';

export const msSpec: CommandSpec = {
  name: 'ms',
  summary:
    'A standalone Map-Server/Map-Resolver on one address of this host, to test a real xTR, Mobile Node or RTR against: sites and keys from --keys (the `read --keys` form: each EID prefix is a site accepting its more-specifics); prints every message as `read` does (or the exchanges with --flows), the sites table on SIGUSR1 and at exit.',
  usage: `lispscope ms --listen ADDR [--port ${LISP_CONTROL_PORT}] --keys FILE [--proxy-reply | --forward-to-etr] [--map-notify-ack] [--rtr ADDR]... [--ttl MIN] [-w FILE] [--flows] [--json] [-v]`,
  example: 'lispscope ms --listen 198.51.100.1 --keys sites.keys --rtr 198.51.100.6 -w ms.pcapng',
  options: [
    { name: 'listen', kind: 'value', arg: 'ADDR', help: 'the one address to serve on: a unicast IPv4 or IPv6 address of this host (required)' },
    { name: 'port', kind: 'value', arg: 'N', help: `LISP control port (default ${LISP_CONTROL_PORT})` },
    { name: 'keys', kind: 'value', arg: 'FILE', help: 'sites and keys: `<eid-prefix> <key>` lines (required; keys are never taken from the command line)' },
    { name: 'proxy-reply', kind: 'flag', help: 'answer Map-Requests for every registered EID (default: as each Map-Register\'s P bit asks)' },
    { name: 'forward-to-etr', kind: 'flag', help: 'forward every Map-Request to a registered ETR, even when P asked for a proxy reply' },
    { name: 'map-notify-ack', kind: 'flag', help: 'retransmit unsolicited Map-Notifies (a merged RLOC-set changed) every 2 s until a Map-Notify-Ack, 3 times' },
    { name: 'rtr', kind: 'list', arg: 'ADDR', help: 'RTR announced in Info-Replies (repeatable); an address of this host runs our RTR there' },
    { name: 'ttl', kind: 'value', arg: 'MIN', help: 'TTL of negative Map-Replies for non-LISP space and of Info-Replies (default 15)' },
    { name: 'registration-timeout', kind: 'value', arg: 'SEC', help: 'drop a registration not refreshed for this long (default 180, RFC 9301 §8.2)' },
    { name: 'rate', kind: 'value', arg: 'N', help: 'handle at most N messages a second from one source address, after a burst of 2N (default 100; 0: no limit)' },
    { name: 'write', short: 'w', kind: 'value', arg: 'FILE', help: 'record what is received and sent to FILE (.pcapng, else pcap)' },
    { name: 'flows', kind: 'flag', help: 'show the exchanges (registration, resolution, nat-info ...) as they complete instead of the packets' },
    { name: 'for', kind: 'value', arg: 'SEC', help: 'stop after SEC seconds (default: at SIGINT/SIGTERM)' },
    { name: 'json', kind: 'flag', help: 'NDJSON: packets as `read --json` writes them plus "direction" (exchanges with --flows); the sites table as {"event":"sites"}' },
    { name: 'numeric', short: 'n', kind: 'flag', help: 'numeric ports' },
    { name: 'verbose', short: 'v', kind: 'flag', help: 'also say on stderr what the Map-Server decides (registered, forwarded, answered)' },
    { name: 'help', short: 'h', kind: 'flag', help: 'show this help' },
  ],
};

function positive(name: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !(n > min)) throw new UsageError(`ms: --${name} needs a positive number, not "${v}"`);
  return n;
}

export async function runMs(argv: string[], io: Io): Promise<number> {
  const a = parseArgs(msSpec, argv);
  if (a.flags.get('help')) {
    io.out(helpText(msSpec));
    return 0;
  }
  if (a.positional.length) throw new UsageError(`ms: unexpected argument "${a.positional[0]}" (keys go in the --keys file, never on the command line)`);
  const listen = needAddress(a.values.get('listen'), '--listen', 'ms');
  const refusal = MapService.refusal(listen);
  if (refusal) throw new UsageError(`ms: --listen ${refusal}`);
  const port = intValue(msSpec, 'port', a.values.get('port'));
  if (port !== undefined && (port < 1 || port > 65535)) throw new UsageError('ms: --port must be 1..65535');
  const keysPath = a.values.get('keys');
  if (keysPath === undefined) throw new UsageError('ms: --keys FILE is required (`<eid-prefix> <key>` lines: the sites and their keys)');
  const keysText = readKeyFile(keysPath);
  const rtrs = (a.lists.get('rtr') ?? []).map((r) => needAddress(r, '--rtr', 'ms'));
  const sites = parseSiteKeys(keysText, keysPath, rtrs);
  if ('error' in sites) throw new UsageError(sites.error);
  const ring = KeyRing.parse(keysText, keysPath) as KeyRing;
  if (a.flags.get('proxy-reply') && a.flags.get('forward-to-etr')) throw new UsageError('ms: --proxy-reply and --forward-to-etr exclude each other');
  const proxyReply = a.flags.get('proxy-reply') ? 'always' : a.flags.get('forward-to-etr') ? 'never' : 'registration';
  const ttl = intValue(msSpec, 'ttl', a.values.get('ttl'));
  const regTimeout = positive('registration-timeout', a.values.get('registration-timeout'));
  const rate = intValue(msSpec, 'rate', a.values.get('rate'));
  const runFor = positive('for', a.values.get('for'));
  const json = a.flags.get('json') ?? false;
  const verbose = a.flags.get('verbose') ?? false;
  const numeric = a.flags.get('numeric') ?? false;
  const style = json ? chooseStyle({ isTTY: false }) : chooseStyle(io.stdout, io.env);
  const info = (s: string) => io.err(`lispscope: ms: ${s}\n`);

  const path = a.values.get('write');
  const writer = openRecording('ms', path);

  const traffic = new MapServerTraffic({
    writer,
    keys: ring,
    controlPort: port,
    json,
    numeric,
    style,
    exchangeText: a.flags.get('flows') ? exchangeLine : undefined,
    warn: (m) => io.warn(m),
    line: (t) => io.line(t),
    flush: () => io.flush(),
  });

  let service: MapService;
  try {
    service = await MapService.start({
      address: listen,
      ...(port ? { port } : {}),
      sites,
      rtrs,
      // The key line of the RTR's own address.
      rtrKey: (rtr) => {
        const p = parsePrefix(rtr);
        return p ? ring.lookup([], [p]) : undefined;
      },
      proxyReply,
      ...(a.flags.get('map-notify-ack') ? { mapNotifyAck: { timeoutMs: 2000, retries: 3, backoff: 1 } } : {}),
      ...(ttl !== undefined ? { ttl } : {}),
      ...(regTimeout ? { registrationTimeoutMs: regTimeout * 1000 } : {}),
      ...(rate !== undefined ? { perSourceRate: rate } : {}),
      recorder: traffic.recorder,
      log: (level, component, message) => {
        // Rejections and troubles always (a silent drop is what the engineer is here to see); decisions with -v.
        if (level === 'warn' || (verbose && level === 'info')) info(`${component === 'ms' ? '' : `${component}: `}${message}`);
      },
    });
  } catch (e) {
    traffic.stop();
    writer?.close();
    throw new UsageError(`ms: ${(e as Error).message}`);
  }
  info(serviceLine({ listen, port: port ?? LISP_CONTROL_PORT, sites, rtrs, ours: (r) => !!service.rtr?.currentRlocs.includes(r), proxyReply }));

  const showSites = () => {
    for (const l of sitesOutput(service.ms.siteReports(), service.ms.publisher.list(), json)) io.line(l);
    io.flush();
  };
  process.on('SIGUSR1', showSites);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    if (runFor !== undefined) setTimeout(resolve, runFor * 1000).unref();
  });
  process.off('SIGUSR1', showSites);
  traffic.stop();
  await service.close();
  traffic.finish();
  showSites();
  info(stoppedLine(service.ms, path ? { path, packets: traffic.recorder.count } : undefined));
  return 0;
}
