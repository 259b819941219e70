// What `lispscope ms` prints besides the packets: the line it starts with, the sites table (and
// the Publish/Subscribe subscriptions) on SIGUSR1 and at exit, in text or as {"event":"sites"}, and
// what it did when it stops; and its traffic, each packet or (--flows) each exchange, recorded and
// printed after the Map-Server has answered.

import Table from 'cli-table3';
import { PacketDecoder } from '../capture/packets.js';
import { keyLookup } from '../capture/keys.js';
import type { CaptureFileWriter } from '../capture/writer.js';
import { nonceHex } from '../dissect/addr.js';
import type { KeyRing } from '../dissect/keyring.js';
import { LISP_CONTROL_PORT } from '../dissect/registry.js';
import { FlowEngine } from '../flows/engine.js';
import type { Exchange } from '../flows/types.js';
import { prefixKey } from '../mn/eid.js';
import type { MapServer, SiteReport } from '../mn/map-server.js';
import type { Publisher, Subscription } from '../mn/pubsub.js';
import { Recorder, type RecordedFrame } from '../mn/recorder.js';
import { trafficText, warmUpPrinting } from './active.js';
import { exchangeJson } from './json-flows.js';
import type { Style } from './style.js';
import { plural } from './units.js';

const age = (ms: number) => `${Math.max(0, Math.round(ms / 1000))} s`;

/** The sites table: one row per registration (or one for a site nobody registered). */
export function sitesTable(sites: SiteReport[], now = Date.now()): string {
  const t = new Table({
    head: ['Site', 'Registered', 'RLOCs', 'xTR-ID / source', 'Age', 'Expires', 'Accepted', 'Rejected'],
    style: { head: [], border: [] },
  });
  for (const s of sites) {
    const counts = [String(s.accepted), s.rejected ? `${s.rejected}${s.lastRejection ? `: ${s.lastRejection}` : ''}` : '0'];
    if (s.registrations.length === 0) {
      t.push([s.name, '-', '-', '-', '-', '-', ...counts]);
      continue;
    }
    s.registrations.forEach((r, i) => {
      const who = `${r.xtrId ?? '(no xTR-ID)'}\n${r.source}${r.viaRtr ? ` (RTR, for ${r.viaRtr})` : ''}`;
      const flags = [r.proxyReply ? 'proxy-reply' : '', r.merge ? 'merge' : ''].filter(Boolean).join(' ');
      t.push([i === 0 ? s.name : '', `${r.eid}${flags ? `\n${flags}` : ''}`, r.rlocs.join('\n'), who, age(now - r.registeredAt), `in ${age(r.expires - now)}`, ...(i === 0 ? counts : ['', ''])]);
    });
  }
  return t.toString();
}

function pubsubText(p: Publisher['stats']): string {
  const n = (x: number, what: string) => `${x} ${what}${x === 1 ? '' : 's'}`;
  return `${n(p.subscriptions, 'subscription')} (${p.withdrawals} withdrawn, ${p.refused} refused), ${n(p.publications, 'publication')} (${p.acked} Map-Notifies acknowledged, ${p.unacknowledged} not)`;
}

/** The Publish/Subscribe subscriptions in force, one row each. */
export function subscriptionsTable(subs: Subscription[], now = Date.now()): string {
  const t = new Table({ head: ['Subscribed to', 'xTR-ID / site-ID', 'Notified at', 'Site (key)', 'Age', 'Publications'], style: { head: [], border: [] } });
  for (const x of subs) t.push([prefixKey(x.eid), `${x.xtrId}\n${x.siteId}`, x.itrRloc, x.auth.site, age(now - x.since), String(x.publications)]);
  return t.toString();
}

function subscriptionJson(x: Subscription): Record<string, unknown> {
  return { eid: prefixKey(x.eid), xtr_id: x.xtrId, site_id: x.siteId, itr_rloc: x.itrRloc, site: x.auth.site, since: x.since / 1000, publications: x.publications, nonce: nonceHex(x.nonce) };
}

export function sitesJson(sites: SiteReport[], subs: Subscription[]): string {
  return JSON.stringify({ event: 'sites', ts: Date.now() / 1000, sites, subscriptions: subs.map(subscriptionJson) });
}


/** What the Map-Server serves, said when it starts. */
export function serviceLine(o: {
  listen: string;
  port: number;
  sites: ReadonlyArray<{ name: string }>;
  rtrs: string[];
  /** An RTR address our own RTR runs on. */
  ours: (rtr: string) => boolean;
  proxyReply: 'always' | 'never' | 'registration';
}): string {
  const where = o.listen.includes(':') ? `[${o.listen}]:${o.port}` : `${o.listen}:${o.port}`;
  return (
    `Map-Server/Map-Resolver on ${where}, ${plural(o.sites.length, 'site')} (${o.sites.map((s) => s.name).join(', ')})` +
    (o.rtrs.length ? `, RTR${o.rtrs.length > 1 ? 's' : ''} ${o.rtrs.map((r) => (o.ours(r) ? `${r} (ours)` : r)).join(', ')}` : '') +
    `; proxy replies: ${o.proxyReply === 'registration' ? 'as each registration asks' : o.proxyReply}`
  );
}

/** What the Map-Server did, said when it stops (and how many packets -w wrote). */
export function stoppedLine(ms: Pick<MapServer, 'stats' | 'resolver' | 'publisher'>, written: { path: string; packets: number } | undefined): string {
  const st = ms.stats;
  return (
    `stopped: ${plural(st.accepted, 'registration')} accepted, ${st.rejected} rejected, ${st.infoReplies} Info-Replies` +
    (ms.resolver ? `, ${ms.resolver.stats.proxyReplies} proxy and ${ms.resolver.stats.negativeReplies} negative Map-Replies, ${ms.resolver.stats.forwarded} Map-Requests forwarded` : '') +
    (ms.publisher.stats.subscriptions ? `, ${pubsubText(ms.publisher.stats)}` : '') +
    (st.rateLimited ? `, ${st.rateLimited} messages dropped by the rate limit` : '') +
    (written ? `; wrote ${written.packets} packets to ${written.path}` : '')
  );
}

/** The sites table and the subscriptions (text), or one {"event":"sites"} line. */
export function sitesOutput(sites: SiteReport[], subs: Subscription[], json: boolean): string[] {
  if (json) return [sitesJson(sites, subs)];
  return [sitesTable(sites), ...(subs.length ? [subscriptionsTable(subs)] : [])];
}

export interface MapServerTrafficOptions {
  /** -w. */
  writer: CaptureFileWriter | undefined;
  /** The sites' keys: authenticated messages printed are verified with them. */
  keys: KeyRing;
  controlPort: number | undefined;
  json: boolean;
  numeric: boolean;
  style: Style;
  /** --flows: the exchanges as they complete, in this form (else the packets). */
  exchangeText: ((e: Exchange, style: Style) => string) | undefined;
  warn(message: string): void;
  line(text: string): void;
  flush(): void;
}

/** What the Map-Server receives and sends: recorded (-w) and printed as packets or exchanges. */
export class MapServerTraffic {
  readonly recorder: Recorder;
  private readonly decoder: PacketDecoder;
  private readonly engine: FlowEngine | undefined;
  private pending: RecordedFrame[] = [];
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly o: MapServerTrafficOptions) {
    const port = o.controlPort;
    const decodeAs = { control: new Set(port && port !== LISP_CONTROL_PORT ? [port] : []), data: new Set<number>() };
    this.decoder = new PacketDecoder({ all: true, decodeAs, keyFor: keyLookup(o.keys), warning: (m) => o.warn(m) });
    const exchangeText = o.exchangeText;
    this.engine = exchangeText
      ? new FlowEngine({
          onExchange: (e) => {
            o.line(o.json ? JSON.stringify(exchangeJson(e)) : exchangeText(e, o.style));
            o.flush();
          },
        })
      : undefined;
    warmUpPrinting(o.json, o.style);
    const writer = o.writer;
    this.recorder = new Recorder({ maxFrames: 0, ...(writer ? { writer } : {}) });
    // Decoding and printing wait until the Map-Server has answered: they must not slow its answers.
    this.recorder.onFrame((f) => {
      if (this.pending.push(f) === 1) setImmediate(() => this.drain());
    });
    const engine = this.engine;
    // Exchanges close after a timeout in capture time: the wall clock moves it on when traffic stops.
    if (engine) this.timers.push(setInterval(() => engine.exchanges.sweep(Date.now() / 1000), 500));
    if (writer) this.timers.push(setInterval(() => writer.flush(), 1000));
  }

  /** Stops the timers (before the Map-Server closes). */
  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  /** Prints what is left, ends the open exchanges and closes the recording. */
  finish(): void {
    this.stop();
    this.drain();
    this.engine?.finish();
    this.decoder.finish();
    this.o.writer?.close();
  }

  private drain(): void {
    const batch = this.pending;
    this.pending = [];
    for (const f of batch) this.show(f);
    this.o.flush();
  }

  private show(f: RecordedFrame): void {
    this.engine?.frame();
    const p = this.decoder.decode(f);
    if (!p) return;
    if (this.engine) return this.engine.packet(p);
    this.o.line(trafficText(p, !!f.received, { json: this.o.json, style: this.o.style, numeric: this.o.numeric }));
  }
}
