// Which key verifies a packet's authentication: the key file's entry for the EIDs the message
// speaks for or the addresses it travels between (--keys).

import { parsePrefix, type Prefix } from '../dissect/address.js';
import type { KeyRing } from '../dissect/keyring.js';
import { MessageType } from '../dissect/registry.js';
import type { ControlMessage } from '../dissect/types.js';
import type { LispPacket } from './packets.js';

/** The EIDs an authenticated message speaks for, to pick its key. */
export function messageEids(m: ControlMessage): Prefix[] {
  if ('unknown' in m) return [];
  if (m.type === MessageType.MapRegister || m.type === MessageType.MapNotify || m.type === MessageType.MapNotifyAck) return m.records.map((r) => ({ address: r.eid, maskLen: r.eidMaskLen }));
  if (m.type === MessageType.Info) return [{ address: m.eid, maskLen: m.eidMaskLen }];
  if (m.type === MessageType.ECM && m.inner?.message) return messageEids(m.inner.message);
  return [];
}

export function keyLookup(ring: KeyRing) {
  return (p: LispPacket, m: ControlMessage, role?: 'ms-rtr'): string | undefined => {
    const asPrefix = (a: string | undefined) => (a ? [parsePrefix(a)!] : []);
    // The Map-Server's authentication towards an RTR goes by the RTR's address (the packet's
    // destination: the Map-Server sends it), whatever EIDs the message carries.
    if (role === 'ms-rtr') return ring.lookup([], asPrefix(p.ip?.dst));
    return ring.lookup(messageEids(m), [...asPrefix(p.ip?.src), ...asPrefix(p.ip?.dst)]);
  };
}
