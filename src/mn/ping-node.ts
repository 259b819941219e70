// The router `mn ping` sends its echoes through. With a Map-Server and a key it is a Mobile Node
// that registers our EID first (so that the peer's Map-Requests for it are answered by the mapping
// system); without, a bare router that holds our EID and only pings through the ETR it is given.

import type { Prefix } from './eid.js';
import { MobileNode } from './mobile-node.js';
import type { Recorder } from './recorder.js';
import { LispRouter, type RouterOptions } from './router.js';

export interface PingNodeOptions {
  /** Our EID prefix: the echoes leave from its host address. */
  eid: Prefix;
  /** Our RLOC. */
  source: string;
  ports: { control: number; data: number };
  /** How long a Map-Request waits for its answer, and how often it is sent again. */
  retry: { timeoutMs: number; retries: number };
  mapServer?: { address: string; key: string; keyId: number };
  mapResolver?: string;
  xtrId?: Uint8Array | null;
  siteId?: Uint8Array;
  recorder?: Recorder;
  policy?: RouterOptions['policy'];
}

/** A router for `o`, not started yet. */
export function pingNode(o: PingNodeOptions): LispRouter {
  const common: RouterOptions = {
    name: 'lispscope',
    rlocs: [o.source],
    ports: o.ports,
    recordReceived: true,
    timers: { mapRequestTimeoutMs: o.retry.timeoutMs, mapRequestRetries: o.retry.retries, mapNotifyTimeoutMs: o.retry.timeoutMs },
    ...(o.recorder ? { recorder: o.recorder } : {}),
    ...(o.policy ? { policy: o.policy } : {}),
    ...(o.mapResolver ? { mapResolver: o.mapResolver } : {}),
    ...(o.xtrId !== undefined ? { xtrId: o.xtrId } : {}),
    ...(o.siteId ? { siteId: o.siteId } : {}),
  };
  if (!o.mapServer) return new LispRouter({ ...common, eids: [o.eid] });
  const { address, key, keyId } = o.mapServer;
  return new MobileNode({ ...common, eid: o.eid, mapServer: { address, port: o.ports.control, key, keyId }, mapResolver: o.mapResolver ?? address });
}

/** False for a Mobile Node whose Map-Server never confirmed its registration: its pings would go unanswered. */
export function pingReady(router: LispRouter): boolean {
  return !(router instanceof MobileNode) || !!router.attachment?.registration;
}
