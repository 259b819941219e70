// Who is who, learned from the control messages themselves: the Mobile Node (a Map-Register with
// the mobile-node bit), Map-Servers (where Map-Registers go), Map-Resolvers (where ITRs send
// their ECM'd Map-Requests), RTRs (Data-Map-Registers) and xTRs. The ladder names its lanes with
// these; what a role means in one exchange (ITR, ETR, the peer of an SMR) is decided there.

import type { Mapping } from '../flows/types.js';
import { addressBits } from '../dissect/address.js';
import type { LispAddress } from '../dissect/types.js';
import type { ControlView } from '../flows/view.js';
import { MessageType } from '../dissect/registry.js';

export type Role = 'MN' | 'MS' | 'MR' | 'RTR' | 'xTR';
export type Roles = Map<string, Set<Role>>;

const MAX_ADDRESSES = 10_000;
const ORDER: Role[] = ['MN', 'xTR', 'RTR', 'MS', 'MR'];

function add(roles: Roles, addr: string, role: Role): void {
  let s = roles.get(addr);
  if (!s) {
    if (roles.size >= MAX_ADDRESSES) return;
    s = new Set();
    roles.set(addr, s);
  }
  // An address seen as the Mobile Node is not also called an xTR.
  if (role === 'xTR' && s.has('MN')) return;
  if (role === 'MN') s.delete('xTR');
  s.add(role);
}

/** What one control message says of its sender and receiver (its view: decoded or scanned, flows/view.ts). */
export function learnRoles(roles: Roles, v: ControlView): void {
  if ('unknown' in v.m) return;
  switch (v.m.type) {
    case MessageType.MapRegister:
      if (v.ecm) {
        // A Data-Map-Register: an ECM to an RTR, which relays the Map-Register.
        add(roles, v.dst, 'RTR');
        if (v.m.mobileNode) add(roles, v.ecm.innerSrc, 'MN');
      } else {
        add(roles, v.dst, 'MS');
        if (v.m.builtForRtr) add(roles, v.src, 'RTR');
        else add(roles, v.src, v.m.mobileNode || registersOneHost(v.m.records) ? 'MN' : 'xTR');
      }
      break;
    case MessageType.MapRequest:
      // The ITR's own ECM (its inner source is its outer source) goes to its Map-Resolver; a
      // Map-Resolver forwarding it to a Map-Server or an ETR sends it from elsewhere.
      if (v.ecm && v.ecm.innerSrc === v.src && !v.ecm.toEtr && !v.ecm.toMs && !v.m.smr) add(roles, v.dst, 'MR');
      break;
  }
}

/**
 * A Mobile Node registers its own EID, a host route (/32, /128), and nothing else; an xTR registers
 * its site's prefixes. Open Overlay Router's Mobile Node does not set the mobile-node bit, and a
 * Map-Server's capture shows nothing of it but its registrations.
 */
function registersOneHost(records: readonly { eid: LispAddress; eidMaskLen: number }[]): boolean {
  if (records.length !== 1) return false;
  const r = records[0]!;
  return r.eidMaskLen === addressBits(r.eid) && r.eidMaskLen >= 32;
}

/**
 * Roles from the analysis: whoever registered an EID that was handed over is a Mobile Node (also
 * when its Map-Registers do not set the mobile-node bit).
 */
export function withMobileNodes(roles: Roles, mappings: readonly Mapping[]): Roles {
  const out: Roles = new Map(roles);
  for (const m of mappings) {
    if (!m.handovers.length) continue;
    for (const t of m.timeline) {
      if (t.source !== 'map-register' || out.get(t.by)?.has('RTR')) continue;
      const s = new Set(out.get(t.by) ?? []);
      s.delete('xTR');
      s.add('MN');
      out.set(t.by, s);
    }
  }
  return out;
}

/** The lane label of an address: its learned roles ("MS/MR"), or undefined. */
export function roleLabel(roles: Roles, addr: string): string | undefined {
  const s = roles.get(addr);
  if (!s || s.size === 0) return undefined;
  return ORDER.filter((r) => s.has(r)).join('/');
}
