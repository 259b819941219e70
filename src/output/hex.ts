// Hex and ASCII dump, 16 bytes a line, offsets in hex (as `tcpdump -X` shows).

export function hexDump(b: Uint8Array, highlight?: { start: number; end: number }, mark = (s: string) => s): string[] {
  const lines: string[] = [];
  for (let off = 0; off < b.length; off += 16) {
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      const at = off + i;
      if (i % 2 === 0) hex += ' ';
      if (at >= b.length) {
        hex += '  ';
        continue;
      }
      const v = b[at]!;
      const h = v.toString(16).padStart(2, '0');
      const c = v >= 0x20 && v < 0x7f ? String.fromCharCode(v) : '.';
      const on = highlight !== undefined && at >= highlight.start && at < highlight.end;
      hex += on ? mark(h) : h;
      ascii += on ? mark(c) : c;
    }
    lines.push(`0x${off.toString(16).padStart(4, '0')}:${hex}  ${ascii}`);
  }
  return lines;
}
