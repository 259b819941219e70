// What the embedded LISP components say about themselves: one line per event, tagged with the
// component's name. The lab and the CLI decide where it goes; components never print.

export type LogLevel = 'debug' | 'info' | 'warn';

export type Logger = (level: LogLevel, component: string, message: string) => void;

/** Discards everything (the default). */
export const silentLogger: Logger = () => {};

/** A logger that keeps lines in memory: tests read them back. */
export function memoryLogger(lines: string[] = []): Logger & { lines: string[] } {
  const log = ((level: LogLevel, component: string, message: string) => {
    lines.push(`${level} ${component}: ${message}`);
  }) as Logger & { lines: string[] };
  log.lines = lines;
  return log;
}
