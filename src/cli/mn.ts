// `lispscope mn ...`: the active probe mode, against Map-Servers, Map-Resolvers and xTRs the user
// names. register, resolve (like lig), probe, smr, info (NAT discovery), ping (encapsulated echo)
// and run (stay up as a Mobile Node, with handovers). Keys come only from files or LISPSCOPE_KEY,
// never from the command line, and are never printed. Datagrams go only to the addresses named,
// never to multicast/broadcast unless --allow-broadcast, at most --rate a second. This file wires:
// what is sent and waited for is src/mn's, how it reads is src/output/mn.ts's.

import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { addressText, parsePrefix, prefixText } from '../dissect/address.js';
import { fromHex } from '../dissect/addr.js';
import { randomNonce } from '../dissect/build.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT, SITE_ID_LENGTH, XTR_ID_LENGTH } from '../dissect/registry.js';
import { LispClient, sourceAddressFor } from '../mn/client.js';
import { ConfigError, configuredRlocs, parseMobileNodeConfig, type MobileNodeConfig } from '../mn/config.js';
import { ownLocators } from '../mn/etr.js';
import { pingNode, pingReady } from '../mn/ping-node.js';
import { pingSeries, pinThrough } from '../mn/ping.js';
import { registerFailure, stableXtrId } from '../mn/registration.js';
import type { LispRouter } from '../mn/router.js';
import { MobileNodeRun } from '../mn/run.js';
import { clockInterface, openWireClock, WireClockError, type WireClock } from '../mn/wire-clock.js';
import type { ActiveTraffic } from '../output/active.js';
import {
  echoOutput,
  infoOutput,
  pingSummary,
  probeOutput,
  publicationOutput,
  registerOutput,
  resolveOutput,
  resolveStartLine,
  runEventOutput,
  smrOutput,
  subscribedOutput,
  subscribeRegisteredOutput,
  withdrawnOutput,
} from '../output/mn.js';
import { helpText, intValue, parseArgs, UsageError, type CommandSpec, type OptionSpec, type Parsed } from './args.js';
import { ACTIVE_OPTIONS, guardFor, keyIdOf, needAddress, needPrefix, openTraffic, parseEndpoint, printLines, readKey } from './active.js';
import type { Io } from '../output/io.js';

function numberOption(a: Parsed, spec: CommandSpec, name: string, dflt: number): number {
  return intValue(spec, name, a.values.get(name)) ?? dflt;
}

function retryOf(a: Parsed, spec: CommandSpec) {
  return { timeoutMs: Math.max(1, numberOption(a, spec, 'timeout', 1000)), retries: numberOption(a, spec, 'retries', 3) };
}

// ---- the subcommands ---------------------------------------------------------------------------

/** How the active exchanges are timed. */
const CLOCK: OptionSpec[] = [
  {
    name: 'interface',
    short: 'i',
    kind: 'value',
    arg: 'IF',
    help: 'time the exchanges on a libpcap capture of IF (kernel timestamps) and see ICMP errors there; as root the interface of the source address is captured unless --socket-clock',
  },
  { name: 'socket-clock', kind: 'flag', help: 'time with the socket (send completed, datagram arrived) even as root' },
];

const COMMON: OptionSpec[] = [
  ...ACTIVE_OPTIONS,
  ...CLOCK,
  { name: 'port', kind: 'value', arg: 'N', help: `destination LISP control port (default ${LISP_CONTROL_PORT})` },
  { name: 'timeout', kind: 'value', arg: 'MS', help: 'first wait for an answer; doubles on each retransmission (default 1000)' },
  { name: 'retries', kind: 'value', arg: 'N', help: 'retransmissions before giving up (default 3)' },
  { name: 'help', short: 'h', kind: 'flag', help: 'show this help' },
];
const KEY: OptionSpec[] = [
  { name: 'key-file', kind: 'value', arg: 'FILE', help: 'the site key: one key, or `<eid-prefix|ms-address|*> <key>` lines (else LISPSCOPE_KEY)' },
  { name: 'key-id', kind: 'value', arg: '1|2', help: 'authentication: 1 HMAC-SHA-1-96 (what Open Overlay Router accepts), 2 HMAC-SHA-256-128 (default 2)' },
];
const XTR_ID: OptionSpec[] = [
  {
    name: 'xtr-id',
    kind: 'value',
    arg: 'HEX|none',
    help: '128-bit xTR-ID (32 hex digits), or none: no xTR-ID and the I bit clear (OOR drops I-bit Map-Registers from a non-RTR when it has RTRs); default: derived from the EID and key, the same every run',
  },
  { name: 'site-id', kind: 'value', arg: 'HEX', help: '64-bit site-ID sent with the xTR-ID (16 hex digits, default 0)' },
];

export const MN_SPECS: Record<string, CommandSpec> = {
  register: {
    name: 'mn register',
    summary: 'Register an EID prefix with a Map-Server (signed Map-Register; with --notify, wait for the Map-Notify).',
    usage: 'lispscope mn register --ms ADDR --eid PFX --rloc A [--rloc B] --key-file F [--key-id 1|2] [--xtr-id HEX|none] [--site-id HEX] [--notify] [--proxy-reply]',
    example: 'lispscope mn register --ms 127.0.1.1 --eid 10.1.0.5/32 --rloc 127.0.1.50 --key-file mn.key --notify',
    options: [
      { name: 'ms', kind: 'value', arg: 'ADDR', help: 'the Map-Server' },
      { name: 'eid', kind: 'value', arg: 'PFX', help: 'the EID prefix to register' },
      { name: 'rloc', kind: 'list', arg: 'ADDR', help: 'an RLOC of the EID (repeat for several)' },
      ...KEY,
      { name: 'notify', kind: 'flag', help: 'set want-map-notify and wait for the Map-Notify (retransmitting)' },
      { name: 'proxy-reply', kind: 'flag', help: 'ask the Map-Server to answer Map-Requests for the EID' },
      { name: 'ttl', kind: 'value', arg: 'MIN', help: 'Record TTL in minutes (default 1440; 0 deregisters)' },
      { name: 'mobile', kind: 'flag', help: 'set the mobile-node bit' },
      ...XTR_ID,
      ...COMMON,
    ],
  },
  resolve: {
    name: 'mn resolve',
    summary: 'Ask a Map-Resolver for an EID, like lig: ECM\'d Map-Request, retransmitted with back-off; prints the mapping, the RTT and who answered. Exit 1 when unanswered.',
    usage: 'lispscope mn resolve EID --mr ADDR [--source ADDR[:PORT]] [--json]',
    example: 'lispscope mn resolve 10.2.0.7 --mr 127.0.1.1',
    options: [
      { name: 'mr', kind: 'value', arg: 'ADDR', help: 'the Map-Resolver' },
      { name: 'source-eid', kind: 'value', arg: 'ADDR', help: 'Source-EID of the Map-Request (default none)' },
      ...COMMON,
    ],
  },
  probe: {
    name: 'mn probe',
    summary: 'RLOC-probe an ETR: Map-Request with the probe bit straight to RLOC; the reply marks the probed locator. Exit 1 when unanswered.',
    usage: 'lispscope mn probe RLOC --eid PFX [--json]',
    example: 'lispscope mn probe 127.0.1.2 --eid 10.2.0.0/24',
    options: [{ name: 'eid', kind: 'value', arg: 'PFX', help: 'the EID prefix the RLOC serves' }, { name: 'source-eid', kind: 'value', arg: 'ADDR', help: 'Source-EID (default none)' }, ...COMMON],
  },
  smr: {
    name: 'mn smr',
    summary: 'Send an SMR to a peer ITR: "the mapping of EID changed"; the peer re-resolves it through its Map-Resolver.',
    usage: 'lispscope mn smr PEER --eid PFX [--peer-eid PFX]',
    example: 'lispscope mn smr 127.0.1.2 --eid 10.1.0.5/32 --peer-eid 10.2.0.0/24',
    options: [
      { name: 'eid', kind: 'value', arg: 'PFX', help: 'our EID whose mapping changed (the Source-EID)' },
      { name: 'peer-eid', kind: 'value', arg: 'PFX', help: 'the EID-record: the peer\'s EID prefix (default: ours)' },
      ...COMMON,
    ],
  },
  info: {
    name: 'mn info',
    summary: 'NAT discovery: Info-Request to a Map-Server; prints the address and port it saw, its RTRs, and whether a NAT is in the way. Exit 1 when unanswered.',
    usage: 'lispscope mn info --ms ADDR --eid PFX --key-file F [--key-id 1|2]',
    example: 'lispscope mn info --ms 127.0.1.1 --eid 10.1.0.5/32 --key-file mn.key',
    options: [{ name: 'ms', kind: 'value', arg: 'ADDR', help: 'the Map-Server' }, { name: 'eid', kind: 'value', arg: 'PFX', help: 'our EID prefix' }, ...KEY, ...COMMON],
  },
  ping: {
    name: 'mn ping',
    summary:
      'Encapsulated ICMP echo (or UDP echo) from our EID to an EID through the ETR at RLOC. Binds the LISP ports on the source address to get the replies and answer Map-Requests; with --ms registers first. Exit 1 when nothing answered.',
    usage: 'lispscope mn ping EID --rloc R --eid OUR [--count N] [--interval SEC] [--udp] [--ms ADDR --key-file F]',
    example: 'lispscope mn ping 10.2.0.7 --rloc 127.0.1.2 --eid 10.1.0.5/32 --source 127.0.1.50 -c 3',
    options: [
      { name: 'rloc', kind: 'value', arg: 'ADDR', help: 'the ETR to encapsulate to' },
      { name: 'eid', kind: 'value', arg: 'PFX', help: 'our EID (the echo\'s source)' },
      { name: 'count', short: 'c', kind: 'value', arg: 'N', help: 'echoes to send (default 3)' },
      { name: 'interval', kind: 'value', arg: 'SEC', help: 'between echoes (default 1)' },
      { name: 'udp', kind: 'flag', help: 'UDP to the echo port (7) instead of ICMP' },
      { name: 'ms', kind: 'value', arg: 'ADDR', help: 'register our EID (proxy-reply) with this Map-Server first' },
      { name: 'mr', kind: 'value', arg: 'ADDR', help: 'Map-Resolver for Map-Requests we need (default: the Map-Server)' },
      ...KEY,
      ...XTR_ID,
      { name: 'data-port', kind: 'value', arg: 'N', help: `LISP data port (default ${LISP_DATA_PORT})` },
      ...COMMON,
    ],
  },
  subscribe: {
    name: 'mn subscribe',
    summary:
      'Publish/Subscribe (RFC 9437) as an xTR does: register our EID (the Map-Server signs what it publishes to us with our site key, found by our xTR-ID), subscribe to EID, then print and acknowledge every Map-Notify the Map-Server publishes when its mapping changes; withdraw at the end. Listens on the LISP control port of the source address. Exit 1 when the subscription was not confirmed, or fewer than --count publications came.',
    usage: 'lispscope mn subscribe EID --ms ADDR --eid OUR --key-file F [--rloc R] [--key-id 1|2] [--xtr-id HEX] [--site-id HEX] [--count N] [--for SEC] [--json]',
    example: 'lispscope mn subscribe 10.1.0.5/32 --ms 127.0.1.1 --eid 10.2.0.7/32 --key-file xtr.key --count 1',
    options: [
      { name: 'ms', kind: 'value', arg: 'ADDR', help: 'the Map-Server (and Map-Resolver the subscription goes to)' },
      { name: 'eid', kind: 'value', arg: 'PFX', help: 'our EID prefix, registered first with our xTR-ID' },
      { name: 'rloc', kind: 'list', arg: 'ADDR', help: 'an RLOC of our EID (default: the source address)' },
      ...KEY,
      ...XTR_ID,
      { name: 'count', short: 'c', kind: 'value', arg: 'N', help: 'stop after N publications' },
      { name: 'for', kind: 'value', arg: 'SEC', help: 'stop after SEC seconds (default: at SIGINT/SIGTERM, or after --count)' },
      ...COMMON,
    ],
  },
  run: {
    name: 'mn run',
    summary:
      'Stay up as a Mobile Node: register, resolve, answer; hand over (re-register, SMR the peers) on SIGUSR1 after re-reading the configuration, or when a configured interface\'s address changes.',
    usage: 'lispscope mn run --config FILE [--json] [-w FILE]',
    example: 'lispscope mn run --config mn.json',
    options: [
      { name: 'config', kind: 'value', arg: 'FILE', help: 'JSON configuration (docs/mobile-node.md): eid, rlocs or interfaces, mapServer, keyFile ...' },
      { name: 'for', kind: 'value', arg: 'SEC', help: 'stop after SEC seconds (default: until SIGINT/SIGTERM)' },
      ...ACTIVE_OPTIONS,
      ...CLOCK,
      { name: 'help', short: 'h', kind: 'flag', help: 'show this help' },
    ],
  },
};

function mnHelp(): string {
  const rows = Object.entries(MN_SPECS).map(([n, s]) => `  ${n.padEnd(10)} ${s.usage.replace(/^lispscope mn \S+ ?/, '')}`);
  return `The active probe mode: speak LISP to the Map-Servers, Map-Resolvers and xTRs you name.\n\nUsage: lispscope mn <command> [options]\n\nCommands:\n${rows.join('\n')}\n\nRun "lispscope mn <command> --help" for a command's options. Keys come only from --key-file or LISPSCOPE_KEY.\n\nExample:\n  ${MN_SPECS.resolve!.example}\n`;
}

export async function runMn(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(mnHelp());
    return sub === undefined ? 2 : 0;
  }
  const spec = MN_SPECS[sub];
  if (!spec) throw new UsageError(`mn: unknown command "${sub}" (lispscope mn --help lists them)`);
  const a = parseArgs(spec, rest);
  if (a.flags.get('help')) {
    io.out(helpText(spec));
    return 0;
  }
  switch (sub) {
    case 'register':
      return mnRegister(a, spec, io);
    case 'resolve':
      return mnResolve(a, spec, io);
    case 'probe':
      return mnProbe(a, spec, io);
    case 'smr':
      return mnSmr(a, spec, io);
    case 'info':
      return mnInfo(a, spec, io);
    case 'ping':
      return mnPing(a, spec, io);
    case 'subscribe':
      return mnSubscribe(a, spec, io);
    default:
      return mnRun(a, spec, io);
  }
}

function onePositional(a: Parsed, spec: CommandSpec, what: string): string {
  if (a.positional.length !== 1) throw new UsageError(`${spec.name}: give exactly one ${what} (${spec.usage})`);
  return a.positional[0]!;
}

function noPositional(a: Parsed, spec: CommandSpec): void {
  if (a.positional.length) throw new UsageError(`${spec.name}: unexpected argument "${a.positional[0]}"`);
}

/**
 * The interface whose capture times the exchanges: -i, else (as root, unless --socket-clock) the
 * one holding `local`; undefined for the socket clock. With -v says why there is no capture as root.
 */
function captureInterface(a: Parsed, spec: CommandSpec, io: Io, local: string): string | undefined {
  const given = a.values.get('interface');
  if (given !== undefined && a.flags.get('socket-clock')) throw new UsageError(`${spec.name}: -i captures to time the exchanges; --socket-clock does not: give one`);
  return clockInterface(local, { given, socketClock: a.flags.get('socket-clock') ?? false }, verboseWarn(a, spec, io));
}

/** With -v, a warning prefixed with the command's name. */
function verboseWarn(a: Parsed, spec: CommandSpec, io: Io): ((message: string) => void) | undefined {
  return a.flags.get('verbose') ? (message) => io.warn(`${spec.name}: ${message}`) : undefined;
}

/** The command's error for what stopped it: a capture -i named that cannot be opened, or another. */
function failure(spec: CommandSpec, e: unknown): UsageError {
  if (e instanceof UsageError) return e;
  if (e instanceof WireClockError) return new UsageError(`${spec.name}: -i ${e.iface}: ${e.message}`);
  return new UsageError(`${spec.name}: ${(e as Error).message}`);
}

/** Opens a client towards `towards` with the command's source, guard, recording and clock. */
async function client(a: Parsed, spec: CommandSpec, io: Io, towards: string, named: string[], key?: string, bindPort?: number): Promise<{ c: LispClient; traffic: ActiveTraffic }> {
  const src = a.values.get('source');
  const source = src === undefined ? undefined : parseEndpoint(src, '--source', spec.name);
  const guard = guardFor(a, spec.name, named);
  const port = intValue(spec, 'port', a.values.get('port'));
  let local: string;
  try {
    local = source?.address ?? (await sourceAddressFor(towards));
  } catch (e) {
    throw new UsageError(`${spec.name}: no route to ${towards} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const iface = captureInterface(a, spec, io, local);
  const traffic = openTraffic(a, io, spec.name, key === undefined ? {} : { key });
  try {
    const c = await LispClient.open({
      towards,
      source: local,
      ...(source?.port || bindPort ? { port: source?.port ?? bindPort! } : {}),
      ...(port ? { controlPort: port } : {}),
      retry: retryOf(a, spec),
      recorder: traffic.recorder,
      policy: guard,
      ...(iface ? { capture: { iface } } : {}),
    });
    if (c.wireError) {
      // Asked for by name: not capturing is an error; as root by default, the socket times.
      if (a.values.get('interface') !== undefined) {
        await c.close();
        throw new UsageError(`${spec.name}: -i ${iface}: ${c.wireError}`);
      }
      verboseWarn(a, spec, io)?.(`timing with the socket: ${c.wireError}`);
    }
    return { c, traffic };
  } catch (e) {
    traffic.close();
    throw failure(spec, e);
  }
}

/** Runs `fn` with a client towards `to.towards` (only `to.named` may be sent to; -v verifies with `to.key`), closing both after. */
async function withClient(a: Parsed, spec: CommandSpec, io: Io, to: { towards: string; named: string[]; key?: string; bindPort?: number }, fn: (c: LispClient) => Promise<number>): Promise<number> {
  const { c, traffic } = await client(a, spec, io, to.towards, to.named, to.key, to.bindPort);
  try {
    return await fn(c);
  } finally {
    await c.close();
    traffic.close();
  }
}

/** --xtr-id HEX|none: bytes, null for none, undefined when not given. */
function xtrIdOf(a: Parsed, spec: CommandSpec): Uint8Array | null | undefined {
  const v = a.values.get('xtr-id');
  if (v === undefined) return undefined;
  if (v === 'none') return null;
  const b = fromHex(v.replace(/^0x/i, '').replace(/[:-]/g, ''));
  if (!b || b.length !== XTR_ID_LENGTH) throw new UsageError(`${spec.name}: --xtr-id must be ${XTR_ID_LENGTH * 2} hex digits (${XTR_ID_LENGTH * 8} bits) or none, not "${v}"`);
  return b;
}

function siteIdOf(a: Parsed, spec: CommandSpec, xtrId: Uint8Array | null | undefined): Uint8Array | undefined {
  const v = a.values.get('site-id');
  if (v === undefined) return undefined;
  if (xtrId === null) throw new UsageError(`${spec.name}: --site-id travels with an xTR-ID: not with --xtr-id none`);
  const b = fromHex(v.replace(/^0x/i, ''));
  if (!b || b.length !== SITE_ID_LENGTH) throw new UsageError(`${spec.name}: --site-id must be ${SITE_ID_LENGTH * 2} hex digits (${SITE_ID_LENGTH * 8} bits), not "${v}"`);
  return b;
}

/** --for SEC: undefined when not given. */
function secondsOf(a: Parsed, spec: CommandSpec): number | undefined {
  const text = a.values.get('for');
  const n = text === undefined ? undefined : Number(text);
  if (n !== undefined && (!Number.isFinite(n) || n <= 0)) throw new UsageError(`${spec.name}: --for needs seconds, not "${text}"`);
  return n;
}

async function mnRegister(a: Parsed, spec: CommandSpec, io: Io): Promise<number> {
  noPositional(a, spec);
  const ms = needAddress(a.values.get('ms'), '--ms', spec.name);
  const eid = needPrefix(a.values.get('eid'), '--eid', spec.name);
  const rlocs = (a.lists.get('rloc') ?? []).map((r) => needAddress(r, '--rloc', spec.name));
  if (rlocs.length === 0) throw new UsageError(`${spec.name}: at least one --rloc is required`);
  const key = readKey(spec.name, a.values.get('key-file'), io.env, eid, ms);
  const keyId = keyIdOf(a, spec.name);
  const ttl = intValue(spec, 'ttl', a.values.get('ttl')) ?? 1440;
  const notify = a.flags.get('notify') ?? false;
  const xtrId = xtrIdOf(a, spec);
  const siteId = siteIdOf(a, spec, xtrId);
  const port = intValue(spec, 'port', a.values.get('port'));
  return withClient(a, spec, io, { towards: ms, named: [ms], key }, async (c) => {
    const { result, xtrId: sentId } = await c.register({ address: ms, key, keyId, ...(port ? { port } : {}) }, eid, ownLocators(rlocs), {
      wantMapNotify: notify,
      proxyReply: a.flags.get('proxy-reply') ?? false,
      mobileNode: a.flags.get('mobile') ?? false,
      ttl,
      ...(xtrId !== undefined ? { xtrId } : {}),
      ...(siteId ? { siteId } : {}),
    });
    const eidText = prefixText(eid.address, eid.maskLen);
    const failed = result ? undefined : registerFailure({ ms, port: port ?? LISP_CONTROL_PORT, eid: eidText, attempts: retryOf(a, spec).retries + 1, keyId, xtrId: !!sentId, icmp: c.icmp });
    printLines(io, registerOutput({ ms, eid: eidText, rlocs, ttl, keyId, notify, xtrId: sentId, siteId, result, failure: failed }, { wire: c.wire, icmp: c.icmp }, a.flags.get('json') ?? false));
    return result ? 0 : 1;
  });
}

async function mnResolve(a: Parsed, spec: CommandSpec, io: Io): Promise<number> {
  const eid = needPrefix(onePositional(a, spec, 'EID'), 'EID', spec.name);
  const mr = needAddress(a.values.get('mr'), '--mr', spec.name);
  const srcEid = a.values.get('source-eid');
  if (srcEid !== undefined) needAddress(srcEid, '--source-eid', spec.name);
  return withClient(a, spec, io, { towards: mr, named: [mr] }, async (c) => {
    const json = a.flags.get('json') ?? false;
    if (!json) io.line(resolveStartLine(mr, eid, c.localAddress, c.socket.port));
    io.flush();
    const r = await c.resolve(eid, mr, srcEid ? { sourceEid: srcEid } : {});
    printLines(io, resolveOutput({ eid, mr, attempts: retryOf(a, spec).retries + 1 }, r, { wire: c.wire, icmp: c.icmp }, json));
    return r ? 0 : 1;
  });
}

async function mnProbe(a: Parsed, spec: CommandSpec, io: Io): Promise<number> {
  const rloc = needAddress(onePositional(a, spec, 'RLOC'), 'RLOC', spec.name);
  const eid = needPrefix(a.values.get('eid'), '--eid', spec.name);
  const srcEid = a.values.get('source-eid');
  return withClient(a, spec, io, { towards: rloc, named: [rloc] }, async (c) => {
    const r = await c.probe(rloc, eid, srcEid ? { sourceEid: needAddress(srcEid, '--source-eid', spec.name) } : {});
    printLines(io, probeOutput({ rloc, eid, attempts: retryOf(a, spec).retries + 1 }, r, { wire: c.wire, icmp: c.icmp }, a.flags.get('json') ?? false));
    return r ? 0 : 1;
  });
}

async function mnSmr(a: Parsed, spec: CommandSpec, io: Io): Promise<number> {
  const peer = needAddress(onePositional(a, spec, 'PEER'), 'PEER', spec.name);
  const eid = needPrefix(a.values.get('eid'), '--eid', spec.name);
  const peerEidText = a.values.get('peer-eid');
  const peerEid = peerEidText === undefined ? undefined : needPrefix(peerEidText, '--peer-eid', spec.name);
  return withClient(a, spec, io, { towards: peer, named: [peer] }, async (c) => {
    const nonce = randomNonce();
    const sent = c.smr(peer, eid, nonce, peerEid);
    // Let the datagram leave, and an ICMP error about it come back, before the socket closes.
    await new Promise((r) => setTimeout(r, 50));
    const port = intValue(spec, 'port', a.values.get('port')) ?? LISP_CONTROL_PORT;
    printLines(io, smrOutput({ peer, port, eid, nonce, sent }, { wire: c.wire, icmp: c.icmp }, a.flags.get('json') ?? false));
    return sent && !c.icmp ? 0 : 1;
  });
}

async function mnInfo(a: Parsed, spec: CommandSpec, io: Io): Promise<number> {
  noPositional(a, spec);
  const ms = needAddress(a.values.get('ms'), '--ms', spec.name);
  const eid = needPrefix(a.values.get('eid'), '--eid', spec.name);
  const key = readKey(spec.name, a.values.get('key-file'), io.env, eid, ms);
  const keyId = keyIdOf(a, spec.name);
  return withClient(a, spec, io, { towards: ms, named: [ms], key }, async (c) => {
    const port = intValue(spec, 'port', a.values.get('port'));
    const r = await c.info({ address: ms, key, keyId, ...(port ? { port } : {}) }, eid);
    printLines(io, infoOutput({ ms, eid, attempts: retryOf(a, spec).retries + 1 }, r, { wire: c.wire, icmp: c.icmp }, a.flags.get('json') ?? false));
    return r ? 0 : 1;
  });
}

async function mnPing(a: Parsed, spec: CommandSpec, io: Io): Promise<number> {
  const dst = needAddress(onePositional(a, spec, 'EID'), 'EID', spec.name);
  const rloc = needAddress(a.values.get('rloc'), '--rloc', spec.name);
  const own = needPrefix(a.values.get('eid'), '--eid', spec.name);
  const count = intValue(spec, 'count', a.values.get('count')) ?? 3;
  const intervalText = a.values.get('interval') ?? '1';
  const interval = Number(intervalText);
  if (!Number.isFinite(interval) || interval < 0) throw new UsageError(`${spec.name}: --interval needs seconds, not "${intervalText}"`);
  const msText = a.values.get('ms');
  const ms = msText === undefined ? undefined : needAddress(msText, '--ms', spec.name);
  const mr = a.values.get('mr') === undefined ? ms : needAddress(a.values.get('mr'), '--mr', spec.name);
  const key = ms ? readKey(spec.name, a.values.get('key-file'), io.env, own, ms) : undefined;
  const xtrId = xtrIdOf(a, spec);
  const siteId = siteIdOf(a, spec, xtrId);
  const srcText = a.values.get('source');
  const source = srcText === undefined ? await sourceAddressFor(rloc) : parseEndpoint(srcText, '--source', spec.name).address;
  const named = [rloc, ...(ms ? [ms] : []), ...(mr ? [mr] : [])];
  // Answers to our Map-Requests name RLOCs the mapping system gave: replies to them are allowed.
  let router: LispRouter | undefined;
  const guard = guardFor(a, spec.name, named, (x) => !!router?.knowsRloc(x));
  const port = intValue(spec, 'port', a.values.get('port')) ?? LISP_CONTROL_PORT;
  const dataPort = intValue(spec, 'data-port', a.values.get('data-port')) ?? LISP_DATA_PORT;
  const traffic = openTraffic(a, io, spec.name, key === undefined ? {} : { key });
  const retry = retryOf(a, spec);
  let wire: WireClock | undefined;
  try {
    router = pingNode({
      eid: own,
      source,
      ports: { control: port, data: dataPort },
      retry,
      recorder: traffic.recorder,
      policy: guard,
      ...(ms && key ? { mapServer: { address: ms, key, keyId: keyIdOf(a, spec.name) } } : {}),
      ...(mr ? { mapResolver: mr } : {}),
      ...(xtrId !== undefined ? { xtrId } : {}),
      ...(siteId ? { siteId } : {}),
    });
    const iface = captureInterface(a, spec, io, source);
    if (iface) wire = openWireClock({ iface, local: source, ports: [port, dataPort] }, a.values.get('interface') !== undefined, verboseWarn(a, spec, io));
    await router.start();
  } catch (e) {
    traffic.close();
    await wire?.close();
    await router?.stop();
    throw failure(spec, e);
  }
  const json = a.flags.get('json') ?? false;
  try {
    if (!pingReady(router)) {
      io.error(`${spec.name}: no Map-Notify from ${ms}: registering ${prefixText(own.address, own.maskLen)} failed`);
      return 1;
    }
    // The ETR we were told to use: a static map-cache entry for the destination.
    pinThrough(router.mapCache, dst, rloc);
    const received = await pingSeries(
      router,
      dst,
      { count, intervalMs: interval * 1000, proto: a.flags.get('udp') ? 'udp' : 'icmp', timeoutMs: retry.timeoutMs * 2, src: addressText(own.address).replace(/\/\d+$/, ''), ...(wire ? { wire } : {}) },
      (e) => {
        printLines(io, echoOutput({ dst, rloc }, e, json));
        io.flush();
      },
    );
    if (!json) io.line(pingSummary(count, received, wire));
    return received ? 0 : 1;
  } finally {
    await router.stop();
    await wire?.close();
    guard.close();
    traffic.close();
  }
}

// ---- mn subscribe ---------------------------------------------------------------------------

async function mnSubscribe(a: Parsed, spec: CommandSpec, io: Io): Promise<number> {
  const target = needPrefix(onePositional(a, spec, 'EID'), 'EID', spec.name);
  const ms = needAddress(a.values.get('ms'), '--ms', spec.name);
  const eid = needPrefix(a.values.get('eid'), '--eid', spec.name);
  const key = readKey(spec.name, a.values.get('key-file'), io.env, eid, ms);
  const keyId = keyIdOf(a, spec.name);
  const given = xtrIdOf(a, spec);
  if (given === null) throw new UsageError(`${spec.name}: a subscriber is known by its xTR-ID: not --xtr-id none`);
  const xtrId = given ?? stableXtrId(eid, key);
  const siteId = siteIdOf(a, spec, xtrId) ?? new Uint8Array(8);
  const count = intValue(spec, 'count', a.values.get('count'));
  if (count !== undefined && count < 1) throw new UsageError(`${spec.name}: --count must be at least 1`);
  const runFor = secondsOf(a, spec);
  const port = intValue(spec, 'port', a.values.get('port'));
  const json = a.flags.get('json') ?? false;
  const eidText = prefixText(eid.address, eid.maskLen);
  const targetText = prefixText(target.address, target.maskLen);
  const attempts = retryOf(a, spec).retries + 1;
  // The Map-Server's Map-Notifies come to our ITR-RLOC at the LISP control port.
  return withClient(a, spec, io, { towards: ms, named: [ms], key, bindPort: port ?? LISP_CONTROL_PORT }, async (c) => {
    const rlocs = (a.lists.get('rloc') ?? [c.localAddress]).map((r) => needAddress(r, '--rloc', spec.name));
    const access = { address: ms, key, keyId, ...(port ? { port } : {}) };
    const reg = await c.register(access, eid, ownLocators(rlocs), { wantMapNotify: true, xtrId, siteId });
    const failed = reg.result ? undefined : registerFailure({ ms, port: port ?? LISP_CONTROL_PORT, eid: eidText, attempts, keyId, xtrId: true, icmp: c.icmp });
    printLines(io, subscribeRegisteredOutput({ ms, eid: eidText, rlocs, xtrId, siteId }, reg.result, failed, { wire: c.wire, icmp: c.icmp }, json));
    if (!reg.result) return 1;
    io.flush();
    const sub = await c.subscribe(ms, target, { key, xtrId, siteId });
    printLines(io, subscribedOutput({ ms, target: targetText, attempts }, sub, { wire: c.wire, icmp: c.icmp }, json));
    if (!sub) return 1;
    io.flush();
    let received = 0;
    await new Promise<void>((resolve) => {
      const done = () => {
        process.off('SIGINT', done);
        process.off('SIGTERM', done);
        resolve();
      };
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      if (runFor !== undefined) setTimeout(done, runFor * 1000).unref();
      c.onPublication((p) => {
        received++;
        printLines(io, publicationOutput(p, json));
        io.flush();
        if (count !== undefined && received >= count) done();
      });
    });
    c.withdraw(target);
    printLines(io, withdrawnOutput(targetText, received, json));
    return count === undefined || received >= count ? 0 : 1;
  });
}

// ---- mn run ---------------------------------------------------------------------------------

function loadConfig(path: string): MobileNodeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? e})`}`);
  }
  try {
    return parseMobileNodeConfig(text);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`${path}: ${e.message}`);
    throw e;
  }
}

async function mnRun(a: Parsed, spec: CommandSpec, io: Io): Promise<number> {
  noPositional(a, spec);
  const path = a.values.get('config');
  if (!path) throw new UsageError(`${spec.name}: --config FILE is required`);
  const cfg = loadConfig(path);
  const keyPath = cfg.keyFile === undefined ? undefined : resolvePath(dirname(path), cfg.keyFile);
  const eid = parsePrefix(cfg.eid)!;
  const key = readKey(spec.name, keyPath, io.env, eid, cfg.mapServer.address);
  const runFor = secondsOf(a, spec);
  const rlocs = configuredRlocs(cfg);
  if (rlocs.length === 0) throw new UsageError(`${spec.name}: the interfaces ${cfg.interfaces!.join(', ')} have no ${cfg.family} address`);
  const json = a.flags.get('json') ?? false;
  let run: MobileNodeRun | undefined;
  // Besides what the configuration names, the node sends to the RLOCs its mapping system handed it
  // (data, probes, SMRs to peers), and to the RTRs its Map-Server named behind a NAT.
  const guard = guardFor(a, spec.name, MobileNodeRun.named(cfg), (x) => !!run?.node.knowsRloc(x));
  const traffic = openTraffic(a, io, spec.name, { key });
  try {
    // RTTs from the kernel's timestamps of a capture on the RLOCs' interface when root or -i names it.
    run = await MobileNodeRun.open({
      cfg,
      key,
      recorder: traffic.recorder,
      policy: guard,
      capture: { iface: captureInterface(a, spec, io, rlocs[0]!), pinned: a.values.get('interface') !== undefined },
      ...(a.flags.get('verbose') ? { why: verboseWarn(a, spec, io)! } : {}),
      onEvent: (e) => {
        io.line(runEventOutput(e, json));
        io.flush();
      },
    });
  } catch (e) {
    traffic.close();
    throw failure(spec, e);
  }
  // Stopping is possible at any time, also while the first registration is still being retried.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (runFor !== undefined) setTimeout(stop, runFor * 1000).unref();
  });
  const first = await Promise.race([run.start(), stopped.then(() => 'stopped' as const)]);
  if (first instanceof Error) {
    await run.abort();
    guard.close();
    traffic.close();
    throw new UsageError(`${spec.name}: ${first.message}`);
  }
  if (first === 'up') run.up();
  // SIGUSR1: the configuration again (its RLOCs or interfaces); the node moves when they changed.
  const onUsr1 = () => {
    try {
      run.reload(loadConfig(path), 'SIGUSR1');
    } catch (e) {
      run.log('warn', (e as Error).message, `configuration not reloaded: ${(e as Error).message}`);
    }
  };
  process.on('SIGUSR1', onUsr1);
  await stopped;
  process.off('SIGUSR1', onUsr1);
  await run.finish();
  guard.close();
  traffic.close();
  return 0;
}
