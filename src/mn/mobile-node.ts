// The LISP Mobile Node (draft-ietf-lisp-mn; RFC 9301 §6, §8): a lightweight xTR on the host. Its
// EID stays; its RLOCs are the addresses of its current interfaces. It registers the EID with
// them (want-map-notify, proxy-reply, retransmitting until the Map-Notify comes, refreshing every
// minute), resolves and caches its peers, and on a move (handover) re-registers at once with a new
// nonce and sends SMRs to the peers it talked to in the last minute, so they re-resolve it.
// Behind a NAT (NAT-traversal draft) it learns so from an Info-Reply, registers through an RTR
// with a Data-Map-Register, and sends all its traffic through the RTR.

import { performance } from 'node:perf_hooks';
import { verifyAuth } from '../dissect/auth.js';
import { encodeControl } from '../dissect/control.js';
import { ecm, infoRequest } from '../dissect/build.js';
import type { ControlMessage, InfoMessage, LispAddress } from '../dissect/types.js';
import { prefixKey, toPrefix, type Prefix } from './eid.js';
import type { InnerPacket } from './host.js';
import { stableXtrId, type MapServerAccess, type RegistrationResult } from './registration.js';
import { NonceTable } from './requests.js';
import { LispRouter, type RouterOptions, type SmrSent } from './router.js';
import type { Gateway, Received } from './socket.js';
import { MessageType } from '../dissect/registry.js';

export interface MobileNodeOptions extends Omit<RouterOptions, 'eids' | 'mapServer' | 'registration'> {
  /** The MN's EID (a host prefix, e.g. 10.1.0.5/32). */
  eid: string | Prefix;
  mapServer: MapServerAccess;
  mapResolver: string;
  /** Ask the Map-Server to answer for us (default true: a roaming node may not be reachable for Map-Requests). */
  proxyReply?: boolean;
  /** Send an Info-Request on every attachment to discover a NAT (default false). */
  natTraversal?: boolean;
  /** Register at start and keep refreshing (default true). */
  register?: boolean;
}

/** What an Info-Reply told us. */
export interface NatInfo {
  /** Our address and port as the Map-Server saw them. */
  global: string;
  port: number;
  msRloc: string;
  msPort: number;
  rtrs: string[];
  /** Our own address. */
  private: string;
  /** The Map-Server saw another address or port than ours. */
  behindNat: boolean;
  rttMs: number;
  nonce: bigint;
}

export interface AttachResult {
  info?: NatInfo;
  registration?: RegistrationResult;
}

export interface HandoverResult extends AttachResult {
  from: string[];
  to: string[];
  smrs: SmrSent[];
  /** From the move to the end of the SMRs, ms. */
  totalMs: number;
}

function addr(a: LispAddress): string | undefined {
  return a.kind === 'ipv4' || a.kind === 'ipv6' ? a.addr : undefined;
}

export class MobileNode extends LispRouter {
  /** Set while behind a NAT. */
  nat: NatInfo | undefined;
  /** The last attachment (start or handover). */
  attachment: AttachResult | undefined;
  private readonly infos = new NonceTable<{ info: InfoMessage; rx: Received }>();
  private infoTimer: NodeJS.Timeout | undefined;

  constructor(readonly mnOpts: MobileNodeOptions) {
    super({
      ...mnOpts,
      eids: [mnOpts.eid],
      mapServer: mnOpts.mapServer,
      registration: { proxyReply: mnOpts.proxyReply ?? true, mobileNode: true, wantMapNotify: true },
      // A Mobile Node keeps its xTR-ID across runs and moves (draft-ietf-lisp-mn): the same EID and key, the same ID.
      xtrId: mnOpts.xtrId === undefined ? stableXtrId(toPrefix(mnOpts.eid), mnOpts.mapServer.key) : mnOpts.xtrId,
    });
  }

  static async start(opts: MobileNodeOptions): Promise<MobileNode> {
    const mn = new MobileNode(opts);
    await mn.start();
    return mn;
  }

  get eid(): Prefix {
    return this.eids[0]!;
  }

  override async start(): Promise<void> {
    await super.start();
    this.attachment = await this.attach();
  }

  override async stop(): Promise<void> {
    this.stopInfo();
    this.infos.close();
    await super.stop();
  }

  /**
   * Joins the current network: NAT discovery (when enabled), then registration through the path it
   * calls for. Resolves when the Map-Notify arrived (or the retransmissions ran out).
   */
  async attach(): Promise<AttachResult> {
    const res: AttachResult = {};
    this.stopInfo();
    this.nat = undefined;
    this.useDirect();
    if (this.mnOpts.natTraversal) {
      const info = await this.infoRequest();
      if (info) {
        res.info = info;
        if (info.behindNat) {
          if (info.rtrs.length === 0) this.log('warn', this.name, 'behind a NAT but the Map-Server named no RTR: registering directly');
          else {
            this.nat = info;
            this.useRtr(info);
            this.log('info', this.name, `behind a NAT (${info.private} seen as ${info.global}:${info.port}): registering through the RTR ${info.rtrs[0]}`);
            this.emit('nat', info);
          }
        }
      } else {
        this.log('warn', this.name, 'no Info-Reply: assuming no NAT');
      }
    }
    if (this.mnOpts.register !== false && this.registrar) {
      const r = await this.register();
      if (r) res.registration = r;
    }
    if (this.nat) this.scheduleInfo();
    return res;
  }

  /**
   * Handover: our RLOCs changed to `rlocs` (and, in the lab, the NAT we are behind). Rebinds,
   * re-registers at once with a new nonce, then SMRs the peers of the last minute.
   */
  async moveTo(rlocs: string[], o: { gateway?: Gateway } = {}): Promise<HandoverResult> {
    const from = [...this.rlocs];
    const t0 = performance.now();
    this.emit('moving', { from, to: rlocs });
    this.log('info', this.name, `moving from ${from.join(', ')} to ${rlocs.join(', ')}`);
    await this.unbind();
    try {
      await this.bind(rlocs, o.gateway);
    } catch (e) {
      await this.bind(from, this.gateway).catch(() => undefined);
      throw e;
    }
    const att = await this.attach();
    this.attachment = att;
    const smrs = this.sendSmrs();
    const r: HandoverResult = { from, to: [...rlocs], ...att, smrs, totalMs: performance.now() - t0 };
    this.emit('handover', r);
    return r;
  }

  /** Info-Request (NAT-traversal draft) from our data port to the Map-Server; the Info-Reply says what it saw. */
  async infoRequest(): Promise<NatInfo | undefined> {
    const ms = this.mnOpts.mapServer;
    const msPort = ms.port ?? this.controlPort;
    const a = await this.infos.request(
      (nonce, _attempt, sent) => {
        const s = this.data[0];
        return s ? s.send(ms.address, msPort, infoRequest({ nonce, keyId: ms.keyId ?? 2, key: ms.key, eid: this.eid }), { onSent: sent }) : false;
      },
      { timeoutMs: this.timers.mapNotifyTimeoutMs, retries: this.timers.mapRegisterRetries },
    );
    if (!a) return undefined;
    const lcaf = a.value.info.address.kind === 'lcaf' ? a.value.info.address.lcaf.body : undefined;
    if (!lcaf || lcaf.kind !== 'nat-traversal') return undefined;
    const global = addr(lcaf.globalEtrRloc) ?? a.value.rx.src;
    const info: NatInfo = {
      global,
      port: lcaf.etrUdpPort,
      msRloc: addr(lcaf.msRloc) ?? ms.address,
      msPort: lcaf.msUdpPort,
      rtrs: lcaf.rtrRlocs.map(addr).filter((x): x is string => !!x),
      private: this.primaryRloc,
      behindNat: global !== this.primaryRloc || lcaf.etrUdpPort !== this.dataPort,
      rttMs: a.rttMs,
      nonce: a.nonce,
    };
    this.emit('info', info);
    return info;
  }

  protected override onControl(rx: Received, m: ControlMessage): boolean {
    if (m.type === MessageType.Info && !('unknown' in m) && m.reply) {
      if (!this.infos.has(m.nonce)) return false;
      const auth = verifyAuth(rx.bytes, this.mnOpts.mapServer.key);
      if (!auth.ok) {
        this.log('warn', this.name, `Info-Reply from ${rx.src} failed authentication (${auth.reason}): dropped`);
        return true;
      }
      this.infos.deliver(m.nonce, { info: m, rx }, rx.at);
      return true;
    }
    return false;
  }

  override knowsRloc(address: string): boolean {
    return super.knowsRloc(address) || !!this.nat?.rtrs.includes(address);
  }

  /** Behind a NAT our locators are the RTRs: remote ITRs encapsulate to them. */
  protected override ownLocators(): Array<{ rloc: string | LispAddress; local: boolean }> {
    if (this.nat) return this.nat.rtrs.map((r) => ({ rloc: r, local: false }));
    return super.ownLocators();
  }

  /** Behind a NAT everything goes through the RTR. */
  protected override async destination(dst: Prefix, info: InnerPacket): Promise<{ rloc: string; port?: number } | 'native' | undefined> {
    if (this.nat) return { rloc: this.nat.rtrs[0]! };
    return super.destination(dst, info);
  }

  private useDirect(): void {
    const ms = this.mnOpts.mapServer;
    this.registrar?.setSender((bytes, _nonce, sent) => this.sendControl(ms.address, ms.port ?? this.controlPort, bytes, undefined, sent), { rtr: false });
  }

  /** Data-Map-Register: the Map-Register in an ECM (R: for the RTR, N: relay to the Map-Server) from our data port to the RTR. */
  private useRtr(info: NatInfo): void {
    const ms = this.mnOpts.mapServer;
    this.registrar?.setSender(
      (bytes, _nonce, sent) => {
        const s = this.data[0];
        if (!s) return false;
        const e = ecm({
          toEtr: true,
          toMs: true,
          inner: { src: this.primaryRloc, dst: ms.address, sport: this.controlPort, dport: ms.port ?? this.controlPort },
          message: bytes,
        });
        return s.send(info.rtrs[0]!, this.controlPort, encodeControl(e), sent ? { onSent: sent } : {});
      },
      { rtr: true },
    );
  }

  /** Keeps the NAT binding alive and notices when it changes. */
  private scheduleInfo(): void {
    this.stopInfo();
    this.infoTimer = setTimeout(async () => {
      const info = await this.infoRequest();
      if (info && this.nat && (info.global !== this.nat.global || info.port !== this.nat.port)) {
        this.log('info', this.name, `NAT binding changed to ${info.global}:${info.port}: registering again`);
        this.nat = info;
        this.useRtr(info);
        await this.register();
      }
      if (this.nat) this.scheduleInfo();
    }, this.timers.infoIntervalMs);
    this.infoTimer.unref?.();
  }

  private stopInfo(): void {
    if (this.infoTimer) clearTimeout(this.infoTimer);
    this.infoTimer = undefined;
  }

  /** One line about the node, for logs. */
  describe(): string {
    return `${prefixKey(this.eid)} at ${this.rlocs.join(', ')}${this.nat ? ` behind NAT ${this.nat.global}:${this.nat.port} via RTR ${this.nat.rtrs[0]}` : ''}`;
  }
}
