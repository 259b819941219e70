// A small strict argument parser: every option is declared, anything else is a usage error.

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface OptionSpec {
  /** Long name without dashes, e.g. "json". */
  name: string;
  /** One-letter alias without the dash, e.g. "V". */
  short?: string;
  /** flag: boolean; value: a string; count: repeatable flag; list: repeatable value. */
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
}

export interface Parsed {
  flags: Map<string, boolean>;
  values: Map<string, string>;
  lists: Map<string, string[]>;
  counts: Map<string, number>;
  positional: string[];
}

export function parseArgs(spec: CommandSpec, argv: string[]): Parsed {
  const out: Parsed = { flags: new Map(), values: new Map(), lists: new Map(), counts: new Map(), positional: [] };
  const byLong = new Map(spec.options.map((o) => [o.name, o]));
  const byShort = new Map(spec.options.filter((o) => o.short).map((o) => [o.short!, o]));
  const take = (o: OptionSpec, value: string | undefined, i: number): number => {
    switch (o.kind) {
      case 'flag':
        if (value !== undefined) throw new UsageError(`${spec.name}: option --${o.name} takes no value`);
        out.flags.set(o.name, true);
        return i;
      case 'count':
        out.counts.set(o.name, (out.counts.get(o.name) ?? 0) + 1);
        return i;
      default: {
        let v = value;
        let next = i;
        if (v === undefined) {
          next = i + 1;
          v = argv[next];
          if (v === undefined) throw new UsageError(`${spec.name}: option ${label(o)} needs a value (${o.arg ?? 'VALUE'})`);
        }
        if (o.kind === 'value') out.values.set(o.name, v);
        else out.lists.set(o.name, [...(out.lists.get(o.name) ?? []), v]);
        return next;
      }
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const o = byLong.get(name);
      if (!o) throw new UsageError(`${spec.name}: unknown option --${name} (see lispscope ${spec.name} --help)`);
      i = take(o, eq < 0 ? undefined : a.slice(eq + 1), i);
    } else if (a.startsWith('-') && a.length > 1) {
      // Short options may be bundled (-nV) and a value may be attached (-c10).
      for (let j = 1; j < a.length; j++) {
        const o = byShort.get(a[j]!);
        if (!o) throw new UsageError(`${spec.name}: unknown option -${a[j]} (see lispscope ${spec.name} --help)`);
        if (o.kind === 'value' || o.kind === 'list') {
          const attached = a.slice(j + 1);
          i = take(o, attached === '' ? undefined : attached, i);
          break;
        }
        take(o, undefined, i);
      }
    } else {
      out.positional.push(a);
    }
  }
  return out;
}

function label(o: OptionSpec): string {
  return o.short ? `-${o.short}/--${o.name}` : `--${o.name}`;
}

export function helpText(spec: CommandSpec): string {
  const rows = spec.options.map((o) => {
    const names = `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.arg ? ` ${o.arg}` : ''}`;
    return `  ${names.padEnd(30)} ${o.help}`;
  });
  return `${spec.summary}\n\nUsage: ${spec.usage}\n\nOptions:\n${rows.join('\n')}\n`;
}

/** A non-negative integer option value, or a usage error naming the option. */
export function intValue(spec: CommandSpec, name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`${spec.name}: --${name} needs a non-negative integer, not "${v}"`);
  return Number(v);
}
