// Who is who on the ladder, from the control messages alone.

import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import { plainControl, scanPlainControl } from '../../src/capture/plain-control.js';
import type { Frame } from '../../src/capture/types.js';
import { ecm, lispUdpPacket, mappingRecord, mapRegister, mapRequest } from '../../src/dissect/build.js';
import { plainControlView } from '../../src/flows/plain-control-view.js';
import { controlView } from '../../src/flows/view.js';
import { learnRoles, roleLabel, type Roles } from '../../src/tui/roles.js';

/**
 * The roles one packet teaches, learned from its decoded view and from its scanned one (the TUI's
 * analysis sees common messages only scanned): both must agree.
 */
function learned(src: string, dst: string, payload: Parameters<typeof lispUdpPacket>[0]['payload']): Roles {
  const data = lispUdpPacket({ src, dst, sport: 4342, dport: 4342, payload });
  const f: Frame = { index: 1, tsSec: 1, tsNsec: 0, linkType: 101, len: data.length, data, interfaceId: 0 };
  const decoded: Roles = new Map();
  learnRoles(decoded, controlView(new PacketDecoder({}).decode(f)!)!);
  const c = plainControl();
  expect(scanPlainControl(f, c)).toBe(true);
  const scanned: Roles = new Map();
  learnRoles(scanned, plainControlView(f, c));
  expect(scanned).toEqual(decoded);
  return decoded;
}

function registration(src: string, eids: string[], mobileNode = false): Roles {
  const payload = mapRegister({ nonce: 1n, records: eids.map((eid) => mappingRecord({ eid, locators: [{ rloc: src }] })), wantMapNotify: true, mobileNode, keyId: 1, key: 'k' });
  return learned(src, '10.10.1.2', payload);
}

/** An ITR's Map-Request in an ECM from `src` to `dst`, with the ECM's inner source `innerSrc`. */
function ecmRequest(src: string, dst: string, innerSrc: string, flags: { toMs?: boolean; toEtr?: boolean; smr?: boolean } = {}): Roles {
  const message = mapRequest({ nonce: 2n, itrRlocs: [innerSrc], eids: ['4.0.0.4/32'], ...(flags.smr ? { smr: true } : {}) });
  const payload = ecm({ message, inner: { src: innerSrc, dst: '4.0.0.4', sport: 4342 }, ...(flags.toMs ? { toMs: true } : {}), ...(flags.toEtr ? { toEtr: true } : {}) });
  return learned(src, dst, payload);
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

  it("an ITR's own ECM'd Map-Request names its Map-Resolver; one sent on to a Map-Server or an ETR does not", () => {
    expect(roleLabel(ecmRequest('10.10.2.2', '10.10.9.9', '10.10.2.2'), '10.10.9.9')).toBe('MR');
    expect(roleLabel(ecmRequest('10.10.9.9', '10.10.1.2', '10.10.2.2'), '10.10.1.2')).toBeUndefined();
    expect(roleLabel(ecmRequest('10.10.2.2', '10.10.1.2', '10.10.2.2', { toMs: true }), '10.10.1.2')).toBeUndefined();
    expect(roleLabel(ecmRequest('10.10.2.2', '10.10.3.2', '10.10.2.2', { toEtr: true }), '10.10.3.2')).toBeUndefined();
    expect(roleLabel(ecmRequest('10.10.2.2', '10.10.9.9', '10.10.2.2', { smr: true }), '10.10.9.9')).toBeUndefined();
  });
});
