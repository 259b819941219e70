// The ladder and the Sessions pane's cells for registrations over the Map-Server reliable transport
// (TCP 4342), on reliable-registrations.pcap: the arrows name the messages of each registration
// (one TCP segment carries the answers of several), kind and outcome read as `lispscope flows`
// writes them.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSource } from '../../src/tui/file-source.js';
import { buildLadder, renderLadder, stepText, type Ladder } from '../../src/tui/ladder.js';
import { makePaint } from '../../src/tui/paint.js';
import { outcomeText, sessionColumns, SessionView } from '../../src/tui/sessions.js';
import type { Session } from '../../src/tui/source.js';
import { layout } from '../../src/tui/text.js';
import { PCAPS } from '../cli/run.js';
import { until } from './helpers.js';

let source: FileSource;
beforeAll(async () => {
  source = new FileSource([join(PCAPS, 'reliable-registrations.pcap')]);
  await source.start();
  await until(source, () => source.status().state === 'done');
});
afterAll(() => source.stop());

function ladderOf(s: Session): Ladder {
  const views = s.exchange.frames.map((f) => source.packet(source.seqOf(f)!));
  return buildLadder(s, views, source.roles());
}

const byEid = (eid: string, n = 0) => source.sessions().list.filter((s) => s.exchange.eid === eid)[n]!;

describe('registrations over the reliable transport', () => {
  it('draws an arrow per message of the registration: Registration, ACK with the RTT, Mapping Notification', () => {
    const l = ladderOf(byEid('10.1.0.0/16'));
    expect(l.title).toBe('registration (tcp) 10.1.0.0/16  192.0.2.10 ⇄ 203.0.113.1  nonce 0x4b64c3a0d839b7c1  message id 0');
    // Frame 7 carries four messages: the ACK (naming [0]10.1.0.0/16) and the Mapping Notification are this one's.
    expect(l.steps.map((s) => [s.ref.frame, s.label, s.note])).toEqual([
      [5, 'Registration', undefined],
      [7, 'Registration ACK', 'rtt 4.000 ms'],
      [7, 'Mapping Notification', undefined],
    ]);
    const t = renderLadder(l, 100);
    expect(t.rows[0]).toMatch(/├─+ Registration ─+▶│/);
    expect(t.rows[1]).toMatch(/│◀─+ Registration ACK ─+┤ +rtt 4\.000 ms$/);
    expect(t.rows[2]).toMatch(/│◀─+ Mapping Notif\. ─+┤$/);
    expect(stepText(l, 2)).toBe('frame 7: Mapping Notification MS 203.0.113.1 → MN 192.0.2.10');
  });

  it('names a Reject with its reason, and marks a Registration sent again', () => {
    let l = ladderOf(byEid('10.9.0.0/16'));
    expect(l.steps.map((s) => s.label)).toEqual(['Registration', 'Registration Reject (not-site-eid-prefix)']);
    // Too long for the arrow: the shorter name, cut; the whole one is in the step's line.
    expect(renderLadder(l, 100).rows[1]).toMatch(/│◀─* Reject \(not-site-e… ─*┤ +rtt 4\.000 ms$/);
    expect(stepText(l, 1)).toBe('frame 7: Registration Reject (not-site-eid-prefix) MS 203.0.113.1 → MN 192.0.2.10 · rtt 4.000 ms');
    l = ladderOf(byEid('10.2.0.0/16'));
    expect(l.steps.map((s) => s.label)).toEqual(['Registration', 'Registration Reject (authentication-failure)']);
    l = ladderOf(byEid('2001:db8:1::/48'));
    expect(l.steps.map((s) => [s.ref.frame, s.label, s.note])).toEqual([
      [5, 'Registration', undefined],
      [9, 'Registration', 'retransmission'],
    ]);
    for (const s of source.sessions().list) {
      for (const row of renderLadder(ladderOf(s), 100).rows) expect(row).not.toMatch(/reliable/);
    }
  });

  it('lists them as flows does: kind registration (tcp), outcome rejected (reason); the columns make room', () => {
    const v = new SessionView();
    v.sync(source.sessions().list);
    expect(Array.from({ length: v.count }, (_, i) => outcomeText(v.row(i)!))).toEqual(['answered', 'rejected (not-site-eid-prefix)', 'unanswered', 'rejected (authentication-failure)', 'answered']);
    // Every column as wide as its widest cell (the titles at least).
    const rows = source.sessions().list;
    expect(v.widths).toEqual({
      kind: 'registration (tcp)'.length,
      outcome: 'rejected (authentication-failure)'.length,
      eid: Math.max(...rows.map((s) => s.exchange.eid.length)),
      requester: 'requester'.length + 1, // 192.0.2.10
      responder: '203.0.113.1'.length,
      rtt: '4.000 ms'.length,
    });
    const paint = makePaint(false);
    const cols = layout(sessionColumns(paint, false, v.widths), 148);
    const cell = (title: string, s: Session) => cols.find((c) => c.title === title)!.text(s);
    expect(cell('kind', v.row(1)!)).toBe('registration (tcp)');
    expect(cols.find((c) => c.title === 'outcome')!.width).toBe(33);
    // At 80 columns the optional ones go first, then kind and outcome are cut back to fit.
    const narrow = layout(sessionColumns(paint, false, v.widths), 78);
    expect(narrow.reduce((n, c) => n + c.width + 1, -1)).toBeLessThanOrEqual(78);
    expect(narrow.map((c) => c.title)).toContain('outcome');
  });
});
