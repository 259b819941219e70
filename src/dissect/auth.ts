// Message authentication for Map-Register, Map-Notify(-Ack) and Info (RFC 9301 §5.6, RFC 6830
// §6.1.6): HMAC over the whole LISP message with the Authentication Data zeroed. Real
// implementations carry the full MAC (20 bytes for SHA-1, 32 for SHA-256); we compare as many
// bytes as the Authentication Data Length says.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { copyBytes } from './addr.js';
import { AUTH_ALGORITHMS } from './registry.js';

/** Where the Authentication Data starts in every authenticated message: type word, nonce, key id, length. */
export const AUTH_DATA_OFFSET = 16;

export type AuthResult =
  | { ok: true; algorithm: string }
  | { ok: false; algorithm: string; reason: string };

/** The algorithm is the low byte of the 16-bit Key ID field (see registry). */
export function authAlgorithm(keyId: number) {
  return AUTH_ALGORITHMS.get(keyId & 0xff);
}

function mac(message: Uint8Array, authLen: number, keyId: number, key: string | Uint8Array): Uint8Array | undefined {
  const alg = authAlgorithm(keyId);
  if (!alg?.hash) return undefined;
  const copy = copyBytes(message);
  copy.fill(0, AUTH_DATA_OFFSET, AUTH_DATA_OFFSET + authLen);
  return createHmac(alg.hash, key).update(copy).digest();
}

/**
 * Verifies the message bytes (the UDP payload) against a key. Constant-time compare over the
 * transmitted length, which must be 12..macLength for SHA-1 (16..macLength for SHA-256).
 */
export function verifyAuth(message: Uint8Array, key: string | Uint8Array): AuthResult {
  if (message.length < AUTH_DATA_OFFSET) return { ok: false, algorithm: 'unknown', reason: 'message too short' };
  const keyId = (message[12]! << 8) | message[13]!;
  const authLen = (message[14]! << 8) | message[15]!;
  const alg = authAlgorithm(keyId);
  if (!alg) return { ok: false, algorithm: `algorithm-${keyId & 0xff}`, reason: `unknown algorithm ${keyId & 0xff}` };
  if (!alg.hash) return { ok: false, algorithm: alg.name, reason: 'message is not authenticated (algorithm 0)' };
  if (AUTH_DATA_OFFSET + authLen > message.length) {
    return { ok: false, algorithm: alg.name, reason: `Authentication Data Length ${authLen} exceeds the message` };
  }
  if (authLen < alg.truncatedLength || authLen > alg.macLength) {
    return { ok: false, algorithm: alg.name, reason: `Authentication Data Length ${authLen} does not fit ${alg.name}` };
  }
  const expected = mac(message, authLen, keyId, key)!.subarray(0, authLen);
  const got = message.subarray(AUTH_DATA_OFFSET, AUTH_DATA_OFFSET + authLen);
  return timingSafeEqual(expected, got)
    ? { ok: true, algorithm: alg.name }
    : { ok: false, algorithm: alg.name, reason: 'authentication data does not match the key' };
}

/**
 * Signs an encoded message in place: the Authentication Data field (already sized by its
 * length field) receives the first authLen bytes of the HMAC.
 */
export function signMessage(message: Uint8Array, key: string | Uint8Array): Uint8Array {
  const keyId = (message[12]! << 8) | message[13]!;
  const authLen = (message[14]! << 8) | message[15]!;
  const m = mac(message, authLen, keyId, key);
  if (!m) throw new RangeError(`cannot sign with algorithm ${keyId & 0xff}`);
  if (authLen > m.length) throw new RangeError(`Authentication Data Length ${authLen} exceeds the ${m.length}-byte MAC`);
  message.set(m.subarray(0, authLen), AUTH_DATA_OFFSET);
  return message;
}

/** Authentication Data of the right size, zeroed, for an algorithm: what an encoder reserves before signing. */
export function blankAuthData(keyId: number): Uint8Array {
  return new Uint8Array(authAlgorithm(keyId)?.macLength ?? 0);
}
