// Every lab scenario end to end on loopback, checked on the decoded capture: what went on the wire,
// not what the components believe. Each scenario runs on its own 127.0.x addresses.

import { describe, expect, it } from 'vitest';
import { PacketDecoder, type LispPacket } from '../../src/capture/packets.js';
import { KeyRing } from '../../src/dissect/keyring.js';
import type { Ecm, InfoMessage, MapNotify, MapRegister, MapReply, MapRequest } from '../../src/dissect/types.js';
import { runLab, type LabResult, type LabScenario } from '../../src/mn/lab.js';

interface Seen {
  p: LispPacket;
  by: string;
}

function decode(r: LabResult): Seen[] {
  const ring = KeyRing.parse(r.keys) as KeyRing;
  const d = new PacketDecoder({
    all: true,
    decodeAs: { control: new Set(r.decodeAs.control), data: new Set(r.decodeAs.data) },
    keyFor: (_p, m) => ring.lookup('records' in m && Array.isArray(m.records) ? m.records.map((x) => ({ address: x.eid, maskLen: x.eidMaskLen })) : 'eid' in m ? [{ address: m.eid, maskLen: m.eidMaskLen }] : [], []),
  });
  return r.frames.map((f) => ({ p: d.decode(f)!, by: f.component })).filter((s) => s.p);
}

const ctl = (s: Seen) => s.p.control;
const req = (s: Seen) => (ctl(s)?.type === 1 ? (ctl(s) as MapRequest) : undefined);
const ecmReq = (s: Seen) => {
  const m = ctl(s);
  return m?.type === 8 && (m as Ecm).inner?.message?.type === 1 ? ((m as Ecm).inner!.message as MapRequest) : undefined;
};
const reply = (s: Seen) => (ctl(s)?.type === 2 ? (ctl(s) as MapReply) : undefined);
const locs = (m: MapReply | MapRegister | MapNotify) => m.records.flatMap((r) => r.locators.map((l) => (l.rloc as { addr?: string }).addr));

async function lab(scenario: LabScenario, base: string): Promise<{ r: LabResult; seen: Seen[] }> {
  const r = await runLab({ scenario, base });
  for (const s of r.steps) expect(s, `${s.name}: ${s.detail}`).toMatchObject({ ok: true });
  const seen = decode(r);
  // Nothing malformed, every authenticated message verified with the site key.
  for (const s of seen) {
    expect([...s.p.frameNotes, ...s.p.notes.map((n) => n.message)], `frame ${s.p.frame}`).toEqual([]);
    if (s.p.auth) expect(s.p.auth.ok, `frame ${s.p.frame} auth`).toBe(true);
  }
  return { r, seen };
}

function registrationsAnswered(seen: Seen[], by: string): Array<{ reg: MapRegister; notify: MapNotify }> {
  const regs = seen.filter((s) => s.by === by && ctl(s)?.type === 3).map((s) => ctl(s) as MapRegister);
  return regs.map((reg) => {
    const n = seen.find((s) => s.by === 'ms' && ctl(s)?.type === 4 && (ctl(s) as MapNotify).nonce === reg.nonce);
    expect(n, `Map-Notify for ${reg.nonce.toString(16)}`).toBeDefined();
    expect(n!.p.auth?.ok).toBe(true);
    return { reg, notify: ctl(n!) as MapNotify };
  });
}

describe('lab scenarios on loopback', () => {
  it('register: every Map-Register answered by a signed Map-Notify with its nonce', async () => {
    const { r, seen } = await lab('register', '127.0.20.0');
    const a = r.addresses;
    const mn = registrationsAnswered(seen, 'mn');
    expect(mn).toHaveLength(1);
    expect(mn[0]!.reg).toMatchObject({ proxyReply: true, wantMapNotify: true, xtrIdPresent: true });
    expect(locs(mn[0]!.reg)).toEqual([a.mnA]);
    expect(registrationsAnswered(seen, 'xtr-a')).toHaveLength(1);
    expect(registrationsAnswered(seen, 'xtr-b')).toHaveLength(1);
    expect(seen.every((s) => s.p.ip!.src.startsWith('127.0.20.') && s.p.ip!.dst.startsWith('127.0.20.'))).toBe(true);
  });

  it('resolve: ECM through the Map-Resolver, forwarded to the ETR, answered to the ITR; negative for the unknown', async () => {
    const { r, seen } = await lab('resolve', '127.0.21.0');
    const a = r.addresses;
    const i = seen.findIndex((s) => s.by === 'mn' && ecmReq(s)?.eids[0]?.maskLen === 32 && s.p.ip!.dst === a.ms && (ecmReq(s)!.eids[0]!.prefix as { addr: string }).addr === '10.2.0.7');
    expect(i).toBeGreaterThanOrEqual(0);
    const q = ecmReq(seen[i]!)!;
    const fwd = seen.find((s) => s.by === 'ms' && s.p.ip!.dst === a.xtrA && ecmReq(s)?.nonce === q.nonce);
    expect(fwd).toBeDefined();
    const ans = seen.find((s) => s.by === 'xtr-a' && reply(s)?.nonce === q.nonce)!;
    expect(ans.p.ip!.dst).toBe(a.mnA);
    expect(ans.p.udp!.dstPort).toBe(seen[i]!.p.udp!.srcPort);
    expect(reply(ans)!.records[0]).toMatchObject({ authoritative: true, eidMaskLen: 24 });
    // The peer resolves the MN: a proxy Map-Reply from the Map-Server (A=0).
    const proxy = seen.find((s) => s.by === 'ms' && s.p.ip!.dst === a.xtrA && reply(s) && locs(reply(s)!).includes(a.mnA));
    expect(reply(proxy!)!.records[0]!.authoritative).toBe(false);
    // Pings both ways, encapsulated.
    expect(seen.some((s) => s.by === 'mn' && s.p.data?.inner?.icmpType === 8 && s.p.ip!.dst === a.xtrA)).toBe(true);
    expect(seen.some((s) => s.by === 'xtr-a' && s.p.data?.inner?.icmpType === 0 && s.p.ip!.dst === a.mnA)).toBe(true);
    const neg = seen.map(reply).find((m) => m && m.records[0]?.locators.length === 0)!;
    expect(neg.records[0]).toMatchObject({ ttl: 15, action: 1, eidMaskLen: 10 });
    expect(neg.records[0]!.eid).toMatchObject({ addr: '10.64.0.0' });
  });

  it('handover: new Map-Register, SMR, SMR-invoked Map-Request, Map-Reply with the new RLOC, data to it', async () => {
    const { r, seen } = await lab('handover', '127.0.22.0');
    const a = r.addresses;
    const regs = registrationsAnswered(seen, 'mn');
    expect(regs.map((x) => locs(x.reg))).toEqual([[a.mnA], [a.mnB]]);
    expect(regs[0]!.reg.nonce).not.toBe(regs[1]!.reg.nonce);
    const at = (pred: (s: Seen) => boolean, from = 0) => seen.findIndex((s, k) => k >= from && pred(s));
    const reg2 = at((s) => s.by === 'mn' && ctl(s)?.type === 3 && (ctl(s) as MapRegister).nonce === regs[1]!.reg.nonce);
    const smr = at((s) => s.by === 'mn' && !!req(s)?.smr && s.p.ip!.dst === a.xtrA, reg2);
    expect(smr).toBeGreaterThan(reg2);
    expect(seen[smr]!.p.ip!.src).toBe(a.mnB);
    expect(req(seen[smr]!)!.sourceEid).toMatchObject({ addr: '10.1.0.5' });
    const invoked = at((s) => s.by === 'xtr-a' && !!ecmReq(s)?.smrInvoked, smr);
    expect(invoked).toBeGreaterThan(smr);
    const inv = ecmReq(seen[invoked]!)!;
    expect(inv.nonce).not.toBe(req(seen[smr]!)!.nonce);
    expect(inv.eids[0]!.prefix).toMatchObject({ addr: '10.1.0.5' });
    expect(seen[invoked]!.p.ip!.dst).toBe(a.ms);
    const ans = at((s) => reply(s)?.nonce === inv.nonce, invoked);
    expect(locs(reply(seen[ans]!)!)).toEqual([a.mnB]);
    const data = at((s) => s.by === 'xtr-a' && !!s.p.data, ans);
    expect(data).toBeGreaterThan(ans);
    expect(seen[data]!.p.ip!.dst).toBe(a.mnB);
    expect(seen.slice(ans).some((s) => s.by === 'xtr-a' && s.p.data && s.p.ip!.dst === a.mnA)).toBe(false);
  });

  it('nat: Info-Reply with the translated port, Data-Map-Register relayed by the RTR, data through it', async () => {
    const { r, seen } = await lab('nat', '127.0.23.0');
    const a = r.addresses;
    // Both sides of the NAT are in the capture: the MN's Info-Request, and the same one translated.
    const inside = seen.find((s) => s.by === 'mn' && ctl(s)?.type === 7)!;
    expect(inside.p.ip!.src).toBe(a.mnPrivate);
    expect(inside.p.udp!.srcPort).toBe(4341);
    const nonce = (ctl(inside) as InfoMessage).nonce;
    const outside = seen.find((s) => s.by === 'nat' && ctl(s)?.type === 7 && (ctl(s) as InfoMessage).nonce === nonce && s.p.ip!.dst === a.ms)!;
    expect(outside.p.ip!.src).toBe(a.natPublic);
    const port = outside.p.udp!.srcPort;
    expect(port).not.toBe(4341);
    expect(r.decodeAs.data).toContain(port);
    const infoReply = seen.find((s) => s.by === 'ms' && ctl(s)?.type === 7 && (ctl(s) as InfoMessage).reply)!;
    const lcaf = (ctl(infoReply) as InfoMessage).address;
    expect(lcaf.kind === 'lcaf' && lcaf.lcaf.body).toMatchObject({ kind: 'nat-traversal', etrUdpPort: port, globalEtrRloc: { addr: a.natPublic }, msRloc: { addr: a.ms }, rtrRlocs: [{ addr: a.rtr }] });
    // Data-Map-Register: an ECM from the MN's data port to the RTR, carrying the Map-Register for the RTR.
    const dmr = seen.find((s) => s.by === 'nat' && s.p.ip!.dst === a.rtr && ctl(s)?.type === 8)!;
    expect(dmr.p.udp).toMatchObject({ srcPort: port, dstPort: 4342 });
    const inner = (ctl(dmr) as Ecm).inner!;
    expect(inner.src).toBe(a.mnPrivate);
    expect(inner.message).toMatchObject({ type: 3, builtForRtr: true, xtrIdPresent: true, wantMapNotify: true });
    const relayed = seen.find((s) => s.by === 'rtr' && ctl(s)?.type === 3)!;
    expect(relayed.p.ip!.dst).toBe(a.ms);
    expect(relayed.p.auth?.ok).toBe(true);
    expect(locs(ctl(relayed) as MapRegister)).toEqual([a.rtr]);
    const notify = seen.find((s) => s.by === 'ms' && ctl(s)?.type === 4 && s.p.ip!.dst === a.rtr)!;
    const back = seen.find((s) => s.by === 'rtr' && ctl(s)?.type === 8 && (ctl(s) as Ecm).inner?.message?.type === 4)!;
    expect(back.p.ip!.dst).toBe(a.natPublic);
    expect(back.p.udp!.dstPort).toBe(port);
    expect(((ctl(back) as Ecm).inner!.message as MapNotify).nonce).toBe((ctl(notify) as MapNotify).nonce);
    // The peer's echo goes to the RTR, which re-encapsulates it to the NAT's translated port.
    expect(seen.some((s) => s.by === 'xtr-a' && s.p.data && s.p.ip!.dst === a.rtr)).toBe(true);
    expect(seen.some((s) => s.by === 'rtr' && s.p.data && s.p.ip!.dst === a.natPublic && s.p.udp!.dstPort === port)).toBe(true);
    expect(seen.some((s) => s.by === 'rtr' && s.p.data?.inner?.icmpType === 0 && s.p.ip!.dst === a.xtrA)).toBe(true);
  });

  it('probe: RLOC-probe replies carry P and the probed locator\'s p bit', async () => {
    const { r, seen } = await lab('probe', '127.0.24.0');
    const a = r.addresses;
    for (const [prober, target] of [
      ['mn', a.xtrA],
      ['xtr-a', a.mnA],
    ] as const) {
      const probe = seen.find((s) => s.by === prober && req(s)?.probe && s.p.ip!.dst === target)!;
      expect(probe).toBeDefined();
      const ans = seen.find((s) => reply(s)?.nonce === req(probe)!.nonce)!;
      expect(reply(ans)!.probe).toBe(true);
      expect(ans.p.udp!.dstPort).toBe(probe.p.udp!.srcPort);
      const probed = reply(ans)!.records.flatMap((x) => x.locators).filter((l) => l.probed);
      expect(probed.map((l) => (l.rloc as { addr: string }).addr)).toEqual([target]);
    }
  });

  it('pxtr: a non-LISP host reaches the MN through the PxTR, and back', async () => {
    const { r, seen } = await lab('pxtr', '127.0.25.0');
    const a = r.addresses;
    const native = seen.filter((s) => !s.p.udp);
    expect(native.map((s) => [s.by, s.p.ip!.src, s.p.ip!.dst])).toEqual([
      ['host', '198.51.100.7', '10.1.0.5'],
      ['pxtr', '10.1.0.5', '198.51.100.7'],
    ]);
    const q = seen.find((s) => s.by === 'pxtr' && ecmReq(s))!;
    expect(ecmReq(q)!.pitr).toBe(true);
    expect(seen.some((s) => s.by === 'pxtr' && s.p.data?.inner?.src === '198.51.100.7' && s.p.ip!.dst === a.mnA)).toBe(true);
    // The MN learns 198.51.100.7 is not LISP (negative, native-forward) and hands its reply to the PETR.
    expect(seen.some((s) => s.by === 'ms' && reply(s)?.records[0]?.locators.length === 0 && s.p.ip!.dst === a.mnA)).toBe(true);
    expect(seen.some((s) => s.by === 'mn' && s.p.data?.inner?.dst === '198.51.100.7' && s.p.ip!.dst === a.pxtr)).toBe(true);
  });

  // No bound on the wall clock (the machine is shared): the accelerated timers are what keeps this
  // within the test's timeout; with the RFC's timers the story takes minutes.
  it('all: the whole story in one run', async () => {
    const { r } = await lab('all', '127.0.26.0');
    expect(r.steps.length).toBe(12);
  });
});
