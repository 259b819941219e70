// FlowEngine.pending: the exchanges started and not reported yet, for a viewer that shows a request
// while it waits for its answer (the terminal UI). Looking changes nothing of what is reported.

import { describe, expect, it } from 'vitest';
import { mappingRecord, mapReply, mapRequest } from '../../src/dissect/build.js';
import { FlowEngine } from '../../src/flows/engine.js';
import type { Exchange } from '../../src/flows/types.js';
import { analyze, Story } from '../support/story.js';

const ITR = '192.0.2.20';
const MR = '203.0.113.2';
const ETR = '203.0.113.50';
const request = (s: Story, t: number, nonce: bigint, eid: string) => s.control(t, ITR, 61001, MR, 4342, mapRequest({ nonce, eids: [eid], itrRlocs: [ITR] }));
const reply = (s: Story, t: number, nonce: bigint, eid: string) =>
  s.control(t, ETR, 4342, ITR, 61001, mapReply({ nonce, records: [mappingRecord({ eid, locators: [{ rloc: ETR, local: true }] })] }));

/** Two resolutions: the first retransmitted at 11 (it waits until 14 with timeout 3), the second answered at 10.2. */
function firstWaitsLonger(): Story {
  const s = new Story();
  request(s, 10, 1n, '10.1.0.0/16');
  request(s, 10.1, 2n, '10.2.0.0/16');
  reply(s, 10.2, 2n, '10.2.0.0/16');
  request(s, 11, 1n, '10.1.0.0/16');
  return s;
}

describe('FlowEngine.pending', () => {
  it('lists what started and is not reported, in the order it will be, as copies', () => {
    const s = firstWaitsLonger();
    const reported: Exchange[] = [];
    const engine = new FlowEngine({ timeout: 3, onExchange: (e) => reported.push(e) });
    const [req1, req2, rep2, retx1] = s.packets;
    engine.packet(req1!);
    let pending = engine.pending();
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ open: true, exchange: { kind: 'resolution', eid: '10.1.0.0/16', requester: ITR, rttMs: null, frames: [{ frame: 1, file: 0 }] } });
    // A copy: the engine's own record does not move with what the viewer holds, nor the other way.
    pending[0]!.exchange.frames.push({ frame: 99, file: 0 });
    engine.packet(req2!);
    engine.packet(rep2!);
    pending = engine.pending();
    expect(pending.map((p) => [p.exchange.eid, p.exchange.outcome, p.open])).toEqual([
      ['10.1.0.0/16', 'unanswered', true],
      ['10.2.0.0/16', 'answered', true],
    ]);
    expect(pending[0]!.exchange.frames).toEqual([{ frame: 1, file: 0 }]);
    expect(pending[1]!.exchange).toMatchObject({ responder: ETR, rttMs: 100, frames: [{ frame: 2, file: 0 }, { frame: 3, file: 0 }] });
    // The first request is sent again: it waits until 14. The answered one closes at 13.2 but
    // waits behind it (exchanges are reported in start order).
    engine.packet(retx1!);
    engine.exchanges.sweep(13.25);
    expect(reported).toEqual([]);
    expect(engine.pending().map((p) => [p.exchange.eid, p.open])).toEqual([
      ['10.1.0.0/16', true],
      ['10.2.0.0/16', false],
    ]);
    // One by one, the same.
    expect(engine.started).toBe(2);
    expect([0, 1].map((i) => engine.pendingAt(i))).toEqual(engine.pending());
    engine.exchanges.sweep(14.1);
    expect(reported.map((e) => [e.eid, e.outcome])).toEqual([
      ['10.1.0.0/16', 'unanswered'],
      ['10.2.0.0/16', 'answered'],
    ]);
    expect(engine.pending()).toEqual([]);
  });

  it('changes nothing of what the engine reports', () => {
    const s = new Story();
    for (let i = 0; i < 20; i++) {
      request(s, i * 0.5, BigInt(i + 1), `10.${i}.0.0/16`);
      if (i % 3) reply(s, i * 0.5 + 0.01, BigInt(i + 1), `10.${i}.0.0/16`);
    }
    const quiet = analyze(s.packets);
    const watched: Exchange[] = [];
    const engine = new FlowEngine({ onExchange: (e) => watched.push(e) });
    let seen = 0;
    for (const p of s.packets) {
      engine.frame();
      engine.packet(p);
      seen += engine.pending().length;
    }
    engine.finish();
    expect(seen).toBeGreaterThan(0);
    expect(watched).toEqual(quiet.exchanges);
  });
});

describe("FlowEngine order 'close'", () => {
  it('hands each exchange out as it closes, with its place in start order; pending lists only the open ones', () => {
    const s = firstWaitsLonger();
    const reported: [string, string, number][] = [];
    const engine = new FlowEngine({ timeout: 3, order: 'close', onExchange: (e, i) => reported.push([e.eid, e.outcome, i]) });
    for (const p of s.packets) engine.packet(p);
    // The answered one closes at 13.2 (3 s after its answer): out at once, before the first,
    // retransmitted at 11, which waits until 14.
    engine.exchanges.sweep(13.25);
    expect(reported).toEqual([['10.2.0.0/16', 'answered', 1]]);
    expect(engine.pending().map((p) => [p.exchange.eid, p.open, p.startIndex])).toEqual([['10.1.0.0/16', true, 0]]);
    // The closed one is no longer the engine's to hand out (the caller got it).
    expect(engine.pendingAt(0)).toEqual(engine.pending()[0]);
    expect(engine.pendingAt(1)).toBeUndefined();
    engine.exchanges.sweep(14.1);
    expect(reported[1]).toEqual(['10.1.0.0/16', 'unanswered', 0]);
    expect(engine.pending()).toEqual([]);
    // Nothing left to pace out at the end.
    expect(engine.exchanges.finish(1)).toBe(false);
  });

  it('gives the exchanges start order gives, each once, put back in order by startIndex', () => {
    const s = new Story();
    for (let i = 0; i < 40; i++) {
      request(s, i * 0.5, BigInt(i + 1), `10.${i}.0.0/16`);
      // Every third unanswered (it waits 10 s): the answered ones after it close first.
      if (i % 3) reply(s, i * 0.5 + 0.01, BigInt(i + 1), `10.${i}.0.0/16`);
    }
    const inStart: [Exchange, number][] = [];
    const start = new FlowEngine({ onExchange: (e, i) => inStart.push([e, i]) });
    const inClose: [Exchange, number][] = [];
    const close = new FlowEngine({ order: 'close', onExchange: (e, i) => inClose.push([e, i]) });
    for (const p of s.packets) {
      start.packet(p);
      close.packet(p);
    }
    start.finish();
    close.finish();
    expect(inStart.map(([, i]) => i)).toEqual([...inStart.keys()]);
    expect(inClose.map(([, i]) => i)).not.toEqual([...inClose.keys()]);
    expect(inClose.sort((a, b) => a[1] - b[1])).toEqual(inStart);
  });
});

describe('FlowEngine frames of several captures', () => {
  it('keeps each frame with its capture: the same number in two captures is two frames, a frame repeated is one', () => {
    // Two vantage points: the ITR's capture (0) holds the request, the ETR's (1) the answer, and
    // the answer is also frame 1 of capture 1's numbering; a second resolution stays in capture 0.
    const s = new Story();
    request(s, 10, 1n, '10.1.0.0/16');
    reply(s, 10.1, 1n, '10.1.0.0/16');
    request(s, 10.2, 2n, '10.2.0.0/16');
    reply(s, 10.3, 2n, '10.2.0.0/16');
    const [req1, rep1, req2, rep2] = s.packets;
    const reported: Exchange[] = [];
    const engine = new FlowEngine({ onExchange: (e) => reported.push(e) });
    engine.packet(req1!, 0);
    engine.packet({ ...rep1!, frame: 1 }, 1);
    engine.packet({ ...rep1!, frame: 1 }, 1);
    engine.packet(req2!, 0);
    engine.packet(rep2!, 0);
    engine.finish();
    expect(reported.map((e) => e.frames)).toEqual([
      [
        { frame: 1, file: 0 },
        { frame: 1, file: 1 },
      ],
      [
        { frame: 3, file: 0 },
        { frame: 4, file: 0 },
      ],
    ]);
  });
});
