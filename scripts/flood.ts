// The flood benchmark (part of `npm run bench`): one minute of capture time in which 100,000 new
// Map-Requests a second arrive, each with its own nonce and EID and none answered — what a scan or a
// broken ITR does to an analyzer. The flow engine must keep its memory flat and say what it evicted.

import { PacketDecoder } from '../src/capture/packets.js';
import { lispUdpPacket, mapRequest } from '../src/dissect/build.js';
import { encodeControl } from '../src/dissect/control.js';
import { FlowEngine } from '../src/flows/engine.js';

export interface FloodResult {
  packets: number;
  seconds: number;
  /** RSS in MB at each second of capture time. */
  rss: number[];
  closedUnanswered: number;
  dropped: number;
  maxOpen: number;
}

export function flood(ratePerSecond = 100_000, captureSeconds = 60): FloodResult {
  const payload = encodeControl(mapRequest({ nonce: 1n, eids: ['10.0.0.1/32'], itrRlocs: ['192.0.2.9'] }));
  const template = lispUdpPacket({ src: '192.0.2.9', dst: '203.0.113.2', sport: 61001, dport: 4342, payload, udpChecksum: false });
  // Where the nonce and the EID's last three bytes sit in the IPv4/UDP/Map-Request frame.
  const nonceAt = 20 + 8 + 4;
  const eidAt = template.length - 3;
  const decoder = new PacketDecoder({});
  let unanswered = 0;
  const engine = new FlowEngine({ onExchange: (e) => void (e.outcome === 'unanswered' && unanswered++) });
  const rss: number[] = [];
  let maxOpen = 0;
  const t0 = performance.now();
  const total = ratePerSecond * captureSeconds;
  const frame = template.slice();
  for (let i = 0; i < total; i++) {
    const dv = new DataView(frame.buffer);
    dv.setUint32(nonceAt, i >>> 0);
    dv.setUint32(nonceAt + 4, Math.imul(i, 0x9e3779b1) >>> 0);
    frame[eidAt] = (i >> 16) & 0xff;
    frame[eidAt + 1] = (i >> 8) & 0xff;
    frame[eidAt + 2] = i & 0xff;
    const ts = i / ratePerSecond;
    const p = decoder.decode({ index: i + 1, tsSec: Math.floor(ts), tsNsec: Math.round((ts % 1) * 1e9), linkType: 228, len: frame.length, data: frame, interfaceId: 0 });
    engine.frame();
    if (p) engine.packet(p);
    if (i % 1000 === 0) maxOpen = Math.max(maxOpen, engine.exchanges.open);
    if (i % ratePerSecond === ratePerSecond - 1) rss.push(Math.round(process.memoryUsage().rss / 1e5) / 10);
  }
  engine.finish();
  return {
    packets: total,
    seconds: (performance.now() - t0) / 1000,
    rss,
    closedUnanswered: unanswered,
    dropped: engine.exchanges.counters.dropped,
    maxOpen,
  };
}

// Run directly (`node dist/scripts/flood.js [rate] [seconds]`), the result is one JSON line: the
// benchmark runs it in a child with a small heap, so a leak would fail rather than hide in GC slack.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const rate = Number(process.argv[2] ?? 100_000);
  const seconds = Number(process.argv[3] ?? 60);
  process.stdout.write(`${JSON.stringify(flood(rate, seconds))}\n`);
}
