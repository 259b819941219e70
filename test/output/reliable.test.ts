// How reliable-transport packets (TCP 4342) print: one line, NDJSON (`transport: "tcp"` and a
// `messages` array), and the -V tree with byte ranges only for what the frame itself carries.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PacketDecoder, type LispPacket } from '../../src/capture/packets.js';
import { readCapture } from '../../src/capture/source.js';
import { encodeTcp, TcpFlag } from '../../src/dissect/tcp.js';
import { keyLookup, loadKeys } from '../../src/cli/common.js';
import { encodeIPv4, IPPROTO_TCP } from '../../src/dissect/ip.js';
import { LINKTYPE_IPV4 } from '../../src/dissect/link.js';
import { encodeReliable } from '../../src/dissect/reliable.js';
import { packetJson } from '../../src/output/json.js';
import { packetLine } from '../../src/output/line.js';
import { packetTree } from '../../src/output/packet-tree.js';
import { PLAIN } from '../../src/output/style.js';
import { renderTree, type TreeNode } from '../../src/output/tree.js';

const PCAPS = join(import.meta.dirname, '../../pcaps');

/** Every packet of pcaps/reliable-tcp.pcap with its line, JSON and tree (built while the frame is valid). */
async function session(keys = false) {
  const out = new Map<number, { p: LispPacket; line: string; json: Record<string, unknown>; tree: TreeNode }>();
  const dec = new PacketDecoder({ keyFor: keys ? keyLookup(loadKeys(join(PCAPS, 'keys'))) : undefined });
  await readCapture(join(PCAPS, 'reliable-tcp.pcap'), {
    frame: (f) => {
      const p = dec.decode(f);
      if (p) out.set(p.frame, { p, line: packetLine(p, { numeric: true, style: PLAIN }), json: packetJson(p), tree: packetTree(p, f.data) });
    },
    warning: () => {},
  });
  return out;
}

const ranges = (n: TreeNode): [number, number][] => [[n.start, n.end], ...(n.children ?? []).flatMap(ranges)];

describe('reliable-transport output', () => {
  it('one line per frame, every message it completes', async () => {
    const s = await session();
    expect([...s.keys()]).toEqual([4, 5, 7, 9, 11]);
    expect(s.get(4)!.line).toMatch(/^10:00:00\.100000 IP 203\.0\.113\.1\.4342 > 192\.0\.2\.10\.50123: LISP Registration Refresh id 0 scope all$/);
    expect(s.get(7)!.line).toMatch(
      /: LISP Registration id 1: Map-Register nonce 0x[0-9a-f]{16} \[xtr-id want-map-notify\], auth sha1, 1 record: \[223\]10\.0\.0\.0\/8 ttl 1440 -> \[192\.0\.2\.10 p1\/w100 LR\] \| Registration id 2: Map-Register .* 2001:db8:1::\/48 /,
    );
    expect(s.get(9)!.line).toContain(
      'LISP Registration ACK id 1 10.1.0.0/16 | Mapping Notification id 2 10.1.0.0/16 ttl 1440 -> [192.0.2.10 p1/w100 R] | Registration ACK id 3 [223]10.0.0.0/8 | Registration Reject id 4 2001:db8:1::/48 not-site-eid-prefix',
    );
    expect(s.get(11)!.line).toContain('LISP Registration Refresh id 5 scope prefix [rejected-only] 2001:db8:1::/48 | Error Notification id 6 code 1, offending Registration id 2 (112 bytes)');
    const keyed = await session(true);
    expect(keyed.get(7)!.line).toMatch(/auth sha1 ok.* \| Registration id 2: .*auth sha1 ok/);
  });

  it('NDJSON: transport "tcp" and the messages, each with its type, message_id and fields', async () => {
    const s = await session(true);
    const f7 = s.get(7)!.json;
    expect(f7).toMatchObject({ frame: 7, src: '192.0.2.10', dst: '203.0.113.1', sport: 50123, dport: 4342, transport: 'tcp' });
    expect(f7.type).toBeUndefined();
    expect(f7.auth_ok).toBeUndefined();
    const [m1, m2] = f7.messages as Record<string, unknown>[];
    expect(m1).toMatchObject({
      type: 'registration',
      message_id: 1,
      length: 112,
      frames: [5, 7, 6],
      auth_ok: true,
      map_register: { type: 'map-register', want_map_notify: true, xtr_id_present: true, key_id: 1, records: [{ eid: '[223]10.0.0.0/8', ttl: 1440 }], site_id: '000000000000000a' },
    });
    expect(m2).toMatchObject({ type: 'registration', message_id: 2, frames: [6], auth_ok: true });
    expect(s.get(5)!.json.messages).toEqual([expect.not.objectContaining({ frames: expect.anything() })]);
    expect(s.get(9)!.json.messages).toEqual([
      { type: 'registration-ack', message_id: 1, eid: '10.1.0.0/16', length: 19 },
      {
        type: 'mapping-notification',
        message_id: 2,
        xtr_id: '4554522d41000000000000000000000' + '1',
        site_id: '000000000000000a',
        records: [
          {
            eid: '10.1.0.0/16',
            ttl: 1440,
            action: 'no-action',
            authoritative: true,
            map_version: 0,
            locators: [{ rloc: '192.0.2.10', priority: 1, weight: 100, mpriority: 255, mweight: 0, local: false, probed: false, reachable: true }],
          },
        ],
        length: 64,
      },
      { type: 'registration-ack', message_id: 3, eid: '[223]10.0.0.0/8', length: 31 },
      { type: 'registration-reject', message_id: 4, reason: 'not-site-eid-prefix', reason_code: 1, eid: '2001:db8:1::/48', length: 34 },
    ]);
    expect(s.get(11)!.json.messages).toEqual([
      { type: 'registration-refresh', message_id: 5, scope: 'prefix', scope_code: 4, rejected_only: true, eid: '2001:db8:1::/48', length: 34 },
      {
        type: 'error-notification',
        message_id: 6,
        error_code: 1,
        offending_type: 17,
        offending_length: 112,
        offending_id: 2,
        offending_data: expect.stringMatching(/^3[0-9a-f]{15}$/),
        length: 32,
      },
    ]);
  });

  it('the -V tree: TCP, then each message; byte ranges only for what this frame carries', async () => {
    const s = await session();
    const t9 = s.get(9)!.tree.children!;
    expect(t9.map((n) => n.label)).toEqual([
      'Frame 9: 202 bytes on wire, 202 bytes captured',
      'Ethernet II',
      'Internet Protocol Version 4, Src: 203.0.113.1, Dst: 192.0.2.10',
      expect.stringMatching(/^Transmission Control Protocol, Src Port: 4342, Dst Port: 50123, Seq: \d+, Ack: \d+, Len: 148$/),
      'Locator/ID Separation Protocol (Reliable Transport), Msg: 1, Registration ACK for 10.1.0.0/16',
      'Locator/ID Separation Protocol (Reliable Transport), Msg: 2, Mapping Notification for 10.1.0.0/16',
      'Locator/ID Separation Protocol (Reliable Transport), Msg: 3, Registration ACK for [223]10.0.0.0/8',
      'Locator/ID Separation Protocol (Reliable Transport), Msg: 4, Registration Reject, Reason: Not a valid site EID prefix for 2001:db8:1::/48',
    ]);
    expect([t9[4]!.start, t9[4]!.end, t9[5]!.start, t9[7]!.end]).toEqual([54, 73, 73, 202]);
    expect(renderTree(t9[4]!)).toEqual([
      'Locator/ID Separation Protocol (Reliable Transport), Msg: 1, Registration ACK for 10.1.0.0/16',
      '    Type: Registration ACK (18)',
      '    Length: 19',
      '    Message ID: 1',
      '    EID Prefix: 10.1.0.0/16',
      '        Prefix Length: 16',
      '        EID Prefix AFI: IPv4 (1)',
      '        EID Prefix: 10.1.0.0',
      '    Message End Marker: 0x9facade9 (correct)',
    ]);
    expect(t9[4]!.children!.at(-1)).toMatchObject({ start: 69, end: 73 });
    const t7 = s.get(7)!.tree.children!;
    const reg1 = t7.find((n) => n.label.includes('Msg: 1'))!;
    expect(reg1.children!.at(-1)!.label).toBe('[Reassembled from frames 5, 7, 6]');
    expect(ranges(reg1).every(([a, b]) => a === 0 && b === 0)).toBe(true);
    expect(renderTree(reg1).join('\n')).toContain('    Locator/ID Separation Protocol (Map-Register)\n        Type: Map-Register (3)');
    const t11 = renderTree(s.get(11)!.tree).join('\n');
    expect(t11).toContain('Scope: A specific EID prefix in a single EID instance (4)');
    expect(t11).toContain('R (rejected only): Set');
    expect(t11).toContain('Offending Message Type: Registration (17)');
  });

  it('a broken message: flagged on the line, in JSON and in the tree under its message', () => {
    const bad = encodeReliable({ type: 18, messageId: 7, eidMaskLen: 8, eid: { kind: 'ipv4', afi: 1, addr: '10.0.0.0' } });
    bad[bad.length - 1] = 0;
    const dec = new PacketDecoder({});
    let index = 0;
    const frame = (flags: number, seq: number, payload: Uint8Array) => {
      const ip = encodeIPv4({ src: '203.0.113.1', dst: '192.0.2.10', proto: IPPROTO_TCP }, encodeTcp({ sport: 4342, dport: 40000, seq, flags }, payload));
      return { index: ++index, tsSec: 0, tsNsec: 0, linkType: LINKTYPE_IPV4, len: ip.length, data: ip, interfaceId: 0 };
    };
    dec.decode(frame(TcpFlag.SYN, 0, new Uint8Array(0)));
    const f = frame(TcpFlag.ACK, 1, bad);
    const p = dec.decode(f)!;
    expect(p.notes).toEqual([{ offset: 15, message: 'Registration ACK 7: Registration ACK: End Marker 0x9facad00 is not 0x9facade9', level: 'error' }]);
    expect(packetLine(p, { style: PLAIN, numeric: true })).toMatch(/Registration ACK id 7 10\.0\.0\.0\/8 \[malformed: Registration ACK 7: .* at byte 15\]$/);
    expect(packetJson(p)).toMatchObject({
      messages: [{ type: 'registration-ack', end_marker: '9facad00' }],
      malformed: ['Registration ACK 7: Registration ACK: End Marker 0x9facad00 is not 0x9facade9 (at byte 15)'],
    });
    // The note hangs under the field it is about, as tshark's expert info.
    const marker = packetTree(p, f.data).children!.at(-1)!.children!.at(-1)!;
    expect(marker.label).toBe('Message End Marker: 0x9facad00 (wrong)');
    expect(marker.children).toEqual([
      { label: '[Expert Info (Error/Malformed): Registration ACK: End Marker 0x9facad00 is not 0x9facade9 (message byte 15)]', start: 40 + 15, end: 40 + 16 },
    ]);
  });
});
