// One-shot exchanges with a real deployment, like `lig` and `rig` do: a Map-Request to a
// Map-Resolver (in an ECM), an RLOC-probe, an SMR, a Map-Register, an Info-Request. One UDP
// endpoint on the source the user chose (or the address the kernel would use towards the peer),
// retransmissions with back-off, answers matched by nonce and authenticated with the site key.

import dgram from 'node:dgram';
import { verifyAuth } from '../dissect/auth.js';
import { encodeControl } from '../dissect/control.js';
import { ecm, infoRequest, mapRequest, mappingRecord, type LocatorSpec } from '../dissect/build.js';
import { ipAddress } from '../dissect/address.js';
import type { InfoMessage, MapReply, MappingRecord } from '../dissect/types.js';
import { eidIp, toPrefix, type Prefix } from './eid.js';
import { silentLogger, type Logger } from './log.js';
import type { Recorder } from './recorder.js';
import { Registrar, type MapServerAccess, type RegistrationFlags, type RegistrationResult } from './registration.js';
import { NonceTable, type RetryTimers } from './requests.js';
import { LispSocket, type Received, type SendPolicy } from './socket.js';

/** The local address the kernel picks to reach `dst` (no packet is sent: a connected UDP socket). */
export function sourceAddressFor(dst: string): Promise<string> {
  const v6 = ipAddress(dst)?.kind === 'ipv6';
  const s = dgram.createSocket(v6 ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    s.once('error', (e) => {
      s.close();
      reject(e);
    });
    s.connect(4342, dst, () => {
      const a = s.address().address;
      s.close();
      resolve(a);
    });
  });
}

export interface ClientOptions {
  /** The peer this client talks to first (to find the source address when none is given). */
  towards: string;
  /** Address to bind (default: any). */
  source?: string;
  /** Port to bind (default: ephemeral). */
  port?: number;
  /** Destination LISP control port (default 4342). */
  controlPort?: number;
  retry?: RetryTimers;
  recorder?: Recorder;
  log?: Logger;
  policy?: SendPolicy;
}

export interface ResolveResult {
  reply: MapReply;
  /** Who sent the Map-Reply. */
  from: string;
  rttMs: number;
  attempts: number;
  nonce: bigint;
  /** Our ITR-RLOC and port (where the answer had to come). */
  itrRloc: string;
  port: number;
}

export interface InfoResult {
  reply: InfoMessage;
  from: string;
  rttMs: number;
  attempts: number;
  /** Our source as we sent it, and as the Map-Server saw it. */
  local: { address: string; port: number };
  global?: { address: string; port: number };
  msRloc?: string;
  rtrs: string[];
  behindNat: boolean;
  auth: { ok: boolean; reason?: string };
}

export class LispClient {
  private readonly replies = new NonceTable<{ reply: MapReply; rx: Received }>();
  private readonly infos = new NonceTable<{ info: InfoMessage; rx: Received }>();
  private registrar: Registrar | undefined;
  readonly retry: RetryTimers;
  private readonly log: Logger;

  private constructor(
    readonly socket: LispSocket,
    /** The address we put in ITR-RLOCs and expect answers on. */
    readonly localAddress: string,
    private readonly opts: ClientOptions,
  ) {
    this.retry = opts.retry ?? { timeoutMs: 1000, retries: 3 };
    this.log = opts.log ?? silentLogger;
    socket.onReceive((rx) => this.receive(rx));
  }

  static async open(opts: ClientOptions): Promise<LispClient> {
    const v6 = ipAddress(opts.towards)?.kind === 'ipv6';
    const bindAddr = opts.source ?? (v6 ? '::' : '0.0.0.0');
    const local = opts.source ?? (await sourceAddressFor(opts.towards));
    const socket = await LispSocket.open({
      name: 'lispscope',
      address: bindAddr,
      port: opts.port ?? 0,
      role: 'control',
      recordAs: local,
      recordReceived: true,
      ...(opts.recorder ? { recorder: opts.recorder } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.policy ? { policy: opts.policy } : {}),
      ...(opts.controlPort && opts.controlPort !== 4342 ? { ports: { control: opts.controlPort, data: 4341 } } : {}),
    });
    return new LispClient(socket, local, opts);
  }

  private get controlPort(): number {
    return this.opts.controlPort ?? 4342;
  }

  async close(): Promise<void> {
    this.replies.close();
    this.infos.close();
    this.registrar?.close();
    await this.socket.close();
  }

  private receive(rx: Received): void {
    const m = rx.control;
    if (rx.notes.length || !m || 'unknown' in m) {
      this.log('warn', 'lispscope', `ignored a malformed or unknown message from ${rx.src}:${rx.sport}`);
      return;
    }
    if (m.type === 2) {
      if (!this.replies.deliver(m.nonce, { reply: m, rx })) this.log('info', 'lispscope', `ignored a Map-Reply from ${rx.src} with a nonce we did not send`);
    } else if (m.type === 7 && m.reply) {
      this.infos.deliver(m.nonce, { info: m, rx });
    } else if (m.type === 4) {
      if (!this.registrar?.handleNotify(m, rx.bytes, rx.src)) this.log('info', 'lispscope', `ignored a Map-Notify from ${rx.src}`);
    } else {
      this.log('info', 'lispscope', `ignored a message of type ${m.type} from ${rx.src}`);
    }
  }

  /**
   * Asks a Map-Resolver for `eid` (ECM'd Map-Request, RFC 9301 §5.8), retransmitting with back-off;
   * the Map-Reply comes from the resolver (proxy or negative) or straight from the ETR.
   */
  async resolve(eid: string | Prefix, mr: string, o: { sourceEid?: string; smrInvoked?: boolean } = {}): Promise<ResolveResult | undefined> {
    const p = toPrefix(eid);
    const dstIp = eidIp(p.address);
    if (!dstIp) throw new RangeError(`cannot put ${eid} in an inner IP header`);
    const a = await this.replies.request((nonce) => {
      const req = mapRequest({
        nonce,
        eids: [p],
        itrRlocs: [this.localAddress],
        ...(o.sourceEid ? { sourceEid: o.sourceEid } : {}),
        smrInvoked: o.smrInvoked ?? false,
      });
      const sameFamily = dstIp.includes(':') === this.localAddress.includes(':');
      const inner = { src: sameFamily ? this.localAddress : dstIp.includes(':') ? '::' : '0.0.0.0', dst: dstIp, sport: this.socket.port, dport: this.controlPort };
      return this.socket.send(mr, this.controlPort, encodeControl(ecm({ inner, message: req })));
    }, this.retry);
    if (!a) return undefined;
    return { reply: a.value.reply, from: a.value.rx.src, rttMs: a.rttMs, attempts: a.attempts, nonce: a.nonce, itrRloc: this.localAddress, port: this.socket.port };
  }

  /** RLOC-probe (RFC 9301 §7.1): a Map-Request with P straight to `rloc`. */
  async probe(rloc: string, eid: string | Prefix, o: { sourceEid?: string } = {}): Promise<ResolveResult | undefined> {
    const p = toPrefix(eid);
    const a = await this.replies.request(
      (nonce) =>
        this.socket.send(
          rloc,
          this.controlPort,
          encodeControl(mapRequest({ nonce, probe: true, eids: [p], itrRlocs: [this.localAddress], ...(o.sourceEid ? { sourceEid: o.sourceEid } : {}) })),
        ),
      this.retry,
    );
    if (!a) return undefined;
    return { reply: a.value.reply, from: a.value.rx.src, rttMs: a.rttMs, attempts: a.attempts, nonce: a.nonce, itrRloc: this.localAddress, port: this.socket.port };
  }

  /** An SMR (RFC 9301 §6.1) to `peer`: our mapping for `eid` changed; `peerEid` is the EID-record (default ours). */
  smr(peer: string, eid: string | Prefix, nonce: bigint, peerEid?: string | Prefix): boolean {
    const own = toPrefix(eid);
    const src = eidIp(own.address);
    const req = mapRequest({ nonce, smr: true, eids: [peerEid === undefined ? own : toPrefix(peerEid)], itrRlocs: [this.localAddress], ...(src ? { sourceEid: src } : {}) });
    return this.socket.send(peer, this.controlPort, encodeControl(req));
  }

  /** Registers `eid` with `rlocs` (want-map-notify unless told not to), like an ETR does. */
  async register(
    ms: MapServerAccess,
    eid: string | Prefix,
    rlocs: LocatorSpec[],
    o: RegistrationFlags & { ttl?: number; xtrId?: Uint8Array; siteId?: Uint8Array } = {},
  ): Promise<{ result: RegistrationResult | undefined; records: MappingRecord[] }> {
    const records = [mappingRecord({ eid: toPrefix(eid), ttl: o.ttl ?? 1440, locators: rlocs })];
    this.registrar?.close();
    this.registrar = new Registrar({
      name: 'lispscope',
      mapServer: ms,
      records: () => records,
      proxyReply: o.proxyReply ?? false,
      wantMapNotify: o.wantMapNotify ?? true,
      merge: o.merge ?? false,
      mobileNode: o.mobileNode ?? false,
      ...(o.xtrId ? { xtrId: o.xtrId } : {}),
      ...(o.siteId ? { siteId: o.siteId } : {}),
      send: (bytes) => this.socket.send(ms.address, ms.port ?? this.controlPort, bytes),
      retry: this.retry,
      intervalMs: 60_000,
      log: this.log,
    });
    return { result: await this.registrar.register(), records };
  }

  /** NAT discovery: Info-Request to the Map-Server; the Info-Reply says how it saw us. */
  async info(ms: MapServerAccess, eid: string | Prefix): Promise<InfoResult | undefined> {
    const p = toPrefix(eid);
    const a = await this.infos.request(
      (nonce) => this.socket.send(ms.address, ms.port ?? this.controlPort, infoRequest({ nonce, keyId: ms.keyId ?? 2, key: ms.key, eid: p })),
      this.retry,
    );
    if (!a) return undefined;
    const auth = verifyAuth(a.value.rx.bytes, ms.key);
    const body = a.value.info.address.kind === 'lcaf' ? a.value.info.address.lcaf.body : undefined;
    const text = (x: { kind: string; addr?: string }) => (x.kind === 'ipv4' || x.kind === 'ipv6' ? x.addr : undefined);
    const res: InfoResult = {
      reply: a.value.info,
      from: a.value.rx.src,
      rttMs: a.rttMs,
      attempts: a.attempts,
      local: { address: this.localAddress, port: this.socket.port },
      rtrs: [],
      behindNat: false,
      auth: auth.ok ? { ok: true } : { ok: false, reason: auth.reason },
    };
    if (body?.kind === 'nat-traversal') {
      const g = text(body.globalEtrRloc);
      if (g) res.global = { address: g, port: body.etrUdpPort };
      const ms2 = text(body.msRloc);
      if (ms2) res.msRloc = ms2;
      res.rtrs = body.rtrRlocs.map(text).filter((x): x is string => !!x);
      res.behindNat = !!g && (g !== this.localAddress || body.etrUdpPort !== this.socket.port);
    }
    return res;
  }
}
