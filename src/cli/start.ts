// `lispscope start` (what `npm start` runs): analyse the bundled Mobile Node capture and print
// every packet and a summary. Replaced by the embedded lab once it exists.

import { fileURLToPath } from 'node:url';
import { PacketDecoder } from '../capture/packets.js';
import { readCapture } from '../capture/source.js';
import { packetLine } from '../output/line.js';
import { chooseStyle } from '../output/style.js';
import { Summary } from '../output/summary.js';
import { keyLookup, loadKeys } from './common.js';
import type { Io } from './io.js';

const DEMO = fileURLToPath(new URL('../../../pcaps/mn-handover.pcapng', import.meta.url));
const DEMO_KEYS = fileURLToPath(new URL('../../../pcaps/mn-handover.keys', import.meta.url));

export async function runStart(_argv: string[], io: Io): Promise<number> {
  const style = chooseStyle(io.stdout, io.env);
  const decoder = new PacketDecoder({ keyFor: keyLookup(loadKeys(DEMO_KEYS)), warning: (m) => io.warn(m) });
  const summary = new Summary();
  io.line(`Reading ${DEMO} (keys from ${DEMO_KEYS})`);
  io.line('');
  await readCapture(DEMO, {
    frame: (f) => {
      summary.frame();
      const p = decoder.decode(f);
      if (!p) return;
      summary.packet(p);
      io.line(packetLine(p, { numeric: true, style }));
    },
    warning: (m) => io.warn(m),
  });
  decoder.finish();
  io.line('');
  for (const l of summary.render()) io.line(l);
  return 0;
}
