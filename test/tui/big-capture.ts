// A large capture for the responsiveness test: a pool of distinct LISP packets (an ECM'd
// Map-Request and its Map-Reply for a different EID each time, then data packets) written over and
// over with advancing timestamps, as `npm run bench` builds its capture, but smaller per packet and
// faster to write.

import { PcapFileWriter } from '../../src/capture/writer.js';
import { dataPacket, ecm, lispUdpPacket, mappingRecord, mapReply, mapRequest } from '../../src/dissect/build.js';
import { encodeControl } from '../../src/dissect/control.js';

export function writeBigCapture(file: string, packets: number): void {
  const pool: Uint8Array[] = [];
  for (let i = 0; i < 1000; i++) {
    const eid = `10.${(i >> 8) & 0xff}.${i & 0xff}.1`;
    const nonce = 0x1000n + BigInt(i);
    if (i % 10 === 0) {
      const req = mapRequest({ nonce, eids: [`${eid}/32`], itrRlocs: ['192.0.2.1'], sourceEid: '10.250.0.1' });
      pool.push(lispUdpPacket({ src: '192.0.2.1', dst: '192.0.2.2', sport: 40000 + i, dport: 4342, payload: encodeControl(ecm({ inner: { src: '192.0.2.1', dst: eid, sport: 40000 + i }, message: req })) }));
    } else if (i % 10 === 1) {
      const rec = mappingRecord({ eid: `${eid}/32`, locators: [{ rloc: '198.51.100.9', priority: 1, weight: 100, local: true }] });
      pool.push(lispUdpPacket({ src: '198.51.100.9', dst: '192.0.2.1', sport: 4342, dport: 40000 + i - 1, payload: mapReply({ nonce: nonce - 1n, records: [rec] }) }));
    } else {
      pool.push(dataPacket({ src: '198.51.100.1', dst: '198.51.100.2', nonce: i, lsb: 1, inner: { src: '10.1.0.5', dst: eid, proto: 'udp', payload: new Uint8Array(32) } }));
    }
  }
  const w = new PcapFileWriter(file, { linkType: 101 });
  let sec = 1764000000;
  let usec = 0;
  for (let i = 0; i < packets; i++) {
    usec += 37;
    if (usec >= 1e6) {
      sec++;
      usec -= 1e6;
    }
    w.write({ tsSec: sec, tsNsec: usec * 1000, data: pool[i % pool.length]! });
  }
  w.close();
}
