// The Mappings view of one EID: a bar per RLOC over the time the mapping was followed (where the
// EID was registered at that RLOC), the handovers marked under it, then the timeline entries and,
// per handover, each peer's story (SMR, re-resolution, data moved, latency, stale packets): the
// same facts `lispscope mappings` prints, laid out for a pane.

import type { Handover, Mapping } from '../flows/types.js';
import { frameName } from '../output/flows-text.js';
import { wrap } from './keymap.js';
import type { Paint } from './paint.js';
import { clock, fit, msText } from './text.js';

const REGISTERED = new Set(['map-register', 'map-notify']);

export function mappingSummary(m: Mapping): string {
  const sets = new Set(m.timeline.map((t) => t.rlocs.join(','))).size;
  const h = m.handovers.length;
  return `${m.eid}  ${sets} RLOC set${sets === 1 ? '' : 's'}${h ? `, ${h} handover${h === 1 ? '' : 's'}` : ''}`;
}

function rel(h: Handover, t: number | undefined): string {
  return t === undefined ? '-' : `+${msText((t - h.ts) * 1000)}`;
}

/** The lines of the mapping's detail, `width` wide. */
export function mappingLines(m: Mapping, width: number, p: Paint, multi = false): string[] {
  const out: string[] = [];
  out.push(p.bold(fit(mappingSummary(m), width)));
  const reg = m.timeline.filter((t) => REGISTERED.has(t.source));
  const t0 = m.timeline[0]?.ts;
  const last = m.timeline[m.timeline.length - 1]?.ts;
  if (t0 !== undefined && last !== undefined && reg.length) {
    const labelW = Math.min(18, Math.max(10, Math.floor(width / 4)));
    const barW = Math.max(10, width - labelW - 1);
    const t1 = Math.max(last, ...m.handovers.flatMap((h) => h.peers.map((x) => x.firstDataTs ?? h.ts)));
    const span = Math.max(1e-6, t1 - t0);
    const col = (t: number) => Math.min(barW - 1, Math.max(0, Math.floor(((t - t0) / span) * (barW - 1))));
    const rlocs = [...new Set(reg.flatMap((r) => r.rlocs))];
    out.push(p.dim(`${fit('registered at', labelW)} ${fit(clock(t0), Math.floor(barW / 2))}${fit(clock(t1), barW - Math.floor(barW / 2), 'right')}`));
    for (const r of rlocs) {
      const cells = Array<string>(barW).fill('·');
      reg.forEach((e, i) => {
        if (!e.rlocs.includes(r)) return;
        const start = col(e.ts);
        const end = Math.max(start + 1, i + 1 < reg.length ? col(reg[i + 1]!.ts) : barW);
        for (let c = start; c < end; c++) cells[c] = '█';
      });
      out.push(`${fit(r, labelW)} ${p.fg('green', cells.join(''))}`);
    }
    if (m.handovers.length) {
      const marks = Array<string>(barW).fill(' ');
      for (const h of m.handovers) marks[col(h.ts)] = '▲';
      out.push(`${fit('handovers', labelW)} ${p.fg('yellow', marks.join(''))}`);
    }
  }
  out.push('');
  out.push(p.dim(fit(`${fit('time', 12)} ${fit('frame', 7)} ${fit('source', 12)} ${fit('by', 15)} RLOCs`, width)));
  let prev = '';
  for (const e of m.timeline) {
    const set = e.rlocs.join(', ');
    const frame = frameName(e.frame, multi);
    const line = fit(`${clock(e.ts)} ${fit(frame, 7)} ${fit(e.source, 12)} ${fit(e.by, 15)} ${set}`, width);
    out.push(prev && set !== prev ? p.fg('cyan', line) : line);
    prev = set;
  }
  if (m.timelineDropped) out.push(p.dim(`(${m.timelineDropped} more entries not kept)`));
  if (m.noHandover) {
    out.push('');
    for (const l of wrap(`no handover: ${m.noHandover}`, width)) out.push(p.dim(fit(l, width)));
  }
  for (const h of m.handovers) {
    out.push('');
    out.push(p.fg('yellow', fit(`handover at ${clock(h.ts)} (frame ${frameName(h.frame, multi)}): ${h.from.join(', ')} → ${h.to.join(', ')}`, width)));
    if (!h.peers.length) {
      out.push(fit(`  no peer was sending to ${m.eid} in the minute before`, width));
      continue;
    }
    // Columns as wide as their widest cell.
    const cells = h.peers.map((x) => ({
      x,
      smr: x.smrTs === undefined ? 'none' : rel(h, x.smrTs),
      updated: rel(h, x.updatedTs),
      moved: rel(h, x.firstDataTs),
      latency: x.latencyMs === null ? 'never' : msText(x.latencyMs),
    }));
    const w = (title: string, f: (c: (typeof cells)[number]) => string) => Math.max(title.length, ...cells.map((c) => f(c).length));
    const wPeer = w('peer', (c) => c.x.peer);
    const wSmr = w('SMR', (c) => c.smr);
    const wUpd = w('re-resolved', (c) => c.updated);
    const wMoved = w('data moved', (c) => c.moved);
    const wLat = w('latency', (c) => c.latency);
    out.push(p.dim(fit(`  ${fit('peer', wPeer)} ${fit('SMR', wSmr)} ${fit('re-resolved', wUpd)} ${fit('data moved', wMoved)} ${fit('latency', wLat)} stale`, width)));
    for (const c of cells) {
      const smr = c.x.smrTs === undefined ? p.fg('red', fit(c.smr, wSmr)) : fit(c.smr, wSmr);
      const latency = c.x.latencyMs === null ? p.fg('red', fit(c.latency, wLat)) : fit(c.latency, wLat);
      const stale = c.x.staleDataPackets ? p.fg('red', String(c.x.staleDataPackets)) : '0';
      out.push(`  ${fit(c.x.peer, wPeer)} ${smr} ${fit(c.updated, wUpd)} ${fit(c.moved, wMoved)} ${latency} ${stale}`);
    }
  }
  return out;
}
