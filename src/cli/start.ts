// `lispscope start` (what `npm start` runs): analyse the bundled Mobile Node capture: every
// packet, then the exchanges, the handover story and the statistics.

import { fileURLToPath } from 'node:url';
import { PacketDecoder } from '../capture/packets.js';
import { readCapture } from '../capture/source.js';
import { packetLine } from '../output/line.js';
import { chooseStyle } from '../output/style.js';
import { FlowEngine } from '../flows/engine.js';
import type { Exchange } from '../flows/types.js';
import { analysisText } from '../output/flows-text.js';
import { keyLookup, loadKeys } from './common.js';
import type { Io } from './io.js';

const DEMO = fileURLToPath(new URL('../../../pcaps/mn-handover.pcapng', import.meta.url));
const DEMO_KEYS = fileURLToPath(new URL('../../../pcaps/mn-handover.keys', import.meta.url));

export async function runStart(_argv: string[], io: Io): Promise<number> {
  const style = chooseStyle(io.stdout, io.env);
  const decoder = new PacketDecoder({ keyFor: keyLookup(loadKeys(DEMO_KEYS)), warning: (m) => io.warn(m) });
  const exchanges: Exchange[] = [];
  const engine = new FlowEngine({ onExchange: (e) => exchanges.push(e) });
  io.line(`Reading ${DEMO} (keys from ${DEMO_KEYS})`);
  io.line('');
  await readCapture(DEMO, {
    frame: (f) => {
      engine.frame();
      const p = decoder.decode(f);
      if (!p) return;
      engine.packet(p);
      io.line(packetLine(p, { numeric: true, style }));
    },
    warning: (m) => io.warn(m),
  });
  decoder.finish();
  const { mappings, stats } = engine.finish();
  io.line('');
  io.line(analysisText(exchanges, mappings, stats, style));
  return 0;
}
