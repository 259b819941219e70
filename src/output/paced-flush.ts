// Output of a live capture leaves in chunks: when the buffer holds 256 KiB, or 20 ms after the
// first byte waiting, so that a burst costs few writes and a lone packet still shows at once to
// the eye.

import type { OutBuffer } from './out-buffer.js';

export class PacedFlush {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly buffer: OutBuffer,
    private readonly maxBytes = 256 * 1024,
    private readonly maxMs = 20,
  ) {}

  /** After new output: flush now, or soon. */
  schedule(): void {
    if (this.buffer.pos >= this.maxBytes) this.flush();
    else if (this.buffer.pos > 0 && !this.timer) this.timer = setTimeout(this.flush, this.maxMs);
  }

  /** No more pacing: what is left goes with the final flush. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly flush = (): void => {
    this.timer = undefined;
    this.buffer.flush();
  };
}
