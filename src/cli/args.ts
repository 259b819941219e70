// Every command declares its options in one table (name, short letter, kind, placeholder, help):
// node:util.parseArgs splits the command line (bundles like -nVc10, --keys=f, --), this module
// checks it against the table (anything undeclared is a usage error), and the same tables print
// the help, the man page and the shell completion.

import { parseArgs as nodeParseArgs } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface OptionSpec {
  /** Long name without dashes, e.g. "json". */
  name: string;
  /** One-letter alias without the dash, e.g. "V". */
  short?: string;
  /** Further one-letter aliases (tcpdump's -v beside -V). */
  shortAliases?: string[];
  /** flag: boolean; value: a string; count: repeatable flag (-ttt, or --time=3); list: repeatable value. */
  kind: 'flag' | 'value' | 'list' | 'count';
  /** Placeholder for help text, e.g. "FILE". */
  arg?: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpec[];
  /** Shown at the end of the help: one command line, or a line and what it does after "  # ". */
  example?: string;
}

export interface Parsed {
  flags: Map<string, boolean>;
  values: Map<string, string>;
  lists: Map<string, string[]>;
  counts: Map<string, number>;
  positional: string[];
}

function label(o: OptionSpec): string {
  return o.short ? `-${o.short}/--${o.name}` : `--${o.name}`;
}

export function parseArgs(spec: CommandSpec, argv: string[]): Parsed {
  const out: Parsed = { flags: new Map(), values: new Map(), lists: new Map(), counts: new Map(), positional: [] };
  const byLong = new Map(spec.options.map((o) => [o.name, o]));
  const byShort = new Map<string, OptionSpec>();
  for (const o of spec.options) for (const s of [o.short, ...(o.shortAliases ?? [])]) if (s) byShort.set(s, o);
  // Only the value-taking options are declared to node: they decide how the next word is read.
  // Everything else comes back as a token and is checked against our table below.
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const o of spec.options) {
    const type = o.kind === 'value' || o.kind === 'list' ? 'string' : 'boolean';
    options[o.name] = { type, multiple: true };
    for (const s of [o.short, ...(o.shortAliases ?? [])]) {
      // node takes one short letter per option: further ones get an entry of their own.
      if (!s) continue;
      if (s === o.short) options[o.name]!.short = s;
      else options[`\0${s}`] = { type, short: s, multiple: true };
    }
  }
  let tokens;
  try {
    ({ tokens } = nodeParseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true }));
  } catch (e) {
    throw new UsageError(`${spec.name}: ${(e as Error).message}`);
  }
  for (const t of tokens) {
    if (t.kind === 'positional') {
      out.positional.push(t.value);
      continue;
    }
    if (t.kind !== 'option') continue;
    const long = t.rawName.startsWith('--');
    const o = long ? byLong.get(t.name) : byShort.get(t.rawName.slice(1));
    if (!o) throw new UsageError(`${spec.name}: unknown option ${t.rawName} (see lispscope ${spec.name} --help)`);
    const v = t.value;
    switch (o.kind) {
      case 'flag':
        if (v !== undefined) throw new UsageError(`${spec.name}: option --${o.name} takes no value`);
        out.flags.set(o.name, true);
        break;
      case 'count': {
        // -ttt counts three; --time=3 says it with a number.
        if (v !== undefined && !/^\d+$/.test(v)) throw new UsageError(`${spec.name}: --${o.name} takes a count, not "${v}"`);
        out.counts.set(o.name, v !== undefined ? Number(v) : (out.counts.get(o.name) ?? 0) + 1);
        break;
      }
      default:
        if (v === undefined) throw new UsageError(`${spec.name}: option ${label(o)} needs a value (${o.arg ?? 'VALUE'})`);
        if (o.kind === 'value') out.values.set(o.name, v);
        else out.lists.set(o.name, [...(out.lists.get(o.name) ?? []), v]);
    }
  }
  return out;
}

/** The left column of an option's help row: `-c, --count N`. */
export function optionNames(o: OptionSpec): string {
  const shorts = [o.short, ...(o.shortAliases ?? [])].filter(Boolean).map((s) => `-${s}`);
  return `${shorts.length ? `${shorts.join(', ')}, ` : '    '}--${o.name}${o.arg ? ` ${o.arg}` : ''}${o.kind === 'count' ? ` (repeat)` : ''}`;
}

export function helpText(spec: CommandSpec): string {
  const width = Math.max(30, ...spec.options.map((o) => optionNames(o).length + 1));
  const rows = spec.options.map((o) => `  ${optionNames(o).padEnd(width)} ${o.help}`);
  const example = spec.example ? `\n\nExample:\n  ${spec.example}` : '';
  return `${spec.summary}\n\nUsage: ${spec.usage}\n\nOptions:\n${rows.join('\n')}${example}\n`;
}

/** A non-negative integer option value, or a usage error naming the option. */
export function intValue(spec: CommandSpec, name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`${spec.name}: --${name} needs a non-negative integer, not "${v}"`);
  return Number(v);
}
