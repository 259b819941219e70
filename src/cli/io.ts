// Where a command writes: stdout through a large byte buffer that lines (or, on the fast path,
// bytes) are encoded straight into; one-line messages on stderr.

import { OutBuffer } from '../output/out-buffer.js';

export interface Io {
  stdout: { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Buffered stdout, for writers that produce bytes directly. */
  buffer: OutBuffer;
  /** Text as is (help). */
  out(text: string): void;
  /** One line of output, buffered. */
  line(s: string): void;
  warn(message: string): void;
  error(message: string): void;
  flush(): void;
}

export function processIo(): Io {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    // A closed pipe (`| head`) ends the output, not the program with a stack trace.
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  // Files, pipes and terminals are written synchronously on Linux: then nothing stays queued and
  // the buffer can be reused.
  const buffer = new OutBuffer((b) => {
    process.stdout.write(b);
    return process.stdout.writableLength === 0;
  });
  return {
    stdout: process.stdout,
    env: process.env,
    buffer,
    out(text) {
      buffer.flush();
      process.stdout.write(text);
    },
    line(s) {
      buffer.text(s);
      buffer.ensure(1);
      buffer.byte(10);
    },
    warn(message) {
      buffer.flush();
      process.stderr.write(`lispscope: warning: ${message}\n`);
    },
    error(message) {
      buffer.flush();
      process.stderr.write(`lispscope: ${message}\n`);
    },
    flush: () => buffer.flush(),
  };
}
