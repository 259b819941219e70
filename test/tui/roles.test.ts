// Who is who on the ladder, from the control messages alone.

import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import { lispUdpPacket, mappingRecord, mapRegister } from '../../src/dissect/build.js';
import { learnRoles, roleLabel, type Roles } from '../../src/tui/roles.js';

function registration(src: string, eids: string[], mobileNode = false): Roles {
  const roles: Roles = new Map();
  const payload = mapRegister({ nonce: 1n, records: eids.map((eid) => mappingRecord({ eid, locators: [{ rloc: src }] })), wantMapNotify: true, mobileNode, keyId: 1, key: 'k' });
  const data = lispUdpPacket({ src, dst: '10.10.1.2', sport: 4342, dport: 4342, payload });
  const p = new PacketDecoder({}).decode({ index: 1, tsSec: 1, tsNsec: 0, linkType: 101, len: data.length, data, interfaceId: 0 })!;
  learnRoles(roles, p);
  return roles;
}

describe('roles', () => {
  it('a node registering one host EID is a Mobile Node, even without the mobile-node bit (Open Overlay Router)', () => {
    expect(roleLabel(registration('10.10.4.2', ['3.0.0.3/32']), '10.10.4.2')).toBe('MN');
    expect(roleLabel(registration('10.10.4.2', ['2001:db8::3/128']), '10.10.4.2')).toBe('MN');
    expect(roleLabel(registration('10.10.4.2', ['3.0.0.3/32']), '10.10.1.2')).toBe('MS');
  });

  it('a node registering a site prefix, or several EIDs, is an xTR', () => {
    expect(roleLabel(registration('10.10.2.2', ['4.0.0.0/24']), '10.10.2.2')).toBe('xTR');
    expect(roleLabel(registration('10.10.2.2', ['4.0.0.4/32', '4.0.0.5/32']), '10.10.2.2')).toBe('xTR');
    expect(roleLabel(registration('10.10.2.2', ['4.0.0.0/24'], true), '10.10.2.2')).toBe('MN');
  });
});
