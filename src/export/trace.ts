// LISPSCOPE_EXPORT_TRACE=FILE appends a timeline of an export to FILE: one line an event (ms since
// the process started, the event, its details, V8's heap used/committed and the process's resident
// anonymous, file-backed and total memory in MB). It shows what runs serially: the batches pushed
// and loaded per table, the reader held back by the loader (pause/resume), and the tail after the
// last packet (docs/export.md, "Scale"). Without the variable nothing is measured or written.

import { appendFileSync, readFileSync } from 'node:fs';
import { memoryUsage } from 'node:process';

const file = process.env.LISPSCOPE_EXPORT_TRACE || undefined;

export function trace(event: string, detail = ''): void {
  if (file === undefined) return;
  const m = memoryUsage();
  const mb = (n: number) => (n / 2 ** 20).toFixed(0);
  const line = `${performance.now().toFixed(1).padStart(9)} ${event.padEnd(12)} ${detail.padEnd(30)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} ${resident()} rss ${mb(m.rss)}\n`;
  appendFileSync(file, line);
}

/** Resident anonymous and file-backed memory (Linux; nothing elsewhere). */
function resident(): string {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const mb = (key: string) => (Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) / 1024).toFixed(0);
    return `anon ${mb('RssAnon')} file ${mb('RssFile')}`;
  } catch {
    return '';
  }
}
