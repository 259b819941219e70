// Where a command writes: stdout in large batches (on Linux, writes to pipes and files are
// synchronous, so batching is what keeps output cheap), one-line messages on stderr.

export interface Io {
  stdout: { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Text as is (help). */
  out(text: string): void;
  /** One line of output, batched. */
  line(s: string): void;
  warn(message: string): void;
  error(message: string): void;
  flush(): void;
}

const BATCH = 1 << 16;

export function processIo(): Io {
  let pending: string[] = [];
  let size = 0;
  let broken = false;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    // A closed pipe (`| head`) ends the output, not the program with a stack trace.
    if (e.code === 'EPIPE') {
      broken = true;
      process.exit(0);
    }
    throw e;
  });
  const flush = () => {
    if (pending.length === 0 || broken) return;
    process.stdout.write(pending.join('\n') + '\n');
    pending = [];
    size = 0;
  };
  return {
    stdout: process.stdout,
    env: process.env,
    out(text) {
      flush();
      process.stdout.write(text);
    },
    line(s) {
      pending.push(s);
      size += s.length + 1;
      if (size >= BATCH) flush();
    },
    warn(message) {
      flush();
      process.stderr.write(`lispscope: warning: ${message}\n`);
    },
    error(message) {
      flush();
      process.stderr.write(`lispscope: ${message}\n`);
    },
    flush,
  };
}
