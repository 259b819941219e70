// The flow engine reaches the same conclusions whether common control messages are decoded or
// only scanned from their bytes (capture/plain-control.ts, flows/plain-control-view.ts).

import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import { plainControl, scanPlainControl } from '../../src/capture/plain-control.js';
import type { Frame } from '../../src/capture/types.js';
import { encodeControl } from '../../src/dissect/control.js';
import { encodeIpUdp } from '../../src/dissect/ip.js';
import { encodeLink } from '../../src/dissect/link.js';
import type { ControlMessage, LispAddress } from '../../src/dissect/types.js';
import { FlowEngine } from '../../src/flows/engine.js';
import { mergeCaptures } from '../../src/flows/merge.js';
import { plainControlView } from '../../src/flows/plain-control-view.js';
import { clearPools, texts } from '../../src/flows/text-pool.js';
import { controlView, type ControlView } from '../../src/flows/view.js';
import { exchangeJson, mappingJson, statsJson } from '../../src/output/json-flows.js';
import { controlFrame, none, typical, typicalEcm } from '../support/control-frames.js';

const PCAPS = join(import.meta.dirname, '../../pcaps');

/**
 * What the exchange tracker reads of a decoded message (view.ts, MessageView), written out again
 * here: the fast view must have each of these, equal, and nothing else.
 */
const TRACKED: Record<number, readonly string[]> = {
  1: ['type', 'nonce', 'probe', 'smr', 'smrInvoked', 'xtrIdPresent', 'xtrId', 'sourceEid', 'itrRlocs', 'eids'],
  2: ['type', 'nonce', 'probe', 'lispSec', 'records'],
  3: ['type', 'nonce', 'wantMapNotify', 'builtForRtr', 'mobileNode', 'xtrId', 'keyId', 'algorithmId', 'records'],
  4: ['type', 'nonce', 'xtrId', 'records'],
  5: ['type', 'nonce', 'xtrId', 'records'],
  6: ['type', 'nonce', 'records'],
  7: ['type', 'nonce', 'reply', 'eid', 'eidMaskLen', 'address'],
};
const RECORD = ['eid', 'eidMaskLen', 'action', 'locators', 'referrals'];
const LOCATOR = ['rloc', 'probed'];

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** The decoded view cut down to what the tracker reads. */
function tracked(v: ControlView): unknown {
  const m = v.m as unknown as Record<string, unknown>;
  const out = pick(m, TRACKED[m.type as number]!);
  if (Array.isArray(out.records)) {
    out.records = (out.records as Record<string, unknown>[]).map((r) => {
      const x = pick(r, RECORD);
      for (const k of ['locators', 'referrals']) {
        if (Array.isArray(x[k])) x[k] = (x[k] as Record<string, unknown>[]).map((l) => pick(l, k === 'locators' ? LOCATOR : ['rloc']));
      }
      return x;
    });
  }
  if (Array.isArray(out.eids)) out.eids = (out.eids as Record<string, unknown>[]).map((p) => pick(p, ['prefix', 'maskLen']));
  return { ...v, m: out };
}

// Few addresses, nonces and ports, so that answers find their requests, requests are resent and
// forwarded, and exchanges time out between them.
const host = fc.constantFrom('192.0.2.1', '192.0.2.2', '198.51.100.3');
const nonce = fc.constantFrom(0n, 1n, 7n, 0xfedcba9876543210n);

function withNonce(m: ControlMessage, n: bigint): ControlMessage {
  if ('unknown' in m) return m;
  if (m.type === 8) return m.inner?.message ? { ...m, inner: { ...m.inner, message: withNonce(m.inner.message, n) } } : m;
  return 'nonce' in m ? { ...m, nonce: n } : m;
}

function inner(m: ControlMessage): ControlMessage | undefined {
  return m.type === 8 && !('unknown' in m) ? m.inner?.message : m;
}

/** The types of message (Info: its reply) that can answer `q` (the tracker decides the rest). */
function answerTypes(q: ControlMessage): number[] {
  const x = inner(q);
  if (!x || 'unknown' in x) return [];
  switch (x.type) {
    case 1:
      return x.xtrIdPresent ? [2, 4] : [2, 6];
    case 3:
      return [4];
    case 4:
      return [5];
    case 7:
      return x.reply ? [] : [7];
    default:
      return [];
  }
}

function isOfType(m: ControlMessage, types: number[]): boolean {
  const y = inner(m);
  return !!y && !('unknown' in y) && types.includes(y.type) && (y.type !== 7 || ('reply' in y && y.reply));
}

const message = fc.oneof({ weight: 2, arbitrary: typical }, { weight: 1, arbitrary: typicalEcm });
const encoded = (m: ControlMessage, src: string, dst: string, sport: number, dport: number) => {
  const data = encodeLink(1, encodeIpUdp({ src, dst, sport, dport }, encodeControl(m)));
  return { linkType: 1, len: data.length, data, interfaceId: 0 };
};

/** A request, perhaps sent again, and perhaps its answer (same nonce, back the way it came). */
const conversation = fc
  .record({
    request: message,
    nonce,
    src: host,
    dst: host,
    sport: fc.constantFrom(4342, 4342, 40000),
    dport: fc.constantFrom(4342, 4342, 61000),
    resend: fc.boolean(),
    dt: fc.constantFrom(0, 0.001, 0.2, 1, 4, 30),
  })
  .chain((r) =>
    (answerTypes(r.request).length ? fc.option(message.filter((a) => isOfType(a, answerTypes(r.request))), { freq: 4, nil: undefined }) : fc.constant(undefined)).map((answer) => {
      const q = encoded(withNonce(r.request, r.nonce), r.src, r.dst, r.sport, r.dport);
      const out = [{ dt: r.dt, frame: q }];
      if (r.resend) out.push({ dt: 1, frame: q });
      if (answer) out.push({ dt: 0.001, frame: encoded(withNonce(answer, r.nonce), r.dst, r.src, r.dport, r.sport) });
      return out;
    }),
  );

/** A capture: mostly a conversation, now and then a frame of any shape (changed, cut, not LISP). */
const capture = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: conversation },
      { weight: 1, arbitrary: controlFrame.map(({ tsSec: _s, tsNsec: _n, ...frame }) => [{ dt: 0.01, frame }]) },
    ),
    { minLength: 1, maxLength: 20 },
  )
  .map((parts) => parts.flat());

function frames(list: { dt: number; frame: Omit<Frame, 'index' | 'tsSec' | 'tsNsec'> }[]): Frame[] {
  let t = 1_700_000_000;
  return list.map(({ dt, frame }, i) => {
    t += dt;
    const tsSec = Math.floor(t);
    return { index: i + 1, tsSec, tsNsec: Math.round((t - tsSec) * 1e9), ...frame };
  });
}

/** The engine over the frames, each decoded, or scanned when the scan takes it (`fast`). */
function analyse(list: Frame[], fast: boolean) {
  const exchanges: unknown[] = [];
  const engine = new FlowEngine({ onExchange: (e) => exchanges.push(exchangeJson(e)) });
  const decoder = new PacketDecoder({});
  const c = plainControl();
  let scanned = 0;
  for (const f of list) {
    engine.frame();
    if (fast && scanPlainControl(f, c)) {
      scanned++;
      engine.plainControl(f, c);
      continue;
    }
    const p = decoder.decode(f);
    if (p) engine.packet(p);
  }
  const r = engine.finish();
  return { result: { exchanges, mappings: r.mappings.map((m) => mappingJson(m)), stats: statsJson(r.stats) }, scanned };
}

describe('common control messages scanned, not decoded', () => {
  it('give the tracker the view of the decoded packet', () => {
    const decoder = new PacketDecoder({});
    const c = plainControl();
    let accepted = 0;
    let index = 0;
    fc.assert(
      fc.property(controlFrame, (frame) => {
        const f: Frame = { index: ++index, ...frame };
        if (!scanPlainControl(f, c)) return;
        accepted++;
        const fast = plainControlView(f, c);
        const p = decoder.decode(f);
        expect(p?.notes).toEqual([]);
        expect(p?.frameNotes).toEqual([]);
        const general = controlView(p!);
        expect(fast).toEqual(tracked(general!));
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(300);
  });

  it('give the same exchanges, mappings and statistics', () => {
    let scanned = 0;
    let joined = 0;
    fc.assert(
      fc.property(capture, (list) => {
        const f = frames(list);
        const fast = analyse(f, true);
        const general = analyse(f, false);
        scanned += fast.scanned;
        // Exchanges of several frames: answers matched, requests resent or forwarded.
        joined += general.result.exchanges.filter((e) => ((e as { frames: unknown[] }).frames.length ?? 0) > 1).length;
        expect(fast.result).toEqual(general.result);
      }),
      { numRuns: 500 },
    );
    // The fast path must actually be taken, and exchanges made of what it takes.
    expect(scanned).toBeGreaterThan(2500);
    expect(joined).toBeGreaterThan(600);
  });

  for (const name of ['mn-handover.pcapng', 'nat-rtr.pcap', 'pubsub.pcap', 'control-ecm.pcap', 'control-info.pcap', 'control-map-referral.pcap', 'lisp-sec.pcap']) {
    it(`through mergeCaptures, gives the same results: ${name}`, async () => {
      const run = async (fast: boolean) => {
        const exchanges: unknown[] = [];
        const engine = new FlowEngine({ onExchange: (e) => exchanges.push(exchangeJson(e)) });
        await mergeCaptures(
          [join(PCAPS, name)],
          { warning: () => {}, onFrame: () => engine.frame(), ...(fast ? { onPlainControl: (f, c) => void engine.plainControl(f, c) } : {}) },
          (p, i) => engine.packet(p, i),
        );
        const r = engine.finish();
        return { exchanges, mappings: r.mappings.map((m) => mappingJson(m)), stats: statsJson(r.stats) };
      };
      expect(await run(true)).toEqual(await run(false));
    });
  }

  it("keep a Map-Request's ECM inner destination (the EID it asks for) out of the text pool", () => {
    const c = plainControl();
    const view = (eid: string, index: number) => {
      const ipv4 = (addr: string): LispAddress => ({ kind: 'ipv4', afi: 1, addr });
      const request: ControlMessage = {
        type: 1,
        authoritative: false,
        probe: false,
        smr: false,
        pitr: false,
        smrInvoked: false,
        localXtr: false,
        dontMapReply: false,
        nonce: 5n,
        sourceEid: none,
        itrRlocs: [ipv4('192.0.2.9')],
        eids: [{ prefix: ipv4(eid), maskLen: 32 }],
        mapDataPresent: false,
        xtrIdPresent: false,
      };
      const ecm: ControlMessage = {
        type: 8,
        security: false,
        ddt: false,
        toEtr: false,
        toMs: false,
        inner: { ipVersion: 4, src: '192.0.2.9', dst: eid, ttl: 64, sport: 40000, dport: 4342, udpChecksum: 0, message: request },
      };
      const data = encodeLink(1, encodeIpUdp({ src: '192.0.2.1', dst: '192.0.2.2', sport: 40000, dport: 4342 }, encodeControl(ecm)));
      const f: Frame = { index, tsSec: 1, tsNsec: 0, linkType: 1, len: data.length, data, interfaceId: 0 };
      expect(scanPlainControl(f, c)).toBe(true);
      return plainControlView(f, c);
    };
    clearPools();
    expect(view('10.1.2.3', 1).ecm?.innerDst).toBe('10.1.2.3');
    const held = texts.size;
    expect(view('10.4.5.6', 2).ecm?.innerDst).toBe('10.4.5.6');
    expect(texts.size).toBe(held);
  });

  it('are left to the decoder when a key is given: their verdicts are its', async () => {
    const count = async (keyFor?: () => undefined) => {
      let n = 0;
      await mergeCaptures(
        [join(PCAPS, 'mn-handover.pcapng')],
        { warning: () => {}, ...(keyFor ? { decoder: { keyFor } } : {}), onPlainControl: () => void n++ },
        () => {},
      );
      return n;
    };
    expect(await count()).toBeGreaterThan(0);
    expect(await count(() => undefined)).toBe(0);
  });
});
