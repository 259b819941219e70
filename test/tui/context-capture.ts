// A capture whose frames decode differently alone than in file order: Map-Server reliable-transport
// (TCP 4342) connections with everything that makes a segment depend on the ones before it, and
// IP fragments, interleaved. Raw IPv4 frames (LINKTYPE 101), written with our own encoders.
//  - connection A: handshake; a Registration in two segments, the second one IP-fragmented with
//    another connection's segment between its fragments; a retransmission; ACK and Mapping
//    Notification in one segment; a Registration in three segments, the last one early; half a
//    message, then RST; a segment after the RST; a new SYN on the same ports; half a message,
//    then another SYN while it is open; after more than 600 s idle, a segment without handshake;
//  - connection B: no handshake (the framer finds the first message boundary), messages between A's,
//    one of them in two segments, the second sent first while A holds early bytes too;
//  - a Map-Register over UDP in IPv4 fragments, the last one long after the first;
//  - at the end two connections whose capture times go backwards (C, then D earlier than C): a
//    message in two segments of D.

import { encodeTcp, TcpFlag } from '../../src/dissect/tcp.js';
import { PcapFileWriter } from '../../src/capture/writer.js';
import { concatBytes } from '../../src/dissect/addr.js';
import { parsePrefix } from '../../src/dissect/address.js';
import { lispUdpPacket, mappingRecord, mapRegister } from '../../src/dissect/build.js';
import { decodeControl } from '../../src/dissect/control.js';
import { encodeIPv4, IPPROTO_TCP } from '../../src/dissect/ip.js';
import { encodeReliable } from '../../src/dissect/reliable.js';

const MS = '203.0.113.1';
const { ACK, SYN, RST } = TcpFlag;
const PSH = TcpFlag.PSH | TcpFlag.ACK;

function registration(messageId: number, eids: string[], from: string): Uint8Array {
  const records = eids.map((eid) => mappingRecord({ eid, locators: [{ rloc: from, local: true }] }));
  const bytes = mapRegister({ nonce: 0x1000n + BigInt(messageId), keyId: 1, key: 'k', records, wantMapNotify: true, xtrId: 7n });
  return encodeReliable({ type: 17, messageId, mapRegister: decodeControl(bytes).value });
}

function prefix(text: string) {
  const p = parsePrefix(text)!;
  return { eid: p.address, eidMaskLen: p.maskLen };
}

/** IPv4 fragments of a whole datagram (no options), `size` payload bytes each (a multiple of 8). */
function fragment(ip: Uint8Array, size: number): Uint8Array[] {
  const payload = ip.subarray(20);
  const out: Uint8Array[] = [];
  const id = (ip[4]! << 8) | ip[5]!;
  for (let off = 0; off < payload.length; off += size) {
    const mf = off + size < payload.length;
    out.push(encodeIPv4({ src: ip.subarray(12, 16), dst: ip.subarray(16, 20), proto: ip[9]!, id, mf, fragmentOffset: off / 8 }, payload.subarray(off, off + size)));
  }
  return out;
}

/** One TCP connection's two directions: sequence numbers follow what was sent. */
class Connection {
  private up: number;
  private down: number;
  private ipId = 1;

  constructor(
    private readonly etr: string,
    private readonly port: number,
    up: number,
    down: number,
  ) {
    this.up = up;
    this.down = down;
  }

  /** A segment from the ETR (`up`) or the MS, at sequence `seq` (default: the next), moving the next on unless `resend`. */
  segment(dir: 'up' | 'down', flags: number, payload: Uint8Array = new Uint8Array(0), opts: { seq?: number; resend?: boolean } = {}): Uint8Array {
    const [src, dst, sport, dport] = dir === 'up' ? [this.etr, MS, this.port, 4342] : [MS, this.etr, 4342, this.port];
    const next = dir === 'up' ? this.up : this.down;
    const seq = opts.seq ?? next;
    const tcp = encodeTcp({ sport, dport, seq, ack: dir === 'up' ? this.down : this.up, flags, checksum: { src, dst } }, payload);
    if (!opts.resend) {
      const end = (seq + payload.length + (flags & (SYN | TcpFlag.FIN) ? 1 : 0)) >>> 0;
      if (dir === 'up') this.up = Math.max(this.up, end) >>> 0;
      else this.down = Math.max(this.down, end) >>> 0;
    }
    return encodeIPv4({ src, dst, proto: IPPROTO_TCP, id: this.ipId++ }, tcp);
  }

  next(dir: 'up' | 'down'): number {
    return dir === 'up' ? this.up : this.down;
  }

  /** Starts over (a new connection on the same ports). */
  restart(up: number, down: number): void {
    this.up = up;
    this.down = down;
  }
}

/** Frames (1-based) the tests look at. */
export interface Marks {
  /** The SYN that opens a connection again on the ports of one that was reset. */
  synAfterRst: number;
  /** The first segment after A was idle for more than 600 s. */
  afterIdle: number;
  /** D's second segment, whose capture time is before C's. */
  backwards: number;
}

export function writeContextCapture(file: string): { frames: number; marks: Marks } {
  const w = new PcapFileWriter(file, { linkType: 101 });
  let frames = 0;
  const marks: Marks = { synAfterRst: 0, afterIdle: 0, backwards: 0 };
  const at = (t: number, data: Uint8Array) => {
    frames++;
    w.write({ tsSec: 1_764_000_000 + Math.floor(t), tsNsec: Math.round((t % 1) * 1e9), data });
  };
  const a = new Connection('192.0.2.10', 50001, 1000, 900_000);
  const b = new Connection('192.0.2.20', 50002, 5000, 7000);
  const udpRegister = lispUdpPacket({
    src: '192.0.2.30',
    dst: MS,
    sport: 4342,
    dport: 4342,
    id: 77,
    payload: mapRegister({ nonce: 0x77n, keyId: 1, key: 'k', records: Array.from({ length: 6 }, (_, i) => mappingRecord({ eid: `10.77.${i}.0/24`, locators: [{ rloc: '192.0.2.30' }] })) }),
  });
  const udpFragments = fragment(udpRegister, 128);

  at(0, a.segment('up', SYN));
  at(0.001, a.segment('down', SYN | ACK));
  at(0.002, a.segment('up', ACK));
  at(0.1, b.segment('up', PSH, registration(0, ['10.20.0.0/16'], '192.0.2.20')));
  at(0.15, udpFragments[0]!);

  // R1 in two segments, the second IP-fragmented around one of B's segments.
  const r1 = registration(1, ['10.10.0.0/16', '10.11.0.0/16'], '192.0.2.10');
  const seg1At = a.next('up');
  at(0.2, a.segment('up', PSH, r1.subarray(0, 50)));
  const second = fragment(a.segment('up', PSH, r1.subarray(50)), 64);
  at(0.21, second[0]!);
  at(0.22, b.segment('down', PSH, encodeReliable({ type: 18, messageId: 0, ...prefix('10.20.0.0/16') })));
  for (const f of second.slice(1)) at(0.23, f);
  at(0.3, a.segment('up', PSH, r1.subarray(0, 50), { seq: seg1At, resend: true }));
  at(
    0.4,
    a.segment(
      'down',
      PSH,
      concatBytes(
        encodeReliable({ type: 18, messageId: 0, ...prefix('10.10.0.0/16') }),
        encodeReliable({ type: 21, messageId: 1, xtrId: new Uint8Array(16).fill(7, 15), siteId: new Uint8Array(8), record: mappingRecord({ eid: '10.10.0.0/16', locators: [{ rloc: '192.0.2.10' }] }) }),
      ),
    ),
  );

  // R2 in three segments, the third sent before the second; B holds early bytes at the same time
  // (a small reassembly memory bound counts both).
  const held = registration(9, ['10.24.0.0/16', '10.25.0.0/16', '10.26.0.0/16'], '192.0.2.20');
  const heldAt = b.next('up');
  at(0.45, b.segment('up', PSH, held.subarray(40), { seq: heldAt + 40, resend: true }));
  const r2 = registration(2, ['10.12.0.0/16', '10.13.0.0/16', '10.14.0.0/16'], '192.0.2.10');
  const base = a.next('up');
  at(0.5, a.segment('up', PSH, r2.subarray(0, 40)));
  at(0.51, a.segment('up', PSH, r2.subarray(80), { seq: base + 80, resend: true }));
  at(0.52, a.segment('up', PSH, r2.subarray(40, 80), { seq: base + 40, resend: true }));
  a.restart(base + r2.length, a.next('down'));
  at(0.525, b.segment('up', PSH, held.subarray(0, 40)));
  b.restart(heldAt + held.length, b.next('down'));
  at(0.53, b.segment('up', PSH, registration(1, ['10.21.0.0/16'], '192.0.2.20')));
  at(0.6, udpFragments[1]!);

  // Half a message, then RST; a late segment; a new connection on the same ports.
  const r3 = registration(3, ['10.15.0.0/16'], '192.0.2.10');
  at(0.7, a.segment('up', PSH, r3.subarray(0, 20)));
  at(0.71, a.segment('up', RST | ACK));
  at(0.8, a.segment('up', PSH, r3.subarray(20)));
  a.restart(50_000, 60_000);
  marks.synAfterRst = frames + 1;
  at(1, a.segment('up', SYN));
  at(1.001, a.segment('down', SYN | ACK));
  at(1.002, a.segment('up', ACK));
  at(1.1, a.segment('up', PSH, r3));
  // Half a message, then a SYN on the same ports while it is open.
  const r4 = registration(4, ['10.16.0.0/16'], '192.0.2.10');
  at(1.2, a.segment('up', PSH, r4.subarray(0, 30)));
  at(1.3, b.segment('up', PSH, registration(2, ['10.22.0.0/16'], '192.0.2.20')));
  a.restart(70_000, 80_000);
  at(2, a.segment('up', SYN));
  at(2.001, a.segment('down', SYN | ACK));
  for (const f of udpFragments.slice(2)) at(20, f);
  // Idle for more than the 600 s timeout: what follows is a new stream, without handshake.
  marks.afterIdle = frames + 1;
  at(700, a.segment('up', PSH, r4.subarray(10)));
  at(700.1, a.segment('up', PSH, r4));
  at(700.2, b.segment('up', PSH, registration(3, ['10.23.0.0/16'], '192.0.2.20')));

  // Capture times going backwards: D's second segment finds C, older by the table's order but
  // later by its clock, first in line.
  const c = new Connection('192.0.2.40', 50004, 100, 200);
  const d = new Connection('192.0.2.50', 50005, 300, 400);
  const split = registration(0, ['10.50.0.0/16'], '192.0.2.50');
  at(800, c.segment('up', PSH, registration(0, ['10.40.0.0/16'], '192.0.2.40')));
  at(790, d.segment('up', PSH, split.subarray(0, 30)));
  marks.backwards = frames + 1;
  at(791, d.segment('up', PSH, split.subarray(30)));
  at(801, c.segment('up', PSH, registration(1, ['10.41.0.0/16'], '192.0.2.40')));
  w.close();
  return { frames, marks };
}

/** One connection of `segments` segments, each message cut in two: the last one depends on every one before it. */
export function writeLongConnection(file: string, segments: number): void {
  const w = new PcapFileWriter(file, { linkType: 101 });
  const a = new Connection('192.0.2.10', 50001, 1000, 900_000);
  const refresh = encodeReliable({ type: 20, messageId: 0, scope: 0, rejectedOnly: false });
  w.write({ tsSec: 1_764_000_000, tsNsec: 0, data: a.segment('down', SYN) });
  for (let i = 0; i < segments; i++) {
    const half = i % 2 === 0 ? refresh.subarray(0, 5) : refresh.subarray(5);
    w.write({ tsSec: 1_764_000_001 + Math.floor(i / 1000), tsNsec: (i % 1000) * 1_000_000, data: a.segment('down', PSH, half) });
  }
  w.close();
}
