// What `lispscope lab` prints: each packet as it is sent with its sender (or its `read --json`
// object plus "sender"), the line it says when it starts holding, the steps' results, and the flow
// engine's analysis of the whole run.

import type { LispPacket } from '../capture/packets.js';
import { FlowEngine } from '../flows/engine.js';
import type { Exchange } from '../flows/types.js';
import type { LabResult, LabScenario, LabStep } from '../mn/lab.js';
import { analysisText } from './flows-text.js';
import { packetJsonText } from './json.js';
import { packetLine } from './line.js';
import type { Style } from './style.js';

/** A packet the lab sent, with the component that sent it. */
export function labPacketLine(p: LispPacket, sender: string, f: { json: boolean; numeric: boolean; style: Style }): string {
  if (f.json) return `${packetJsonText(p).slice(0, -1)},"sender":${JSON.stringify(sender)}}`;
  return `${f.style.dim(sender.padEnd(6))} ${packetLine(p, { numeric: f.numeric, style: f.style })}`;
}

/** On stderr when the lab starts holding: "up" only when every step passed (docs/lab.md). */
export function labHoldLine(scenario: LabScenario, steps: readonly LabStep[], duration: number): string {
  const failed = steps.find((s) => !s.ok);
  const until = `until ${duration} s after the start (Ctrl-C stops it)`;
  if (failed) return `lab not ready: scenario ${scenario}: "${failed.name}" FAILED: ${failed.detail}; holding anyway ${until}`;
  return `lab up: scenario ${scenario}, ${steps.length} of ${steps.length} steps passed; holding ${until}`;
}

/** How many steps passed, then one line per step. */
export function labStepsLines(result: Pick<LabResult, 'scenario' | 'steps' | 'durationMs' | 'interrupted'>, style: Style): string[] {
  const steps = result.steps;
  const failed = steps.filter((s) => !s.ok).length;
  const head = `scenario ${result.scenario}: ${steps.length - failed} of ${steps.length} steps passed in ${(result.durationMs / 1000).toFixed(2)} s${result.interrupted ? ' (interrupted)' : ''}`;
  const width = Math.max(...steps.map((s) => s.name.length), 10);
  return [head, ...steps.map((s) => `  ${s.ok ? style.good('ok    ') : style.bad('FAILED')} ${s.name.padEnd(width)}  ${s.detail} (${s.ms < 10 ? s.ms.toFixed(1) : s.ms.toFixed(0)} ms)`)];
}

/** The analysis after a lab run: the flow engine's exchanges, handovers and statistics. */
export function labAnalysisText(packets: LispPacket[], frames: number, style: Style): string {
  const exchanges: Exchange[] = [];
  const engine = new FlowEngine({ onExchange: (e) => exchanges.push(e) });
  for (let i = 0; i < frames; i++) engine.frame();
  for (const p of packets) engine.packet(p);
  const { mappings, stats } = engine.finish();
  return analysisText(exchanges, mappings, stats, style);
}
