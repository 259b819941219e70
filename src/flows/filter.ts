// Display filters (`-Y EXPR`) over the JSON contract's objects: packets (`read`), exchanges
// (`flows`), mappings (`mappings`). Comparisons on fields, `&&`, `||`, `!`, parentheses:
//
//   type == map-register          eid == 3.0.0.3/32          eid in 10.0.0.0/8
//   rloc == 12.0.0.2              nonce == 0xa1b2...          smr          probe
//   rtt_ms > 100                  outcome == unanswered       inner.type == map-request
//
// A field names a path in the object (dots go into objects and across arrays); `eid` and `rloc`
// gather every EID and every locator/outer address the object carries. A comparison holds when any
// of the field's values satisfies it (`!=` when none equals). A bare field holds when any value is
// truthy or the object's type/kind is that word.

import { parsePrefix, type Prefix } from '../dissect/address.js';
import { prefixCovers, sameAddress } from '../dissect/prefix.js';

export class FilterError extends Error {
  override name = 'FilterError';
}

type Json = unknown;
export type Predicate = (o: Record<string, Json>) => boolean;

type Op = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'contains';

interface Token {
  kind: 'word' | 'string' | 'op' | '(' | ')' | '&&' | '||' | '!' | 'end';
  text: string;
  col: number;
}

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
      else if (w === 'in' || w === 'contains' || w === 'eq' || w === 'ne' || w === 'gt' || w === 'lt' || w === 'ge' || w === 'le') {
        const alias: Record<string, string> = { eq: '==', ne: '!=', gt: '>', lt: '<', ge: '>=', le: '<=' };
        out.push({ kind: 'op', text: alias[w] ?? w, col });
      } else out.push({ kind: 'word', text: w, col });
      i += w.length;
    }
  }
  out.push({ kind: 'end', text: '', col: src.length + 1 });
  return out;
}

/** Compiles a filter; throws FilterError naming the column of the problem. */
export function compileFilter(src: string): Predicate {
  const toks = tokenize(src);
  let k = 0;
  const peek = () => toks[k]!;
  const next = () => toks[k++]!;
  const fail = (t: Token, what: string): never => {
    throw new FilterError(`${what} at column ${t.col}${t.kind === 'end' ? ' (end of filter)' : ` ("${t.text}")`}`);
  };

  const primary = (): Predicate => {
    const t = next();
    if (t.kind === '!') {
      const p = primary();
      return (o) => !p(o);
    }
    if (t.kind === '(') {
      const p = or();
      if (next().kind !== ')') fail(toks[k - 1]!, 'expected ")"');
      return p;
    }
    if (t.kind !== 'word') return fail(t, 'expected a field name');
    const field = t.text;
    if (peek().kind !== 'op') return bare(field);
    const op = next().text as Op;
    const v = next();
    if (v.kind !== 'word' && v.kind !== 'string') return fail(v, `expected a value after "${op}"`);
    return comparison(field, op, v.text, v.col);
  };
  const and = (): Predicate => {
    let p = primary();
    while (peek().kind === '&&') {
      next();
      const a = p;
      const b = primary();
      p = (o) => a(o) && b(o);
    }
    return p;
  };
  const or = (): Predicate => {
    let p = and();
    while (peek().kind === '||') {
      next();
      const a = p;
      const b = and();
      p = (o) => a(o) || b(o);
    }
    return p;
  };
  const p = or();
  if (peek().kind !== 'end') fail(peek(), 'unexpected');
  return p;
}

const ALIASES: Record<string, string> = { probe: 'rloc-probe', register: 'map-register', request: 'map-request', reply: 'map-reply' };

function bare(field: string): Predicate {
  return (o) => {
    if (o.type === field || o.kind === field || o.kind === ALIASES[field]) return true;
    return values(o, field).some((v) => v !== false && v !== null && v !== undefined && v !== 0 && v !== '');
  };
}

/** Everything at a dotted path, looking through arrays; `eid` and `rloc` gather across the object. */
export function values(o: Json, field: string): Json[] {
  if (field === 'eid') return gather(o, EID_PATHS);
  if (field === 'rloc') return gather(o, RLOC_PATHS);
  return at(o, field.split('.'));
}

const EID_PATHS = ['eid', 'eids', 'records.eid', 'map_reply.eid', 'inner.eid', 'inner.eids', 'inner.records.eid', 'inner.map_reply.eid', 'source_eid', 'inner.source_eid', 'inner.src', 'inner.dst'];
const RLOC_PATHS = [
  'src',
  'dst',
  'rlocs',
  'itr_rlocs',
  'records.locators.rloc',
  'map_reply.locators.rloc',
  'inner.itr_rlocs',
  'inner.records.locators.rloc',
  'requester',
  'responder',
  'via',
  'timeline.rlocs',
  'handovers.from',
  'handovers.to',
  'nat.global_etr_rloc',
  'nat.rtr_rlocs',
];

function gather(o: Json, paths: string[]): Json[] {
  // inner.src/dst are EIDs only for data packets (for an ECM they are RLOCs).
  const isData = (o as Record<string, Json>)?.type === 'data';
  return paths.flatMap((p) => ((p === 'inner.src' || p === 'inner.dst') && !isData ? [] : at(o, p.split('.'))));
}

function at(o: Json, path: string[]): Json[] {
  if (path.length === 0) return Array.isArray(o) ? o : [o];
  if (Array.isArray(o)) return o.flatMap((x) => at(x, path));
  if (o === null || typeof o !== 'object') return [];
  const v = (o as Record<string, Json>)[path[0]!];
  return v === undefined ? [] : at(v, path.slice(1));
}

function comparison(field: string, op: Op, raw: string, col: number): Predicate {
  const num = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : undefined;
  const hex = /^0x[0-9a-f]+$/i.test(raw) ? raw.slice(2).toLowerCase() : undefined;
  const prefix = parsePrefix(raw);
  if ((op === '<' || op === '<=' || op === '>' || op === '>=') && num === undefined) {
    throw new FilterError(`"${op}" needs a number, not "${raw}", at column ${col}`);
  }
  if (op === 'in' && !prefix) throw new FilterError(`"in" needs an address prefix like 10.0.0.0/8, not "${raw}", at column ${col}`);
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
      default: {
        if (typeof v !== 'number') return false;
        const n = num!;
        return op === '<' ? v < n : op === '<=' ? v <= n : op === '>' ? v > n : v >= n;
      }
    }
  };
  return (o) => {
    const vs = values(o, field);
    return op === '!=' ? !vs.some(test) : vs.some(test);
  };
}

/** `eid == 3.0.0.3` also matches the host prefix `3.0.0.3/32` (and the other way round). */
function hostMatch(a: Prefix, b: Prefix): boolean {
  return sameAddress(a.address, b.address) && (isHost(a) || isHost(b));
}

function isHost(p: Prefix): boolean {
  const full = p.address.kind === 'ipv4' ? 32 : p.address.kind === 'ipv6' ? 128 : p.address.kind === 'mac' ? 48 : -1;
  return p.maskLen === full;
}
