// Builds packet sequences for flow tests: messages from the builders, framed as raw IP, decoded by
// the real PacketDecoder, so the flow engine sees exactly what it sees on a capture.

import { PacketDecoder, type LispPacket } from '../../src/capture/packets.js';
import { encodeTcp, TcpFlag } from '../../src/dissect/tcp.js';
import { concatBytes } from '../../src/dissect/addr.js';
import { dataPacket, lispUdpPacket, type DataPacketSpec } from '../../src/dissect/build.js';
import { encodeControl } from '../../src/dissect/control.js';
import { encodeIPv4, IPPROTO_TCP } from '../../src/dissect/ip.js';
import { encodeReliable, type ReliableMessage } from '../../src/dissect/reliable.js';
import type { ControlMessage } from '../../src/dissect/types.js';
import { FlowEngine, type FlowEngineOptions } from '../../src/flows/engine.js';
import type { Exchange } from '../../src/flows/types.js';

export class Story {
  readonly packets: LispPacket[] = [];
  private readonly decoder: PacketDecoder;
  private frame = 0;
  /** Next TCP sequence number per direction ("src:sport dst:dport"). */
  private readonly seq = new Map<string, number>();

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

  /** Any IP packet (an ICMP error, VXLAN) as it would be captured. */
  raw(ts: number, ip: Uint8Array): this {
    this.add(ts, ip);
    return this;
  }

  data(ts: number, spec: DataPacketSpec): this {
    this.add(ts, dataPacket(spec));
    return this;
  }

  /**
   * Map-Server reliable-transport messages in one TCP segment from src:sport to dst:dport (IPv4),
   * each direction's stream going on where its last segment ended (no handshake: the decoder
   * finds the first message boundary itself).
   */
  reliable(ts: number, src: string, sport: number, dst: string, dport: number, messages: ReliableMessage[]): this {
    const dir = `${src}:${sport} ${dst}:${dport}`;
    const seq = this.seq.get(dir) ?? 1000;
    const payload = concatBytes(...messages.map(encodeReliable));
    this.seq.set(dir, (seq + payload.length) >>> 0);
    const tcp = encodeTcp({ sport, dport, seq, ack: 1, flags: TcpFlag.PSH | TcpFlag.ACK, checksum: { src, dst } }, payload);
    this.add(ts, encodeIPv4({ src, dst, proto: IPPROTO_TCP }, tcp));
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
