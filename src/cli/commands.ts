// What a command registry entry is: the help, the man page and the shell completion are all
// generated from these entries and their option tables.

import type { CommandSpec } from './args.js';
import type { Io } from '../output/io.js';

export interface CommandEntry {
  summary: string;
  run: (argv: string[], io: Io) => Promise<number>;
  /** The option table, when the command has one of its own (not for commands with subcommands). */
  spec?: CommandSpec;
  /** Subcommands (`mn register`) with their tables. */
  subcommands?: Record<string, CommandSpec>;
}

export type Commands = Record<string, CommandEntry>;

/** The option tables of a command: its own, or one per subcommand. */
export function specsOf(c: CommandEntry): CommandSpec[] {
  return [...(c.spec ? [c.spec] : []), ...Object.values(c.subcommands ?? {})];
}

/** Options whose value is a file name (completed as files). */
export function takesFile(arg: string | undefined): boolean {
  return arg !== undefined && /FILE|DIR|PATH/.test(arg);
}
