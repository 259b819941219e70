// What the active commands (mn, inject, replay, ms) print of their own traffic and answers: each
// packet as `read` prints it, or its `read --json` object with the direction, and the records of a
// Map-Reply as a table.

import { keyLookup } from '../capture/keys.js';
import { PacketDecoder, type LispPacket } from '../capture/packets.js';
import type { CaptureFileWriter } from '../capture/writer.js';
import { addressText, prefixText } from '../dissect/address.js';
import { mapRegister } from '../dissect/build.js';
import { nonceHex } from '../dissect/addr.js';
import { encodeIpUdp } from '../dissect/ip.js';
import { LINKTYPE_RAW } from '../dissect/link.js';
import { actionSlug, LISP_CONTROL_PORT } from '../dissect/registry.js';
import type { KeyRing } from '../dissect/keyring.js';
import type { ControlMessage, MappingRecord } from '../dissect/types.js';
import { Recorder } from '../mn/recorder.js';
import type { ReplayDatagram } from '../mn/replay.js';
import { packetJsonText } from './json.js';
import { locatorFlagLetters, packetLine, ttlText } from './line.js';
import type { Style } from './style.js';
import { plural } from './units.js';

/** One NDJSON line of an active command: bigints (nonces) as hex, `*_ms` rounded to the microsecond. */
export function activeJson(o: Record<string, unknown>): string {
  return JSON.stringify(o, (k, v) => {
    if (typeof v === 'bigint') return nonceHex(v);
    if (typeof v === 'number' && k.endsWith('_ms')) return Math.round(v * 1000) / 1000;
    return v;
  });
}

export interface TrafficFormat {
  json: boolean;
  style: Style;
  /** Numeric ports (default true: the active commands name their own). */
  numeric?: boolean;
  /** `unverified` after the algorithm of an authenticated message no key checked. */
  unverified?: boolean;
}

/** A packet sent or received, as the active commands print it. */
export function trafficText(p: LispPacket, received: boolean, f: TrafficFormat): string {
  if (f.json) return `${packetJsonText(p).slice(0, -1)},"direction":"${received ? 'received' : 'sent'}"}`;
  return packetLine(p, { numeric: f.numeric ?? true, style: f.style, ...(f.unverified ? { unverified: true } : {}) });
}

/**
 * Decodes and prints a throwaway signed message, so that the first packet a command prints does
 * not pay for loading and compiling the decoder and printers: before anything is sent, rather
 * than while an answer arrives, whose arrival stamp (or, in a server, its answer) they would hold up.
 */
export function warmUpPrinting(json: boolean, style: Style): void {
  const payload = mapRegister({ nonce: 0n, keyId: 1, key: 'warm-up', records: [] });
  const data = encodeIpUdp({ src: '192.0.2.1', dst: '192.0.2.2', sport: LISP_CONTROL_PORT, dport: LISP_CONTROL_PORT }, payload);
  const p = new PacketDecoder({ all: true, keyFor: () => 'warm-up' }).decode({ index: 1, tsSec: 0, tsNsec: 0, linkType: LINKTYPE_RAW, len: data.length, data, interfaceId: 0 });
  if (p) void trafficText(p, false, { json, style, unverified: true });
}

/** A mapping record as `mn resolve` shows it: the EID's line, then one line per locator. */
export function mappingRecordLines(r: MappingRecord): string[] {
  const head = `  ${prefixText(r.eid, r.eidMaskLen)}  ttl ${ttlText(r.ttl)}${r.authoritative ? '  authoritative' : ''}${r.mapVersion ? `  map-version ${r.mapVersion}` : ''}`;
  if (r.locators.length === 0) return [`${head}  negative: ${actionSlug(r.action)}`];
  const rows = r.locators.map(
    (l) => `  ${addressText(l.rloc).padEnd(40)} ${(l.reachable ? 'up' : 'down').padEnd(6)} ${`${l.priority}/${l.weight}`.padEnd(16)} ${locatorFlagLetters(l)}`,
  );
  return [head, `  ${'Locator'.padEnd(40)} ${'State'.padEnd(6)} ${'Priority/Weight'.padEnd(16)} Flags`, ...rows];
}

/**
 * Recording (-w) and printing of what an active command sends and receives: with `print` one line
 * per packet as `read` prints it, or its `read --json` object plus "direction".
 */
export class ActiveTraffic {
  readonly recorder: Recorder;
  /** Packets sent and received so far. */
  sent = 0;
  received = 0;
  /** What verifies the authenticated messages printed (a key known only later may be set here). */
  key: string | KeyRing | undefined;

  constructor(o: { writer?: CaptureFileWriter | undefined; key?: string | KeyRing | undefined; print?: { format: TrafficFormat; line(text: string): void; flush(): void } }) {
    const writer = o.writer;
    this.key = o.key;
    this.close = () => writer?.close();
    this.recorder = new Recorder({ maxFrames: 0, ...(writer ? { writer } : {}) });
    this.recorder.onFrame((f) => (f.received ? this.received++ : this.sent++));
    const print = o.print;
    if (!print) return;
    // Authenticated messages are checked with the key the command holds; the rest say `unverified`.
    const keyFor = (p: LispPacket, m: ControlMessage) => {
      const k = this.key;
      return k === undefined || typeof k === 'string' ? k : keyLookup(k)(p, m);
    };
    const decoder = new PacketDecoder({ all: true, keyFor });
    warmUpPrinting(print.format.json, print.format.style);
    this.recorder.onFrame((f) => {
      const p = decoder.decode(f);
      if (!p) return;
      print.line(trafficText(p, !!f.received, print.format));
      print.flush();
    });
  }

  /** Closes the recording. */
  readonly close: () => void;
}

/** What `replay` says of a message it sent (unless -v prints the packets). */
export function replayedLine(d: ReplayDatagram, to: string, json: boolean): string {
  if (json) return activeJson({ frame: d.message.frame, type: d.message.type, to, dport: d.dport, len: d.bytes.length, rewritten: d.rewritten });
  return `frame ${d.message.frame}: ${d.message.type} to ${to}:${d.dport}, ${d.bytes.length} bytes${d.rewritten ? ', rewritten' : ''}`;
}


/** What `replay` did, at the end. */
export function replaySummary(o: {
  sent: number;
  of: number;
  to: string;
  /** The interface it sent raw on. */
  rawOn: string | undefined;
  seconds: number;
  rewritten: number;
  interrupted: boolean;
  answersSkipped: number;
  /** Answers that came back (on a socket only). */
  received: number;
}): string {
  const skipped = o.answersSkipped ? `, ${plural(o.answersSkipped, 'captured answer')} not sent (--all-messages sends them)` : '';
  const back = o.rawOn ? '' : `; ${plural(o.received, 'answer')} came back`;
  return `replayed ${o.sent} of ${o.of} LISP messages to ${o.to}${o.rawOn ? ` raw on ${o.rawOn}` : ''} in ${o.seconds.toFixed(2)} s${o.rewritten ? ` (${o.rewritten} rewritten)` : ''}${o.interrupted ? ' (interrupted)' : ''}${skipped}${back}`;
}
