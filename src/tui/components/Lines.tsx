// Every pane renders exactly its height in lines, each already fitted to its width and painted:
// layout is decided on plain text (src/tui/text.ts), so Ink never wraps anything.

import { Box, Text } from 'ink';
import type { Paint } from '../paint.js';
import { cut, fit } from '../text.js';

export function Lines({ lines, width, height }: { lines: string[]; width: number; height: number }) {
  const out = lines.slice(0, height);
  while (out.length < height) out.push('');
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {out.map((l, i) => (
        <Text key={i} wrap="truncate-end">
          {l === '' ? ' ' : l}
        </Text>
      ))}
    </Box>
  );
}

/**
 * A pane's title line: a bar when focused, a rule otherwise. The right part (progress: "scanning
 * 40%") stays whole; the title gives way.
 */
export function titleLine(p: Paint, title: string, width: number, focused: boolean, right = ''): string {
  const r0 = cut(right, Math.max(0, width - 6));
  const text = cut(title, Math.max(1, width - r0.length - (focused ? 3 : 8)));
  right = r0;
  const gap = Math.max(1, width - text.length - right.length - 2);
  if (focused) return p.inverse(p.bold(fit(` ${text}${' '.repeat(gap)}${right} `, width)));
  const t = `── ${text} `;
  const r = right ? ` ${right} ──` : '';
  return p.dim(fit(`${t}${'─'.repeat(Math.max(0, width - t.length - r.length))}${r}`, width));
}

/** A list row: the marker and, when the pane is focused, inverse video for the selection. */
export function rowLine(p: Paint, text: string, selected: boolean, focused: boolean): string {
  if (!selected) return `  ${text}`;
  return focused ? p.inverse(`› ${text}`) : `› ${text}`;
}
