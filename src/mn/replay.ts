// `replay`'s behaviour: the LISP messages of a capture (only what asks for an answer, and data,
// unless all are wanted), re-sent in the capture's timing (scaled, or none) to one address, their
// addresses rewritten and authenticated ones re-signed when a key is known.

import { messageEids } from '../capture/keys.js';
import { PacketDecoder } from '../capture/packets.js';
import { readCapture } from '../capture/source.js';
import { copyBytes } from '../dissect/addr.js';
import { parsePrefix } from '../dissect/address.js';
import type { KeyRing } from '../dissect/keyring.js';
import { controlTypeName, isAnswerType, MessageType } from '../dissect/registry.js';
import type { ControlMessage } from '../dissect/types.js';
import { rewriteControl, type Rewrites } from './craft.js';
import { delay } from './requests.js';

export interface ReplayMessage {
  frame: number;
  ts: number;
  src: string;
  sport: number;
  dport: number;
  kind: 'control' | 'data';
  bytes: Uint8Array;
  type: string;
  control?: ControlMessage;
}

export const MAX_REPLAY_MESSAGES = 1_000_000;

/** An answer to someone's request: sending it to a server asks nothing of it. */
export function isAnswer(m: ControlMessage): boolean {
  if ('unknown' in m) return false;
  if (m.type === MessageType.ECM) return !!m.inner?.message && isAnswer(m.inner.message);
  return isAnswerType(m.type, m.type === MessageType.Info && m.reply);
}

export interface ReplayLoaded {
  messages: ReplayMessage[];
  /** Captured answers left out. */
  answersSkipped: number;
  /** More than MAX_REPLAY_MESSAGES were there. */
  truncated: boolean;
}

/** The messages of `file` to replay, read before anything is sent (a broken file fails first: CaptureError). */
export async function loadReplay(file: string, o: { only?: 'control' | 'data' | undefined; allMessages: boolean; count?: number | undefined; warn(message: string): void }): Promise<ReplayLoaded> {
  const messages: ReplayMessage[] = [];
  let truncated = false;
  let answersSkipped = 0;
  const decoder = new PacketDecoder({ warning: (m) => o.warn(`${file}: ${m}`) });
  await readCapture(file, {
    frame: (f) => {
      const p = decoder.decode(f);
      if (!p || !p.udp || !p.lisp || (p.kind !== 'control' && p.kind !== 'data')) return true;
      if (o.only && p.kind !== o.only) return true;
      if (p.control && !o.allMessages && isAnswer(p.control)) {
        answersSkipped++;
        return true;
      }
      if (messages.length >= MAX_REPLAY_MESSAGES) {
        truncated = true;
        return false;
      }
      messages.push({
        frame: p.frame,
        ts: p.ts,
        src: p.ip!.src,
        sport: p.udp.srcPort,
        dport: p.udp.dstPort,
        kind: p.kind,
        bytes: copyBytes(p.lisp),
        type: p.control ? controlTypeName(p.control) : 'data',
        ...(p.control ? { control: p.control } : {}),
      });
      return o.count === undefined || messages.length < o.count;
    },
    warning: (m) => o.warn(m),
  });
  return { messages, answersSkipped, truncated };
}

/** One datagram of the replay, as it goes. */
export interface ReplayDatagram {
  message: ReplayMessage;
  /** The sender a raw datagram carries: the captured one (rewritten when asked) unless the source is given; `local` when of another family than `to`. */
  from: string;
  sport: number;
  dport: number;
  bytes: Uint8Array;
  /** UDP checksum (control); data goes with none, as RFC 9300 §5.3 allows. */
  checksum: boolean;
  rewritten: boolean;
}

export interface ReplayOptions {
  to: string;
  /** Instead of each message's destination port. */
  port?: number | undefined;
  /** No pauses; else the capture's timing divided by `speed`. */
  fast: boolean;
  speed: number;
  rewrites: Rewrites;
  /** Re-signs rewritten authenticated messages. */
  keys?: KeyRing | undefined;
  source?: { address: string; port?: number | undefined } | undefined;
  /** The address our datagrams carry otherwise. */
  local: string;
  signal: AbortSignal;
  /** Sends one datagram; false stops the replay. */
  send(d: ReplayDatagram): boolean;
}

export interface ReplayResult {
  sent: number;
  rewritten: number;
  /** Authenticated messages rewritten without their key: their authentication no longer verifies. */
  authBroken: number;
  /** When the first message went (performance.now()). */
  started: number;
}

/** Re-sends `messages` in their timing; stops when `send` refuses or the signal aborts. */
export async function replayMessages(messages: ReplayMessage[], o: ReplayOptions): Promise<ReplayResult> {
  const r: ReplayResult = { sent: 0, rewritten: 0, authBroken: 0, started: performance.now() };
  for (const m of messages) {
    if (o.signal.aborted) break;
    if (!o.fast) {
      const due = ((m.ts - messages[0]!.ts) * 1000) / o.speed - (performance.now() - r.started);
      if (due > 0) await delay(due, o.signal);
      if (o.signal.aborted) break;
    }
    let bytes = m.bytes;
    let changed = false;
    if (m.control && o.rewrites.size) {
      const key = o.keys?.lookup(messageEids(m.control), [parsePrefix(o.to)!]);
      const w = rewriteControl(m.control, m.bytes, o.rewrites, key);
      bytes = w.bytes;
      changed = w.changed;
      if (w.changed) r.rewritten++;
      if (w.authBroken) r.authBroken++;
    }
    const from = o.source?.address ?? o.rewrites.get(m.src) ?? m.src;
    const sameFamily = from.includes(':') === o.to.includes(':');
    const d: ReplayDatagram = { message: m, from: sameFamily ? from : o.local, sport: o.source?.port ?? m.sport, dport: o.port ?? m.dport, bytes, checksum: m.kind === 'control', rewritten: changed };
    if (!o.send(d)) break;
    r.sent++;
  }
  return r;
}
