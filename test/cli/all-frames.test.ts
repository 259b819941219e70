// `read --all` names the frames around LISP as tcpdump does: ARP, IPv6 neighbour discovery, ICMP
// and ICMPv6, other UDP. Checked line by line against tcpdump itself on frames built here and on
// every such frame of the real captures in ../shared/captures.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writePcap } from '../../src/capture/writer.js';
import { parseIPv4, parseIPv6 } from '../../src/dissect/addr.js';
import { encodeIPv4, encodeIPv6, encodeUdp } from '../../src/dissect/ip.js';
import { encodeLink, LINKTYPE_EN10MB } from '../../src/dissect/link.js';
import { requireTool } from '../support/tshark.js';
import { runAsync } from '../capture/helpers.js';
import { eachAtOnce, lispscopeAsync, SHARED } from './run.js';

const haveTcpdump = spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).status === 0;

function arp(op: number, sha: string, spa: string, tpa: string): Uint8Array {
  const b = new Uint8Array(28);
  b.set([0, 1, 8, 0, 6, 4, 0, op]);
  b.set(sha.split(':').map((h) => parseInt(h, 16)), 8);
  b.set(parseIPv4(spa)!, 14);
  b.set(parseIPv4(tpa)!, 24);
  return b;
}

function icmp(type: number, code: number, rest: Uint8Array): Uint8Array {
  const b = new Uint8Array(4 + rest.length);
  b[0] = type;
  b[1] = code;
  b.set(rest, 4);
  return b;
}

const echo = (id: number, seq: number) => Uint8Array.of(id >> 8, id & 0xff, seq >> 8, seq & 0xff, ...new Array(56).fill(0x61));
const v4 = (src: string, dst: string, proto: number, payload: Uint8Array) => encodeLink(LINKTYPE_EN10MB, encodeIPv4({ src, dst, proto }, payload));
const v6 = (src: string, dst: string, payload: Uint8Array) => encodeLink(LINKTYPE_EN10MB, encodeIPv6({ src, dst, nextHeader: 58, hopLimit: 255 }, payload));

/** Frames that are not LISP, of every kind `--all` names. */
function frames(): Uint8Array[] {
  const quoted = encodeIPv4({ src: '10.0.0.1', dst: '10.0.0.9', proto: 17 }, encodeUdp(40000, 53, new Uint8Array(20)));
  const target = parseIPv6('2001:db8::2')!;
  return [
    encodeLink(LINKTYPE_EN10MB, arp(1, '02:00:00:00:00:01', '10.0.0.1', '10.0.0.2'), { etherType: 0x0806, pad: true }),
    encodeLink(LINKTYPE_EN10MB, arp(2, '02:00:00:00:00:02', '10.0.0.2', '10.0.0.1'), { etherType: 0x0806 }),
    v4('10.0.0.1', '10.0.0.2', 1, icmp(8, 0, echo(7, 1))),
    v4('10.0.0.2', '10.0.0.1', 1, icmp(0, 0, echo(7, 1))),
    v4('10.0.0.9', '10.0.0.1', 1, icmp(3, 3, Uint8Array.of(0, 0, 0, 0, ...quoted.subarray(0, 28)))),
    v4('10.0.0.254', '10.0.0.1', 1, icmp(11, 0, Uint8Array.of(0, 0, 0, 0, ...quoted.subarray(0, 28)))),
    v6('fe80::1', 'ff02::1:ff00:2', icmp(135, 0, Uint8Array.of(0, 0, 0, 0, ...target))),
    v6('2001:db8::2', 'fe80::1', icmp(136, 0, Uint8Array.of(0x60, 0, 0, 0, ...target))),
    v6('fe80::1', 'ff02::2', icmp(133, 0, new Uint8Array(4))),
    v6('2001:db8::1', '2001:db8::2', icmp(128, 0, echo(9, 3))),
    v4('10.0.0.1', '10.0.0.53', 17, encodeUdp(40000, 40001, new Uint8Array(33))),
  ];
}

/** The lines without their time, from tcpdump -n and from lispscope read --all -n -t, of the frames `keep` selects. */
/** Both readers side by side (runAsync fails on tcpdump's failure). */
async function compare(file: string, keep: (line: string) => boolean): Promise<{ ours: string[]; theirs: string[] }> {
  const [r, theirs] = await Promise.all([lispscopeAsync(['read', '--all', '-n', '-t', file]), runAsync('tcpdump', ['-n', '-t', '-r', file])]);
  expect(r.code).toBe(0);
  return { ours: r.stdout.split('\n').filter(keep), theirs: theirs.split('\n').filter(keep) };
}

/** Not LISP's ports (tcpdump shows LISP data as plain UDP) nor DNS (tcpdump decodes it; we do not). */
const otherUdp = (l: string) => /: UDP, length/.test(l) && !/\.(434[12]|53)[ :]/.test(l);

describe('read --all names what is not LISP as tcpdump does', () => {
  it.skipIf(!requireTool('tcpdump', haveTcpdump))('ARP, neighbour discovery, ICMP, ICMPv6 and UDP built here', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lispscope-all-'));
    const file = join(dir, 'other.pcap');
    writeFileSync(file, writePcap(frames().map((data, i) => ({ tsSec: 1714557600 + i, tsNsec: 0, data }))));
    const { ours, theirs } = await compare(file, (l) => /ARP|ICMP/.test(l) || otherUdp(l));
    expect(ours).toHaveLength(frames().length);
    expect(ours).toEqual(theirs);
    expect(ours[0]).toBe('ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 46');
  });

  const shared = existsSync(SHARED) ? readdirSync(SHARED).filter((f) => f.endsWith('.pcap')) : [];
  if (!shared.length && process.env.CI === 'true') throw new Error(`${SHARED} is missing: CI runs with ../shared`);
  it.skipIf(!requireTool('tcpdump', haveTcpdump) || !shared.length)('every ARP, ICMP and plain UDP frame of the real captures', async () => {
    let compared = 0;
    // ICMP errors quoting a LISP packet are decoded as LISP: the rest is compared.
    const runs = await eachAtOnce(shared, (f) => compare(join(SHARED, f), (l) => (/ARP|ICMP/.test(l) && !/LISP|time exceeded|unreachable|\.434[12][ :]/.test(l)) || otherUdp(l)));
    for (const [i, f] of shared.entries()) {
      const { ours, theirs } = runs[i]!;
      expect(ours, f).toEqual(theirs);
      compared += ours.length;
    }
    expect(compared).toBeGreaterThan(20);
  });
});
