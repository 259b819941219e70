import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/flows/types.js';
import { exchangeJson } from '../../src/output/json-flows.js';
import { exchangeLineBytes, writeExchangeJson } from '../../src/output/json-exchange-fast.js';
import { OutBuffer } from '../../src/output/out-buffer.js';

/** What writeExchangeJson writes, as text (lines longer than the buffer take the slow path). */
function written(e: Exchange, multi: boolean, size = 1 << 16): string {
  const chunks: Buffer[] = [];
  const out = new OutBuffer((b) => {
    chunks.push(Buffer.from(b));
    return true;
  }, size);
  writeExchangeJson(out, e, multi);
  out.flush();
  return Buffer.concat(chunks).toString('utf8');
}

// Any text, quotes, backslashes, control characters, non-ASCII and lone surrogates included.
// Text that needs no escaping (addresses, prefixes, slugs), which the fast path writes itself.
const plainText = fc.string({ unit: fc.constantFrom('1', '0', '.', ':', '/', '[', ']', 'a', 'f', '-', ' ', '~') });
const text = fc.oneof(plainText, fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0001', '\u007f', 'é', '\ud800', 'a') }));
// Times and milliseconds as the engine rounds them (microseconds), across the range where doubles
// lie closer than a microsecond and beyond it.
const rounded = fc.tuple(fc.integer({ min: -1e6, max: 2 ** 53 }), fc.constantFrom(1e3, 1e6)).map(([k, d]) => Math.round((k / d) * 1e6) / 1e6);
const num = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.integer({ min: 0, max: 2 ** 53 }),
  rounded,
  fc.integer({ min: 0, max: 2 ** 34 * 1e6 }).map((k) => k / 1e6),
  fc.constantFrom(0, -0, 2 ** 31, 2 ** 31 - 1, 1764000000.000037, 1e-6, 0.000001, 2 ** 33 - 1e-6, 2 ** 33, 8589934591.999999, 4294967296.000001),
);
const frame = fc.record({ frame: fc.nat(), file: fc.nat({ max: 9 }) });

function exchangeOf(text: fc.Arbitrary<string>): fc.Arbitrary<Exchange> {
  return fc.record(
  {
    kind: fc.constantFrom('registration', 'resolution', 'smr', 'rloc-probe', 'nat-info', 'referral', 'subscription', 'publication'),
    eid: text,
    nonce: text,
    frames: fc.array(frame, { maxLength: 20 }),
    start: num,
    requester: text,
    responder: text,
    rttMs: fc.option(num, { nil: null }),
    timeToAnswerMs: fc.option(num, { nil: null }),
    retransmissions: fc.nat(),
    outcome: fc.constantFrom('answered', 'negative', 'unanswered', 'auth-failed', 'unacknowledged', 'rejected', 'forwarded', 'unreachable', 'reply-only'),
    rlocs: fc.array(text, { maxLength: 4 }),
    via: text,
    notes: fc.array(fc.record({ level: fc.constantFrom('error', 'warning', 'note'), text }), { maxLength: 3 }),
    icmp: fc.record({ type: fc.nat(255), code: fc.nat(255), name: text, from: text, mtu: fc.nat(65535) }, { requiredKeys: ['type', 'code', 'name', 'from'] }),
    smrInvoked: fc.boolean(),
    keyId: fc.nat(65535),
    withdraw: fc.boolean(),
    subscriptionNonce: text,
    lispSec: fc.constantFrom('requested', 'protected', 'unprotected'),
    site: text,
    wantMapNotify: fc.boolean(),
    intervalMs: num,
    requestSeen: fc.boolean(),
    invokedNonce: text,
    invokedMs: num,
    probedRloc: text,
    nat: fc.record(
      { globalEtrRloc: text, etrUdpPort: fc.nat(65535), msUdpPort: fc.nat(65535), msRloc: text, privateEtrRloc: text, rtrRlocs: fc.array(text, { maxLength: 3 }) },
      { requiredKeys: ['etrUdpPort', 'msUdpPort', 'rtrRlocs'] },
    ),
    referralAction: text,
    action: text,
    authError: text,
    transport: fc.constant('tcp' as const),
    messageId: fc.nat(),
    rejectReason: text,
  },
  { requiredKeys: ['kind', 'eid', 'nonce', 'frames', 'start', 'requester', 'rttMs', 'timeToAnswerMs', 'retransmissions', 'outcome'] },
  ) as fc.Arbitrary<Exchange>;
}
const exchange = exchangeOf(text);

describe('writeExchangeJson', () => {
  it('writes times and milliseconds as String does, digit by digit', () => {
    const base = { kind: 'resolution', eid: 'e', nonce: 'n', requester: 'r', retransmissions: 0, outcome: 'answered' } as const;
    fc.assert(
      fc.property(num, fc.option(num, { nil: null }), (start, rtt) => {
        const e: Exchange = { ...base, frames: [], start, rttMs: rtt, timeToAnswerMs: rtt, intervalMs: start };
        expect(written(e, false)).toBe(JSON.stringify(exchangeJson(e, false)) + '\n');
      }),
      { numRuns: 3000 },
    );
  });

  it('writes what JSON.stringify writes of exchangeJson, for any exchange, one capture or several', () => {
    fc.assert(
      fc.property(exchange, fc.boolean(), (e, multi) => {
        expect(written(e, multi)).toBe(JSON.stringify(exchangeJson(e, multi)) + '\n');
      }),
      { numRuns: 2000 },
    );
  });

  it('writes every field itself when no string needs escaping', () => {
    fc.assert(
      fc.property(exchangeOf(plainText), fc.boolean(), (e, multi) => {
        const bytes = exchangeLineBytes(e, multi);
        expect(bytes).toBeDefined();
        expect(Buffer.from(bytes!).toString('latin1')).toBe(JSON.stringify(exchangeJson(e, multi)) + '\n');
      }),
      { numRuns: 1000 },
    );
  });

  it('leaves a string that needs escaping to JSON.stringify', () => {
    const e: Exchange = { kind: 'resolution', eid: 'a"b', nonce: '0000000000000001', frames: [], start: 0, requester: 'x', rttMs: null, timeToAnswerMs: null, retransmissions: 0, outcome: 'unanswered' };
    expect(exchangeLineBytes(e)).toBeUndefined();
    expect(written(e, false)).toBe(JSON.stringify(exchangeJson(e)) + '\n');
  });

  it('writes a line longer than the buffer whole', () => {
    const e: Exchange = { kind: 'resolution', eid: 'x'.repeat(300), nonce: '0000000000000001', frames: [{ frame: 1, file: 0 }], start: 1.5, requester: '192.0.2.1', rttMs: null, timeToAnswerMs: null, retransmissions: 0, outcome: 'unanswered', notes: [{ level: 'note', text: '"é"\n'.repeat(100) }] };
    expect(written(e, false, 128)).toBe(JSON.stringify(exchangeJson(e)) + '\n');
  });

  it('leaves out a field whose value is undefined, as JSON.stringify does', () => {
    const e: Exchange = { kind: 'registration', eid: '10.0.0.0/8', nonce: '0000000000000001', frames: [], start: 0, requester: 'a', rttMs: 1, timeToAnswerMs: 2, retransmissions: 0, outcome: 'auth-failed', authError: undefined, responder: undefined };
    expect(written(e, true)).toBe(JSON.stringify(exchangeJson(e, true)) + '\n');
  });
});
