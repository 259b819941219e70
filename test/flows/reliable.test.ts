// Registrations over the Map-Server reliable transport (draft-ietf-lisp-map-server-reliable-
// transport, TCP 4342) as registration exchanges: a Registration answered by a Registration ACK or
// Reject for its EID prefix on the same connection, or by nothing; the Map-Register it carries on
// the mapping timeline; counted per site; bounded like every other exchange.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePrefix } from '../../src/dissect/address.js';
import { mapNotify, mappingRecord, mapRegister } from '../../src/dissect/build.js';
import { decodeControl } from '../../src/dissect/control.js';
import type { ReliableMessage } from '../../src/dissect/reliable.js';
import { FlowEngine } from '../../src/flows/engine.js';
import { mergeCaptures } from '../../src/flows/merge.js';
import type { Exchange } from '../../src/flows/types.js';
import { exchangeJson } from '../../src/output/json-flows.js';
import { analyze, Story } from '../support/story.js';

const ETR = '192.0.2.10';
const ETR2 = '198.51.100.20';
const MS = '203.0.113.1';
const PORT = 50123;
const PORT2 = 50999;
const SITE = '00000000000000000000000000000007';

function registration(messageId: number, nonce: bigint, eids: string[], rlocs: string[], key = 'k'): ReliableMessage {
  const records = eids.map((eid) => mappingRecord({ eid, locators: rlocs.map((rloc) => ({ rloc, local: true })) }));
  const bytes = mapRegister({ nonce, keyId: 1, key, records, wantMapNotify: true, xtrId: 7n });
  return { type: 17, messageId, mapRegister: decodeControl(bytes).value };
}

function prefix(text: string) {
  const p = parsePrefix(text)!;
  return { eid: p.address, eidMaskLen: p.maskLen };
}

const ack = (messageId: number, eid: string): ReliableMessage => ({ type: 18, messageId, ...prefix(eid) });
const reject = (messageId: number, eid: string, reason: number): ReliableMessage => ({ type: 19, messageId, reason, ...prefix(eid) });
const notification = (messageId: number, eid: string, rlocs: string[]): ReliableMessage => ({
  type: 21,
  messageId,
  xtrId: new Uint8Array(16).fill(7, 15),
  siteId: new Uint8Array(8),
  record: mappingRecord({ eid, locators: rlocs.map((rloc) => ({ rloc })) }),
});

/** ETR → MS on the ETR's connection. */
const up = (s: Story, t: number, ms: ReliableMessage[], from = ETR, port = PORT) => s.reliable(t, from, port, MS, 4342, ms);
/** MS → ETR. */
const down = (s: Story, t: number, ms: ReliableMessage[], to = ETR, port = PORT) => s.reliable(t, MS, 4342, to, port, ms);
const frames = (e: Exchange | undefined) => e?.frames.map((f) => f.frame);

describe('registrations over the reliable transport', () => {
  it('Registration → Registration ACK is an answered registration exchange, marked tcp', () => {
    const s = new Story();
    up(s, 1, [registration(0, 0x11n, ['10.1.0.0/16'], [ETR])]);
    down(s, 1.004, [ack(1, '10.1.0.0/16')]);
    const { exchanges, result } = analyze(s.packets);
    expect(exchanges).toEqual([
      expect.objectContaining({
        kind: 'registration',
        eid: '10.1.0.0/16',
        nonce: '0000000000000011',
        requester: ETR,
        responder: MS,
        rttMs: 4,
        retransmissions: 0,
        outcome: 'answered',
        rlocs: [ETR],
        site: SITE,
        wantMapNotify: true,
        transport: 'tcp',
        messageId: 0,
      }),
    ]);
    expect(frames(exchanges[0])).toEqual([1, 2]);
    expect(exchangeJson(exchanges[0]!)).toMatchObject({ transport: 'tcp', message_id: 0, outcome: 'answered' });
    expect(result.stats.exchanges).toEqual({ registration: { answered: 1 } });
  });

  it('an ACK naming the prefix with Instance ID 0 answers the Registration of the plain prefix (Cisco IOS)', () => {
    const s = new Story();
    up(s, 1, [registration(0, 1n, ['10.0.0.2/32'], [ETR])]);
    down(s, 1.002, [ack(1, '[0]10.0.0.2/32')]);
    const [e] = analyze(s.packets).exchanges;
    expect(e).toMatchObject({ outcome: 'answered', rttMs: 2 });
  });

  it('matches answers by EID prefix, not by Message ID nor by order', () => {
    const s = new Story();
    // Both sides number their own messages: the ACK's Message ID 0 is not the Registration 0.
    up(s, 1, [registration(0, 1n, ['10.1.0.0/16'], [ETR]), registration(1, 2n, ['10.2.0.0/16'], [ETR])]);
    down(s, 1.003, [ack(0, '10.2.0.0/16')]);
    down(s, 1.005, [ack(1, '10.1.0.0/16')]);
    const ex = analyze(s.packets).exchanges;
    expect(ex.map((e) => [e.eid, e.rttMs, frames(e)])).toEqual([
      ['10.1.0.0/16', 5, [1, 3]],
      ['10.2.0.0/16', 3, [1, 2]],
    ]);
  });

  it('matches within one TCP connection: an ACK to one ETR does not answer another', () => {
    const s = new Story();
    up(s, 1, [registration(0, 1n, ['10.1.0.0/16'], [ETR])]);
    up(s, 1, [registration(0, 2n, ['10.1.0.0/16'], [ETR2])], ETR2, PORT2);
    down(s, 1.004, [ack(1, '10.1.0.0/16')], ETR2, PORT2);
    const ex = analyze(s.packets, { timeout: 3 }).exchanges;
    expect(ex.map((e) => [e.requester, e.outcome, e.rttMs])).toEqual([
      [ETR, 'unanswered', null],
      [ETR2, 'answered', 4],
    ]);
  });

  it('Registration Reject is `rejected` with its reason; a reject of one prefix is not hidden by the ACK of another', () => {
    const s = new Story();
    up(s, 1, [registration(0, 1n, ['10.9.0.0/16'], [ETR])]);
    up(s, 1.001, [registration(1, 2n, ['10.1.0.0/16', '10.3.0.0/16'], [ETR])]);
    down(s, 1.004, [reject(1, '10.9.0.0/16', 1), ack(2, '10.1.0.0/16')]);
    down(s, 1.006, [reject(3, '10.3.0.0/16', 3)]);
    const { exchanges, result } = analyze(s.packets);
    expect(exchanges.map((e) => [e.eid, e.outcome, e.rejectReason, e.rttMs, frames(e)])).toEqual([
      ['10.9.0.0/16', 'rejected', 'not-site-eid-prefix', 4, [1, 3]],
      ['10.1.0.0/16', 'rejected', 'locator-set-not-allowed', 3, [2, 3, 4]],
    ]);
    expect(exchangeJson(exchanges[0]!)).toMatchObject({ outcome: 'rejected', reject_reason: 'not-site-eid-prefix' });
    expect(result.stats.exchanges).toEqual({ registration: { rejected: 2 } });
    expect(result.stats.sites.map((x) => [x.eid, x.registrations, x.rejected, x.answered])).toEqual([
      ['10.1.0.0/16', 1, 1, 0],
      ['10.9.0.0/16', 1, 1, 0],
    ]);
  });

  it('is auth-failed with a key that does not verify, whatever the Map-Server answers', () => {
    const s = new Story(() => 'k');
    up(s, 1, [registration(0, 1n, ['10.2.0.0/16'], [ETR], 'wrong')]);
    down(s, 1.002, [reject(1, '10.2.0.0/16', 2)]);
    const [e] = analyze(s.packets).exchanges;
    expect(e).toMatchObject({ outcome: 'auth-failed', authError: 'authentication data does not match the key', rejectReason: 'authentication-failure' });
  });

  it('is unanswered after the timeout; the same Registration again before an answer is a retransmission', () => {
    const s = new Story();
    up(s, 1, [registration(0, 1n, ['2001:db8:1::/48'], [ETR])]);
    up(s, 2, [registration(1, 2n, ['2001:db8:1::/48'], [ETR])]);
    // Once the timeout after the last retransmission has passed, the exchange is closed: an ACK
    // then answers nothing.
    down(s, 5.5, [ack(1, '2001:db8:1::/48')]);
    const { exchanges, engine, result } = analyze(s.packets, { timeout: 3 });
    expect(exchanges.map((e) => [e.outcome, e.retransmissions, e.rttMs, frames(e)])).toEqual([['unanswered', 1, null, [1, 2]]]);
    expect(engine.exchanges.counters.unmatchedRegistrationAnswers).toBe(1);
    expect(result.stats.unanswered).toBe(1);
  });

  it('a new locator set before the answer, or the same after it, is a new registration', () => {
    const s = new Story();
    up(s, 1, [registration(0, 1n, ['10.1.0.0/16'], [ETR])]);
    up(s, 1.001, [registration(1, 2n, ['10.1.0.0/16'], [ETR, '192.0.2.11'])]);
    down(s, 1.004, [ack(1, '10.1.0.0/16'), ack(2, '10.1.0.0/16')]);
    up(s, 60, [registration(2, 3n, ['10.1.0.0/16'], [ETR, '192.0.2.11'])]);
    down(s, 60.002, [ack(3, '10.1.0.0/16')]);
    const ex = analyze(s.packets).exchanges;
    // TCP keeps order: the first ACK answers the oldest Registration of the prefix.
    expect(ex.map((e) => [e.nonce.slice(-1), e.rlocs, e.rttMs, e.retransmissions, e.intervalMs])).toEqual([
      ['1', [ETR], 4, 0, undefined],
      ['2', [ETR, '192.0.2.11'], 3, 0, 1],
      ['3', [ETR, '192.0.2.11'], 2, 0, 58999],
    ]);
  });

  it('the Mapping Notification joins the registration; unmatched answers are counted, not made exchanges', () => {
    const s = new Story();
    up(s, 1, [registration(0, 1n, ['10.1.0.0/16'], [ETR])]);
    down(s, 1.002, [ack(1, '10.1.0.0/16')]);
    down(s, 1.003, [notification(2, '10.1.0.0/16', [ETR])]);
    down(s, 1.004, [ack(3, '10.7.0.0/16'), reject(4, '10.8.0.0/16', 1)]);
    const { exchanges, engine } = analyze(s.packets);
    expect(exchanges).toHaveLength(1);
    expect(frames(exchanges[0])).toEqual([1, 2, 3]);
    expect(engine.exchanges.counters.unmatchedRegistrationAnswers).toBe(2);
  });

  it('keeps apart from UDP registrations that reuse the nonce (Cisco re-sends its Map-Registers over TCP)', () => {
    const s = new Story();
    const rec = mappingRecord({ eid: '10.1.0.0/16', locators: [{ rloc: ETR, local: true }] });
    s.control(1, ETR, 4342, MS, 4342, mapRegister({ nonce: 5n, records: [rec], wantMapNotify: true, keyId: 1, key: 'k' }));
    up(s, 1.5, [registration(0, 5n, ['10.1.0.0/16'], [ETR])]);
    s.control(1.6, MS, 4342, ETR, 4342, mapNotify({ nonce: 5n, records: [rec], keyId: 1, key: 'k' }));
    down(s, 1.7, [ack(1, '10.1.0.0/16')]);
    const ex = analyze(s.packets).exchanges;
    expect(ex.map((e) => [e.transport ?? 'udp', e.nonce, e.rttMs, frames(e)])).toEqual([
      ['udp', '0000000000000005', 600, [1, 3]],
      ['tcp', '0000000000000005', 200, [2, 4]],
    ]);
  });

  it('puts the Registration on the mapping timeline as a Map-Register: a changed locator set is a handover', () => {
    const s = new Story();
    up(s, 1, [registration(0, 1n, ['10.1.0.0/16'], [ETR])]);
    down(s, 1.002, [ack(1, '10.1.0.0/16'), notification(2, '10.1.0.0/16', [ETR])]);
    up(s, 30, [registration(1, 2n, ['10.1.0.0/16'], [ETR2])]);
    const [m] = analyze(s.packets).result.mappings;
    expect(m!.timeline.map((t) => [t.frame.frame, t.source, t.by, t.rlocs, t.transport])).toEqual([
      [1, 'map-register', ETR, [ETR], 'tcp'],
      [2, 'mapping-notification', MS, [ETR], 'tcp'],
      [3, 'map-register', ETR, [ETR2], 'tcp'],
    ]);
    expect(m!.handovers.map((h) => [h.frame.frame, h.from, h.to])).toEqual([[3, [ETR], [ETR2]]]);
  });

  it('keeps state bounded: the open-exchange cap holds, and closed registrations are forgotten', () => {
    const s = new Story();
    // 200 ETR prefixes, each registered on the same session, none answered for a while.
    for (let i = 0; i < 200; i++) up(s, 1 + i * 0.001, [registration(i, BigInt(i + 1), [`10.${i}.0.0/16`], [ETR])]);
    const seen: Exchange[] = [];
    const engine = new FlowEngine({ maxOpen: 50, timeout: 3, onExchange: (e) => seen.push(e) });
    let most = 0;
    for (const p of s.packets) {
      engine.packet(p);
      most = Math.max(most, engine.exchanges.open);
    }
    expect(most).toBe(50);
    expect(engine.exchanges.counters.dropped).toBe(150);
    // The ACK of a prefix whose exchange the cap closed finds nothing open.
    const late = new Story();
    down(late, 1.3, [ack(500, '10.0.0.0/16')]);
    for (const p of late.packets) engine.packet(p);
    expect(engine.exchanges.counters.unmatchedRegistrationAnswers).toBe(1);
    engine.finish();
    expect(seen).toHaveLength(200);
    expect(engine.exchanges.open).toBe(0);
  });
});

describe('captures merged from several vantage points', () => {
  it('count a reliable-transport segment seen in both once: no false retransmissions', async () => {
    const file = join(import.meta.dirname, '../../pcaps/reliable-registrations.pcap');
    const run = async (files: string[]) => {
      const exchanges: Exchange[] = [];
      const engine = new FlowEngine({ onExchange: (e) => exchanges.push(e) });
      const { duplicates } = await mergeCaptures(files, { warning: () => {} }, (p, i) => engine.packet(p, i));
      engine.finish();
      return { exchanges: exchanges.map((e) => ({ ...e, frames: e.frames.map((f) => f.frame) })), duplicates };
    };
    const one = await run([file]);
    const both = await run([file, file]);
    expect(one.exchanges.map((e) => [e.eid, e.outcome, e.retransmissions])).toEqual([
      ['10.1.0.0/16', 'answered', 0],
      ['10.9.0.0/16', 'rejected', 0],
      ['2001:db8:1::/48', 'unanswered', 1],
      ['10.2.0.0/16', 'rejected', 0],
      ['10.1.0.0/16', 'answered', 0],
    ]);
    expect(both.exchanges).toEqual(one.exchanges);
    // The 7 frames that complete messages, each seen in both files.
    expect(both.duplicates).toBe(7);
  });
});

describe('the Cisco IOS session of ndpi__lisp_registration.pcap', () => {
  it('makes every Registration an exchange, answered by its ACK or refused by its Reject', async () => {
    const file = join(import.meta.dirname, '../../../shared/captures/ndpi__lisp_registration.pcap');
    const exchanges: Exchange[] = [];
    const engine = new FlowEngine({ onExchange: (e) => exchanges.push(e) });
    await mergeCaptures([file], { warning: () => {}, onFrame: () => engine.frame() }, (p, i) => engine.packet(p, i));
    engine.finish();
    const tcp = exchanges.filter((e) => e.transport === 'tcp');
    expect(tcp.map((e) => [e.requester, e.eid, e.outcome, e.rejectReason ?? '', e.frames.map((f) => f.frame)])).toEqual([
      ['10.0.123.2', '10.0.0.2/32', 'answered', '', [13, 14]],
      ['10.0.123.2', 'fc00::2/128', 'answered', '', [13, 14]],
      ['10.0.123.2', '[100]192.168.102.0/26', 'answered', '', [13, 14]],
      ['10.0.123.2', '[100]fc00:192:168:102::/64', 'answered', '', [13, 14]],
      ['10.0.123.3', '10.0.0.3/32', 'answered', '', [28, 29]],
      ['10.0.123.3', '192.168.103.0/26', 'rejected', 'not-site-eid-prefix', [28, 29]],
      ['10.0.123.3', 'fc00::3/128', 'answered', '', [28, 29]],
      ['10.0.123.3', 'fc00:192:168:103::/64', 'rejected', 'not-site-eid-prefix', [28, 29]],
      ['10.0.123.3', '[100]192.168.103.0/26', 'answered', '', [28, 29]],
      ['10.0.123.3', '[100]fc00:192:168:103::/64', 'answered', '', [28, 29]],
    ]);
    expect(tcp.every((e) => e.responder === '10.0.123.1' && e.rttMs !== null && e.rttMs < 3)).toBe(true);
    // The UDP registrations of the same capture (same nonces) stay eight answered exchanges.
    expect(exchanges.filter((e) => !e.transport).map((e) => e.outcome)).toEqual(Array(8).fill('answered'));
    expect(engine.exchanges.counters.unmatchedRegistrationAnswers).toBe(0);
  });
});
