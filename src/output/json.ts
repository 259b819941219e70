// One NDJSON object per packet, per ../shared/json-contract.md (`read --json`).

import { isMalformed, type LispPacket, type ReliableEntry } from '../capture/packets.js';
import type { MappingRecord } from '../dissect/types.js';
import { writeControlFields, writeDataFields, writeIcmpErrorFields, writeRecord, writeReliableFields, writeVxlanFields, type JsonOptions } from './json-lisp.js';
import { JsonWriter, ObjectWriter, type JsonSink } from './json-writer.js';
import { OutBuffer } from './out-buffer.js';

/** Writes the packet's object (no newline). */
export function writePacketJson(w: JsonSink, p: LispPacket, opts: JsonOptions = {}, file?: number): void {
  w.obj().key('frame').num(p.frame);
  // With several captures: which one (1-based, in command-line order), as flows and mappings say it.
  if (file !== undefined) w.key('file').num(file);
  w.key('ts').time(p.tsSec, p.tsNsec).key('len').num(p.len);
  if (p.ip) w.key('src').ascii(p.ip.src).key('dst').ascii(p.ip.dst);
  if (p.udp) w.key('sport').num(p.udp.srcPort).key('dport').num(p.udp.dstPort);
  else if (p.tcp) w.key('sport').num(p.tcp.srcPort).key('dport').num(p.tcp.dstPort).key('transport').ascii('tcp');
  const verdicts = { auth: p.auth, msRtrAuth: p.msRtrAuth };
  if (p.control) writeControlFields(w, p.control, opts, verdicts);
  else if (p.data) writeDataFields(w, p.data, opts, verdicts);
  else if (p.icmp) writeIcmpErrorFields(w, p.icmp, opts);
  else if (p.vxlan) writeVxlanFields(w, p.vxlan, opts);
  else if (p.reliable) {
    w.key('messages').arr();
    for (const e of p.reliable) writeReliableEntry(w, e, p.frame, opts);
    w.endArr();
  } else if (p.kind) w.key('type').str(p.kind === 'data' ? 'data' : 'unknown');
  if (p.byContent) w.key('by_content').bool(true);
  if (p.fragments) {
    w.key('fragments').arr();
    for (const f of p.fragments) w.num(f);
    w.endArr();
  }
  if (p.summary) w.key('summary').str(p.summary);
  if (isMalformed(p)) {
    w.key('malformed').arr();
    for (const n of p.frameNotes) if (n.level === 'error') w.str(n.message);
    for (const n of p.notes) if (n.level === 'error') w.str(`${n.message} (at byte ${n.offset})`);
    w.endArr();
  }
  if (p.frameNotes.length || p.notes.length) {
    w.key('notes').arr();
    for (const n of p.frameNotes) w.obj().key('level').ascii(n.level).key('text').str(n.message).key('layer').ascii('frame').end();
    for (const n of p.notes) w.obj().key('level').ascii(n.level).key('text').str(n.message).key('offset').num(n.offset).end();
    w.endArr();
  }
  w.end();
}

/** One reliable-transport message of a frame: its fields, length, the frames that carried it (when not just this one), its verdict. */
function writeReliableEntry(w: JsonSink, e: ReliableEntry, frame: number, opts: JsonOptions): void {
  w.obj();
  writeReliableFields(w, e.message, opts);
  w.key('length').num(e.length);
  if (e.frames.length !== 1 || e.frames[0] !== frame) {
    w.key('frames').arr();
    for (const f of e.frames) w.num(f);
    w.endArr();
  }
  if (e.auth) {
    w.key('auth_ok').bool(e.auth.ok);
    if (!e.auth.ok) w.key('auth_error').str(e.auth.reason);
  }
  w.end();
}

// One buffer for every packetJsonText call (they are synchronous): allocating 64 KiB per call cost
// more than writing the packet (`read -Y` and the UI's packet filter call it for every packet).
let textChunks: Uint8Array[] = [];
let textOut: OutBuffer | undefined;

/** What `write` writes, as one string. */
function writtenText(write: (w: JsonWriter) => void): string {
  textOut ??= new OutBuffer((b) => {
    textChunks.push(b.slice());
    return true;
  }, 1 << 16);
  // Whatever a call that threw left behind is not this one's.
  textOut.pos = 0;
  textChunks = [];
  write(new JsonWriter(textOut));
  textOut.flush();
  const text = Buffer.concat(textChunks).toString('utf8');
  textChunks = [];
  return text;
}

/** The packet's JSON text (tests and tools that want one string). */
export function packetJsonText(p: LispPacket, opts: JsonOptions = {}): string {
  return writtenText((w) => writePacketJson(w, p, opts));
}

/** A mapping record as the contract writes the records of a message (what `mn resolve --json` prints). */
export function mappingRecordJson(r: MappingRecord, opts: JsonOptions = {}): Record<string, unknown> {
  return JSON.parse(writtenText((w) => writeRecord(w, r, opts))) as Record<string, unknown>;
}

/** The packet as a plain object, as a consumer of the NDJSON would see it. */
export function packetJson(p: LispPacket, opts: JsonOptions = {}): Record<string, unknown> {
  const w = new ObjectWriter();
  writePacketJson(w, p, opts);
  return w.result as Record<string, unknown>;
}
