// The terminal UI's components, rendered with ink-testing-library on the mn-handover fixture and on
// the lab: what each view shows, and the keys (navigation, drill-in, filter, sort, help, quit).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lispUdpPacket, mappingRecord, mapNotify, mapRegister, mapReply, mapRequest } from '../../src/dissect/build.js';
import { FileSource } from '../../src/tui/file-source.js';
import { LabSource } from '../../src/tui/lab-source.js';
import { jsonLines, lispscope, PCAPS } from '../cli/run.js';
import { writeBigCapture } from './big-capture.js';
import { KEY, StepSource, ui, until } from './helpers.js';


let source: FileSource;
beforeAll(async () => {
  source = new FileSource([join(PCAPS, 'mn-handover.pcapng')]);
  await source.start();
  await until(source, () => source.status().state === 'done');
});
afterAll(() => source.stop());

describe('the UI on mn-handover.pcapng', () => {
  it('opens on the sessions with the ladder of the first one and the stats bar', async () => {
    const t = ui(source);
    await t.settle();
    const f = t.frame();
    const lines = f.split('\n');
    expect(lines).toHaveLength(30);
    expect(lines[0]).toMatch(/lispscope │ file: .*mn-handover\.pcapng │ done: 56 frames, 11 sessions/);
    expect(f).toMatch(/Sessions 1\/11/);
    expect(f).toMatch(/› 10:00:00\.000 registration 10\.1\.0\.5\/32 +192\.0\.2\.10 +⇄ 203\.0\.113\.1 +5\.000 ms answered/);
    expect(f).toMatch(/10:01:35\.000 resolution +10\.3\.0\.9\/32 .* 2\.000 ms negative +3/);
    // The ladder of the selected registration: MN → MS and back, with the RTT.
    expect(f).toMatch(/Ladder registration 10\.1\.0\.5\/32/);
    expect(f).toMatch(/MN +MS/);
    expect(f).toMatch(/\+0\.0 +├─+ Map-Register ─+▶│/);
    expect(f).toMatch(/\+5\.0 +│◀─+ Map-Notify ─+┤ +rtt 5\.000 ms/);
    expect(f).toMatch(/pkts 56 · LISP 56 · drops 0 · unansw 0 · auth-fail 0 · malformed 0 · sess 11/);
    t.unmount();
  });

  it('moves with arrows and vim keys, drills into a session, its detail tree and hex, and back', async () => {
    const t = ui(source);
    await t.press('j', 'j', KEY.down, 'k', 'jjjjj');
    expect(t.frame()).toMatch(/› 10:00:30\.461 smr +10\.1\.0\.5\/32 +198\.51\.100\.20 +→ 203\.0\.113\.50 +4\.000 ms answered/);
    // The SMR story in the ladder: SMR to the peer, its SMR-invoked request via MR and MS, the reply.
    let f = t.frame();
    expect(f).toMatch(/MN +xTR +MR +MS/);
    expect(f).toMatch(/├─+ SMR ─+▶│/);
    expect(f).toMatch(/\+289\.0 .*ECM Req \(s\)/);
    expect(f).toMatch(/\+293\.0 +│ +│◀─+ Map-Reply ─+┤/);
    await t.press(KEY.enter);
    f = t.frame();
    expect(f).toMatch(/Packets of smr 10\.1\.0\.5\/32 \(a: all\) 1\/4/);
    expect(f).toMatch(/› +37 10:00:30\.461 198\.51\.100\.20 +203\.0\.113\.50 +SMR nonce 0x6feac7a5a330b9a1/);
    expect(f).toMatch(/ +41 10:00:30\.754 203\.0\.113\.1 +203\.0\.113\.50 +Map-Reply/);
    // The detail tree opens on the LISP message; the hex pane highlights its bytes.
    expect(f).toMatch(/Detail frame 37/);
    expect(f).toMatch(/› ▾ Locator\/ID Separation Protocol \(Map-Request\)/);
    expect(f).toMatch(/Hex 74 bytes .* bytes 42-73 \(32\)/);
    await t.press(KEY.enter, 'j', 'j');
    f = t.frame();
    expect(f).toMatch(/› +▸ Flags: S/);
    expect(f).toMatch(/bytes 42-45 \(4\)/);
    await t.press(KEY.right);
    expect(t.frame()).toMatch(/› +▾ Flags: S\s.*\n +A \(Authoritative\): Not set/);
    await t.press(KEY.left);
    expect(t.frame()).not.toMatch(/A \(Authoritative\): Not set/);
    // Hex highlighting is inverse video around the selected bytes (also without colour).
    expect(t.lastFrame()).toMatch(/\x1b\[7m/);
    await t.press(KEY.tab);
    expect(t.frame()).toMatch(/ Hex 74 bytes/);
    await t.press(KEY.esc);
    expect(t.frame()).toMatch(/Sessions 8\/11/);
    t.unmount();
  });

  it('lists every packet with a, and drills from a ladder step to its packet', async () => {
    const t = ui(source);
    await t.press('2');
    expect(t.frame()).toMatch(/Packets \(a: this session only\) 1\/56/);
    await t.press('G');
    expect(t.frame()).toMatch(/56\/56/);
    await t.press('1', 'jjjjjjj', '3');
    let f = t.frame();
    expect(f).toMatch(/Ladder smr 10\.1\.0\.5\/32/);
    expect(f).toMatch(/frame 37: SMR MN 198\.51\.100\.20 → xTR 203\.0\.113\.50/);
    await t.press('j');
    expect(t.frame()).toMatch(/frame 39: ECM Map-Request \(s\) xTR 203\.0\.113\.50 → MR 203\.0\.113\.2 · SMR-invoked \+289\.000 ms/);
    await t.press(KEY.enter);
    f = t.frame();
    expect(f).toMatch(/Packets of smr 10\.1\.0\.5\/32 \(a: all\) 2\/4/);
    expect(f).toMatch(/ Detail frame 39/);
    t.unmount();
  });

  it('acts on keys typed faster than it redraws in order, each on the screen the one before made', async () => {
    const t = ui(source);
    await t.settle();
    // No render between them: G must move in the packets pane that 2 opened, not in the sessions.
    t.stdin.write('2');
    t.stdin.write('G');
    t.stdin.write(KEY.enter);
    await t.settle();
    expect(t.frame()).toMatch(/Packets \(a: this session only\) 56\/56/);
    t.stdin.write(KEY.esc);
    await t.settle();
    // And in one read of the terminal, as a fast typist or a paste gives them.
    t.stdin.write('2gG\r');
    await t.settle();
    const f = t.frame();
    expect(f).toMatch(/Packets \(a: this session only\) 56\/56/);
    expect(f).toMatch(/ Detail frame 56/);
    t.unmount();
  });

  it('filters sessions with the -Y syntax, reports a bad filter, sorts', async () => {
    const t = ui(source);
    await t.press('/');
    expect(t.frame()).toMatch(/filter sessions and packets \(-Y\): +$/m);
    await t.press('kind == smr || outcome != answered', KEY.enter);
    let f = t.frame();
    expect(f).toMatch(/Sessions 1\/2 +filter: kind == smr \|\| outcome != answered/);
    expect(f).toMatch(/2 sessions match/);
    await t.press('/', '\u0015', 'rtt_ms > ', KEY.enter);
    expect(t.frame()).toMatch(/✗ expected a value after ">" at column 10 \(end of filter\)\n filter sessions and packets \(-Y\): rtt_ms > /);
    await t.press(KEY.esc, '/', '\u0015', KEY.enter);
    expect(t.frame()).toMatch(/Sessions 1\/11/);
    await t.press('s', 's', 's', 's');
    f = t.frame();
    expect(f).toMatch(/sort rtt ▲/);
    await t.press('S');
    f = t.frame();
    expect(f).toMatch(/sort rtt ▼/);
    // The longest round trip of the capture: xTR-A's resolution of 10.2.0.7 (rtt_ms; the negative
    // reply took 3 s to come, but 2 ms after the request it echoes).
    expect(f.split('\n').find((l) => l.includes('›'))).toMatch(/resolution +10\.2\.0\.7\/32 .* 6\.000 ms answered/);
    t.unmount();
  });

  it('filters the packets of the whole capture as read -Y does, and keeps a session\'s own packets whole', async () => {
    const HANDOVER = join(PCAPS, 'mn-handover.pcapng');
    const registers = jsonLines(lispscope(['read', '--json', '-Y', 'type == map-register', HANDOVER]).stdout).map((o) => o.frame);
    expect(registers).toEqual([1, 5, 35, 48, 50]);
    /** The frame numbers listed in the Packets pane, and the selected one. */
    const listed = (f: string) => [...f.matchAll(/^([› ]) +(\d+) \d\d:\d\d:\d\d\.\d{3} /gm)].map((m) => (m[1] === '›' ? `>${m[2]}` : Number(m[2])));
    const t = ui(source);
    await t.press('2', 'j', 'j');
    expect(t.frame()).toMatch(/Packets \(a: this session only\) 3\/56/);
    // Filtered where it is: the selection moves to the first match from the packet selected on.
    await t.press('/', 'type == map-register', KEY.enter);
    let f = await t.waitFor(/5 packets of 56 match/);
    expect(f).toMatch(/Packets \(a: this session only\) 2\/5 +filter: type == map-register/);
    expect(listed(f)).toEqual([1, '>5', 35, 48, 50]);
    expect(f).toMatch(/ filter type == map-register: 0 sessions match · 5 packets of 56 match/);
    await t.press('j');
    expect(listed(t.frame())).toEqual([1, 5, '>35', 48, 50]);
    // A mistake is one line with its column; the filter in force stays.
    await t.press('/', '\u0015', 'type ==', KEY.enter);
    expect(t.frame()).toMatch(/✗ expected a value after "==" at column 8 \(end of filter\)/);
    await t.press(KEY.esc);
    expect(t.frame()).toMatch(/3\/5 +filter: type == map-register/);
    // Cleared: every packet again, the one selected still selected.
    await t.press('/', '\u0015', KEY.enter);
    f = t.frame();
    expect(f).toMatch(/Packets \(a: this session only\) 35\/56/);
    expect(f).not.toMatch(/filter:/);
    expect(f).toMatch(/filter cleared/);
    // A filter no packet passes (exchanges have a kind, packets a type): the whole capture shows
    // none, the session's own packets stay whole.
    await t.press('/', 'kind == smr', KEY.enter);
    f = await t.waitFor(/0 packets of 56 match/);
    expect(f).toMatch(/Packets \(a: this session only\) 0\/0 +filter: kind == smr/);
    expect(f).toMatch(/no packet matches the filter/);
    expect(f).toMatch(/filter kind == smr: 1 session match · 0 packets of 56 match/);
    await t.press('1');
    expect(t.frame()).toMatch(/Sessions 1\/1 +filter: kind == smr/);
    await t.press(KEY.enter);
    f = t.frame();
    expect(f).toMatch(/Packets of smr 10\.1\.0\.5\/32 \(a: all\) 1\/4/);
    expect(f).not.toMatch(/Packets of smr .*filter:/);
    expect(listed(f)).toEqual(['>37', 39, 40, 41]);
    await t.press('a');
    expect(t.frame()).toMatch(/Packets \(a: this session only\) 0\/0 +filter: kind == smr/);
    t.unmount();
  });

  it('shows the mappings with the handover, its peer and latency; Enter lists the EID\'s sessions', async () => {
    const t = ui(source);
    await t.press('4');
    let f = t.frame();
    expect(f).toMatch(/Mappings 1\/2/);
    expect(f).toMatch(/› ▲ 10\.1\.0\.5\/32/);
    expect(f).toMatch(/192\.0\.2\.10 +█+·+/);
    expect(f).toMatch(/198\.51\.100\.20 +·+█+/);
    expect(f).toMatch(/handovers +▲/);
    await t.press('\u001B[6~');
    f = t.frame();
    expect(f).toMatch(/handover at 10:00:30\.450 \(frame 35\): 192\.0\.2\.10 → 198\.51\.100\.20/);
    expect(f).toMatch(/203\.0\.113\.50 +\+11\.000 ms +\+304\.000 ms +\+350\.000 ms +350\.000 ms +1/);
    await t.press(KEY.enter);
    f = t.frame();
    expect(f).toMatch(/Sessions 1\/7 +filter: eid == 10\.1\.0\.5\/32/);
    t.unmount();
  });

  it('has help, pause and follow flags, quits with q', async () => {
    let quit = 0;
    const t = ui(source, { onQuit: () => quit++ });
    await t.press('?');
    expect(t.frame()).toMatch(/Keys \(any key closes this help\)/);
    expect(t.frame()).toMatch(/H +lab: hand the Mobile Node over/);
    await t.press('x', 'p', 'f');
    expect(t.frame().split('\n')[0]).toMatch(/FOLLOW PAUSED/);
    expect(t.frame()).toMatch(/Sessions 11\/11/);
    await t.press('q');
    expect(quit).toBe(1);
  });

  it('fits 80×24, colours outcomes only with colour on, and asks before sending anything', async () => {
    const t = ui(source, { width: 80, height: 23, colour: true });
    await t.settle();
    const lines = t.frame().split('\n');
    expect(lines).toHaveLength(23);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(t.lastFrame()).toMatch(/\x1b\[32manswered/);
    const mono = ui(source, { colour: false });
    await mono.settle();
    expect(mono.lastFrame()).not.toMatch(/\x1b\[3[0-9]m/);
    // A file's sessions are not on loopback: re-sending asks for a target first, then confirms.
    await mono.press('r');
    expect(mono.frame()).toMatch(/re-send Map-Register \(frame 1\) to: +$/m);
    await mono.press('224.0.0.1', KEY.enter);
    expect(mono.frame()).toMatch(/refusing to send to 224\.0\.0\.1: it is a multicast address/);
    await mono.press(KEY.esc, 'H');
    expect(mono.frame()).toMatch(/a handover can only be triggered in the lab/);
    t.unmount();
    mono.unmount();
  });
});

describe('the UI on registrations over the reliable transport', () => {
  it('lists them as flows does and draws their messages in the ladder', async () => {
    const s = new FileSource([join(PCAPS, 'reliable-registrations.pcap')]);
    await s.start();
    try {
      await until(s, () => s.status().state === 'done');
      const t = ui(s, { width: 150 });
      let f = await t.waitFor(/Sessions 1\/5/);
      expect(f).toMatch(/› 10:00:00\.200 registration \(tcp\) 10\.1\.0\.0\/16 +192\.0\.2\.10 +⇄ 203\.0\.113\.1 +4\.000 ms answered/);
      expect(f).toMatch(/registration \(tcp\) 10\.9\.0\.0\/16 .* rejected \(not-site-eid-prefix\)/);
      expect(f).toMatch(/registration \(tcp\) 10\.2\.0\.0\/16 .* rejected \(authentication-failure\)/);
      expect(f).toMatch(/Ladder registration \(tcp\) 10\.1\.0\.0\/16 .* message id 0/);
      expect(f).toMatch(/├─+ Registration ─+▶│/);
      expect(f).toMatch(/│◀─+ Registration ACK ─+┤ +rtt 4\.000 ms/);
      expect(f).toMatch(/│◀─+ Mapping Notif\. ─+┤/);
      expect(f).not.toMatch(/─ reliable ─/);
      await t.press('j');
      f = await t.waitFor(/Ladder registration \(tcp\) 10\.9\.0\.0\/16/);
      expect(f).toMatch(/│◀─* Reject \(not-site-e… ─*┤ +rtt 4\.000 ms/);
      expect(f).toMatch(/frame 5: Registration MN 192\.0\.2\.10 → MS 203\.0\.113\.1/);
      t.unmount();
    } finally {
      await s.stop();
    }
  });
});

describe('the UI on the lab', () => {
  it('follows the sessions as the scenario runs, then hands the Mobile Node over when asked', async () => {
    const lab = new LabSource({ scenario: 'handover', base: '127.0.62.0' });
    await lab.start();
    try {
      const t = ui(lab);
      await until(lab, () => /steps passed/.test(lab.status().text), 20_000);
      await until(lab, () => lab.sessions().list.some((s) => s.exchange.kind === 'smr'), 10_000);
      let f = await t.waitFor(/smr +10\.1\.0\.5\/32 +127\.0\.62\.11 +→ 127\.0\.62\.2/);
      // The status does not fit beside the title at 100 columns: it takes a line of its own, whole.
      expect(f).toMatch(/^ lispscope │ lab: scenario handover +FOLLOW +\? help \n live: scenario handover: 6 of 6 steps passed/);
      expect(f).toMatch(/FOLLOW/);
      expect(f).toMatch(/smr +10\.1\.0\.5\/32 +127\.0\.62\.11 +→ 127\.0\.62\.2/);
      await t.press('2', 'g');
      expect(t.frame()).toMatch(/No\. time +sender +source/);
      expect(t.frame()).toMatch(/ xtr-a +127\.0\.62\.2 +127\.0\.62\.1 +Map-Register/);
      await t.press('1', 'H');
      expect(t.frame()).toMatch(/\[y\/n\] Move the Mobile Node 10\.1\.0\.5\/32 from 127\.0\.62\.11 to 127\.0\.62\.10 /);
      await t.press('n');
      expect(t.frame()).toMatch(/cancelled: nothing sent/);
      await t.press('H', 'y');
      await until(lab, () => lab.lab!.mn!.primaryRloc === '127.0.62.10', 5000);
      await t.waitFor(/handover 127\.0\.62\.11 → 127\.0\.62\.10: Map-Notify in/);
      // Resolve an EID through the lab's Map-Resolver: the default target is on loopback.
      await t.press('e');
      expect(t.frame()).toMatch(/resolve EID via Map-Resolver: .* 127\.0\.62\.1/);
      await t.press('\u0015', '10.2.0.7 127.0.62.1', KEY.enter);
      expect(t.frame()).toMatch(/\[y\/n\] Send an ECM Map-Request for 10\.2\.0\.7 to the Map-Resolver 127\.0\.62\.1\?/);
      await t.press('y');
      await t.waitFor(/Map-Reply from 127\.0\.62\.2 in [0-9.]+ ms: 1 record: 10\.2\.0\.0\/24 ttl 1440 -> \[127\.0\.62\.2 /);
      t.unmount();
    } finally {
      await lab.stop();
    }
  });
});

describe('the packet filter on a large capture', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'lispscope-tui-app-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('scans 100,000 packets in the background: matches show as they are found, keys are answered meanwhile', async () => {
    const file = join(tmp, 'big.pcap');
    writeBigCapture(file, 100_000);
    const big = new FileSource([file]);
    await big.start();
    try {
      await until(big, () => big.status().state === 'done', 60_000);
      // Redrawn as often as the real UI redraws (each redraw costs Ink tens of ms here).
      const t = ui(big, { refreshMs: 100 });
      await t.press('2');
      // Keys are answered while the filter runs (its slicing is checked in packet-filter.test.ts).
      // A filter the packets' types do not decide alone (there are no SMRs), so that the scan
      // decodes the packets (`map-reply` alone skips the others by their type: filter-prescreen.test.ts).
      await t.press('/', 'map-reply || smr', KEY.enter);
      let f = await t.waitFor(/ filter map-reply \|\| smr: /, 1000);
      // The first redraw may come after the scan has finished (a fast machine, or an idle one):
      // then it shows the final count; while it runs, the count so far and how far it got.
      if (/scanning/.test(f)) {
        expect(f).toMatch(/ filter map-reply \|\| smr: 0 sessions match · [\d,]+ packets? match so far, scanning [\d,]+ of 100,000/);
        expect(f).toMatch(/Packets \(a: this session only\) 1\/\d+ +filter: map-reply \|\| smr +scanning \d+%/);
      } else {
        expect(f).toMatch(/ filter map-reply \|\| smr: 0 sessions match · 10,000 packets of 100,000 match/);
      }
      // A key is answered while the scan goes on (the stall probe bounds the wait; the scan may
      // have finished by the time the key is drawn: it takes well under a second here).
      await t.press('j');
      await t.waitFor(/Packets \(a: this session only\) 2\/\d+ +filter: map-reply \|\| smr/, 1000);
      // Every tenth packet of the capture is a Map-Reply, the second of them frame 12.
      f = await t.waitFor(/10,000 packets of 100,000 match/, 60_000);
      expect(f).toMatch(/Packets \(a: this session only\) 2\/10000 +filter: map-reply \|\| smr/);
      expect(f).not.toMatch(/scanning/);
      expect(f).toMatch(/› +12 \d\d:\d\d:\d\d\.\d{3} 198\.51\.100\.9 +192\.0\.2\.1 +Map-Reply/);
      await t.press('G');
      expect(t.frame()).toMatch(/10000\/10000/);
      expect(t.frame()).toMatch(/› +99992 .*Map-Reply/);
      t.unmount();
    } finally {
      await big.stop();
    }
  }, 90_000);
});

describe('the UI on a live stream', () => {
  const record = (eid: string, rloc: string) => mappingRecord({ eid, locators: [{ rloc, priority: 1, weight: 100, local: true }] });
  const register = lispUdpPacket({ src: '192.0.2.10', dst: '203.0.113.1', sport: 4342, dport: 4342, payload: mapRegister({ nonce: 1n, records: [record('10.1.0.5/32', '192.0.2.10')], keyId: 1, key: 'k', wantMapNotify: true }) });
  const notify = lispUdpPacket({ src: '203.0.113.1', dst: '192.0.2.10', sport: 4342, dport: 4342, payload: mapNotify({ nonce: 1n, records: [record('10.1.0.5/32', '192.0.2.10')], keyId: 1, key: 'k' }) });
  const request = (nonce: bigint, eid: string) => lispUdpPacket({ src: '192.0.2.20', dst: '203.0.113.2', sport: 61001, dport: 4342, payload: mapRequest({ nonce, eids: [eid], itrRlocs: ['192.0.2.20'] }) });
  const reply = lispUdpPacket({ src: '203.0.113.2', dst: '192.0.2.20', sport: 4342, dport: 61001, payload: mapReply({ nonce: 2n, records: [record('10.2.0.0/24', '203.0.113.50')] }) });

  it('lists an exchange as soon as its request is seen and replaces it in place when it closes', async () => {
    // The sweeper runs on a clock of the test's: nothing times out while a loaded machine is slow
    // to feed the answers; the test moves the clock on when it wants them closed.
    let clock = 1_000_000;
    const s = new StepSource({ timeout: 2, clock: () => clock });
    await s.start();
    try {
      const t = ui(s, { follow: false });
      s.feed(register);
      let f = await t.waitFor(/Sessions 1\/1/);
      expect(f).toMatch(/› \d\d:\d\d:\d\d\.\d{3} registration 10\.1\.0\.5\/32 +192\.0\.2\.10 +⇄ 203\.0\.113\.1 +- open/);
      // The stats bar counts the sessions listed, the open one among them.
      expect(f).toMatch(/ sess 1 /);
      expect(f).toMatch(/Ladder registration 10\.1\.0\.5\/32/);
      s.feed(request(2n, '10.2.0.7/32'));
      s.feed(request(3n, '10.3.0.9/32'));
      await t.waitFor(/Sessions 1\/3/);
      await t.press('j');
      f = t.frame();
      // No responder yet: whoever answers will be.
      expect(f).toMatch(/› \d\d:\d\d:\d\d\.\d{3} resolution +10\.2\.0\.7\/32 +192\.0\.2\.20 +⇄ - +- open/);
      // What is still waiting, by the filter.
      await t.press('/', 'outcome == open', KEY.enter);
      expect(t.frame()).toMatch(/Sessions 2\/3 +filter: outcome == open/);
      await t.press('/', '\u0015', KEY.enter);
      // The answers change the rows where they are.
      s.feed(reply);
      f = await t.waitFor(/› .*resolution +10\.2\.0\.7\/32 .* ms answered/);
      expect(f).toMatch(/ registration 10\.1\.0\.5\/32 .* - open/);
      s.feed(notify);
      await t.waitFor(/ registration 10\.1\.0\.5\/32 .* ms answered/);
      // They close on the clock, 2 s after their last packet: the engine reports them, each
      // takes the place of its open version, the selection stays where it was.
      expect(s.sessions().total).toBe(0);
      clock += 2.5;
      await until(s, () => s.sessions().total === 3, 10_000);
      f = await t.waitFor(/resolution +10\.3\.0\.9\/32 .* - unanswered/);
      expect(f).toMatch(/ sess 3 /);
      expect(f).toMatch(/Sessions 2\/3/);
      expect(f).toMatch(/^  \d\d:\d\d:\d\d\.\d{3} registration 10\.1\.0\.5\/32 .* ms answered/m);
      expect(f).toMatch(/^› \d\d:\d\d:\d\d\.\d{3} resolution +10\.2\.0\.7\/32 .* ms answered/m);
      expect(f).toMatch(/^  \d\d:\d\d:\d\d\.\d{3} resolution +10\.3\.0\.9\/32 .* - unanswered/m);
      expect(f).not.toMatch(/ open/);
      t.unmount();
    } finally {
      await s.stop();
    }
  });

  it('lists a session that started first first, though it closed last', async () => {
    // Capture time, not the wall clock (no sweeper): the first request is never answered and waits
    // 10 s; the second, answered, closes 3 s after its answer, long before it.
    const s = new StepSource();
    let n = 0;
    const at = (ts: number, ip: Uint8Array) =>
      s.feedFrame({ index: ++n, tsSec: Math.floor(ts), tsNsec: Math.round((ts % 1) * 1e9), linkType: 101, len: ip.length, data: ip, interfaceId: 0 });
    const answer = (nonce: bigint, eid: string) =>
      lispUdpPacket({ src: '203.0.113.2', dst: '192.0.2.20', sport: 4342, dport: 61001, payload: mapReply({ nonce, records: [record(eid, '203.0.113.50')] }) });
    try {
      const t = ui(s, { follow: false });
      at(1000, request(5n, '10.5.0.7/32'));
      at(1000.5, request(6n, '10.6.0.0/24'));
      at(1000.51, answer(6n, '10.6.0.0/24'));
      // The answered one closes here; the first one still waits.
      at(1005, request(7n, '10.7.0.0/24'));
      let f = await t.waitFor(/Sessions 1\/3/);
      expect(s.sessions().total).toBe(0);
      expect(f).toMatch(/^› \d\d:\d\d:40\.000 resolution +10\.5\.0\.7\/32 [^\n]* - open +1 *\n  \d\d:\d\d:40\.500 resolution +10\.6\.0\.0\/24 [^\n]* ms answered +2,3 *\n  \d\d:\d\d:45\.000 resolution +10\.7\.0\.0\/24 [^\n]* - open +4 *$/m);
      // The first one closes: both are listed, in start order, and the selection stays on it.
      at(1011, answer(7n, '10.7.0.0/24'));
      await until(s, () => s.sessions().total === 2);
      expect(s.sessions().list.map((x) => [x.seq, x.exchange.eid, x.exchange.outcome])).toEqual([
        [0, '10.5.0.7/32', 'unanswered'],
        [1, '10.6.0.0/24', 'answered'],
      ]);
      f = await t.waitFor(/^› [^\n]*10\.5\.0\.7\/32 [^\n]* - unanswered /m);
      expect(f).toMatch(/^› \d\d:\d\d:40\.000 resolution +10\.5\.0\.7\/32 [^\n]* - unanswered +1 *\n  \d\d:\d\d:40\.500 resolution +10\.6\.0\.0\/24 [^\n]* ms answered +2,3 *\n  \d\d:\d\d:45\.000 resolution +10\.7\.0\.0\/24 [^\n]* ms answered +4,5 *$/m);
      t.unmount();
    } finally {
      await s.stop();
    }
  });
});
