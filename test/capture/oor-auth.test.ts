// Authentication against another implementation's signer: Open Overlay Router signed every
// Map-Register, Map-Notify and Info message of its scenarios, and the Map-Server's MS-RTR
// authentication towards the RTR, with the key `password` (../shared/captures/README). Each of
// them must verify with that key and fail with any other.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/capture/packets.js';
import { readCapture } from '../../src/capture/source.js';
import { gate } from '../support/live.js';

const SHARED = join(import.meta.dirname, '../../../shared/captures');

/**
 * The frames carrying OOR-signed messages, read from the captures with tshark (lisp.keyid 0x0001:
 * Key ID 0, HMAC-SHA-1-96) and, where tshark 4.0 does not open an ECM's Map-Notify or LISP data,
 * from their bytes; `rtr:` marks the MS-RTR authentication of an ECM.
 */
const SIGNED: Record<string, string[]> = {
  'oor__03-mn-handover-rloc-change.mn.pcap': ['464', '466'],
  'oor__03-mn-handover-rloc-change.ms.pcap': ['1', '3', '9', '10'],
  'oor__03-mn-handover-rloc-change.xtr.pcap': ['135', '136'],
  // Two Info-Requests, the Map-Register in an ECM, the Map-Notify inside LISP data from the RTR.
  'oor__07-mn-nat-traversal.mn.pcap': ['3', '4', '5', '7'],
  'oor__07-mn-nat-traversal.ms.pcap': ['1', '2', '3', '4', 'rtr:4'],
  'oor__07-mn-nat-traversal.rtr.pcap': ['3', '7', '8', 'rtr:8', '9'],
  'oor__07-mn-nat-traversal.xtr.pcap': [],
};

/** Every verdict of a capture, with `key` for every message: frame (`rtr:` frame) → reason or ok. */
async function verdicts(file: string, key: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const decoder = new PacketDecoder({ keyFor: () => key });
  await readCapture(file, {
    frame: (f) => {
      const p = decoder.decode(f);
      if (p?.auth) out.set(String(p.frame), p.auth.ok ? 'ok' : p.auth.reason);
      if (p?.msRtrAuth) out.set(`rtr:${p.frame}`, p.msRtrAuth.ok ? 'ok' : p.msRtrAuth.reason);
    },
    warning: () => {},
  });
  return out;
}

describe('Open Overlay Router signed its messages with "password"', () => {
  for (const [name, frames] of Object.entries(SIGNED)) {
    const file = join(SHARED, name);
    const missing = gate(`the authentication test on ${name}`, existsSync(file) ? undefined : `${file} is missing`);
    it.skipIf(missing !== undefined)(`${name}: each verifies with it and fails with another key`, async () => {
      const good = await verdicts(file, 'password');
      expect([...good.keys()]).toEqual(frames);
      for (const v of good.values()) expect(v).toBe('ok');
      const bad = await verdicts(file, 'passwore');
      expect([...bad.keys()]).toEqual(frames);
      for (const v of bad.values()) expect(v).toBe('authentication data does not match the key');
    });
  }
});
