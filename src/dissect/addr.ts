// Text forms of the raw address families LISP carries: IPv4 dotted quad, IPv6 per RFC 5952,
// MAC as colon-separated lower-case hex. Formatting reads straight from the packet bytes so the
// hot path allocates only the resulting string.

const HEX = '0123456789abcdef';

/**
 * A copy of b[start, end) as a plain Uint8Array. (`slice` on a Node Buffer is a view, not a copy:
 * decoded values must never alias a buffer the reader will reuse.)
 */
export function copyBytes(b: Uint8Array, start = 0, end = b.length): Uint8Array {
  return new Uint8Array(b.subarray(start, end));
}

export function formatIPv4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952: lower case, no leading zeros, the longest run (first on ties) of two or more zero groups as `::`. */
export function formatIPv6(b: Uint8Array, off: number): string {
  const g = new Array<number>(8);
  for (let i = 0; i < 8; i++) g[i] = (b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!;
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(b, off + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return `${head}::${tail}`;
}

const HEX_CODES = Uint8Array.from(HEX, (c) => c.charCodeAt(0));
const COLON = 58;

/** Every frame's link header has two: the text is made in one allocation, not a string per digit. */
export function formatMac(b: Uint8Array, off: number): string {
  const h = HEX_CODES;
  // A byte beyond the buffer reads as 0 (as the digit-by-digit version did).
  const a = b[off]! | 0;
  const c = b[off + 1]! | 0;
  const d = b[off + 2]! | 0;
  const e = b[off + 3]! | 0;
  const f = b[off + 4]! | 0;
  const g = b[off + 5]! | 0;
  return String.fromCharCode(
    h[a >> 4]!, h[a & 15]!, COLON, h[c >> 4]!, h[c & 15]!, COLON, h[d >> 4]!, h[d & 15]!, COLON,
    h[e >> 4]!, h[e & 15]!, COLON, h[f >> 4]!, h[f & 15]!, COLON, h[g >> 4]!, h[g & 15]!,
  );
}

/** The parts one after another, in a new array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A 64-bit nonce as 16 hex digits: how every output names it (never a JS number, which would round it). */
export function nonceHex(n: bigint): string {
  return n.toString(16).padStart(16, '0');
}

export function toHex(b: Uint8Array, off = 0, end = b.length): string {
  let s = '';
  for (let i = off; i < end; i++) {
    const v = b[i]!;
    s += HEX[v >> 4]! + HEX[v & 15]!;
  }
  return s;
}

export function fromHex(hex: string): Uint8Array | undefined {
  const h = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) return undefined;
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function parseIPv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

export function parseIPv6(s: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let text = s;
  const out = new Uint8Array(16);
  let tailV4: Uint8Array | undefined;
  if (text.includes('.')) {
    const idx = text.lastIndexOf(':');
    tailV4 = parseIPv4(text.slice(idx + 1));
    if (!tailV4) return undefined;
    text = `${text.slice(0, idx + 1)}0:0`;
  }
  const dbl = text.indexOf('::');
  if (dbl !== text.lastIndexOf('::')) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    const vals: number[] = [];
    for (const grp of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(grp)) return undefined;
      vals.push(parseInt(grp, 16));
    }
    return vals;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parse(text.slice(0, dbl));
    const tail = parse(text.slice(dbl + 2));
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parse(text);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  if (tailV4) out.set(tailV4, 12);
  return out;
}

export function parseMac(s: string): Uint8Array | undefined {
  const parts = s.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) return undefined;
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}
