// What a control message is called, from the registry's titles: one type plays several roles (a
// Map-Request is also an SMR or an RLOC-probe, Info a request or a reply), named as RFC 9301 and
// the NAT-traversal draft name them.

import { MESSAGE_TYPES, MessageType } from './registry.js';
import type { ControlMessage } from './types.js';

/** The message's name (an ECM's alone, without what it carries). */
export function messageName(m: ControlMessage): string {
  if ('unknown' in m) return `control message type ${m.type}`;
  switch (m.type) {
    case MessageType.MapRequest:
      return m.smr ? 'SMR' : m.probe ? 'RLOC-probe' : typeName(m.type);
    case MessageType.Info:
      return infoName(m.reply);
    default:
      return typeName(m.type);
  }
}

/** A message type's name: the short one tools use, else the RFC's title. */
export function typeName(type: number): string {
  const t = MESSAGE_TYPES.get(type);
  return t?.short ?? t?.title ?? `control message type ${type}`;
}

/** Info (type 7) by its R bit, as the NAT-traversal draft names the two. */
export function infoName(reply: boolean): string {
  return reply ? 'Info-Reply' : 'Info-Request';
}
