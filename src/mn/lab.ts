// The lab: a whole LISP deployment on loopback addresses, no root needed. A Map-Server/Map-Resolver,
// two peer sites' xTRs, a PxTR with a non-LISP host on its native link, an RTR, a NAT and the
// Mobile Node, each on its own 127.x address with the real LISP ports. A scenario drives them with
// accelerated timers, each step checked by what the components observed; everything sent is
// recorded (recorder.ts) and comes back in the result for the CLI to print and analyse.

import { performance } from 'node:perf_hooks';
import type { EventEmitter } from 'node:events';
import { formatIPv4, nonceHex, parseIPv4 } from '../dissect/addr.js';
import { KeyRing } from '../dissect/keyring.js';
import type { CapturePacket } from '../capture/writer.js';
import { prefixKey } from './eid.js';
import { silentLogger, type Logger } from './log.js';
import { locatorAddress, type MapCacheEntry } from './map-cache.js';
import { MapServer } from './map-server.js';
import { MobileNode, type MobileNodeOptions } from './mobile-node.js';
import { Nat } from './nat.js';
import { NativeHost, Pxtr } from './pxtr.js';
import { Recorder, type RecordedFrame } from './recorder.js';
import { delay } from './requests.js';
import type { Timers } from './router.js';
import { Rtr } from './rtr.js';
import { Xtr } from './xtr.js';
import { actionSlug, LISP_CONTROL_PORT, LISP_DATA_PORT } from '../dissect/registry.js';

export type LabScenario = 'register' | 'resolve' | 'handover' | 'nat' | 'probe' | 'pxtr' | 'all';
export const LAB_SCENARIOS: readonly LabScenario[] = ['register', 'resolve', 'handover', 'nat', 'probe', 'pxtr', 'all'];

/** The timers of the lab: the RFC defaults, accelerated so a scenario takes about a second. */
export const LAB_TIMERS: Partial<Timers> = {
  mapRequestTimeoutMs: 300,
  mapRequestRetries: 3,
  registerIntervalMs: 3000,
  mapNotifyTimeoutMs: 300,
  mapRegisterRetries: 3,
  probeTimeoutMs: 500,
  smrMinIntervalMs: 200,
  smrInvokedMinIntervalMs: 200,
  infoIntervalMs: 3000,
  echoTimeoutMs: 1500,
};

/** EIDs of the lab's sites and hosts. */
export const LAB_EIDS = {
  mn: '10.1.0.5/32',
  mnHost: '10.1.0.5',
  siteA: '10.2.0.0/24',
  hostA: '10.2.0.7',
  siteB: '10.3.0.0/24',
  hostB: '10.3.0.9',
  /** The PxTR announces this to the non-LISP world. */
  attracted: '10.0.0.0/8',
  nativeHost: '198.51.100.7',
  /** Registered by nobody. */
  unknown: '10.99.0.1',
} as const;

/** The sites' keys (lab only: written into the result so the CLI can verify authentication). */
export const LAB_KEYS = { mn: 'mn-lab-key', siteA: 'site-a-lab-key', siteB: 'site-b-lab-key' } as const;

/** The lab's keys in key-file form (`read --keys`). */
export function labKeysText(): string {
  return `# lispscope lab keys\n${LAB_EIDS.mn} ${LAB_KEYS.mn}\n${LAB_EIDS.siteA} ${LAB_KEYS.siteA}\n${LAB_EIDS.siteB} ${LAB_KEYS.siteB}\n`;
}

/** The lab's keys as a ring, to verify what the lab signs. */
export function labKeyRing(): KeyRing {
  const ring = KeyRing.parse(labKeysText(), 'lab keys');
  if ('error' in ring) throw new Error(ring.error);
  return ring;
}

export interface LabAddresses {
  ms: string;
  xtrA: string;
  xtrB: string;
  pxtr: string;
  nativeHost: string;
  rtr: string;
  natPublic: string;
  natInside: string;
  /** The Mobile Node's first and second RLOC, and its address behind the NAT. */
  mnA: string;
  mnB: string;
  mnPrivate: string;
}

/** The lab's roles at offsets from the base address. */
export function labAddresses(base = '127.0.1.0'): LabAddresses {
  const b = parseIPv4(base);
  if (!b || b[0] !== 127) throw new RangeError(`the lab runs on loopback: --base must be an IPv4 address in 127.0.0.0/8, not "${base}"`);
  const n = ((b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  if (n + 12 > 0xfffffe) throw new RangeError(`--base ${base} leaves no room for the lab's 12 addresses`);
  const at = (k: number) => {
    const v = n + k;
    return formatIPv4(Uint8Array.of(127, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff), 0);
  };
  return {
    ms: at(1),
    xtrA: at(2),
    xtrB: at(3),
    pxtr: at(4),
    nativeHost: at(5),
    rtr: at(6),
    natPublic: at(7),
    natInside: at(8),
    mnA: at(10),
    mnB: at(11),
    mnPrivate: at(12),
  };
}

export interface LabOptions {
  /** Default 'all'. */
  scenario?: LabScenario;
  /** Default 127.0.1.0: the components use .1 to .12 above it. */
  base?: string;
  /** Default 4342 and 4341. */
  controlPort?: number;
  dataPort?: number;
  /** The PxTR's simulated native link (default: any free port). */
  nativePort?: number;
  /** Keep running (registrations refreshed, the MN pinging its peer every second) until this long after the start. */
  durationMs?: number;
  /**
   * Called once the scenario's steps have run and the lab starts holding for `durationMs`: every
   * component is bound, and registered when the steps passed (what a script started beside waits for).
   */
  onHold?: (steps: readonly LabStep[]) => void;
  timers?: Partial<Timers>;
  /** Also write every frame here as it is sent (a capture file writer). */
  writer?: { write(p: CapturePacket): void };
  /** Called for every frame as it is sent. */
  onFrame?: (f: RecordedFrame) => void;
  log?: Logger;
  /** Aborting stops the lab after the current step. */
  signal?: AbortSignal;
  /** Sets the lab fills with the ports the decoder must know (see LabResult.decodeAs), for a decoder running while it records. */
  decodeAs?: { control: Set<number>; data: Set<number> };
}

export interface LabStep {
  name: string;
  ok: boolean;
  /** Duration, ms. */
  ms: number;
  /** What was observed (or why it failed). */
  detail: string;
}

export interface LabResult {
  scenario: LabScenario;
  steps: LabStep[];
  /** Every datagram sent, in order (Frame objects: feed them to PacketDecoder). */
  frames: RecordedFrame[];
  linkType: number;
  /** Ports the decoder must be told about: moved LISP ports, and the NAT's public ports of the MN's data port. */
  decodeAs: { control: number[]; data: number[] };
  /** The sites' keys in key-file form (for PacketDecoder's keyFor via KeyRing). */
  keys: string;
  addresses: LabAddresses;
  durationMs: number;
  interrupted: boolean;
}

class StepFailed extends Error {}

function fail(message: string): never {
  throw new StepFailed(message);
}

/** Resolves with the first `event` whose argument satisfies `test`, or rejects after `ms`. */
export function waitForEvent<T>(em: EventEmitter, event: string, test: (v: T) => boolean, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      em.off(event, on);
      reject(new StepFailed(`no ${event} within ${ms} ms`));
    }, ms);
    function on(v: T) {
      if (!test(v)) return;
      clearTimeout(timer);
      em.off(event, on);
      resolve(v);
    }
    em.on(event, on);
  });
}

// Three decimals in ms, as every RTT lispscope prints (src/output/units.ts; mn does not import output).
const fmt = (ms: number) => `${ms.toFixed(3)} ms`;
const hex = (n: bigint) => `0x${nonceHex(n)}`;

function locs(e: MapCacheEntry | undefined): string[] {
  return e ? e.locators.map((l) => locatorAddress(l) ?? '?') : [];
}

export class Lab {
  readonly recorder: Recorder;
  readonly addresses: LabAddresses;
  readonly steps: LabStep[] = [];
  readonly decodeAs: { control: Set<number>; data: Set<number> };
  readonly timers: Partial<Timers>;
  ms!: MapServer;
  xtrA!: Xtr;
  xtrB!: Xtr;
  pxtr!: Pxtr;
  host!: NativeHost;
  rtr!: Rtr;
  nat!: Nat;
  mn: MobileNode | undefined;
  interrupted = false;
  private readonly log: Logger;
  private readonly controlPort: number;
  private readonly dataPort: number;
  private readonly started = performance.now();
  private readonly closers: Array<() => Promise<void>> = [];

  private constructor(readonly opts: LabOptions) {
    this.addresses = labAddresses(opts.base);
    this.decodeAs = opts.decodeAs ?? { control: new Set(), data: new Set() };
    this.recorder = new Recorder(opts.writer ? { writer: opts.writer } : {});
    if (opts.onFrame) this.recorder.onFrame(opts.onFrame);
    this.log = opts.log ?? silentLogger;
    this.controlPort = opts.controlPort ?? LISP_CONTROL_PORT;
    this.dataPort = opts.dataPort ?? LISP_DATA_PORT;
    if (this.controlPort !== LISP_CONTROL_PORT) this.decodeAs.control.add(this.controlPort);
    if (this.dataPort !== LISP_DATA_PORT) this.decodeAs.data.add(this.dataPort);
    this.timers = { ...LAB_TIMERS, ...opts.timers };
    opts.signal?.addEventListener('abort', () => (this.interrupted = true), { once: true });
  }

  /** Starts the infrastructure (everything but the Mobile Node, which each scenario places). */
  static async start(opts: LabOptions = {}): Promise<Lab> {
    const lab = new Lab(opts);
    try {
      await lab.startInfrastructure();
    } catch (e) {
      await lab.stop();
      throw e;
    }
    return lab;
  }

  /**
   * What a component receives is recorded when it comes from outside the lab (an `mn register` or
   * `inject` pointed at it): what the lab's own components send, they record themselves. Without it
   * the lab's capture held a Map-Notify to an external Mobile Node without its Map-Register.
   */
  private readonly fromOutside = (src: string): boolean => !Object.values(this.addresses).includes(src);

  private get common() {
    return {
      recorder: this.recorder,
      recordReceived: this.fromOutside,
      log: this.log,
      timers: this.timers,
      ports: { control: this.controlPort, data: this.dataPort },
    };
  }

  private async startInfrastructure(): Promise<void> {
    const a = this.addresses;
    const interval = this.timers.registerIntervalMs ?? 3000;
    this.ms = await MapServer.start({
      name: 'ms',
      address: a.ms,
      port: this.controlPort,
      dataPort: this.dataPort,
      sites: [
        { name: 'mobile-node', key: LAB_KEYS.mn, prefixes: [LAB_EIDS.mn] },
        { name: 'site-a', key: LAB_KEYS.siteA, prefixes: [LAB_EIDS.siteA] },
        { name: 'site-b', key: LAB_KEYS.siteB, prefixes: [LAB_EIDS.siteB] },
      ],
      rtrs: [a.rtr],
      registrationTimeoutMs: 3 * interval,
      recorder: this.recorder,
      recordReceived: this.fromOutside,
      log: this.log,
    });
    this.closers.push(() => this.ms.close());
    this.rtr = await Rtr.start({ ...this.common, name: 'rtr', rlocs: [a.rtr], mapResolver: a.ms });
    this.closers.push(() => this.rtr.stop());
    this.pxtr = await Pxtr.start({
      ...this.common,
      name: 'pxtr',
      rlocs: [a.pxtr],
      mapResolver: a.ms,
      attract: [LAB_EIDS.attracted],
      ...(this.opts.nativePort ? { nativePort: this.opts.nativePort } : {}),
    });
    this.closers.push(() => this.pxtr.stop());
    this.host = await NativeHost.start({
      name: 'host',
      ip: LAB_EIDS.nativeHost,
      bind: a.nativeHost,
      gateway: this.pxtr.nativeGateway,
      recorder: this.recorder,
      log: this.log,
    });
    this.closers.push(() => this.host.close());
    this.nat = await Nat.start({
      name: 'nat',
      insideAddress: a.natInside,
      publicAddress: a.natPublic,
      recorder: this.recorder,
      log: this.log,
      onMapping: (m) => {
        if (m.insidePort === this.dataPort) this.decodeAs.data.add(m.publicPort);
      },
    });
    this.closers.push(() => this.nat.close());
    const xtr = (name: string, rloc: string, eid: string, key: string) =>
      new Xtr({ ...this.common, name, rlocs: [rloc], eids: [eid], mapResolver: a.ms, mapServer: { address: a.ms, port: this.controlPort, key, keyId: 2 } });
    this.xtrA = xtr('xtr-a', a.xtrA, LAB_EIDS.siteA, LAB_KEYS.siteA);
    this.xtrB = xtr('xtr-b', a.xtrB, LAB_EIDS.siteB, LAB_KEYS.siteB);
    this.closers.push(() => this.xtrA.stop(), () => this.xtrB.stop());
  }

  /** The Mobile Node's options, at its first RLOC or behind the NAT. */
  mobileNodeOptions(where: 'A' | 'nat', over: Partial<MobileNodeOptions> = {}): MobileNodeOptions {
    const a = this.addresses;
    return {
      ...this.common,
      name: 'mn',
      eid: LAB_EIDS.mn,
      rlocs: [where === 'nat' ? a.mnPrivate : a.mnA],
      ...(where === 'nat' ? { gateway: this.nat.gateway } : {}),
      mapServer: { address: a.ms, port: this.controlPort, key: LAB_KEYS.mn, keyId: 2 },
      mapResolver: a.ms,
      petr: a.pxtr,
      natTraversal: true,
      ...over,
    };
  }

  /** Runs one step: `fn` returns what it observed, or throws why it failed. */
  async step(name: string, fn: () => Promise<string>): Promise<boolean> {
    const t0 = performance.now();
    let ok = true;
    let detail: string;
    try {
      detail = await fn();
    } catch (e) {
      ok = false;
      detail = (e as Error).message;
      if (!(e instanceof StepFailed)) this.log('warn', 'lab', `step "${name}": ${(e as Error).stack ?? e}`);
    }
    const s: LabStep = { name, ok, ms: performance.now() - t0, detail };
    this.steps.push(s);
    this.log(ok ? 'info' : 'warn', 'lab', `${ok ? 'ok' : 'FAILED'} ${name}: ${detail}`);
    return ok;
  }

  /** Runs a scenario's steps; stops at the first failure (later steps depend on earlier ones). */
  async run(scenario: LabScenario): Promise<LabStep[]> {
    const plan: Array<() => Promise<boolean>> = [];
    const add = (...fns: Array<() => Promise<boolean>>) => plan.push(...fns);
    const reg = () => this.registerSites();
    const mnAtA = () => this.startMn('A');
    const resolve = [() => this.resolvePeer(), () => this.pingPeer('MN pings 10.2.0.7 (xTR-A resolves the MN: proxy Map-Reply)')];
    switch (scenario) {
      case 'register':
        add(reg, mnAtA);
        break;
      case 'resolve':
        add(reg, mnAtA, ...resolve, () => this.negative());
        break;
      case 'probe':
        add(reg, mnAtA, ...resolve, () => this.probes());
        break;
      case 'pxtr':
        add(reg, mnAtA, () => this.pxtrRoundTrip());
        break;
      case 'handover':
        add(reg, mnAtA, ...resolve, () => this.handover(), () => this.pingPeer('MN pings 10.2.0.7 at its new RLOC', this.addresses.mnB));
        break;
      case 'nat':
        add(reg, () => this.startMn('nat'), () => this.natRegistered(), () => this.pingThroughRtr(false));
        break;
      case 'all':
        add(
          reg,
          mnAtA,
          ...resolve,
          () => this.negative(),
          () => this.probes(),
          () => this.pxtrRoundTrip(),
          () => this.handover(),
          () => this.pingPeer('MN pings 10.2.0.7 at its new RLOC', this.addresses.mnB),
          () => this.moveBehindNat(),
          () => this.natRegistered(),
          () => this.pingThroughRtr(true),
        );
        break;
    }
    for (const next of plan) {
      if (this.interrupted) break;
      if (!(await next())) break;
    }
    return this.steps;
  }

  /** Keeps the lab running until `durationMs` after the start: the MN pings its peer every second. */
  async hold(durationMs: number): Promise<void> {
    while (!this.interrupted && performance.now() - this.started < durationMs) {
      const left = durationMs - (performance.now() - this.started);
      if (this.mn) void this.mn.ping(LAB_EIDS.hostA, { timeoutMs: 900 });
      await delay(Math.min(1000, left), this.opts.signal);
    }
  }

  async stop(): Promise<void> {
    const closers = this.closers.splice(0).reverse();
    if (this.mn) closers.unshift(() => this.mn!.stop());
    for (const c of closers) await c().catch(() => undefined);
  }

  result(scenario: LabScenario): LabResult {
    const a = this.addresses;
    return {
      scenario,
      steps: this.steps,
      frames: this.recorder.frames,
      linkType: this.recorder.linkType,
      decodeAs: { control: [...this.decodeAs.control], data: [...this.decodeAs.data] },
      keys: labKeysText(),
      addresses: a,
      durationMs: performance.now() - this.started,
      interrupted: this.interrupted,
    };
  }

  // ---- steps -------------------------------------------------------------------------------

  private registerSites(): Promise<boolean> {
    return this.step('xTR-A and xTR-B register their sites', async () => {
      await Promise.all([this.xtrA.start(), this.xtrB.start()]);
      const ra = this.xtrA.registration;
      const rb = this.xtrB.registration;
      if (!ra || !rb) fail(`no Map-Notify for ${!ra ? 'xTR-A' : 'xTR-B'}`);
      return `Map-Notify ${hex(ra.nonce)} in ${fmt(ra.rttMs)}, ${hex(rb.nonce)} in ${fmt(rb.rttMs)}`;
    });
  }

  private startMn(where: 'A' | 'nat'): Promise<boolean> {
    const name = where === 'A' ? `MN registers ${LAB_EIDS.mn} at ${this.addresses.mnA}` : `MN starts behind the NAT at ${this.addresses.mnPrivate}`;
    return this.step(name, async () => {
      this.mn = await MobileNode.start(this.mobileNodeOptions(where));
      const att = this.mn.attachment;
      if (!att?.registration) fail('no Map-Notify for the Mobile Node');
      const info = att.info ? `, Info-Reply: ${att.info.behindNat ? `behind NAT as ${att.info.global}:${att.info.port}` : 'no NAT'}` : '';
      return `Map-Notify ${hex(att.registration.nonce)} (same nonce, auth ok) in ${fmt(att.registration.rttMs)}${info}`;
    });
  }

  private resolvePeer(): Promise<boolean> {
    return this.step(`MN resolves ${LAB_EIDS.hostA} through the Map-Resolver`, async () => {
      const mn = this.mn!;
      const ev = waitForEvent<{ eid: string; from: string; rttMs: number; attempts: number }>(mn, 'resolved', () => true, 3000);
      const e = await mn.resolve(`${LAB_EIDS.hostA}/32`, { force: true });
      const r = await ev;
      if (!e || !locs(e).includes(this.addresses.xtrA)) fail(`expected ${LAB_EIDS.siteA} -> ${this.addresses.xtrA}, got ${e ? `${e.key} -> ${locs(e).join(',')}` : 'nothing'}`);
      return `${e.key} -> ${locs(e).join(', ')}, Map-Reply from the ETR ${r.from} in ${fmt(r.rttMs)}`;
    });
  }

  private pingPeer(name: string, expectAt?: string): Promise<boolean> {
    return this.step(name, async () => {
      const mn = this.mn!;
      const seen: string[] = [];
      const onEncap = (e: { to: string }) => seen.push(e.to);
      this.xtrA.on('encapsulated', onEncap);
      try {
        const r = await mn.ping(LAB_EIDS.hostA);
        if (!r) fail('no echo reply');
        if (expectAt && !seen.includes(expectAt)) fail(`xTR-A sent the reply to ${seen.join(', ') || 'nobody'}, not ${expectAt}`);
        return `echo reply from ${r.from} in ${fmt(r.rttMs)}${expectAt ? `; xTR-A encapsulates to ${expectAt}` : ''}`;
      } finally {
        this.xtrA.off('encapsulated', onEncap);
      }
    });
  }

  private negative(): Promise<boolean> {
    return this.step(`MN resolves ${LAB_EIDS.unknown}: negative Map-Reply`, async () => {
      const e = await this.mn!.resolve(`${LAB_EIDS.unknown}/32`, { force: true });
      if (!e) fail('no Map-Reply');
      if (!e.negative || actionSlug(e.action) !== 'native-forward' || e.ttl !== 15) fail(`expected a negative native-forward reply with TTL 15, got ${e.key} action ${e.action} ttl ${e.ttl}`);
      return `${e.key} ttl ${e.ttl} native-forward`;
    });
  }

  private probes(): Promise<boolean> {
    return this.step('RLOC-probes both ways (reply with the p bit)', async () => {
      const a = this.addresses;
      const r1 = await this.mn!.probe(a.xtrA, LAB_EIDS.siteA);
      if (!r1 || r1.probed !== a.xtrA) fail(`probe of ${a.xtrA}: ${r1 ? `probed locator ${r1.probed ?? 'none'}` : 'no reply'}`);
      const r2 = await this.xtrA.probe(this.mn!.primaryRloc, LAB_EIDS.mn);
      if (!r2 || r2.probed !== this.mn!.primaryRloc) fail(`probe of the MN: ${r2 ? `probed locator ${r2.probed ?? 'none'}` : 'no reply'}`);
      return `${a.xtrA} answered in ${fmt(r1.rttMs)}, ${r2.probed} in ${fmt(r2.rttMs)}`;
    });
  }

  private pxtrRoundTrip(): Promise<boolean> {
    return this.step(`non-LISP host ${LAB_EIDS.nativeHost} pings the MN through the PxTR`, async () => {
      const r = await this.host.ping(LAB_EIDS.mnHost, 3000);
      if (!r) fail('no echo reply');
      if (this.pxtr.native.in < 1 || this.pxtr.native.out < 1) fail('the PxTR did not carry both directions');
      return `echo reply from ${r.from} in ${fmt(r.rttMs)} (PITR in, PETR out)`;
    });
  }

  private handover(): Promise<boolean> {
    const b = this.addresses.mnB;
    return this.step(`handover: MN moves to ${b}, re-registers, SMRs its peers`, async () => {
      const mn = this.mn!;
      const updated = waitForEvent<{ entry?: MapCacheEntry; smrInvoked: boolean; rttMs: number }>(
        this.xtrA,
        'resolved',
        (r) => r.smrInvoked && locs(r.entry).includes(b),
        4000,
      );
      const h = await mn.moveTo([b]);
      if (!h.registration) fail('no Map-Notify after the move');
      const smr = h.smrs.find((s) => s.rloc === this.addresses.xtrA);
      if (!smr) fail(`no SMR to xTR-A (sent to: ${h.smrs.map((s) => s.rloc).join(', ') || 'nobody'})`);
      const r = await updated;
      return `Map-Notify ${hex(h.registration.nonce)} in ${fmt(h.registration.rttMs)}, SMR ${hex(smr.nonce)} to ${smr.rloc}, xTR-A's SMR-invoked Map-Request answered with ${b} in ${fmt(r.rttMs)}`;
    });
  }

  private moveBehindNat(): Promise<boolean> {
    const a = this.addresses;
    return this.step(`MN moves behind the NAT (${a.mnPrivate} -> ${a.natPublic})`, async () => {
      const mn = this.mn!;
      const updated = waitForEvent<{ entry?: MapCacheEntry; smrInvoked: boolean }>(this.xtrA, 'resolved', (r) => r.smrInvoked && locs(r.entry).includes(a.rtr), 4000);
      const h = await mn.moveTo([a.mnPrivate], { gateway: this.nat.gateway });
      if (!h.info?.behindNat) fail('the Info-Reply shows no NAT');
      if (!h.registration) fail('no Map-Notify through the RTR');
      await updated;
      return `Info-Reply: seen as ${h.info.global}:${h.info.port}; SMR to ${h.smrs.map((s) => s.rloc).join(', ')}; xTR-A now maps ${LAB_EIDS.mn} to the RTR ${a.rtr}`;
    });
  }

  private natRegistered(): Promise<boolean> {
    return this.step('Data-Map-Register relayed by the RTR, Map-Notify relayed back', async () => {
      const mn = this.mn!;
      const a = this.addresses;
      const info = mn.nat;
      if (!info) fail('the MN does not think it is behind a NAT');
      const mapping = this.nat.mappingFor(a.mnPrivate, this.dataPort);
      if (!mapping || info.port !== mapping.publicPort || info.global !== a.natPublic) {
        fail(`Info-Reply says ${info.global}:${info.port}, the NAT mapped ${mapping ? `${mapping.publicAddress}:${mapping.publicPort}` : 'nothing'}`);
      }
      if (this.rtr.relayed.registers < 1 || this.rtr.relayed.notifies < 1) fail('the RTR relayed no Map-Register/Map-Notify');
      const b = this.rtr.bindingFor({ address: { kind: 'ipv4', afi: 1, addr: LAB_EIDS.mnHost }, maskLen: 32 });
      if (!b || b.port !== mapping.publicPort) fail('the RTR has no binding for the MN at its translated port');
      const reg = this.ms.lookup({ address: { kind: 'ipv4', afi: 1, addr: LAB_EIDS.mnHost }, maskLen: 32 });
      const rl = reg ? MapServer.locators(reg).map((l) => locatorAddress(l)) : [];
      if (!rl.includes(a.rtr)) fail(`the Map-Server maps the MN to ${rl.join(', ') || 'nothing'}, not the RTR`);
      return `translated ${a.mnPrivate}:${this.dataPort} -> ${mapping.publicAddress}:${mapping.publicPort}; RTR binding ${prefixKey(b.eids[0]!)} -> ${b.global}:${b.port}; MS maps the MN to ${a.rtr}`;
    });
  }

  private pingThroughRtr(afterHandover: boolean): Promise<boolean> {
    return this.step(`xTR-A's host pings the MN through the RTR${afterHandover ? '' : ' (and the MN answers through it)'}`, async () => {
      const r = await this.xtrA.ping(LAB_EIDS.mnHost, { src: LAB_EIDS.hostA, timeoutMs: 3000 });
      if (!r) fail('no echo reply');
      if (this.rtr.relayed.data < 1) fail('the RTR re-encapsulated nothing to the MN');
      return `echo reply from ${r.from} in ${fmt(r.rttMs)}; the RTR re-encapsulated ${this.rtr.relayed.data} packet(s) to the NAT`;
    });
  }
}

/** Starts the lab, runs the scenario, holds it for the duration, stops it, and returns what was recorded. */
export async function runLab(opts: LabOptions = {}): Promise<LabResult> {
  const scenario = opts.scenario ?? 'all';
  const lab = await Lab.start(opts);
  try {
    await lab.run(scenario);
    if (opts.durationMs && !lab.interrupted) {
      opts.onHold?.(lab.steps);
      await lab.hold(opts.durationMs);
    }
  } finally {
    await lab.stop();
  }
  return lab.result(scenario);
}
