// Pieces several commands share: --decode-as, --keys, -Y, -w of the active commands.

import { readFileSync } from 'node:fs';
import type { DecodeAs, LispPacket } from '../capture/packets.js';
import { openCaptureWriter, type CaptureFileWriter } from '../capture/writer.js';
import { LINKTYPE_RAW } from '../dissect/link.js';
import { parsePrefix, type Prefix } from '../dissect/address.js';
import { KeyRing } from '../dissect/keyring.js';
import type { ControlMessage } from '../dissect/types.js';
import { compileFilter, FilterError, type Predicate } from '../flows/filter.js';
import { UsageError } from './args.js';

/** `udp.port=N`, `udp.port==N`, with an optional `,lisp`/`,control` (default) or `,lisp-data`/`,data`. */
export function parseDecodeAs(specs: string[]): DecodeAs {
  const out: DecodeAs = { control: new Set(), data: new Set() };
  for (const s of specs) {
    const m = /^udp\.port==?(\d{1,5})(?:,(lisp|control|lisp-data|data))?$/.exec(s);
    const port = m ? Number(m[1]) : NaN;
    if (!m || port < 1 || port > 65535) {
      throw new UsageError(`--decode-as expects udp.port=N[,control|data] with 1 <= N <= 65535, not "${s}"`);
    }
    (m[2] === 'data' || m[2] === 'lisp-data' ? out.data : out.control).add(port);
  }
  return out;
}

export function loadKeys(path: string): KeyRing {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read key file (${code ?? e})`}`);
  }
  const ring = KeyRing.parse(text, path);
  if ('error' in ring) throw new UsageError(ring.error);
  return ring;
}

/** The EIDs an authenticated message speaks for, to pick its key. */
export function messageEids(m: ControlMessage): Prefix[] {
  if ('unknown' in m) return [];
  if (m.type === 3 || m.type === 4 || m.type === 5) return m.records.map((r) => ({ address: r.eid, maskLen: r.eidMaskLen }));
  if (m.type === 7) return [{ address: m.eid, maskLen: m.eidMaskLen }];
  if (m.type === 8 && m.inner?.message) return messageEids(m.inner.message);
  return [];
}

export function keyLookup(ring: KeyRing) {
  return (p: LispPacket, m: ControlMessage): string | undefined => {
    const peers = [p.ip?.src, p.ip?.dst].flatMap((a) => (a ? [parsePrefix(a)!] : []));
    return ring.lookup(messageEids(m), peers);
  };
}

export function filterOf(expr: string): Predicate {
  try {
    return compileFilter(expr);
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
