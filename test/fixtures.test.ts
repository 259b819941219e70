// The committed captures in pcaps/: they must be exactly what scripts/make-fixtures.ts makes from the
// current encoder and writer, and every one must decode the way its README line says.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMalformed, PacketDecoder, type LispPacket } from '../src/capture/packets.js';
import { readCapture } from '../src/capture/source.js';
import { keyLookup, loadKeys } from '../src/cli/common.js';
import { packetJson } from '../src/output/json.js';
import { MESSAGE_TYPES } from '../src/dissect/registry.js';
import { reliableTypeSlug } from '../src/dissect/reliable.js';
import type { ControlMessage } from '../src/dissect/types.js';
import { makeFixtures, writeFixtures } from '../scripts/make-fixtures.js';

const PCAPS = join(import.meta.dirname, '../pcaps');

function typeName(m: ControlMessage): string {
  if ('unknown' in m) return `unknown-${m.type}`;
  if (m.type === 7) return m.reply ? 'info-reply' : 'info-request';
  if (m.type === 8) return m.inner?.message ? `ecm(${typeName(m.inner.message)})` : 'ecm(?)';
  return MESSAGE_TYPES.get(m.type)!.slug;
}

interface FileSummary {
  /** Frames the reader delivered. */
  frames: number;
  /** Packets decoded as LISP (a reassembled datagram counts once). */
  lisp: number;
  types: Record<string, number>;
  /** Frames with error notes (LISP or below): malformed. */
  malformed: number[];
  /** Frames with warning notes (decodes, but deviates from the RFCs); listed in EXPECTED only when there are some. */
  warned?: number[];
  /** Frames whose authentication verified / failed with the key file. */
  authOk: number[];
  authFailed: number[];
  /** Frames whose MS-RTR authentication (Map-Server to RTR) verified / failed. */
  msRtrOk?: number[];
  msRtrFailed?: number[];
  warnings: string[];
}

async function summarize(file: string, keys?: string): Promise<{ summary: FileSummary; packets: LispPacket[] }> {
  const s: FileSummary = { frames: 0, lisp: 0, types: {}, malformed: [], authOk: [], authFailed: [], warnings: [] };
  const packets: LispPacket[] = [];
  const decoder = new PacketDecoder({
    all: true,
    keyFor: keys ? keyLookup(loadKeys(join(PCAPS, keys))) : undefined,
    warning: (m) => s.warnings.push(m),
  });
  await readCapture(join(PCAPS, file), {
    frame: (f) => {
      s.frames++;
      const p = decoder.decode(f);
      if (!p) return;
      packets.push(p);
      if (isMalformed(p)) s.malformed.push(p.frame);
      if ([...p.notes, ...p.frameNotes].some((n) => n.level === 'warning')) (s.warned ??= []).push(p.frame);
      if (p.auth) (p.auth.ok ? s.authOk : s.authFailed).push(p.frame);
      if (p.msRtrAuth) (p.msRtrAuth.ok ? (s.msRtrOk ??= []) : (s.msRtrFailed ??= [])).push(p.frame);
      if (!p.kind) return;
      s.lisp++;
      const t =
        p.kind === 'data'
          ? 'data'
          : p.control
            ? typeName(p.control)
            : p.reliable
              ? `tcp(${p.reliable.map((e) => reliableTypeSlug(e.message.type)).join(',')})`
              : p.icmp
                ? `icmp-${p.icmp.name}(${p.icmp.quoted.lisp?.control ? typeName(p.icmp.quoted.lisp.control) : (p.icmp.quoted.lisp?.kind ?? 'ports only')})`
                : p.vxlan
                  ? 'vxlan'
                  : 'control(?)';
      s.types[t] = (s.types[t] ?? 0) + 1;
    },
    warning: (m) => s.warnings.push(m),
  });
  decoder.finish();
  return { summary: s, packets };
}

describe('pcaps/ is what scripts/make-fixtures.ts generates', () => {
  let dir: string;
  let written: string[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lispscope-fixtures-'));
    written = writeFixtures(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generates the same set of files as committed', () => {
    expect([...written].sort()).toEqual(readdirSync(PCAPS).sort());
  });

  it('every file is byte-identical (run `npm run fixtures` after changing the encoder or writer)', () => {
    const differ = written.filter((name) => !readFileSync(join(dir, name)).equals(readFileSync(join(PCAPS, name))));
    expect(differ).toEqual([]);
  });

  it('is deterministic and keeps every capture small', () => {
    const a = makeFixtures();
    const b = makeFixtures();
    expect(b.map((f) => f.name)).toEqual(a.map((f) => f.name));
    a.forEach((f, i) => expect(Buffer.from(b[i]!.bytes).equals(Buffer.from(f.bytes))).toBe(true));
    for (const f of a) expect(f.bytes.length, f.name).toBeLessThan(8 * 1024);
  });

  it('README.md describes every file', () => {
    const readme = readFileSync(join(PCAPS, 'README.md'), 'utf8');
    for (const name of readdirSync(PCAPS).filter((n) => n !== 'README.md')) expect(readme).toContain(`\`${name}\``);
  });
});

/** What every fixture decodes to, frame by frame as `lispscope read` sees it. */
const EXPECTED: Record<string, Partial<FileSummary>> = {
  'control-map-request.pcap': { frames: 9, lisp: 9, types: { 'map-request': 9 }, malformed: [] },
  'control-ecm.pcap': {
    frames: 9,
    lisp: 9,
    types: { 'ecm(map-request)': 6, 'ecm(ecm(map-request))': 1, 'ecm(map-register)': 1, 'map-register': 1 },
    // Frame 6 sets S without the LISP-SEC Authentication Data RFC 9303 §6.1 requires after the
    // header: the inner packet still decodes, a warning.
    malformed: [],
    warned: [6],
  },
  // Frame 4: PKT-AD Length beyond the data; frame 5: AD Type 7 (unassigned), the inner packet lost.
  'lisp-sec.pcap': { frames: 5, lisp: 5, types: { 'ecm(map-request)': 2, 'map-reply': 2, 'ecm(?)': 1 }, malformed: [4, 5] },
  'control-map-reply.pcap': { frames: 11, lisp: 11, types: { 'map-reply': 11 }, malformed: [] },
  'control-map-register.pcap': {
    frames: 9,
    lisp: 9,
    types: { 'map-register': 5, 'map-notify': 3, 'map-notify-ack': 1 },
    malformed: [],
  },
  'control-map-referral.pcap': { frames: 12, lisp: 12, types: { 'ecm(map-request)': 6, 'map-referral': 6 }, malformed: [] },
  'control-info.pcap': { frames: 4, lisp: 4, types: { 'info-request': 2, 'info-reply': 2 }, malformed: [] },
  'control-other-types.pcap': {
    frames: 5,
    lisp: 5,
    types: { 'shared-extension': 2, 'unknown-9': 1, 'unknown-0': 1, 'unknown-14': 1 },
    malformed: [3, 4, 5],
  },
  // Every frame is damaged on purpose (test/malformed.test.ts checks each one). Three still decode
  // and are warnings: an LCAF whose Length leaves bytes unused (3), an Authentication Data Length
  // that fits no algorithm (5), a UDP Length of 0 (10).
  'malformed.pcap': {
    frames: 11,
    lisp: 11,
    types: { 'map-register': 3, 'map-reply': 1, 'map-request': 4, 'unknown-11': 1, 'ecm(ecm(ecm(ecm(?))))': 1, 'unknown-0': 1 },
    malformed: [1, 2, 4, 6, 7, 8, 9, 11],
    warned: [3, 5, 10],
  },
  // Frames 1-3, 6 (first part of a split Registration), 8 (retransmission), 10, 12-14: TCP only.
  'reliable-tcp.pcap': {
    frames: 14,
    lisp: 5,
    types: {
      'tcp(registration-refresh)': 1,
      'tcp(registration)': 1,
      'tcp(registration,registration)': 1,
      'tcp(registration-ack,mapping-notification,registration-ack,registration-reject)': 1,
      'tcp(registration-refresh,error-notification)': 1,
    },
    malformed: [],
  },
  // Frames 1-3, 8 and 12-14: TCP only.
  'reliable-registrations.pcap': {
    frames: 14,
    lisp: 7,
    types: {
      'tcp(registration-refresh)': 1,
      'tcp(registration,registration,registration)': 1,
      'tcp(registration)': 3,
      'tcp(registration-ack,mapping-notification,registration-reject,registration-reject)': 1,
      'tcp(registration-ack,mapping-notification)': 1,
    },
    malformed: [],
  },
  // The NAT registration through an RTR (OOR's way): two ECM'd Map-Registers, the Map-Server's
  // authenticated ECM with the Map-Notify, the Map-Notify inside data (outside and inside the NAT),
  // two Map-Notify with R, data from port 4342, data in data.
  'nat-rtr.pcap': {
    frames: 9,
    lisp: 9,
    types: { 'ecm(map-register)': 2, 'ecm(map-notify)': 1, 'map-notify': 2, data: 4 },
    malformed: [],
  },
  // Seven ICMP errors about LISP packets and one about DNS (not LISP, not counted).
  'icmp-errors.pcap': {
    frames: 13,
    lisp: 12,
    types: {
      'map-register': 1,
      'ecm(map-request)': 2,
      data: 2,
      'icmp-port-unreachable(map-register)': 1,
      'icmp-host-unreachable(ports only)': 1,
      'icmp-fragmentation-needed(data)': 1,
      'icmp-ttl-exceeded(data)': 2,
      'icmp-packet-too-big(data)': 1,
      'icmp-port-unreachable(ecm(map-request))': 1,
    },
    malformed: [],
  },
  // RFC 9437: two subscriptions, their Map-Notify (and one Ack), publications, the withdrawal.
  'pubsub.pcap': { frames: 12, lisp: 12, types: { 'map-request': 3, 'map-notify': 7, 'map-notify-ack': 2 }, malformed: [] },
  // Frame 6 has no I flag (a warning); frame 7 is VXLAN on port 8472, not decoded without -d.
  'vxlan.pcap': { frames: 7, lisp: 6, types: { vxlan: 6 }, malformed: [], warned: [6] },
  // Frames 13 and 14: N with V, E without N: invalid flag combinations that still decode.
  'data.pcap': { frames: 15, lisp: 15, types: { data: 15 }, malformed: [], warned: [13, 14] },
  'lcaf.pcap': { frames: 23, lisp: 23, types: { 'map-reply': 20, 'map-register': 2, 'map-request': 1 }, malformed: [] },
  'ip-options.pcap': { frames: 5, lisp: 5, types: { 'map-request': 2, 'map-reply': 1, data: 2 }, malformed: [] },
  'ip-fragments.pcap': { frames: 13, lisp: 4, types: { data: 2, 'map-register': 2 }, malformed: [] },
  'snaplen.pcap': { frames: 5, lisp: 5, types: { 'map-request': 1, 'map-register': 1, 'map-reply': 1, data: 1, 'ecm(?)': 1 }, malformed: [2, 3, 4, 5] },
  'truncated.pcap': { frames: 2, lisp: 2, types: { 'ecm(map-request)': 1, 'map-reply': 1 }, malformed: [] },
  'mn-handover.pcapng': {
    frames: 56,
    lisp: 56,
    types: {
      'map-register': 5,
      'map-notify': 5,
      'info-request': 1,
      'info-reply': 1,
      'ecm(map-request)': 11,
      'map-reply': 5,
      'map-request': 2,
      data: 26,
    },
    malformed: [],
  },
};

const FORMAT_FILES = [
  'format-pcap-us-le.pcap',
  'format-pcap-us-be.pcap',
  'format-pcap-ns.pcap',
  'format-pcap-modified.pcap',
  'format-pcapng-le.pcapng',
  'format-pcapng-be.pcapng',
  'format-gzip.pcap.gz',
];
for (const f of FORMAT_FILES) EXPECTED[f] = { frames: 3, lisp: 3, types: { 'map-register': 1, 'map-notify': 1, data: 1 }, malformed: [] };
EXPECTED['format-pcapng-tsresol.pcapng'] = EXPECTED['format-pcap-us-le.pcap'];
EXPECTED['format-pcapng-blocks.pcapng'] = EXPECTED['format-pcap-us-le.pcap'];
EXPECTED['format-pcapng-sections.pcapng'] = { frames: 12, lisp: 12, types: { 'map-register': 4, 'map-notify': 4, data: 4 }, malformed: [] };
for (const f of ['en10mb-vlan', 'en10mb-qinq', 'linux-sll', 'linux-sll2', 'raw-101', 'raw-12', 'raw-14', 'null-le', 'null-be', 'loop']) {
  EXPECTED[`link-${f}.pcap`] = { frames: 3, lisp: 3, types: { 'ecm(map-request)': 1, 'map-reply': 1, data: 1 }, malformed: [] };
}
EXPECTED['link-ipv4.pcap'] = { frames: 2, lisp: 2, types: { 'ecm(map-request)': 1, 'map-reply': 1 }, malformed: [] };
EXPECTED['link-ipv6.pcap'] = { frames: 1, lisp: 1, types: { data: 1 }, malformed: [] };

const CAPTURES = readdirSync(PCAPS).filter((n) => /\.(pcap|pcapng|pcap\.gz)$/.test(n));

describe('every committed capture decodes', () => {
  it('has an expectation for each capture', () => {
    expect(CAPTURES.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const file of CAPTURES) {
    it(`${file}: frames, LISP packets and types`, async () => {
      const { summary } = await summarize(file);
      const want = EXPECTED[file]!;
      const got: Partial<FileSummary> = { frames: summary.frames, lisp: summary.lisp, types: summary.types, malformed: summary.malformed };
      if (summary.warned) got.warned = summary.warned;
      expect(got).toEqual(want);
      if (file !== 'truncated.pcap') expect(summary.warnings).toEqual([]);
    });
  }

  it('format fixtures keep their timestamps at each resolution', async () => {
    const T0 = 1_714_557_600;
    const times = async (file: string) => (await summarize(file)).packets.map((p) => [p.tsSec - T0, p.tsNsec]);
    const us = [
      [0, 123_456_000],
      [0, 127_000_000],
      [2, 0],
    ];
    const ns = [
      [0, 123_456_789],
      [0, 127_000_001],
      [2, 999],
    ];
    for (const f of ['format-pcap-us-le.pcap', 'format-pcap-us-be.pcap', 'format-pcap-modified.pcap', 'format-pcapng-le.pcapng', 'format-gzip.pcap.gz']) {
      expect(await times(f), f).toEqual(us);
    }
    expect(await times('format-pcap-ns.pcap')).toEqual(ns);
    expect(await times('format-pcapng-be.pcapng')).toEqual(ns);
    const [nsIface, pow2, msOffset] = await times('format-pcapng-tsresol.pcapng');
    expect(nsIface).toEqual(ns[0]);
    expect(pow2![0]).toBe(0);
    expect(Math.abs(pow2![1]! - 127_000_001)).toBeLessThan(1000); // 2^-20 s is about 954 ns
    expect(msOffset).toEqual([2, 0]);
  });

  it('every frame of the data-plane fixtures carries an inner packet unless encrypted or non-IP GPE', async () => {
    const { packets } = await summarize('data.pcap');
    const without = packets.filter((p) => !p.data?.inner).map((p) => p.frame);
    expect(without).toEqual([9, 10]); // K=1, GPE Ethernet
  });

  it('reassembles outer fragments into whole LISP datagrams', async () => {
    const { packets } = await summarize('ip-fragments.pcap');
    const lisp = packets.filter((p) => p.kind);
    expect(lisp.map((p) => p.fragments)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9, 10],
      [11, 12, 13],
    ]);
    expect(lisp.map((p) => (p.control && 'records' in p.control ? p.control.records.length : p.data?.inner?.len))).toEqual([628, 648, 12, 12]);
  });
});

describe('malformed fixtures are reported, not dropped', () => {
  it('snaplen.pcap: every cut frame says so, and the LISP decoder says where it stopped', async () => {
    const { packets } = await summarize('snaplen.pcap');
    expect(packets.map((p) => p.caplen)).toEqual([70, 96, 96, 96, 96]);
    for (const p of packets.slice(1)) {
      expect(p.len).toBeGreaterThan(p.caplen);
      expect(p.frameNotes.map((n) => n.message).join('\n')).toMatch(/truncated by the capture/);
    }
    for (const p of packets.slice(1, 3)) expect(p.notes.map((n) => n.message).join('\n')).toMatch(/truncated/);
    expect(packets[4]!.notes.map((n) => n.message).join('\n')).toMatch(/cut short/);
  });

  it('truncated.pcap: the frames before the cut, then a warning naming it', async () => {
    const { summary } = await summarize('truncated.pcap');
    expect(summary.frames).toBe(2);
    expect(summary.warnings).toHaveLength(1);
    expect(summary.warnings[0]).toMatch(/truncated: capture ends inside a record/);
  });

  it('reliable-tcp.pcap: messages reported at the frame that completes them, with the frames that carried them', async () => {
    const { packets, summary } = await summarize('reliable-tcp.pcap');
    expect(summary.warnings).toEqual([]);
    const reliable = packets.filter((p) => p.kind === 'reliable');
    expect(reliable.map((p) => p.frame)).toEqual([4, 5, 7, 9, 11]);
    expect(reliable.map((p) => p.reliable!.map((e) => [e.message.messageId, e.frames]))).toEqual([
      [[0, [4]]],
      [[0, [5]]],
      [
        [1, [5, 7, 6]],
        [2, [6]],
      ],
      [
        [1, [9]],
        [2, [9]],
        [3, [9]],
        [4, [9]],
      ],
      [
        [5, [11]],
        [6, [11]],
      ],
    ]);
    // A message this frame alone carried has its place in the frame; one from several segments has none.
    const f7 = reliable[2]!.reliable!;
    expect(f7[0]!.frameOffset).toBeUndefined();
    expect(f7[1]!.frameOffset).toBeUndefined(); // carried by frame 6, released by frame 7
    expect(reliable[1]!.reliable![0]!.frameOffset).toBe(54);
    expect(packets.find((p) => p.frame === 8)).toMatchObject({ summary: expect.stringMatching(/^TCP \[PSH, ACK\]/) });
  });

  it('pubsub.pcap: the subscription carries I, xTR-ID and site-ID (RFC 9437 §5); publications are Map-Notify with the xTR-ID', async () => {
    const { packets } = await summarize('pubsub.pcap');
    const xtr_id = '00112233445566778899aabbccddeeff';
    const site_id = '0000000000000007';
    expect(packetJson(packets[0]!)).toMatchObject({ type: 'map-request', xtr_id_present: true, xtr_id, site_id, eids: ['10.2.0.0/24'], itr_rlocs: ['192.0.2.10'] });
    expect(packetJson(packets[1]!)).toMatchObject({ type: 'map-notify', xtr_id_present: true, xtr_id, site_id, nonce: packetJson(packets[0]!).nonce });
    // The first publication's nonce is the subscription's + 1 (RFC 9437 §6).
    expect(BigInt(`0x${packetJson(packets[3]!).nonce}`)).toBe(BigInt(`0x${packetJson(packets[0]!).nonce}`) + 1n);
    // The withdrawal: the only ITR-RLOC has AFI 0 (no address: null in the list).
    expect(packetJson(packets[11]!)).toMatchObject({ type: 'map-request', xtr_id_present: true, itr_rlocs: [null] });
    const m = packets[0]!.control as { xtrIdPresent: boolean; reserved?: number };
    expect([m.xtrIdPresent, m.reserved]).toEqual([true, undefined]);
  });

  it('vxlan.pcap: the VNI is the Instance-ID, the group policy is shown, -d udp.port=8472,vxlan decodes another port', async () => {
    const { packets } = await summarize('vxlan.pcap');
    expect(packetJson(packets[0]!)).toMatchObject({
      type: 'vxlan',
      flags: 'GI',
      vni: 4099,
      iid: 4099,
      group_policy_id: 17,
      dont_learn: false,
      policy_applied: false,
      ethernet: { src: '02:00:0a:01:00:05', dst: '02:00:0a:02:00:07', ethertype: 0x0800 },
      inner: { src: '10.1.0.5', dst: '10.2.0.7', proto: 1, icmp_type: 8, icmp_id: 0x1234, icmp_seq: 1, payload_len: 40 },
    });
    expect(packetJson(packets[1]!)).toMatchObject({ flags: 'GIDA', group_policy_id: 23, dont_learn: true, policy_applied: true });
    expect(packetJson(packets[2]!)).toMatchObject({ flags: 'I', vni: 8190, inner: { src: '2001:db8:1::5', tcp_flags: 'S', dport: 443 } });
    expect(packetJson(packets[2]!)).not.toHaveProperty('group_policy_id');
    expect(packetJson(packets[3]!)).toMatchObject({ ethernet: { vlan_ids: [100] }, inner: { sport: 5353, dport: 53, payload_len: 30 } });
    expect(packetJson(packets[4]!)).toMatchObject({ ethernet: { ethertype: 0x0806 } });
    expect(packetJson(packets[4]!)).not.toHaveProperty('inner');
    const d = new PacketDecoder({ decodeAs: { control: new Set(), data: new Set(), vxlan: new Set([8472]) } });
    const vnis: number[] = [];
    await readCapture(join(PCAPS, 'vxlan.pcap'), {
      frame: (f) => {
        const p = d.decode(f);
        if (p?.vxlan) vnis.push(p.vxlan.vni);
      },
      warning: () => {},
    });
    expect(vnis).toEqual([4099, 4099, 8190, 4099, 4099, 4099, 300]);
  });

  it('control-other-types.pcap: unknown types kept raw and flagged', async () => {
    const { packets } = await summarize('control-other-types.pcap');
    expect(packets.map((p) => p.control && 'unknown' in p.control)).toEqual([false, false, true, true, true]);
    expect(packets[2]!.notes[0]!.message).toMatch(/unknown LISP control message type 9/);
  });
});

describe('keys', () => {
  it('pcaps/keys verifies every authenticated control fixture except the wrong-key Map-Register', async () => {
    const results: Record<string, { ok: number[]; failed: number[] }> = {};
    for (const file of CAPTURES.filter((f) => f !== 'mn-handover.pcapng')) {
      const { summary } = await summarize(file, 'keys');
      if (summary.authOk.length || summary.authFailed.length) results[file] = { ok: summary.authOk, failed: summary.authFailed };
    }
    const ok3 = { ok: [1, 2], failed: [] };
    expect(results).toEqual({
      // The Map-Register inside the ECM (frame 8) and its relay (frame 9).
      'control-ecm.pcap': { ok: [8, 9], failed: [] },
      'control-info.pcap': { ok: [1, 2, 3, 4], failed: [] },
      'control-map-register.pcap': { ok: [1, 2, 3, 4, 6, 7, 8, 9], failed: [5] },
      // The Registrations of the reliable-transport session (frame 7 completes two).
      'reliable-tcp.pcap': { ok: [5, 7], failed: [] },
      // Frame 6: the Registration signed with the wrong key (the Map-Server rejects it too).
      'reliable-registrations.pcap': { ok: [5, 9, 10], failed: [6] },
      'ip-fragments.pcap': { ok: [10, 13], failed: [] },
      'lcaf.pcap': { ok: [11, 22], failed: [] },
      // The Map-Register; the copy an ICMP error quotes is reported, not verified.
      'icmp-errors.pcap': { ok: [1], failed: [] },
      // Every Map-Notify and Map-Notify-Ack of the publications (the site key of 10.2.0.0/24 and 2001:db8:2::/48).
      'pubsub.pcap': { ok: [2, 3, 4, 5, 6, 7, 8, 9, 11], failed: [] },
      // The Map-Register twice in ECMs, the Map-Notify in the Map-Server's ECM, inside data twice, with R twice.
      'nat-rtr.pcap': { ok: [1, 2, 3, 4, 5, 6, 7], failed: [] },
      // Damaged after signing: the MAC no longer matches (frame 5's length does not even fit SHA-1).
      'malformed.pcap': { ok: [], failed: [1, 5, 7] },
      'format-pcap-us-le.pcap': ok3,
      'format-pcap-us-be.pcap': ok3,
      'format-pcap-ns.pcap': ok3,
      'format-pcap-modified.pcap': ok3,
      'format-pcapng-le.pcapng': ok3,
      'format-pcapng-be.pcapng': ok3,
      'format-gzip.pcap.gz': ok3,
      'format-pcapng-tsresol.pcapng': ok3,
      'format-pcapng-blocks.pcapng': { ok: [1, 3], failed: [] },
      'format-pcapng-sections.pcapng': { ok: [1, 2, 4, 5, 6, 7, 10, 11], failed: [] },
    });
  });

  it("nat-rtr.pcap: the Map-Server's authentication towards the RTR verifies with the RTR's key, by the RTR's address", async () => {
    const { summary, packets } = await summarize('nat-rtr.pcap', 'keys');
    // The ECM with AD Type 2 (frame 3) and the two Map-Notify with R (frames 6, 7: Wireshark's layout, OOR's AD word).
    expect(summary.msRtrOk).toEqual([3, 6, 7]);
    expect(summary.msRtrFailed).toBeUndefined();
    // The inner Map-Register / Map-Notify are what `auth` is about; JSON puts it on the inner object.
    const ecm = packetJson(packets[2]!);
    expect(ecm).toMatchObject({ type: 'ecm', security: true, ms_rtr_ad_type: 2, ms_rtr_auth_ok: true, inner: { type: 'map-notify', auth_ok: true } });
    expect(ecm).not.toHaveProperty('auth_ok');
    const inData = packetJson(packets[3]!);
    expect(inData).toMatchObject({ type: 'data', iid: 0xffffff, inner: { sport: 4342, dport: 4342, lisp: { type: 'map-notify', auth_ok: true } } });
    // A wrong RTR key fails only the MS-RTR verdict.
    const wrong = new PacketDecoder({ keyFor: (_p, _m, role) => (role === 'ms-rtr' ? 'not-the-rtr-key' : 'site-a-secret') });
    const verdicts: [boolean | undefined, boolean | undefined][] = [];
    await readCapture(join(PCAPS, 'nat-rtr.pcap'), {
      frame: (f) => {
        const p = wrong.decode(f);
        if (p?.msRtrAuth) verdicts.push([p.auth?.ok, p.msRtrAuth.ok]);
      },
      warning: () => {},
    });
    expect(verdicts).toEqual([
      [true, false],
      [true, false],
      [true, false],
    ]);
  });

  it('a message cut by the snaplen is not verified, and says so (rather than failing)', async () => {
    const { packets, summary } = await summarize('snaplen.pcap', 'keys');
    expect(summary.authOk).toEqual([]);
    expect(summary.authFailed).toEqual([]);
    const register = packets.find((p) => p.frame === 2)!;
    expect(register.frameNotes).toContainEqual({ level: 'note', message: 'authentication not verified: the message is cut short by the capture' });
  });

  it('mn-handover.keys verifies all 12 authenticated messages of the demo', async () => {
    const { summary } = await summarize('mn-handover.pcapng', 'mn-handover.keys');
    expect(summary.authFailed).toEqual([]);
    expect(summary.authOk).toEqual([1, 2, 3, 4, 5, 6, 35, 36, 48, 49, 50, 51]);
  });

  it('a wrong key fails every one of them', async () => {
    const { summary } = await summarize('mn-handover.pcapng', 'keys');
    expect(summary.authOk).toEqual([]);
    expect(summary.authFailed).toHaveLength(12);
  });
});
