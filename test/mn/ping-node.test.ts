import { describe, expect, it } from 'vitest';
import { parsePrefix } from '../../src/dissect/address.js';
import { MobileNode } from '../../src/mn/mobile-node.js';
import { pingNode, pingReady } from '../../src/mn/ping-node.js';
import { LispRouter } from '../../src/mn/router.js';

const base = {
  eid: parsePrefix('10.1.0.5/32')!,
  source: '127.0.41.50',
  ports: { control: 4342, data: 4341 },
  retry: { timeoutMs: 250, retries: 2 },
};

describe('mn ping\'s router', () => {
  it('without a Map-Server: a bare router holding our EID, ready at once, timed by --timeout and --retries', () => {
    const r = pingNode(base);
    expect(r).toBeInstanceOf(LispRouter);
    expect(r).not.toBeInstanceOf(MobileNode);
    expect(r.registrar).toBeUndefined();
    expect(r.timers).toMatchObject({ mapRequestTimeoutMs: 250, mapRequestRetries: 2, mapNotifyTimeoutMs: 250 });
    expect(pingReady(r)).toBe(true);
  });

  it('with a Map-Server and its key: a Mobile Node, not ready until the Map-Server confirms its registration', () => {
    const r = pingNode({ ...base, mapServer: { address: '127.0.41.1', key: 'k', keyId: 1 }, xtrId: null });
    expect(r).toBeInstanceOf(MobileNode);
    expect(r.registrar).toBeDefined();
    // xTR-ID none: the registrations carry none.
    expect(r.registrar!.xtrId).toBeUndefined();
    expect(pingReady(r)).toBe(false);
    (r as MobileNode).attachment = { registration: {} } as MobileNode['attachment'];
    expect(pingReady(r)).toBe(true);
  });
});
