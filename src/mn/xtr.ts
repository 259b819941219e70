// A peer site's tunnel router (ITR and ETR in one): registers its EID prefixes with the
// Map-Server, answers Map-Requests and RLOC-probes for them, resolves remote EIDs through the
// Map-Resolver, encapsulates its hosts' traffic and decapsulates what comes back, and re-resolves
// when an SMR says a peer's mapping changed. Its hosts answer ICMP echo and UDP echo.

import type { RegistrationResult } from './registration.js';
import { LispRouter, type RouterOptions } from './router.js';

export interface XtrOptions extends RouterOptions {
  eids: NonNullable<RouterOptions['eids']>;
}

export class Xtr extends LispRouter {
  /** The registration made at start (undefined when there is no Map-Server or it did not answer). */
  registration: RegistrationResult | undefined;

  constructor(opts: XtrOptions) {
    super(opts);
  }

  static async start(opts: XtrOptions): Promise<Xtr> {
    const x = new Xtr(opts);
    await x.start();
    return x;
  }

  /** Opens the sockets and registers (waiting for the Map-Notify), then keeps refreshing. */
  override async start(): Promise<void> {
    await super.start();
    if (this.registrar) this.registration = await this.register();
  }
}
