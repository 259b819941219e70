import { describe, expect, it } from 'vitest';
import { AUTHENTICATED_TYPE_NAMES, isAnswerType, isAuthenticatedType, MessageType } from '../../src/dissect/registry.js';

// RFC 9301 §5.6-5.8: Map-Register, Map-Notify and Map-Notify-Ack carry Key ID and Authentication
// Data; the NAT-traversal draft gives Info-Request and Info-Reply the same fields. Map-Request,
// Map-Reply, Map-Referral and the ECM do not.
describe('message type registry', () => {
  it('knows which messages are authenticated', () => {
    const authenticated = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15].filter(isAuthenticatedType);
    expect(authenticated).toEqual([MessageType.MapRegister, MessageType.MapNotify, MessageType.MapNotifyAck, MessageType.Info]);
    expect([...AUTHENTICATED_TYPE_NAMES].sort()).toEqual(['info-reply', 'info-request', 'map-notify', 'map-notify-ack', 'map-register']);
  });

  it('knows which messages answer another', () => {
    // Map-Reply answers a Map-Request, Map-Notify a Map-Register, Map-Notify-Ack a Map-Notify,
    // Map-Referral a DDT Map-Request, Info-Reply (R set) an Info-Request.
    const answers = [0, 1, 2, 3, 4, 5, 6, 7, 8, 15].filter((t) => isAnswerType(t));
    expect(answers).toEqual([MessageType.MapReply, MessageType.MapNotify, MessageType.MapNotifyAck, MessageType.MapReferral]);
    expect(isAnswerType(MessageType.Info, true)).toBe(true);
    expect(isAnswerType(MessageType.Info, false)).toBe(false);
  });
});
