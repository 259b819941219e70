// A common control message's row is staged from its bytes (the scan, json-control-fast's line, the
// columns read back from it); with a key the decoder's verdicts are needed, so the same frame takes
// the general path (decoder, JsonWriter through the ColumnTap). Both must stage the same bytes.

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plainControl, scanPlainControl } from '../../src/capture/plain-control.js';
import type { Frame } from '../../src/capture/types.js';
import { PacketDecoder } from '../../src/capture/packets.js';
import { ColumnTap } from '../../src/export/control-row.js';
import { Recorder } from '../../src/export/recorder.js';
import { Stager } from '../../src/export/stage.js';
import { writePacketJson } from '../../src/output/json.js';
import { JsonWriter } from '../../src/output/json-writer.js';
import { bytesOf, OutBuffer } from '../../src/output/out-buffer.js';
import { controlFrame } from '../support/control-frames.js';

/** What a recorder stages for the packets table from one frame: its control rows and its JSON rows. */
function staged(f: Frame, general: boolean): { control: string; json: string } {
  const rows = { control: '', json: '' };
  const stager = new Stager({
    onBatch: (b) => {
      if (b.table !== 'packets') return;
      if (b.control) rows.control += readFileSync(b.control, 'latin1');
      if (b.path) rows.json += readFileSync(b.path, 'latin1');
    },
  });
  try {
    stager.input('v', 'f');
    // ClickHouse's rows carry the vantage and file after `seq`: the fast path writes them too.
    const rec = new Recorder(stager, { warning: () => {}, controlOrigin: bytesOf('\tv\tf'), ...(general ? { decoder: { keyFor: () => undefined } } : {}) });
    rec.frame(f);
    rec.finish({ format: 'pcap' });
  } finally {
    stager.dispose();
  }
  return rows;
}

describe('control rows from the bytes', () => {
  it('are staged exactly as the general path stages them', () => {
    const c = plainControl();
    let fast = 0;
    let columns = 0;
    let ecms = 0;
    let index = 0;
    fc.assert(
      fc.property(controlFrame, (frame) => {
        const f: Frame = { index: ++index, ...frame };
        const row = staged(f, false);
        expect(row).toEqual(staged(f, true));
        if (!scanPlainControl(f, c)) return;
        fast++;
        if (row.control) columns++;
        if (c.ecm >= 0) ecms++;
      }),
      { numRuns: 3000 },
    );
    // The fast path must be taken, with rows of columns, not only left to the JSON path.
    expect(fast).toBeGreaterThan(300);
    expect(columns).toBeGreaterThan(250);
    expect(ecms).toBeGreaterThan(100);
  });
});

/** The tap's row: its columns and JSON, or (when the columns do not fit the format) its JSON alone. */
function rowOf(tap: ColumnTap): string {
  let text = '';
  const out = new OutBuffer((b) => {
    text += Buffer.from(b).toString('latin1');
    return true;
  }, 1 << 16);
  if (tap.fields()) tap.writeRow(out);
  else {
    out.ensure(5);
    out.ascii('JSON:');
    tap.writeJson(out);
  }
  out.flush();
  return text;
}

describe('columns read back from the JSON text', () => {
  it('are those the tap takes as the text is written, for any packet (escapes, notes, odd values)', () => {
    const decoder = new PacketDecoder({});
    const written = new ColumnTap();
    const read = new ColumnTap();
    let index = 0;
    let odd = 0;
    fc.assert(
      fc.property(controlFrame, (frame) => {
        const p = decoder.decode({ index: ++index, ...frame });
        if (!p?.kind) return;
        written.start();
        writePacketJson(written, p);
        read.start();
        writePacketJson(new JsonWriter(read.text), p);
        read.text.ensure(1);
        read.text.byte(10);
        read.readText();
        const row = rowOf(written);
        if (row.startsWith('JSON:') || p.notes.length > 0) odd++;
        expect(rowOf(read)).toBe(row);
      }),
      { numRuns: 3000 },
    );
    // Packets the fast path never sees (notes, LCAFs) are among them.
    expect(odd).toBeGreaterThan(300);
  });

  it('refuses text no JsonWriter wrote (white space) instead of reading on', () => {
    const tap = new ColumnTap();
    tap.start();
    tap.text.ensure(32);
    tap.text.ascii('{"frame": 1,"ts":2}\n');
    expect(() => tap.readText()).toThrow(/unexpected byte 32/);
  });

  it('refuses a string left open instead of reading past the line', () => {
    const tap = new ColumnTap();
    tap.start();
    tap.text.ensure(32);
    tap.text.ascii('{"frame":1,"type":"map-re\n');
    expect(() => tap.readText()).toThrow(/runs past the end/);
  });
});
