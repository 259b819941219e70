// The command line's shared machinery: the option parser over node:util.parseArgs, `help`, every
// command's help ending with an example, shell completion and the man page from the same tables.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError, type CommandSpec } from '../../src/cli/args.js';
import { COMMANDS, VERSION } from '../../src/cli/main.js';
import { manPage } from '../../src/cli/man.js';
import { eachAtOnce, lispscope, lispscopeAsync, ROOT } from './run.js';

const spec: CommandSpec = {
  name: 'x',
  summary: 's',
  usage: 'u',
  options: [
    { name: 'numeric', short: 'n', kind: 'flag', help: '' },
    { name: 'verbose', short: 'V', shortAliases: ['v'], kind: 'flag', help: '' },
    { name: 'count', short: 'c', kind: 'value', arg: 'N', help: '' },
    { name: 'keys', kind: 'value', arg: 'FILE', help: '' },
    { name: 'decode-as', short: 'd', kind: 'list', arg: 'P', help: '' },
    { name: 'time', short: 't', kind: 'count', help: '' },
    { name: 'number', short: '#', kind: 'flag', help: '' },
  ],
};

describe('option parser', () => {
  it('takes bundles, attached values and --name=value', () => {
    const a = parseArgs(spec, ['-nVc10', '--keys=k.txt', 'f.pcap', '-d', 'udp.port=1', '--decode-as=udp.port=2', '-#']);
    expect([...a.flags]).toEqual([['numeric', true], ['verbose', true], ['number', true]]);
    expect(a.values.get('count')).toBe('10');
    expect(a.values.get('keys')).toBe('k.txt');
    expect(a.lists.get('decode-as')).toEqual(['udp.port=1', 'udp.port=2']);
    expect(a.positional).toEqual(['f.pcap']);
  });

  it('counts repeated letters and takes --name=N for a count', () => {
    expect(parseArgs(spec, ['-tttt']).counts.get('time')).toBe(4);
    expect(parseArgs(spec, ['-t', '-t']).counts.get('time')).toBe(2);
    expect(parseArgs(spec, ['--time=3']).counts.get('time')).toBe(3);
    expect(() => parseArgs(spec, ['--time=x'])).toThrow('x: --time takes a count, not "x"');
  });

  it('knows a second short letter for the same option (-v as -V)', () => {
    expect(parseArgs(spec, ['-v']).flags.get('verbose')).toBe(true);
  });

  it('refuses what is not declared, a value on a flag, a missing value', () => {
    expect(() => parseArgs(spec, ['--frob'])).toThrow(new UsageError('x: unknown option --frob (see lispscope x --help)'));
    expect(() => parseArgs(spec, ['-nZ'])).toThrow('x: unknown option -Z');
    expect(() => parseArgs(spec, ['--numeric=1'])).toThrow('x: option --numeric takes no value');
    expect(() => parseArgs(spec, ['-c'])).toThrow('x: option -c/--count needs a value (N)');
  });

  it('stops at -- : what follows is positional', () => {
    expect(parseArgs(spec, ['--', '-n']).positional).toEqual(['-n']);
  });
});

describe('help', () => {
  it('help CMD prints that command\'s help; help of an unknown command exits 2', () => {
    const r = lispscope(['help', 'read']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(lispscope(['read', '--help']).stdout);
    expect(r.stdout).toMatch(/^Usage: lispscope read /m);
    const bad = lispscope(['help', 'frob']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('lispscope: help: no command "frob" (lispscope help lists them)\n');
    expect(lispscope(['help', 'mn', 'resolve']).stdout).toMatch(/^Usage: lispscope mn resolve/m);
  });

  it('every command\'s help ends with an example of that command', { timeout: 300_000 }, async () => {
    const helps: [string, string[]][] = Object.entries(COMMANDS).flatMap(([name, c]) =>
      c.subcommands ? Object.keys(c.subcommands).map((s): [string, string[]] => [`${name} ${s}`, [name, s, '--help']]) : [[name, [name, '--help']] as [string, string[]]],
    );
    helps.push(['', ['--help']], ['mn', ['mn', '--help']]);
    const runs = await eachAtOnce(helps, ([, argv]) => lispscopeAsync(argv));
    for (const [i, [name]] of helps.entries()) {
      const r = runs[i]!;
      expect(r.code, name).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.at(-2), name).toBe('Example:');
      expect(lines.at(-1), name).toMatch(new RegExp(`^  lispscope ${name.split(' ')[0]}`));
    }
  });

  it('lab has --duration and no -d (read\'s -d is --decode-as)', () => {
    expect(lispscope(['lab', '-d', '1'])).toMatchObject({ code: 2, stderr: 'lispscope: lab: unknown option -d (see lispscope lab --help)\n' });
    expect(lispscope(['lab', '--help']).stdout).toMatch(/^ {6}--duration SEC /m);
  });

  it('--version is package.json\'s', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(lispscope(['--version']).stdout).toBe(`lispscope ${pkg.version}\n`);
  });
});

describe('completion', () => {
  const script = lispscope(['completion', 'bash']).stdout;
  const complete = (words: string[]): string[] => {
    const dir = mkdtempSync(join(tmpdir(), 'lispscope-completion-'));
    writeFileSync(join(dir, 'c.bash'), script);
    const r = spawnSync('bash', ['-c', `source c.bash; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _lispscope; printf '%s\\n' "\${COMPREPLY[@]}"`], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter(Boolean);
  };

  it('bash completes commands, subcommands, options and files after a file option', () => {
    expect(complete(['lispscope', 're'])).toEqual(['read', 'replay']);
    expect(complete(['lispscope', 'read', '--ke'])).toEqual(['--keys']);
    expect(complete(['lispscope', 'mn', 'r'])).toEqual(['register', 'resolve', 'run']);
    expect(complete(['lispscope', 'mn', 'resolve', '--m'])).toEqual(['--mr']);
    expect(complete(['lispscope', 'help', 'ma'])).toEqual(['mappings']);
    expect(complete(['lispscope', 'completion', ''])).toEqual(['bash', 'zsh']);
    expect(complete(['lispscope', 'read', '--keys', 'c.b'])).toEqual(['c.bash']);
  });

  const haveZsh = spawnSync('zsh', ['--version']).status === 0;
  if (!haveZsh && process.env.CI) throw new Error('zsh is missing: CI installs it (.ci/run)');
  it.skipIf(!haveZsh)('zsh takes the zsh script (syntax check; zsh missing skips outside CI)', () => {
    const r = lispscope(['completion', 'zsh']);
    expect(r.stdout.split('\n')[0]).toBe('#compdef lispscope');
    const z = spawnSync('zsh', ['-n'], { input: r.stdout, encoding: 'utf8' });
    expect(z.stderr).toBe('');
    expect(z.status).toBe(0);
  });

  it('an unknown shell is a usage error', () => {
    expect(lispscope(['completion', 'fish'])).toMatchObject({ code: 2, stderr: 'lispscope: completion: give the shell: lispscope completion bash|zsh\n' });
  });
});

describe('man page', () => {
  it('is built from the option tables and listed in package.json', () => {
    const page = readFileSync(join(ROOT, 'man/lispscope.1'), 'utf8');
    expect(page).toBe(manPage(COMMANDS, VERSION));
    expect(page).toContain('.B \\-r, \\-\\-read FILE');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { man: string[] };
    expect(pkg.man).toEqual(['man/lispscope.1']);
    const groff = spawnSync('groff', ['-man', '-ww', '-z'], { input: page, encoding: 'utf8' });
    if (groff.status === 0) expect(groff.stderr).toBe('');
  });
});
