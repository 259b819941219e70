// Builds packet sequences for flow tests: messages from the builders, framed as raw IP, decoded by
// the real PacketDecoder, so the flow engine sees exactly what it sees on a capture.

import { PacketDecoder, type LispPacket } from '../../src/capture/packets.js';
import { dataPacket, lispUdpPacket, type DataPacketSpec } from '../../src/dissect/build.js';
import { encodeControl } from '../../src/dissect/control.js';
import type { ControlMessage } from '../../src/dissect/types.js';
import { FlowEngine, type FlowEngineOptions } from '../../src/flows/engine.js';
import type { Exchange } from '../../src/flows/types.js';

export class Story {
  readonly packets: LispPacket[] = [];
  private readonly decoder: PacketDecoder;
  private frame = 0;

  constructor(keyFor?: (p: LispPacket) => string | undefined) {
    this.decoder = new PacketDecoder(keyFor ? { keyFor: (p) => keyFor(p) } : {});
  }

  private add(ts: number, bytes: Uint8Array): LispPacket {
    const data = bytes;
    const p = this.decoder.decode({ index: ++this.frame, tsSec: Math.floor(ts), tsNsec: Math.round((ts % 1) * 1e9), linkType: 101, len: data.length, data, interfaceId: 0 });
    if (!p) throw new Error(`frame ${this.frame} is not LISP`);
    this.packets.push(p);
    return p;
  }

  /** A control message (or already-encoded, e.g. signed, bytes) from src:sport to dst:dport at ts. */
  control(ts: number, src: string, sport: number, dst: string, dport: number, m: ControlMessage | Uint8Array): this {
    const payload = m instanceof Uint8Array ? m : encodeControl(m);
    this.add(ts, lispUdpPacket({ src, dst, sport, dport, payload }));
    return this;
  }

  data(ts: number, spec: DataPacketSpec): this {
    this.add(ts, dataPacket(spec));
    return this;
  }
}

export interface Analysis {
  exchanges: Exchange[];
  engine: FlowEngine;
  result: ReturnType<FlowEngine['finish']>;
}

export function analyze(packets: LispPacket[], opts: FlowEngineOptions = {}): Analysis {
  const exchanges: Exchange[] = [];
  const engine = new FlowEngine({ ...opts, onExchange: (e) => exchanges.push(e) });
  for (const p of packets) {
    engine.frame();
    engine.packet(p);
  }
  return { exchanges, engine, result: engine.finish() };
}
