// The malformed-input suite: one frame per kind of damage in pcaps/malformed.pcap. Each is
// reported as malformed, says what and at which byte, and what comes before the damage is decoded.

import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LispPacket } from '../src/capture/packets.js';
import { prefixText } from '../src/dissect/address.js';
import { packetTree } from '../src/output/packet-tree.js';
import { ourPackets } from './support/tshark.js';

let packets: LispPacket[] = [];
beforeAll(async () => {
  const m = await ourPackets(join(import.meta.dirname, '../pcaps/malformed.pcap'), (p) => p);
  packets = [...m.values()];
});

const notes = (i: number) => packets[i]!.notes.map((n) => `${n.message} @${n.offset}`);
const control = (i: number) => packets[i]!.control as unknown as Record<string, unknown> & { type: number };

describe('malformed input is explained, not guessed', () => {
  it('has one frame per case', () => expect(packets).toHaveLength(11));

  it('a Record Count larger than the data: the records that fit are decoded', () => {
    expect(notes(0)).toEqual(['truncated Map-Register record 2 of 3 header: needs 12 bytes, 0 left @64']);
    const m = control(0) as unknown as { records: { eid: never; eidMaskLen: number }[] };
    expect(m.records.map((r) => prefixText(r.eid, r.eidMaskLen))).toEqual(['10.1.0.0/24']);
    // -V shows the wire's count, and how many were decoded; the error hangs under the LISP message.
    const lisp = packetTree(packets[0]!, new Uint8Array(0)).children!.find((n) => n.label.startsWith('Locator/ID'))!;
    expect(lisp.children!.map((n) => n.label)).toContain('Record Count: 3 (1 decoded)');
    expect(lisp.children!.at(-1)!.label).toBe(
      '[Expert Info (Error/Malformed): truncated Map-Register record 2 of 3 header: needs 12 bytes, 0 left (LISP byte 64)]',
    );
  });

  it('a Locator Count larger than the data: the locators that fit are decoded', () => {
    expect(notes(1)).toEqual(['truncated Map-Reply record 1 of 1 locator 3 of 5 header: needs 6 bytes, 0 left @52']);
    expect((control(1) as unknown as { records: { locators: unknown[] }[] }).records[0]!.locators).toHaveLength(2);
    expect((control(1) as unknown as { records: { declaredLocatorCount: number }[] }).records[0]!.declaredLocatorCount).toBe(5);
  });

  it('an LCAF Length longer than its body: the body decodes, the rest is kept and noted', () => {
    expect(notes(2)).toEqual(['EID record 1 of 1 EID LCAF instance-id: 6 bytes inside Length not used by the body @40']);
    expect(control(2).eids).toEqual([expect.objectContaining({ maskLen: 16 })]);
  });

  it('an LCAF Length shorter than its body: the address it cuts is reported, nothing is misread', () => {
    expect(notes(3)).toEqual(['truncated EID record 1 of 1 EID LCAF instance-id address IPv4 address: needs 4 bytes, 1 left @36']);
  });

  it('an Authentication Data Length that does not fit the key id', () => {
    expect(notes(4)).toEqual(['Map-Register Authentication Data Length 16 does not fit HMAC-SHA-1-96 (12 or 20 bytes) @14']);
    expect((control(4) as unknown as { records: unknown[] }).records).toHaveLength(1);
  });

  it('an unknown message type is kept raw', () => {
    expect(notes(5)).toEqual(['unknown LISP control message type 11 @0']);
    expect(control(5)).toMatchObject({ type: 11, unknown: true });
  });

  it('an unknown AFI stops the structure, the header before it is decoded', () => {
    expect(notes(6)).toEqual(['Map-Register record 1 of 1 EID: unknown AFI 4660, cannot tell its length; 16 bytes left undecoded @46']);
    expect(control(6)).toMatchObject({ type: 3, wantMapNotify: true, keyId: 0, algorithmId: 1 });
  });

  it('ECMs nested beyond the limit are decoded to the limit', () => {
    expect(notes(7)).toEqual(['ECM nested deeper than 4 levels: inner ECM not decoded @128']);
  });

  it('an empty UDP payload on 4342 and a UDP Length of 0', () => {
    expect(notes(8)).toEqual(['empty LISP control message @0']);
    // A zero UDP Length decodes (jumbograms, offload): a warning, not damage.
    expect(packets[9]!.frameNotes).toEqual([{ level: 'warning', message: 'UDP Length 0 at byte offset 38; using the IP payload length' }]);
    expect(control(9)).toMatchObject({ type: 1, eids: [expect.objectContaining({ maskLen: 32 })] });
  });

  it('a message cut inside an ITR-RLOC', () => {
    expect(notes(9 + 1)).toEqual(['truncated ITR-RLOC 2 of 2 IPv6 address: needs 16 bytes, 8 left @22']);
    expect(control(10).itrRlocs).toEqual([{ kind: 'ipv4', afi: 1, addr: '192.0.2.10' }]);
  });
});
