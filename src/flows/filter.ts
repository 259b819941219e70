// Display filters (`-Y EXPR`, the terminal UI's `/`) over the JSON contract's objects: packets
// (`read`, `sniff`), exchanges (`flows`), mappings (`mappings`). Comparisons on fields, `&&`, `||`,
// `!`, parentheses, as Wireshark writes them:
//
//   type == map-register          eid == 3.0.0.3/32          eid in 10.0.0.0/8
//   rloc == 12.0.0.2              nonce == 0xa1b2...          smr          probe
//   rtt_ms > 100                  outcome == unanswered       inner.type == map-request
//   ip.addr == 10.10.2.2          udp.port == 4342            auth_error matches "key|nonce"
//
// Every field is declared in filter-fields.ts; a name that is not is an error, so that a typo
// never matches everything or nothing in silence. A comparison holds when any of the field's values
// satisfies it (`!=` when none equals). A bare field holds when one of its values is true (or, for
// one that is not a boolean, when it is present); a bare value of the type/kind/outcome field
// (`map-register`, `unanswered`) stands for `field == value`.

import { parsePrefix, type Prefix } from '../dissect/address.js';
import { prefixCovers, sameAddress } from '../dissect/prefix.js';
import { BARE_VALUES, fieldList, lookupField, SCHEMAS, type FieldDef, type FilterDomain } from './filter-fields.js';

export type { FilterDomain } from './filter-fields.js';

export class FilterError extends Error {
  override name = 'FilterError';

  constructor(
    message: string,
    /** Set when the problem is a name that is not a field (another domain may know it). */
    readonly unknownField = false,
  ) {
    super(message);
  }
}

type Json = unknown;
export type Predicate = (o: Record<string, Json>) => boolean;

type Op = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'contains' | 'matches';

interface Token {
  kind: 'word' | 'string' | 'op' | '(' | ')' | '&&' | '||' | '!' | 'end';
  text: string;
  col: number;
}

const WORD_OPS: Record<string, Op> = { eq: '==', ne: '!=', gt: '>', lt: '<', ge: '>=', le: '<=', in: 'in', contains: 'contains', matches: 'matches' };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    const col = i + 1;
    const two = src.slice(i, i + 2);
    if (two === '&&' || two === '||') {
      out.push({ kind: two, text: two, col });
      i += 2;
    } else if (two === '==' || two === '!=' || two === '<=' || two === '>=') {
      out.push({ kind: 'op', text: two, col });
      i += 2;
    } else if (c === '<' || c === '>') {
      out.push({ kind: 'op', text: c, col });
      i++;
    } else if (c === '~') {
      out.push({ kind: 'op', text: 'matches', col });
      i++;
    } else if (c === '!') {
      out.push({ kind: '!', text: c, col });
      i++;
    } else if (c === '(' || c === ')') {
      out.push({ kind: c, text: c, col });
      i++;
    } else if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new FilterError(`unterminated string starting at column ${col}`);
      out.push({ kind: 'string', text: src.slice(i + 1, end), col });
      i = end + 1;
    } else {
      const m = /^[A-Za-z0-9_.:\/\[\]\-]+/.exec(src.slice(i));
      if (!m) throw new FilterError(`unexpected "${c}" at column ${col}`);
      const w = m[0];
      if (w === 'and') out.push({ kind: '&&', text: w, col });
      else if (w === 'or') out.push({ kind: '||', text: w, col });
      else if (w === 'not') out.push({ kind: '!', text: w, col });
      else if (WORD_OPS[w]) out.push({ kind: 'op', text: WORD_OPS[w], col });
      else out.push({ kind: 'word', text: w, col });
      i += w.length;
    }
  }
  out.push({ kind: 'end', text: '', col: src.length + 1 });
  return out;
}

/**
 * What a filter says of an object from its `type` alone (a packet's message type, known without
 * decoding it): true or false when that decides the filter, undefined when other fields may.
 */
export type TypeVerdict = (type: string) => boolean | undefined;

export interface CompiledFilter {
  test: Predicate;
  byType: TypeVerdict;
  /**
   * Every path (dotted, arrays looked through) whose values `test` reads: an object that holds
   * the same values on these paths gets the same verdict, whatever else it holds or lacks.
   */
  paths: readonly string[];
}

const unknown: TypeVerdict = () => undefined;

/** Compiles a filter for objects of `domain`; throws FilterError naming the column of the problem. */
export function compileFilter(src: string, domain: FilterDomain): Predicate {
  return compileFilterPlan(src, domain).test;
}

/**
 * The filter, and its verdict from an object's `type` alone: a comparison on the top-level `type`
 * is decided by it; any other is unknown; `!`, `&&` and `||` combine them in three-valued logic,
 * so that a known verdict is the filter's own on every object of that type.
 */
export function compileFilterPlan(src: string, domain: FilterDomain): CompiledFilter {
  const toks = tokenize(src);
  let k = 0;
  const peek = () => toks[k]!;
  const next = () => toks[k++]!;
  const fail = (t: Token, what: string): never => {
    throw new FilterError(`${what} at column ${t.col}${t.kind === 'end' ? ' (end of filter)' : ` ("${t.text}")`}`);
  };
  // A test that reads nothing but the top-level `type` is decided by it.
  const leaf = (test: Predicate, paths: readonly string[]): CompiledFilter => ({
    test,
    byType: paths.length === 1 && paths[0] === 'type' ? (type) => test({ type }) : unknown,
    // values() reads `type` to tell a data packet's inner addresses from an ECM's.
    paths: [...paths, 'type'],
  });
  const union = (a: CompiledFilter, b: CompiledFilter) => [...new Set([...a.paths, ...b.paths])];

  const primary = (): CompiledFilter => {
    const t = next();
    if (t.kind === '!') {
      const p = primary();
      return {
        test: (o) => !p.test(o),
        byType: (type) => {
          const v = p.byType(type);
          return v === undefined ? undefined : !v;
        },
        paths: p.paths,
      };
    }
    if (t.kind === '(') {
      const p = or();
      if (next().kind !== ')') fail(toks[k - 1]!, 'expected ")"');
      return p;
    }
    if (t.kind !== 'word') return fail(t, 'expected a field name');
    if (peek().kind !== 'op') {
      const b = bare(domain, t);
      return leaf(b.test, b.paths);
    }
    const def = field(domain, t);
    const op = next().text as Op;
    const v = next();
    if (v.kind !== 'word' && v.kind !== 'string') return fail(v, `expected a value after "${op}"`);
    return leaf(comparison(t.text, def, op, v.text, v.col), def.gather ?? [t.text]);
  };
  const and = (): CompiledFilter => {
    let p = primary();
    while (peek().kind === '&&') {
      next();
      const a = p;
      const b = primary();
      p = {
        test: (o) => a.test(o) && b.test(o),
        byType: (type) => {
          const x = a.byType(type);
          if (x === false) return false;
          const y = b.byType(type);
          return y === false ? false : x && y;
        },
        paths: union(a, b),
      };
    }
    return p;
  };
  const or = (): CompiledFilter => {
    let p = and();
    while (peek().kind === '||') {
      next();
      const a = p;
      const b = and();
      p = {
        test: (o) => a.test(o) || b.test(o),
        byType: (type) => {
          const x = a.byType(type);
          if (x === true) return true;
          const y = b.byType(type);
          return y === true ? true : x === false && y === false ? false : undefined;
        },
        paths: union(a, b),
      };
    }
    return p;
  };
  const p = or();
  if (peek().kind !== 'end') fail(peek(), 'unexpected');
  return p;
}

/**
 * For a view that shows objects of several domains under one filter (the terminal UI's sessions and
 * packets): the filter for `domain`, or, when it names fields only the `others` have, one that
 * matches nothing here. Throws `domain`'s error when no domain takes the filter.
 */
export function compileFilterAmong(src: string, domain: FilterDomain, others: FilterDomain[]): Predicate {
  return compileFilterAmongPlan(src, domain, others).test;
}

/** compileFilterAmong, with the verdict from `type` alone (compileFilterPlan). */
export function compileFilterAmongPlan(src: string, domain: FilterDomain, others: FilterDomain[]): CompiledFilter {
  try {
    return compileFilterPlan(src, domain);
  } catch (e) {
    if (!(e instanceof FilterError)) throw e;
    if (!e.unknownField) throw e;
    for (const d of others) {
      try {
        compileFilter(src, d);
        return { test: () => false, byType: () => false, paths: [] };
      } catch (x) {
        // A mistake in a filter of the other kind is told as such, not as an unknown field here.
        if (x instanceof FilterError && !x.unknownField) throw x;
      }
    }
    throw e;
  }
}

const NOUN: Record<FilterDomain, string> = { packet: 'packets', exchange: 'exchanges', mapping: 'mappings' };

function field(domain: FilterDomain, t: Token): FieldDef {
  const def = lookupField(domain, t.text);
  if (def && def.type !== 'object') return def;
  if (def) throw new FilterError(`"${t.text}" at column ${t.col} holds fields of its own: name one (${fieldList(domain).filter(([n]) => n.startsWith(`${t.text}.`)).map(([n]) => n).join(', ')})`);
  throw new FilterError(`unknown field "${t.text}" at column ${t.col}; the fields of ${NOUN[domain]} are: ${fieldList(domain).map(([n]) => n).join(', ')}`, true);
}

function bare(domain: FilterDomain, t: Token): { test: Predicate; paths: readonly string[] } {
  for (const enumField of BARE_VALUES[domain]) {
    if (SCHEMAS[domain][enumField]!.values!.includes(t.text)) {
      const name = enumField;
      const def = SCHEMAS[domain][name]!;
      const read = reader(name, def);
      return { test: (o) => read(o).includes(t.text), paths: def.gather ?? [name] };
    }
  }
  const def = field(domain, t);
  const name = t.text;
  const paths = def.gather ?? [name];
  const read = reader(name, def);
  // A boolean is true, or (`malformed`: a list of what is wrong) a non-empty entry.
  if (def.type === 'boolean') return { test: (o) => read(o).some((v) => v === true || (typeof v === 'string' && v !== '')), paths };
  return { test: (o) => read(o).some((v) => v !== false && v !== null && v !== undefined && v !== ''), paths };
}

/** Everything a field names in an object, looking through arrays and gathering its paths. */
export function values(o: Json, name: string, def: FieldDef): Json[] {
  return reader(name, def)(o);
}

/** values() for one field, its paths split once: a filter reads them on every packet of a capture. */
function reader(name: string, def: FieldDef): (o: Json) => Json[] {
  if (!def.gather) {
    const path = name.split('.');
    return (o) => {
      const out: Json[] = [];
      collect(o, path, 0, out);
      return out;
    };
  }
  const all = def.gather.map((p) => p.split('.'));
  // inner.src/dst are EIDs only for data packets (for an ECM they are RLOCs).
  const notData = def.gather.filter((p) => p !== 'inner.src' && p !== 'inner.dst').map((p) => p.split('.'));
  return (o) => {
    const out: Json[] = [];
    for (const path of (o as Record<string, Json>)?.type === 'data' ? all : notData) collect(o, path, 0, out);
    return out;
  };
}

/** The values at `path` from step `k` on, arrays looked through, appended to `out`. */
function collect(o: Json, path: string[], k: number, out: Json[]): void {
  if (k === path.length) {
    if (Array.isArray(o)) for (const x of o) out.push(x);
    else out.push(o);
    return;
  }
  if (Array.isArray(o)) {
    for (const x of o) collect(x, path, k, out);
    return;
  }
  if (o === null || typeof o !== 'object') return;
  const v = (o as Record<string, Json>)[path[k]!];
  if (v !== undefined) collect(v, path, k + 1, out);
}

function comparison(name: string, def: FieldDef, op: Op, raw: string, col: number): Predicate {
  const num = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : undefined;
  const hex = /^0x[0-9a-f]+$/i.test(raw) ? raw.slice(2).toLowerCase() : undefined;
  const prefix = parsePrefix(raw);
  if ((op === '<' || op === '<=' || op === '>' || op === '>=') && num === undefined) {
    throw new FilterError(`"${op}" needs a number, not "${raw}", at column ${col}`);
  }
  if (op === 'in' && !prefix) throw new FilterError(`"in" needs an address prefix like 10.0.0.0/8, not "${raw}", at column ${col}`);
  if (def.values && (op === '==' || op === '!=') && !def.values.includes(raw)) {
    throw new FilterError(`"${raw}" at column ${col} is not a value of ${name}; it takes ${def.values.join(', ')}`);
  }
  let re: RegExp | undefined;
  if (op === 'matches') {
    try {
      // Case-insensitive, as Wireshark's `matches`.
      re = new RegExp(raw, 'i');
    } catch (e) {
      throw new FilterError(`"matches" needs a regular expression: ${(e as Error).message}, at column ${col}`);
    }
  }
  const eq = (v: Json): boolean => {
    if (typeof v === 'number') return num !== undefined ? v === num : String(v) === raw;
    if (typeof v === 'boolean') return String(v) === raw.toLowerCase();
    if (typeof v !== 'string') return false;
    if (v === raw || v.toLowerCase() === raw.toLowerCase()) return true;
    if (hex !== undefined && v.replace(/^0+/, '') === hex.replace(/^0+/, '')) return true;
    if (prefix) {
      const p = parsePrefix(v);
      if (p) return p.maskLen === prefix.maskLen ? sameAddress(p.address, prefix.address) : hostMatch(p, prefix);
    }
    return false;
  };
  const test = (v: Json): boolean => {
    switch (op) {
      case '==':
      case '!=':
        return eq(v);
      case 'in': {
        if (typeof v !== 'string') return false;
        const p = parsePrefix(v);
        return !!p && prefixCovers(prefix!, p);
      }
      case 'contains':
        return typeof v === 'string' && v.toLowerCase().includes(raw.toLowerCase());
      case 'matches':
        return (typeof v === 'string' || typeof v === 'number') && re!.test(String(v));
      default: {
        if (typeof v !== 'number') return false;
        const n = num!;
        return op === '<' ? v < n : op === '<=' ? v <= n : op === '>' ? v > n : v >= n;
      }
    }
  };
  // A string's verdict depends on the string alone, and the same addresses, EIDs and types come
  // back packet after packet: parsing them as prefixes each time was most of a scan's cost.
  const known = new Map<string, boolean>();
  // `in` an IPv4 prefix over plain IPv4 text (every address of a data packet): parsed in place,
  // cheaper than looking the string up, and the distinct addresses of a big capture outgrow the map.
  const v4 = op === 'in' && prefix!.address.kind === 'ipv4' ? ipv4Net(prefix!) : undefined;
  const cached = (v: Json): boolean => {
    if (typeof v !== 'string') return test(v);
    if (v4) {
      const r = ipv4Within(v, v4.net, v4.len);
      if (r >= 0) return r === 1;
    }
    let r = known.get(v);
    if (r === undefined) {
      if (known.size >= VERDICTS_KEPT) known.clear();
      known.set(v, (r = test(v)));
    }
    return r;
  };
  const read = reader(name, def);
  return (o) => {
    const vs = read(o);
    return op === '!=' ? !vs.some(cached) : vs.some(cached);
  };
}

/** An IPv4 prefix as a number and a mask length. */
function ipv4Net(p: Prefix): { net: number; len: number } | undefined {
  if (p.address.kind !== 'ipv4' || ipv4Within(p.address.addr, 0, 0) < 0) return undefined;
  const len = Math.min(p.maskLen, 32);
  return { net: (parsedV4 & maskOf(len)) >>> 0, len };
}

const maskOf = (len: number) => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

/** The address ipv4Within read last. */
let parsedV4 = 0;

/**
 * Whether `text`, an IPv4 address or prefix as parsePrefix reads it (`a.b.c.d`, `a.b.c.d/len`),
 * lies within `net`/`len` as prefixCovers says: 1 or 0; -1 for any other text (the caller asks
 * parsePrefix). Leaves the address in `parsedV4`.
 */
export function ipv4Within(text: string, net: number, len: number): -1 | 0 | 1 {
  let i = 0;
  let addr = 0;
  for (let octet = 0; octet < 4; octet++) {
    let n = 0;
    const from = i;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      n = n * 10 + c - 48;
    }
    if (i === from || i - from > 3 || n > 255) return -1;
    addr = addr * 256 + n;
    if (octet < 3) {
      if (text.charCodeAt(i) !== 46) return -1;
      i++;
    }
  }
  let maskLen = 32;
  if (i < text.length) {
    if (text.charCodeAt(i) !== 47) return -1;
    const from = ++i;
    maskLen = 0;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) return -1;
      maskLen = maskLen * 10 + c - 48;
    }
    if (i === from || i - from > 3 || maskLen > 32) return -1;
  }
  parsedV4 = addr;
  if (maskLen < len) return 0;
  return ((addr & maskOf(len)) >>> 0) === net ? 1 : 0;
}

/** Verdicts on distinct strings a comparison remembers (then it starts over). */
const VERDICTS_KEPT = 65_536;

/** `eid == 3.0.0.3` also matches the host prefix `3.0.0.3/32` (and the other way round). */
function hostMatch(a: Prefix, b: Prefix): boolean {
  return sameAddress(a.address, b.address) && (isHost(a) || isHost(b));
}

function isHost(p: Prefix): boolean {
  const full = p.address.kind === 'ipv4' ? 32 : p.address.kind === 'ipv6' ? 128 : p.address.kind === 'mac' ? 48 : -1;
  return p.maskLen === full;
}
