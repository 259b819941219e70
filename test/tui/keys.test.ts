// What termshark users expect of the UI: g + a number goes to that frame, `a` toggles between a
// session's packets and the whole capture on the same frame, a paste into the filter prompt acts as
// typing, columns as wide as their content, nothing that matters cut at 80×24 (the title keeps the
// file name and the status, the key line and the help wrap or scroll), and a capture without any
// exchange says so. The help is generated from the keymap.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSource } from '../../src/tui/file-source.js';
import { KEYMAP } from '../../src/tui/keymap.js';
import { titleLine } from '../../src/tui/components/Lines.js';
import { makePaint, plain } from '../../src/tui/paint.js';
import type { SourceStatus } from '../../src/tui/source.js';
import { cutLeft } from '../../src/tui/text.js';
import { PCAPS, ROOT } from '../cli/run.js';
import { KEY, StepSource, ui, until } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmp = mkdtempSync(join(tmpdir(), 'lispscope-tui-keys-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function fileSource(...files: string[]): Promise<FileSource> {
  const s = new FileSource(files);
  await s.start();
  await until(s, () => s.status().state === 'done');
  return s;
}

let handover: FileSource;
beforeAll(async () => {
  handover = await fileSource(join(PCAPS, 'mn-handover.pcapng'));
});
afterAll(() => handover.stop());

describe('keys', () => {
  it('g then a frame number and Enter goes to that frame; g alone is the first row', async () => {
    const t = ui(handover);
    await t.press('g', '3', '7');
    expect(t.frame()).toMatch(/go to frame: 37/);
    await t.press(KEY.enter);
    let f = t.frame();
    expect(f).toMatch(/Packets \(a: this session only\) 37\/56/);
    expect(f).toMatch(/Detail frame 37/);
    await t.press('G', 'g');
    expect(t.frame()).toMatch(/Packets \(a: this session only\) 1\/56/);
    await t.press(KEY.esc, 'g', '9', '9', KEY.enter);
    f = t.frame();
    expect(f).toMatch(/frame 99 is not in the capture/);
    t.unmount();
  });

  it('a leaves a session for the whole capture on the same frame, and a again comes back to it', async () => {
    const t = ui(handover);
    // The smr session (the eighth), its second packet: frame 39.
    await t.press('jjjjjjj', KEY.enter, 'j');
    expect(t.frame()).toMatch(/Packets of smr 10\.1\.0\.5\/32 \(a: all\) 2\/4/);
    await t.press('a');
    let f = t.frame();
    expect(f).toMatch(/Packets \(a: this session only\) 39\/56/);
    expect(f).toMatch(/Detail frame 39/);
    await t.press('a');
    f = t.frame();
    expect(f).toMatch(/Packets of smr 10\.1\.0\.5\/32 \(a: all\) 2\/4/);
    expect(f).toMatch(/Detail frame 39/);
    t.unmount();
  });

  it('a paste into the / prompt (Ctrl-U, text and Enter in one read) clears, fills and submits', async () => {
    const t = ui(handover);
    await t.press('/');
    t.stdin.write('\u0015kind == smr\r');
    await t.settle();
    expect(t.frame()).toMatch(/Sessions 1\/1 +filter: kind == smr/);
    // The same with the prompt opened by the same read.
    t.stdin.write('/\u0015outcome == negative\r');
    await t.settle();
    expect(t.frame()).toMatch(/Sessions 1\/1 +filter: outcome == negative/);
    expect(t.frame()).toMatch(/resolution +10\.3\.0\.9\/32/);
    t.unmount();
  });
});

describe('layout', () => {
  it('sizes the session columns to their content: the EID column is as wide as the widest EID', async () => {
    const t = ui(handover, { width: 200, height: 40 });
    await sleep(30);
    const header = t.frame().split('\n').find((l) => /start +kind +EID/.test(l))!;
    const eids = handover.sessions().list.map((s) => s.exchange.eid.length);
    const eidW = header.indexOf('requester') - header.indexOf('EID') - 1;
    expect(eidW).toBe(Math.max(...eids));
    t.unmount();
  });

  it('keeps the file name and the status in the title however long the directory, at 80 columns', async () => {
    const long = join(tmp, 'a-directory-with-a-rather-long-name-as-clones-in-deep-workspaces-have'.repeat(2));
    mkdirSync(long);
    symlinkSync(join(PCAPS, 'mn-handover.pcapng'), join(long, 'mn-handover.pcapng'));
    const s = await fileSource(join(long, 'mn-handover.pcapng'));
    try {
      const t = ui(s, { width: 80, height: 24 });
      await sleep(30);
      const lines = t.frame().split('\n');
      expect(lines.every((l) => l.length <= 80)).toBe(true);
      expect(`${lines[0]}\n${lines[1]}`).toMatch(/file: …\/mn-handover\.pcapng[^]*done: 56 frames, 11 sessions/);
      t.unmount();
    } finally {
      await s.stop();
    }
    expect(cutLeft('/work/some/where/pcaps/mn-handover.pcapng', 30)).toBe('…/pcaps/mn-handover.pcapng');
  });

  it('shows "loading N%" and a pane\'s "scanning N%" whole at 80 columns', async () => {
    class Loading extends StepSource {
      override readonly title = '/a/very/long/path/to/a/directory/with/a/capture/that/is/being/read/now.pcapng';
      override status(): SourceStatus {
        return { state: 'loading', text: 'reading 42%, 1,234,567 frames so far', progress: 0.42, warnings: [] };
      }
    }
    const s = new Loading();
    await s.start();
    const t = ui(s, { width: 80, height: 24, follow: false });
    await sleep(30);
    const top = t.frame().split('\n').slice(0, 2).join('\n');
    expect(top).toMatch(/now\.pcapng/);
    expect(top).toMatch(/loading: reading 42%, 1,234,567 frames so far/);
    t.unmount();
    await s.stop();
    const title = plain(titleLine(makePaint(false), 'Packets (a: this session only) 1/123456  filter: type == map-reply && eid in 10.0.0.0/8', 80, true, 'scanning 42%'));
    expect(title).toHaveLength(80);
    expect(title).toMatch(/… +scanning 42% $/);
  });

  it('wraps the key line and scrolls the help at 80×24 instead of cutting them', async () => {
    const t = ui(handover, { width: 80, height: 23 });
    await sleep(30);
    const lines = t.frame().split('\n');
    expect(lines.slice(-2).join(' ')).toMatch(/Tab pane .* \? help · q quit/);
    // The title bar and the key line are whole (panes may cut their own long titles and rows).
    for (const l of [lines[0]!, ...lines.slice(-2)]) expect(l).not.toContain('…');
    await t.press('?');
    let f = t.frame();
    expect(f).toMatch(/Keys \(↑↓ PgUp PgDn scroll, any other key closes this help\)/);
    // Every binding's keys appear while scrolling down the help, generated from the keymap.
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      for (const b of KEYMAP) if (f.includes(` ${b.keys} `) || f.includes(` ${b.keys}\n`)) seen.add(b.keys);
      await t.press(KEY.down, KEY.down, KEY.down);
      f = t.frame();
    }
    expect([...seen].sort()).toEqual(KEYMAP.map((b) => b.keys).sort());
    await t.press('x');
    expect(t.frame()).not.toMatch(/Keys \(/);
    t.unmount();
  });

  it('docs/tui.md lists every key of the keymap, as the help does', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'tui.md'), 'utf8');
    for (const b of KEYMAP) expect(doc, b.keys).toContain(`| \`${b.keys}\` | ${b.help.replace(/\|/g, '\\|')} |`);
  });

  it('a finished capture without exchanges says so', async () => {
    const s = await fileSource(join(PCAPS, 'data.pcap'));
    try {
      const t = ui(s);
      await sleep(30);
      expect(t.frame()).toMatch(/no exchanges in this capture/);
      expect(t.frame()).not.toMatch(/no sessions yet/);
      t.unmount();
    } finally {
      await s.stop();
    }
  });
});
