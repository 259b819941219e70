// What the UI can send, through the embedded LISP stack (src/mn): re-send the selected exchange's
// request, resolve an EID through a Map-Resolver (like `lispscope mn resolve`), trigger a handover
// of the lab's Mobile Node, replay the selected exchange to a target. Each is described first and
// runs only once the user confirmed. As with `mn`, `replay` and `inject`: datagrams go only to the
// one address the user typed or confirmed (a default is offered only when it is a loopback
// address), never to multicast or broadcast, at most 10 a second (SendGuard).

import type { LispPacket } from '../capture/packets.js';
import { ipAddress, parsePrefix } from '../dissect/address.js';
import { LispClient, sourceAddressFor } from '../mn/client.js';
import { SendGuard, nonUnicastReason } from '../mn/guard.js';
import { delay } from '../mn/requests.js';
import { LispSocket, type Received } from '../mn/socket.js';
import { frameName } from '../output/flows-text.js';
import { controlSummary } from '../output/line.js';
import { PLAIN } from '../output/style.js';
import { messageLabel } from './ladder.js';
import type { DataSource, PacketView, Session } from './source.js';
import { msText } from './text.js';

export class ActionError extends Error {
  override name = 'ActionError';
}

export interface Action {
  /** Asked before the confirmation (a target address, an EID). */
  prompt?: { label: string; initial: string };
  /** The question to confirm, for this answer to the prompt; throws ActionError when the answer is not usable. */
  confirm(answer: string): string;
  /** Sends; resolves with one line saying what happened. */
  run(answer: string): Promise<string>;
}

export function isLoopback(addr: string): boolean {
  const a = ipAddress(addr);
  if (!a) return false;
  if (a.kind === 'ipv4') return a.addr.startsWith('127.');
  return a.kind === 'ipv6' && a.addr === '::1';
}

/** A unicast IP address the user named, or an ActionError saying why not. */
export function targetAddress(text: string): string {
  const t = text.trim();
  const a = ipAddress(t);
  if (!t) throw new ActionError('no target address given');
  if (!a || (a.kind !== 'ipv4' && a.kind !== 'ipv6')) throw new ActionError(`"${t}" is not an IP address`);
  const why = nonUnicastReason(a.addr);
  if (why) throw new ActionError(`refusing to send to ${a.addr}: it is ${why}`);
  return a.addr;
}

function guard(to: string): SendGuard {
  return new SendGuard({ allowed: [to], rate: 10, burst: 5 });
}

/** The packets of a session that carry a LISP message, decoded. */
function sessionMessages(source: DataSource, s: Session): PacketView[] {
  const out: PacketView[] = [];
  for (const ref of s.exchange.frames) {
    const seq = source.seqOf(ref);
    const v = seq === undefined ? undefined : source.packet(seq);
    if (v?.packet.lisp && v.packet.udp && v.packet.ip) out.push(v);
  }
  return out;
}

function answersText(rx: (Received & { at: number })[], t0: number): string {
  if (!rx.length) return 'no answer to us within 1 s';
  const first = rx[0]!;
  const what = first.control ? messageLabel({ control: first.control } as LispPacket) : 'data';
  return `${rx.length} answer${rx.length > 1 ? 's' : ''}: ${what} from ${first.src} in ${msText(first.at - t0)}`;
}

/** Opens a socket that may send to `to` only, recording into the source's recorder (the lab). */
async function openSocket(source: DataSource, to: string): Promise<{ socket: LispSocket; guard: SendGuard; answers: (Received & { at: number })[] }> {
  const g = guard(to);
  const local = await sourceAddressFor(to);
  const socket = await LispSocket.open({
    name: 'tui',
    address: ipAddress(to)?.kind === 'ipv6' ? '::' : '0.0.0.0',
    port: 0,
    recordAs: local,
    recordReceived: true,
    policy: g,
    ...(source.recorder ? { recorder: source.recorder } : {}),
  });
  const answers: (Received & { at: number })[] = [];
  socket.onReceive((rx) => answers.push({ ...rx, at: performance.now() }));
  return { socket, guard: g, answers };
}

/** Re-sends the request that opened the selected exchange, to its destination or a target typed in. */
export function resendAction(source: DataSource, s: Session): Action {
  const req = sessionMessages(source, s)[0];
  if (!req) throw new ActionError('the request of this session is not available (not indexed yet, or no longer kept)');
  const p = req.packet;
  const dst = p.ip!.dst;
  const dport = p.udp!.dstPort;
  const label = messageLabel(p);
  return {
    prompt: { label: `re-send ${label} (frame ${frameName(req.ref, source.multiFile)}) to`, initial: isLoopback(dst) ? dst : '' },
    confirm: (answer) => `Send ${label} nonce 0x${s.exchange.nonce} (${p.lisp!.length} bytes) to ${targetAddress(answer)}:${dport}?`,
    run: async (answer) => {
      const to = targetAddress(answer);
      const { socket, guard: g, answers } = await openSocket(source, to);
      const t0 = performance.now();
      try {
        if (!socket.send(to, dport, p.lisp!.slice())) throw new ActionError(`not sent to ${to}`);
        await delay(1000);
      } finally {
        await socket.close();
        g.close();
      }
      return `sent ${label} to ${to}:${dport}; ${answersText(answers, t0)}`;
    },
  };
}

/** Resolves an EID through a Map-Resolver: an ECM'd Map-Request, as `lispscope mn resolve` sends it. */
export function resolveAction(source: DataSource, s: Session | undefined): Action {
  const mr = source.localTargets?.mapResolver ?? (s?.exchange.via && isLoopback(s.exchange.via) ? s.exchange.via : '');
  const eid = s?.exchange.eid ?? '';
  const parse = (answer: string) => {
    const [e, m] = answer.trim().split(/\s+/);
    const prefix = e ? parsePrefix(e.includes('/') ? e : `${e}/${e.includes(':') ? 128 : 32}`) : undefined;
    if (!prefix) throw new ActionError(`"${e ?? ''}" is not an EID (give EID and Map-Resolver, e.g. 10.2.0.7 127.0.1.1)`);
    return { eid: e!, mr: targetAddress(m ?? '') };
  };
  return {
    prompt: { label: 'resolve EID via Map-Resolver', initial: `${eid}${mr ? ` ${mr}` : ''}`.trim() },
    confirm: (answer) => {
      const a = parse(answer);
      return `Send an ECM Map-Request for ${a.eid} to the Map-Resolver ${a.mr}?`;
    },
    run: async (answer) => {
      const a = parse(answer);
      const g = guard(a.mr);
      const client = await LispClient.open({ towards: a.mr, policy: g, retry: { timeoutMs: 500, retries: 2 }, ...(source.recorder ? { recorder: source.recorder } : {}) });
      try {
        const r = await client.resolve(a.eid, a.mr);
        if (!r) return `no Map-Reply from ${a.mr} for ${a.eid} after 3 Map-Requests`;
        const records = controlSummary(r.reply, PLAIN).replace(/^Map-Reply nonce 0x[0-9a-f]+(?: \[[^\]]*\])?, /, '');
        return `Map-Reply from ${r.from} in ${msText(r.rttMs)}: ${records}`;
      } finally {
        await client.close();
        g.close();
      }
    },
  };
}

/** Moves the lab's Mobile Node to its other RLOC: it re-registers and SMRs its peers. */
export function handoverAction(source: DataSource): Action {
  const lab = source.lab;
  if (!lab) throw new ActionError('a handover can only be triggered in the lab (lispscope tui --lab)');
  const mn = lab.mn;
  if (!mn) throw new ActionError('the Mobile Node is not up yet');
  const a = lab.addresses;
  const from = mn.primaryRloc;
  const to = from === a.mnB ? a.mnA : a.mnB;
  return {
    confirm: () => `Move the Mobile Node ${mn.describe().split(' at ')[0]} from ${from} to ${to} (it re-registers and sends SMRs to its peers)?`,
    run: async () => {
      const h = await mn.moveTo([to]);
      const reg = h.registration ? `Map-Notify in ${msText(h.registration.rttMs)}` : 'no Map-Notify';
      const smrs = h.smrs.length ? `SMR to ${h.smrs.map((x) => x.rloc).join(', ')}` : 'no peer to SMR';
      return `handover ${h.from.join(', ')} → ${h.to.join(', ')}: ${reg}, ${smrs} (${msText(h.totalMs)})`;
    },
  };
}

/** Replays the selected exchange's messages, in order and with their timing (gaps capped at 1 s), to a target. */
export function replayAction(source: DataSource, s: Session): Action {
  const msgs = sessionMessages(source, s);
  if (!msgs.length) throw new ActionError('the packets of this session are not available');
  const first = msgs[0]!.packet.ip!.dst;
  return {
    prompt: { label: `replay ${msgs.length} message${msgs.length > 1 ? 's' : ''} of this ${s.exchange.kind} to`, initial: isLoopback(first) ? first : '' },
    confirm: (answer) => `Replay ${msgs.map((m) => messageLabel(m.packet)).join(', ')} to ${targetAddress(answer)} (each to its original port)?`,
    run: async (answer) => {
      const to = targetAddress(answer);
      const { socket, guard: g, answers } = await openSocket(source, to);
      const t0 = performance.now();
      let sent = 0;
      try {
        for (let i = 0; i < msgs.length; i++) {
          if (i > 0) await delay(Math.min(1000, Math.max(0, (msgs[i]!.packet.ts - msgs[i - 1]!.packet.ts) * 1000)));
          const p = msgs[i]!.packet;
          if (socket.send(to, p.udp!.dstPort, p.lisp!.slice(), { checksum: p.kind === 'control' })) sent++;
        }
        await delay(500);
      } finally {
        await socket.close();
        g.close();
      }
      return `replayed ${sent} of ${msgs.length} messages to ${to}; ${answers.length ? answersText(answers, t0) : 'no answer to us'}`;
    },
  };
}
