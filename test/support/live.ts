// Whether live capture works here (root or CAP_NET_RAW, libpcap, a binding to it: ours or `cap`): tests that
// need it skip with the reason, except under CI=true where they must run.

import { LiveCapture, LiveCaptureError } from '../../src/capture/live.js';

/** Why capturing on lo is impossible here, or undefined when it works. */
export async function liveUnavailable(): Promise<string | undefined> {
  try {
    const c = LiveCapture.open({ iface: 'lo', filter: 'less 0', bufferSize: 1 << 20 });
    await c.stop(false);
    return undefined;
  } catch (e) {
    if (e instanceof LiveCaptureError) return e.message;
    throw e;
  }
}

/** Says why `what` is skipped (throws under CI=true); returns the reason, undefined when it runs. */
export function gate(what: string, why: string | undefined): string | undefined {
  if (!why) return undefined;
  if (process.env.CI === 'true') throw new Error(`${what} must run in CI: ${why}`);
  console.warn(`skipping ${what}: ${why}`);
  return why;
}
