// The embedded lab as a data source: the whole LISP deployment of src/mn/lab.ts on loopback, the
// scenario's steps run one after the other, then the lab is held (registrations refreshed, the
// Mobile Node pinging its peer every second) until the UI quits. Every frame a component sends
// reaches the ring and the flow engine as it is sent; the UI's own actions are recorded by the
// same recorder, and a handover can be triggered on the running Mobile Node.

import { Lab, type LabScenario } from '../mn/lab.js';
import type { Recorder } from '../mn/recorder.js';
import type { Counters, DataSource, SourceStatus } from './source.js';
import { StreamSource, type StreamOptions } from './stream-source.js';

export interface LabSourceOptions extends StreamOptions {
  scenario: LabScenario;
  /** Loopback address the components count up from (default 127.0.1.0). */
  base?: string;
  /** Lab timers (tests shorten them). */
  controlPort?: number;
  dataPort?: number;
}

export class LabSource extends StreamSource implements DataSource {
  readonly kind = 'lab' as const;
  readonly title: string;
  lab: Lab | undefined;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private finished = false;
  private failure: string | undefined;
  private readonly decodeAs: { control: Set<number>; data: Set<number> };

  constructor(private readonly labOpts: LabSourceOptions) {
    // The lab adds the NAT's translated ports to this set while it runs; decoders share it.
    const decodeAs = { control: new Set(labOpts.decoder?.decodeAs?.control ?? []), data: new Set(labOpts.decoder?.decodeAs?.data ?? []) };
    super({ timeout: 1, ...labOpts, decoder: { ...labOpts.decoder, decodeAs } });
    this.decodeAs = decodeAs;
    this.title = `scenario ${labOpts.scenario}`;
  }

  get recorder(): Recorder | undefined {
    return this.lab?.recorder;
  }

  get localTargets(): { mapResolver?: string } {
    return this.lab ? { mapResolver: this.lab.addresses.ms } : {};
  }

  async start(): Promise<void> {
    try {
      this.lab = await Lab.start({
        scenario: this.labOpts.scenario,
        ...(this.labOpts.base ? { base: this.labOpts.base } : {}),
        ...(this.labOpts.controlPort ? { controlPort: this.labOpts.controlPort } : {}),
        ...(this.labOpts.dataPort ? { dataPort: this.labOpts.dataPort } : {}),
        decodeAs: this.decodeAs,
        signal: this.abort.signal,
        onFrame: (f) => this.ingest(f, f.component),
      });
    } catch (e) {
      throw new Error(`lab: ${(e as Error).message}`);
    }
    this.startSweeping();
    const lab = this.lab;
    this.running = (async () => {
      try {
        await lab.run(this.labOpts.scenario);
        this.finished = true;
        this.changed('status');
        await lab.hold(Infinity);
      } catch (e) {
        if (!this.abort.signal.aborted) this.failure = (e as Error).message;
      }
      this.changed('status');
    })();
    // Step results show in the status line as they come.
    const steps = setInterval(() => this.changed('status'), 250);
    void this.running.finally(() => clearInterval(steps));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    await this.lab?.stop();
    this.finishEngine();
  }

  counters(): Counters {
    return { ...this.engineCounters(), drops: 0, duplicates: 0, evictedPackets: this.ring.first };
  }

  status(): SourceStatus {
    const warnings = this.warningList;
    if (this.failure) return { state: 'error', text: `lab: ${this.failure}`, warnings };
    const steps = this.lab?.steps ?? [];
    const failed = steps.filter((s) => !s.ok);
    const last = steps[steps.length - 1];
    if (!this.lab) return { state: 'starting', text: 'starting the lab', warnings };
    if (!this.finished) {
      return { state: 'live', text: last ? `step ${steps.length} ${last.ok ? 'ok' : 'FAILED'}: ${last.name}` : 'running the scenario', warnings };
    }
    const head = `scenario ${this.labOpts.scenario}: ${steps.length - failed.length} of ${steps.length} steps passed`;
    const why = failed[0] ? `; FAILED: ${failed[0].name}: ${failed[0].detail}` : '; the MN pings its peer every second (H: handover)';
    return { state: 'live', text: head + why, warnings };
  }
}
