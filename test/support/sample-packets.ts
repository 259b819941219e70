// Every packet of the sample captures in pcaps/, decoded with --all (the deliberately broken
// samples end early; what they decoded counts).

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PacketDecoder, type LispPacket } from '../../src/capture/packets.js';
import { readCapture } from '../../src/capture/source.js';

const PCAPS = fileURLToPath(new URL('../../pcaps/', import.meta.url));

/** Calls `fn` with every packet of every sample capture; returns how many there were. */
export async function eachSamplePacket(fn: (p: LispPacket) => void): Promise<number> {
  let packets = 0;
  for (const name of readdirSync(PCAPS).filter((n) => /\.(pcap|pcapng)(\.gz)?$/.test(n))) {
    const decoder = new PacketDecoder({ all: true });
    await readCapture(join(PCAPS, name), {
      frame: (f) => {
        const p = decoder.decode(f);
        if (p) {
          packets++;
          fn(p);
        }
        return true;
      },
      warning: () => undefined,
    }).catch(() => undefined);
  }
  return packets;
}
