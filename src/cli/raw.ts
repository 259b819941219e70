// `replay -i` and `inject -i` send raw through capture/raw-sender.ts; without -i, through a socket.

import { LispSocket } from '../mn/socket.js';
import { ipAddress } from '../dissect/address.js';
import type { SendGuard } from '../mn/guard.js';
import { openRaw, type RawSender } from '../capture/raw-sender.js';
import { UsageError, type Parsed } from './args.js';
import type { Io } from '../output/io.js';
import type { ActiveTraffic } from '../output/active.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT } from '../dissect/registry.js';

/** The --dst-mac option of the commands that send raw. */
export const DST_MAC_OPTION = {
  name: 'dst-mac',
  kind: 'value',
  arg: 'MAC',
  help: 'with -i on Ethernet: the next hop\'s MAC (default: from the kernel\'s routes and its ARP table or IPv6 neighbour cache; the loopback needs none)',
} as const;

export interface Sender {
  /** With -i. */
  raw?: RawSender;
  /** Without -i: bound to --source, else to any address and a port the kernel picks. */
  socket?: LispSocket;
}

export interface SenderOptions {
  to: string;
  source: { address: string; port?: number } | undefined;
  /** The address our datagrams carry (--source, else the one the kernel would use towards --to). */
  local: string;
  guard: SendGuard;
  traffic: ActiveTraffic;
  /** Record (and so print) what comes back on the socket. */
  recordReceived?: boolean;
  /** Control port of the socket when not 4342. */
  controlPort?: number;
  /** With -i: capture what comes back to `local` at this port. */
  listenPort?: number;
}

/** What replay and inject send through: a socket, or with -i IF a raw sender. Closes what it opened when it fails. */
export async function openSender(a: Parsed, io: Io, command: string, o: SenderOptions): Promise<Sender> {
  const iface = a.values.get('interface');
  try {
    if (iface !== undefined) {
      const listen = o.listenPort === undefined ? {} : { listen: { address: o.local, port: o.listenPort } };
      return { raw: openRaw(iface, o.to, o.guard, { dstMac: a.values.get('dst-mac'), warn: (m) => io.warn(`${command}: ${m}`), recorder: o.traffic.recorder, ...listen }) };
    }
    const socket = await LispSocket.open({
      name: 'lispscope',
      address: o.source?.address ?? (ipAddress(o.to)?.kind === 'ipv6' ? '::' : '0.0.0.0'),
      port: o.source?.port ?? 0,
      recordAs: o.local,
      ...(o.recordReceived ? { recordReceived: true } : {}),
      recorder: o.traffic.recorder,
      policy: o.guard,
      ports: { control: o.controlPort ?? LISP_CONTROL_PORT, data: LISP_DATA_PORT },
    });
    return { socket };
  } catch (e) {
    o.traffic.close();
    o.guard.close();
    if (e instanceof UsageError) throw e;
    // A raw sender's refusal (RawSendError: bad --dst-mac, no MAC known, no such interface) included.
    throw new UsageError(`${command}: ${(e as Error).message}`);
  }
}
