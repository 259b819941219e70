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

export function authAlgorithm(algorithmId: number) {
  return AUTH_ALGORITHMS.get(algorithmId);
}

/** The 16-bit Key ID field as RFC 6830 wrote it and tshark shows it (lisp.keyid): Key ID × 256 + Algorithm ID. */
export function keyIdField(a: { keyId: number; algorithmId: number }): number {
  return (a.keyId << 8) | a.algorithmId;
}

/** RFC 9301's Key ID and Algorithm ID in a 16-bit Key ID field as RFC 6830 wrote it. */
export function splitKeyIdField(field: number): { keyId: number; algorithmId: number } {
  return { keyId: (field >> 8) & 0xff, algorithmId: field & 0xff };
}

/** The full HMAC of `data` by the algorithm `algorithmId` names; undefined for algorithm 0 or unknown ones. */
export function computeMac(algorithmId: number, key: string | Uint8Array, data: Uint8Array): Uint8Array | undefined {
  const alg = authAlgorithm(algorithmId);
  return alg?.hash ? createHmac(alg.hash, key).update(data).digest() : undefined;
}

/** Compares the received MAC with the HMAC of `data` by the algorithm `algorithmId` names, over its length. */
function compareMac(algorithmId: number, got: Uint8Array, key: string | Uint8Array, data: Uint8Array): AuthResult {
  const alg = authAlgorithm(algorithmId);
  if (!alg) return { ok: false, algorithm: `algorithm-${algorithmId}`, reason: `unknown algorithm ${algorithmId}` };
  if (!alg.hash) return { ok: false, algorithm: alg.name, reason: 'message is not authenticated (algorithm 0)' };
  if (got.length < alg.truncatedLength || got.length > alg.macLength) {
    return { ok: false, algorithm: alg.name, reason: `Authentication Data Length ${got.length} does not fit ${alg.name}` };
  }
  const expected = createHmac(alg.hash, key).update(data).digest().subarray(0, got.length);
  return timingSafeEqual(expected, got)
    ? { ok: true, algorithm: alg.name }
    : { ok: false, algorithm: alg.name, reason: 'authentication data does not match the key' };
}

/**
 * Verifies an authentication block whose Key ID sits at `at` in `message`: HMAC over the whole of
 * `message` with the block's Authentication Data zeroed.
 */
export function verifyAuthAt(message: Uint8Array, at: number, key: string | Uint8Array): AuthResult {
  if (message.length < at + 4) return { ok: false, algorithm: 'unknown', reason: 'message too short' };
  const algorithmId = message[at + 1]!;
  const authLen = (message[at + 2]! << 8) | message[at + 3]!;
  if (at + 4 + authLen > message.length) {
    return { ok: false, algorithm: authAlgorithm(algorithmId)?.name ?? 'unknown', reason: `Authentication Data Length ${authLen} exceeds the message` };
  }
  const copy = copyBytes(message);
  copy.fill(0, at + 4, at + 4 + authLen);
  return compareMac(algorithmId, message.subarray(at + 4, at + 4 + authLen), key, copy);
}

/**
 * Verifies the message bytes (the UDP payload) against a key. Constant-time compare over the
 * transmitted length, which must be 12..macLength for SHA-1 (16..macLength for SHA-256). `end`:
 * where the authenticated part ends (before a Map-Notify's MS-RTR block, which the Map-Server
 * appends after signing the rest).
 */
export function verifyAuth(message: Uint8Array, key: string | Uint8Array, end = message.length): AuthResult {
  if (message.length < AUTH_DATA_OFFSET) return { ok: false, algorithm: 'unknown', reason: 'message too short' };
  return verifyAuthAt(message.subarray(0, end), AUTH_DATA_OFFSET - 4, key);
}

/** Verifies a MAC sent beside the data it covers (Open Overlay Router's MS-RTR authentication of an ECM). */
export function verifyMac(data: Uint8Array, algorithmId: number, mac: Uint8Array, key: string | Uint8Array): AuthResult {
  return compareMac(algorithmId, mac, key, data);
}

/**
 * Signs the authentication block whose Key ID sits at `at`, in place: its Authentication Data
 * (already sized by its length field) receives the first authLen bytes of the HMAC of
 * message[0, end) with that field zeroed.
 */
export function signAuthAt(message: Uint8Array, at: number, key: string | Uint8Array, end = message.length): Uint8Array {
  const algorithmId = message[at + 1]!;
  const authLen = (message[at + 2]! << 8) | message[at + 3]!;
  const copy = copyBytes(message, 0, end);
  copy.fill(0, at + 4, at + 4 + authLen);
  const m = computeMac(algorithmId, key, copy);
  if (!m) throw new RangeError(`cannot sign with algorithm ${algorithmId}`);
  if (authLen > m.length) throw new RangeError(`Authentication Data Length ${authLen} exceeds the ${m.length}-byte MAC`);
  message.set(m.subarray(0, authLen), at + 4);
  return message;
}

/**
 * Signs an encoded message in place: the Authentication Data field (already sized by its
 * length field) receives the first authLen bytes of the HMAC over message[0, end).
 */
export function signMessage(message: Uint8Array, key: string | Uint8Array, end = message.length): Uint8Array {
  return signAuthAt(message, AUTH_DATA_OFFSET - 4, key, end);
}

/** Authentication Data of the right size, zeroed, for an algorithm: what an encoder reserves before signing. */
export function blankAuthData(algorithmId: number): Uint8Array {
  return new Uint8Array(authAlgorithm(algorithmId)?.macLength ?? 0);
}
