// Plain data packets (capture/plain-data.ts) for ClickHouse: written straight from the frame's
// bytes as rows of ClickHouse's TabSeparated format, which the sink sends as they are. Most of a
// live capture's rows then reach the server without DuckDB reading and rewriting them, and the
// server parses TabSeparated faster than CSV. The values are those plain-row.ts stages for DuckDB;
// the ClickHouse tests hold both to the same rows.

import { formatIPv6 } from '../dissect/addr.js';
import { DataFlag, dataIid } from '../dissect/data.js';
import { DATA_FLAGS, frameTime, writeDataJsonFast } from '../output/json-fast.js';
import { putAscii, putBytes, putHex, putIPv4, putTime, putUint } from '../output/out-buffer.js';
import { putOuter, type PlainRowWriter } from './plain-row.js';
import type { InputLabel } from './sink.js';

/**
 * The columns a plain row gives, in its order (`seq` first: the stager writes it). The packets
 * table's other columns take ClickHouse's defaults, the values a plain data packet has in them:
 * NULL, or an empty list (`rlocs`, `malformed`).
 */
export const CLICKHOUSE_PLAIN_COLUMNS = ['seq', 'vantage', 'file', 'frame', 'ts', 'len', 'src', 'dst', 'sport', 'dport', 'type', 'nonce', 'eids', 'flags', 'iid', 'json'];

/** TabSeparated's escapes (backslash, tab, newline). */
const tsv = (s: string) => s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');

const TAB = 9;
const NUL = [92, 78];
const TYPE = new TextEncoder().encode('\tdata\t');

/** What follows `seq` in a row of the input for ClickHouse: its vantage and file, each after a tab. */
export function clickhouseOrigin(input: InputLabel): Uint8Array {
  return new TextEncoder().encode(`\t${tsv(input.vantage)}\t${tsv(input.file)}`);
}

/**
 * The plain rows of one input. The JSON text needs no escape: the fast writer writes addresses,
 * numbers and flag letters only, never a backslash, tab or newline.
 */
export function clickhousePlainRow(input: InputLabel): PlainRowWriter {
  const origin = clickhouseOrigin(input);
  return (f, d, out) => {
    out.ensure(257 + origin.length);
    const buf = out.buf;
    const b = f.data;
    let p = putBytes(buf, out.pos, origin);
    buf[p++] = TAB;
    const nul = () => {
      buf[p++] = NUL[0]!;
      buf[p++] = NUL[1]!;
    };
    p = putUint(buf, p, f.index);
    buf[p++] = TAB;
    const { sec, usec } = frameTime(f);
    p = putTime(buf, p, sec, usec);
    buf[p++] = TAB;
    p = putOuter(buf, p, f, d, TAB);
    p = putBytes(buf, p, TYPE);
    if (d.flags & DataFlag.N) p = putHex(buf, p, d.word1, 6);
    else nul();
    buf[p++] = TAB;
    // eids: the inner source and destination, as ClickHouse's array literal.
    if (d.innerLen > 0) {
      const i = d.inner;
      p = putAscii(buf, p, "['");
      p = d.innerVersion === 4 ? putIPv4(buf, p, b, i + 12) : putAscii(buf, p, formatIPv6(b, i + 8));
      p = putAscii(buf, p, "','");
      p = d.innerVersion === 4 ? putIPv4(buf, p, b, i + 16) : putAscii(buf, p, formatIPv6(b, i + 24));
      p = putAscii(buf, p, "']");
    } else p = putAscii(buf, p, '[]');
    buf[p++] = TAB;
    p = putAscii(buf, p, DATA_FLAGS[d.flags >> 3]!);
    buf[p++] = TAB;
    if (d.flags & DataFlag.I) p = putUint(buf, p, dataIid(d.word2));
    else nul();
    buf[p++] = TAB;
    out.pos = p;
    // The JSON text, with the line's end.
    writeDataJsonFast(f, out);
  };
}
