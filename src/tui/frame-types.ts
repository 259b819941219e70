// What the analysis learnt of each frame of a capture file while it decoded it anyway: the `type`
// its JSON object carries (a control message's name, `data`), one byte a frame. The packet filter
// reads it to skip the frames a filter on the type rules out, without reading them back.

import type { LispPacket } from '../capture/packets.js';
import { controlTypeName } from '../dissect/registry.js';

/** The `type` writePacketJson gives the packet, when it comes from the message alone (not for reliable transport, ICMP, VXLAN). */
export function packetType(p: LispPacket): string | undefined {
  if (p.control) return controlTypeName(p.control);
  if (p.data) return 'data';
  return undefined;
}

/** Types by frame number (as the analysis numbers frames, which is how `read` numbers them). */
export class FrameTypes {
  private codes = new Uint8Array(0);
  /** Type names by code - 1 (code 0: not known). */
  private readonly names: string[] = [];
  private readonly byName = new Map<string, number>();

  /** Frame number `i` has `type`. */
  set(i: number, type: string): void {
    let code = this.byName.get(type);
    if (code === undefined) {
      if (this.names.length === 255) return;
      this.names.push(type);
      code = this.names.length;
      this.byName.set(type, code);
    }
    if (i >= this.codes.length) {
      const grown = new Uint8Array(Math.max(4096, this.codes.length * 2, i + 1));
      grown.set(this.codes);
      this.codes = grown;
    }
    this.codes[i] = code;
  }

  get(i: number): string | undefined {
    const code = this.codes[i];
    return code ? this.names[code - 1] : undefined;
  }
}
