// What the active commands (mn, replay, inject, ms) share on their command lines: the options every
// one takes, addresses, prefixes and endpoints, the site key (from a file or LISPSCOPE_KEY, never
// the command line), the send guard over the named addresses, and the recording and printing of
// their traffic.

import { ipAddress, parsePrefix, type Prefix } from '../dissect/address.js';
import { KeyRing } from '../dissect/keyring.js';
import { SendGuard } from '../mn/guard.js';
import { ActiveTraffic } from '../output/active.js';
import type { Io } from '../output/io.js';
import { chooseStyle } from '../output/style.js';
import { UsageError, type OptionSpec, type Parsed } from './args.js';
import { openRecording, readKeyFile } from './common.js';

/** Options every active command takes. */
export const ACTIVE_OPTIONS: OptionSpec[] = [
  { name: 'source', kind: 'value', arg: 'ADDR[:PORT]', help: 'local address (and port) to send from; default: what the kernel picks' },
  { name: 'rate', kind: 'value', arg: 'N', help: 'send at most N datagrams a second, after a burst of up to 5 (default 10)' },
  { name: 'allow-broadcast', kind: 'flag', help: 'allow multicast and broadcast destinations' },
  { name: 'write', short: 'w', kind: 'value', arg: 'FILE', help: 'record what is sent and received to FILE (.pcapng, else pcap)' },
  { name: 'verbose', short: 'v', kind: 'flag', help: 'print every packet sent and received' },
  { name: 'json', kind: 'flag', help: 'NDJSON output' },
];

/** `ADDR`, `ADDR:PORT`, `[V6]:PORT`. */
export function parseEndpoint(text: string, what: string, cmd: string): { address: string; port?: number } {
  let m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  if (!m && (text.match(/:/g) ?? []).length === 1) m = /^([^:]+):(\d{1,5})$/.exec(text);
  const address = m ? m[1]! : text;
  const port = m?.[2] === undefined ? undefined : Number(m[2]);
  if (!ipAddress(address)) throw new UsageError(`${cmd}: ${what} must be an IP address, not "${text}"`);
  if (port !== undefined && (port < 1 || port > 65535)) throw new UsageError(`${cmd}: ${what} port must be 1..65535`);
  return port === undefined ? { address } : { address, port };
}

export function needAddress(v: string | undefined, what: string, cmd: string): string {
  if (v === undefined) throw new UsageError(`${cmd}: ${what} is required`);
  const ip = ipAddress(v);
  if (!ip || (ip.kind !== 'ipv4' && ip.kind !== 'ipv6')) throw new UsageError(`${cmd}: ${what} must be an IP address, not "${v}"`);
  return ip.addr;
}

export function needPrefix(v: string | undefined, what: string, cmd: string): Prefix {
  if (v === undefined) throw new UsageError(`${cmd}: ${what} is required`);
  const p = parsePrefix(v);
  if (!p) throw new UsageError(`${cmd}: ${what} must be an EID prefix or address, not "${v}"`);
  return p;
}

/**
 * The key for a message about `eid` to Map-Server `ms`: from the key file (either a single key, or
 * lines of `<eid-prefix|ms-address|*> <key>` as `read --keys` takes), else LISPSCOPE_KEY.
 */
export function readKey(cmd: string, file: string | undefined, env: NodeJS.ProcessEnv, eid: Prefix | undefined, ms: string | undefined): string {
  if (file === undefined) {
    const k = env.LISPSCOPE_KEY;
    if (k) return k;
    throw new UsageError(`${cmd}: needs the site key: --key-file FILE or the LISPSCOPE_KEY environment variable (never on the command line)`);
  }
  const site = KeyRing.siteKey(readKeyFile(file), file, eid, ms);
  if ('error' in site) throw new UsageError(site.error);
  return site.key;
}

export function keyIdOf(a: Parsed, cmd: string): number {
  const v = a.values.get('key-id');
  if (v === undefined) return 2;
  if (v !== '1' && v !== '2') throw new UsageError(`${cmd}: --key-id must be 1 (HMAC-SHA-1-96) or 2 (HMAC-SHA-256-128), not "${v}"`);
  return Number(v);
}

/** A guard over the named addresses with the command's --rate and --allow-broadcast. */
export function guardFor(a: Parsed, cmd: string, named: string[], alsoAllowed?: (address: string) => boolean, defaultRate = 10, burst = 5): SendGuard {
  const r = a.values.get('rate');
  const rate = r === undefined ? defaultRate : Number(r);
  if (!Number.isFinite(rate) || rate < 0) throw new UsageError(`${cmd}: --rate needs a number of datagrams per second, not "${r}"`);
  const g = new SendGuard({ allowed: named, rate, burst: Math.min(burst, Math.max(1, rate)), allowBroadcast: a.flags.get('allow-broadcast') ?? false, ...(alsoAllowed ? { alsoAllowed } : {}) });
  for (const n of named) {
    const why = g.refusal(n);
    if (why) throw new UsageError(`${cmd}: refusing to send: ${why}`);
  }
  return g;
}

/**
 * Recording (-w) and printing of what an active command sends and receives: with -v (or `print`)
 * one line per packet, or with `print` and --json the packet's `read --json` object plus
 * "direction".
 */
export function openTraffic(a: Parsed, io: Io, cmd: string, o: { print?: boolean; key?: string | KeyRing } = {}): ActiveTraffic {
  const writer = openRecording(cmd, a.values.get('write'));
  const json = a.flags.get('json') ?? false;
  const lines = (a.flags.get('verbose') && !json) || (o.print && !json);
  const print = lines || (o.print && json) ? { format: { json: !lines, style: chooseStyle(io.stdout, io.env), unverified: true }, line: (t: string) => io.line(t), flush: () => io.flush() } : undefined;
  return new ActiveTraffic({ writer, key: o.key, ...(print ? { print } : {}) });
}

/** Prints an active command's result lines (one NDJSON line with --json). */
export function printLines(io: Io, lines: string[]): void {
  for (const l of lines) io.line(l);
}
