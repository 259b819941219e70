// A plain LISP data packet (capture/plain-data.ts) staged for the `packets` table as its columns'
// values, each once, before its JSON line: DuckDB reads them as typed CSV fields instead of
// parsing the JSON of most rows of a capture. The fields are those of the JSON line, written from
// the same bytes; select.ts maps them onto the table's columns, and a test holds both paths to
// the same rows.

import type { PlainData } from '../capture/plain-data.js';
import type { Frame } from '../capture/types.js';
import { formatIPv6 } from '../dissect/addr.js';
import { DataFlag, dataIid } from '../dissect/data.js';
import { DATA_FLAGS, frameTime, writeDataJsonFast } from '../output/json-fast.js';
import { putAscii, putDigits, putHex, putIPv4, putUint, type OutBuffer } from '../output/out-buffer.js';

/** The fields after `seq`, with their DuckDB types, in the order they are written. */
export const PLAIN_FIELDS: [name: string, type: string][] = [
  // Capture time in microseconds: ts is us / 1e6, the double that JSON's decimal `ts` parses to.
  ['us', 'BIGINT'],
  ['frame', 'BIGINT'],
  ['len', 'BIGINT'],
  ['src', 'VARCHAR'],
  ['dst', 'VARCHAR'],
  ['sport', 'BIGINT'],
  ['dport', 'BIGINT'],
  ['flags', 'VARCHAR'],
  ['nonce', 'VARCHAR'],
  ['iid', 'BIGINT'],
  ['inner_src', 'VARCHAR'],
  ['inner_dst', 'VARCHAR'],
  ['line', 'VARCHAR'],
];

/** The text of a missing field (read_csv's nullstr). */
export const PLAIN_NULL = '\\N';

const SEP = 1;
const NUL = [92, 78];

/** Writes the rest of a plain row after its `seq` (the stager's), its line's end included. */
export type PlainRowWriter = (f: Frame, d: PlainData, out: OutBuffer) => void;

/** The outer packet's fields: length, source and destination address and port, `sep` between. */
export function putOuter(buf: Uint8Array, p: number, f: Frame, d: PlainData, sep: number): number {
  p = putUint(buf, p, f.len);
  buf[p++] = sep;
  p = putIPv4(buf, p, f.data, d.ip + 12);
  buf[p++] = sep;
  p = putIPv4(buf, p, f.data, d.ip + 16);
  buf[p++] = sep;
  p = putUint(buf, p, d.sport);
  buf[p++] = sep;
  return putUint(buf, p, d.dport);
}

/** Writes the fields of a frame that scanPlainData accepted into `d`, then its JSON line. */
export function writePlainRow(f: Frame, d: PlainData, out: OutBuffer): void {
  out.ensure(192);
  const buf = out.buf;
  const b = f.data;
  let p = out.pos;
  const nul = () => {
    buf[p++] = NUL[0]!;
    buf[p++] = NUL[1]!;
  };
  buf[p++] = SEP;
  const { sec, usec } = frameTime(f);
  p = sec > 0x7fffffff ? putAscii(buf, p, String(sec)) : putUint(buf, p, sec);
  p = putDigits(buf, p, usec, 6);
  buf[p++] = SEP;
  p = putUint(buf, p, f.index);
  buf[p++] = SEP;
  p = putOuter(buf, p, f, d, SEP);
  buf[p++] = SEP;
  p = putAscii(buf, p, DATA_FLAGS[d.flags >> 3]!);
  buf[p++] = SEP;
  if (d.flags & DataFlag.N) p = putHex(buf, p, d.word1, 6);
  else nul();
  buf[p++] = SEP;
  if (d.flags & DataFlag.I) p = putUint(buf, p, dataIid(d.word2));
  else nul();
  buf[p++] = SEP;
  if (d.innerLen > 0) {
    const i = d.inner;
    p = d.innerVersion === 4 ? putIPv4(buf, p, b, i + 12) : putAscii(buf, p, formatIPv6(b, i + 8));
    buf[p++] = SEP;
    p = d.innerVersion === 4 ? putIPv4(buf, p, b, i + 16) : putAscii(buf, p, formatIPv6(b, i + 24));
  } else {
    nul();
    buf[p++] = SEP;
    nul();
  }
  buf[p++] = SEP;
  out.pos = p;
  // The JSON line, with its newline.
  writeDataJsonFast(f, out);
}
