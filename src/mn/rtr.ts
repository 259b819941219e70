// The Re-encapsulating Tunnel Router of NAT traversal (draft-ietf-lisp-nat-traversal): the anchor
// of an xTR or Mobile Node behind a NAT. The NATed node sends its Map-Register to the RTR inside an
// ECM from its data port (the Data-Map-Register); the RTR learns from it the node's translated
// address and port (the outer source) and private address (the inner source), relays the
// Map-Register to the Map-Server, and relays the Map-Notify back through the NAT binding, in an
// ECM. Data for the node's EIDs is re-encapsulated to its translated address and port; data from
// it is re-encapsulated to the remote ETR like any ITR does.

import { toHex } from '../dissect/addr.js';
import { encodeControl } from '../dissect/control.js';
import { ecm } from '../dissect/build.js';
import { ecmInnerBytes } from '../dissect/ecm.js';
import type { ControlMessage, MapNotify, MapRegister } from '../dissect/types.js';
import { hostPrefix, longestMatch, prefixKey, recordPrefix, type Prefix } from './eid.js';
import type { InnerPacket } from './host.js';
import { LispRouter, type RouterOptions } from './router.js';
import type { Received } from './socket.js';
import { MessageType } from '../dissect/registry.js';

/** What the RTR knows of a node behind a NAT. */
export interface NatBinding {
  /** xTR-ID (hex), or the translated address:port when the Map-Register has none. */
  id: string;
  /** Translated (public) address and port of the node's data port. */
  global: string;
  port: number;
  /** The node's own (private) address. */
  private: string;
  eids: Prefix[];
  /** The Map-Server the registration was for. */
  mapServer: string;
  mapServerPort: number;
  /** ms since the epoch. */
  updated: number;
}

export interface RtrOptions extends RouterOptions {
  /** A binding not refreshed by a Data-Map-Register for this long is dropped (default 180 s). */
  bindingTimeoutMs?: number;
}

export class Rtr extends LispRouter {
  readonly bindings = new Map<string, NatBinding>();
  private readonly pendingNotify = new Map<bigint, { id: string; expires: number }>();
  readonly relayed = { registers: 0, notifies: 0, data: 0 };

  constructor(readonly rtrOpts: RtrOptions) {
    super({ ...rtrOpts, eids: [] });
  }

  static async start(opts: RtrOptions): Promise<Rtr> {
    const r = new Rtr(opts);
    await r.start();
    return r;
  }

  /** The binding whose EIDs contain `eid`. */
  bindingFor(eid: Prefix): NatBinding | undefined {
    this.expire();
    const all = [...this.bindings.values()].flatMap((b) => b.eids.map((p) => ({ p, b })));
    return longestMatch(all, eid, (x) => x.p)?.b;
  }

  protected override onControl(rx: Received, m: ControlMessage): boolean {
    if (m.type === MessageType.ECM && !('unknown' in m)) {
      const inner = m.inner?.message;
      if (inner && !('unknown' in inner) && inner.type === MessageType.MapRegister) {
        this.onDataMapRegister(rx, inner, m.inner!.src, m.inner!.dst, m.inner!.dport);
        return true;
      }
    }
    if (m.type === MessageType.MapNotify && !('unknown' in m)) return this.onMapNotify(rx, m);
    return false;
  }

  private onDataMapRegister(rx: Received, reg: MapRegister, privateAddr: string, ms: string, msPort: number): void {
    const bytes = ecmInnerBytes(rx.bytes);
    if (!bytes) return;
    const id = reg.xtrId ? toHex(reg.xtrId) : `${rx.src}:${rx.sport}`;
    const b: NatBinding = {
      id,
      global: rx.src,
      port: rx.sport,
      private: privateAddr,
      eids: reg.records.map(recordPrefix),
      mapServer: ms,
      mapServerPort: msPort,
      updated: Date.now(),
    };
    this.bindings.set(id, b);
    this.pendingNotify.set(reg.nonce, { id, expires: Date.now() + 30_000 });
    this.relayed.registers++;
    this.log('info', this.name, `Data-Map-Register for ${b.eids.map(prefixKey).join(', ')} from ${rx.src}:${rx.sport} (private ${privateAddr}): relayed to ${ms}`);
    this.emit('nat-binding', b);
    // The Map-Register goes on unchanged: the Map-Server checks the node's own signature.
    this.sendControl(ms, msPort, bytes);
  }

  private onMapNotify(rx: Received, m: MapNotify): boolean {
    const p = this.pendingNotify.get(m.nonce);
    const b = p && this.bindings.get(p.id);
    if (!b) return false;
    this.pendingNotify.delete(m.nonce);
    // The Map-Notify goes to the node through its NAT binding, encapsulated (a Data-Map-Notify).
    const relay = ecm({ inner: { src: rx.src, dst: b.private, sport: rx.sport, dport: this.controlPort }, message: rx.bytes });
    this.relayed.notifies++;
    this.sendControl(b.global, b.port, encodeControl(relay));
    this.log('info', this.name, `Map-Notify for ${b.eids.map(prefixKey).join(', ')} relayed to ${b.global}:${b.port}`);
    return true;
  }

  /** Data for a NATed node goes to its binding; everything else is routed like any ITR routes it. */
  protected override deliver(packet: Uint8Array, info: InnerPacket): void {
    const b = this.bindingFor(hostPrefix(info.dst));
    if (b) {
      this.relayed.data++;
      this.encapsulate(packet, b.global, b.port);
      return;
    }
    void this.forward(packet);
  }

  private expire(): void {
    const now = Date.now();
    const timeout = this.rtrOpts.bindingTimeoutMs ?? 180_000;
    for (const [k, b] of this.bindings) if (now - b.updated > timeout) this.bindings.delete(k);
    for (const [n, p] of this.pendingNotify) if (p.expires <= now) this.pendingNotify.delete(n);
  }
}
