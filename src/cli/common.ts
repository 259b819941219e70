// Pieces several commands share: --decode-as, --keys, -Y, -w of the active commands.

import { readFileSync } from 'node:fs';
import type { DecodeAs } from '../capture/packets.js';
import { openCaptureWriter, type CaptureFileWriter } from '../capture/writer.js';
import { LINKTYPE_RAW } from '../dissect/link.js';
import { KeyRing } from '../dissect/keyring.js';
import { compileFilter, compileFilterAmong, FilterError, type FilterDomain, type Predicate } from '../flows/filter.js';
import { UsageError } from './args.js';

/** `udp.port=N`, `udp.port==N`, with an optional `,lisp`/`,control` (default), `,lisp-data`/`,data` or `,vxlan`. */
export function parseDecodeAs(specs: string[]): DecodeAs {
  const out: DecodeAs = { control: new Set(), data: new Set(), vxlan: new Set() };
  for (const s of specs) {
    const m = /^udp\.port==?(\d{1,5})(?:,(lisp|control|lisp-data|data|vxlan))?$/.exec(s);
    const port = m ? Number(m[1]) : NaN;
    if (!m || port < 1 || port > 65535) {
      throw new UsageError(`--decode-as expects udp.port=N[,control|data|vxlan] with 1 <= N <= 65535, not "${s}"`);
    }
    (m[2] === 'data' || m[2] === 'lisp-data' ? out.data : m[2] === 'vxlan' ? out.vxlan! : out.control).add(port);
  }
  return out;
}

/** The text of a key file, or a one-line error saying why it cannot be read. */
export function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read key file (${code ?? e})`}`);
  }
}

export function loadKeys(path: string): KeyRing {
  const text = readKeyFile(path);
  const ring = KeyRing.parse(text, path);
  if ('error' in ring) throw new UsageError(ring.error);
  return ring;
}

export { keyLookup, messageEids } from '../capture/keys.js';

/** What `read` and `sniff` can fail on: error notes, warning notes (and errors), failed authentication. */
export const PACKET_FAIL_ON = ['malformed', 'warning', 'auth-failed'] as const;

export function parseFailOn(command: string, values: string[]): Set<string> {
  const failOn = new Set(values.flatMap((x) => x.split(',')));
  for (const f of failOn) {
    if (!(PACKET_FAIL_ON as readonly string[]).includes(f)) {
      throw new UsageError(`${command}: --fail-on takes ${PACKET_FAIL_ON.join(', ')}, not "${f}"`);
    }
  }
  return failOn;
}

export { packetFails } from '../capture/packets.js';

export function filterOf(expr: string, domain: FilterDomain): Predicate {
  try {
    return compileFilter(expr, domain);
  } catch (e) {
    if (e instanceof FilterError) throw new UsageError(`-Y: ${e.message}`);
    throw e;
  }
}

/** A filter the terminal UI applies to its sessions and its packets: valid for either. */
export function filterAmong(expr: string): void {
  try {
    compileFilterAmong(expr, 'exchange', ['packet']);
  } catch (e) {
    if (e instanceof FilterError) throw new UsageError(`-Y: ${e.message}`);
    throw e;
  }
}

/** The -w file of the commands that record what they send and receive (raw IP), or a usage error saying why not. */
export function openRecording(cmd: string, path: string | undefined): CaptureFileWriter | undefined {
  if (path === undefined) return undefined;
  try {
    return openCaptureWriter(path, { linkType: LINKTYPE_RAW });
  } catch (e) {
    throw new UsageError(`${cmd}: ${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * One filter for the packets, exchanges and mappings of an export: each kind keeps what the filter
 * says of it, and nothing when the filter names fields only another kind has.
 */
export function filtersForAll(expr: string): { packet: Predicate; exchange: Predicate; mapping: Predicate } {
  try {
    return {
      packet: compileFilterAmong(expr, 'packet', ['exchange', 'mapping']),
      exchange: compileFilterAmong(expr, 'exchange', ['packet', 'mapping']),
      mapping: compileFilterAmong(expr, 'mapping', ['packet', 'exchange']),
    };
  } catch (e) {
    if (e instanceof FilterError) throw new UsageError(`-Y: ${e.message}`);
    throw e;
  }
}
