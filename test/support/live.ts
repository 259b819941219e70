// Whether live capture works here (root or CAP_NET_RAW, libpcap, a binding to it: ours or `cap`): tests that
// need it skip with the reason, except under CI=true where they must run.

import dgram from 'node:dgram';
import { LiveCapture, LiveCaptureError } from '../../src/capture/live.js';

/** Why capturing on lo is impossible here, or undefined when it works. */
export async function liveUnavailable(): Promise<string | undefined> {
  try {
    const c = LiveCapture.open({ iface: 'lo', filter: 'less 0', bufferSize: 1 << 20 });
    await c.stop(false);
    return undefined;
  } catch (e) {
    if (e instanceof LiveCaptureError) return e.message;
    throw e;
  }
}

/** Says why `what` is skipped (throws under CI=true); returns the reason, undefined when it runs. */
export function gate(what: string, why: string | undefined): string | undefined {
  if (!why) return undefined;
  if (process.env.CI === 'true') throw new Error(`${what} must run in CI: ${why}`);
  console.warn(`skipping ${what}: ${why}`);
  return why;
}

/** Three loopback addresses of our own for this run: 127.X.Y.1 sends, .2 receives, .3 a third party. */
export function testNet(): { a: string; b: string; c: string } {
  const x = 100 + Math.floor(Math.random() * 100);
  const y = Math.floor(Math.random() * 250);
  return { a: `127.${x}.${y}.1`, b: `127.${x}.${y}.2`, c: `127.${x}.${y}.3` };
}

/** A LISP message as a UDP payload, with its destination port and what `read --json` calls it. */
export interface Sent {
  bytes: Uint8Array;
  dport: number;
  type: string;
  nonce?: string;
}

/** Sends every message from `from` to `to` over real UDP sockets, in order. */
export async function sendAll(from: string, to: string, msgs: Sent[]): Promise<void> {
  const s = dgram.createSocket('udp4');
  s.on('error', () => {}); // ICMP port unreachable: nobody listens, the capture is what counts
  await new Promise<void>((resolve) => s.bind(0, from, resolve));
  for (const m of msgs) await new Promise<void>((resolve, reject) => s.send(m.bytes, m.dport, to, (e) => (e ? reject(e) : resolve())));
  s.close();
}
