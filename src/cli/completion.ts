// `lispscope completion bash|zsh`: shell completion generated from the commands' option tables:
// command and subcommand names, each command's options, file names after options that take a file
// and for positional arguments.

import type { CommandSpec, OptionSpec } from './args.js';
import { takesFile, type Commands } from './commands.js';

const shortsOf = (o: OptionSpec) => [o.short, ...(o.shortAliases ?? [])].filter((s): s is string => !!s);

function words(spec: CommandSpec): { all: string; values: string; files: string } {
  const all = spec.options.flatMap((o) => [`--${o.name}`, ...shortsOf(o).map((s) => `-${s}`)]);
  const taking = spec.options.filter((o) => o.kind === 'value' || o.kind === 'list');
  const values = taking.flatMap((o) => [`--${o.name}`, ...shortsOf(o).map((s) => `-${s}`)]);
  const files = taking.filter((o) => takesFile(o.arg)).flatMap((o) => [`--${o.name}`, ...shortsOf(o).map((s) => `-${s}`)]);
  return { all: all.join(' '), values: values.join(' '), files: files.join(' ') };
}

function bashCase(spec: CommandSpec, indent: string): string {
  const w = words(spec);
  return `${indent}opts='${w.all}'; values='${w.values}'; files='${w.files}'`;
}

export function bashCompletion(commands: Commands): string {
  const names = [...Object.keys(commands), 'help', 'completion'].join(' ');
  const cases: string[] = [];
  for (const [name, c] of Object.entries(commands)) {
    if (c.subcommands) {
      const subs = Object.keys(c.subcommands);
      const inner = subs.map((s) => `        ${s}) ${bashCase(c.subcommands![s]!, '').trim()} ;;`).join('\n');
      cases.push(
        `    ${name})\n      if [[ $COMP_CWORD -eq 2 ]]; then COMPREPLY=($(compgen -W '${subs.join(' ')}' -- "$cur")); return; fi\n` +
          `      case "\${COMP_WORDS[2]}" in\n${inner}\n        *) return ;;\n      esac ;;`,
      );
    } else if (c.spec) {
      cases.push(`    ${name}) ${bashCase(c.spec, '').trim()} ;;`);
    }
  }
  return `# lispscope completion for bash: source <(lispscope completion bash)
_lispscope() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" opts='' values='' files=''
  if [[ $COMP_CWORD -eq 1 ]]; then COMPREPLY=($(compgen -W '${names}' -- "$cur")); return; fi
  case "\${COMP_WORDS[1]}" in
    help) COMPREPLY=($(compgen -W '${Object.keys(commands).join(' ')}' -- "$cur")); return ;;
    completion) COMPREPLY=($(compgen -W 'bash zsh' -- "$cur")); return ;;
${cases.join('\n')}
    *) return ;;
  esac
  if [[ " $files " == *" $prev "* ]]; then COMPREPLY=($(compgen -f -- "$cur")); return; fi
  if [[ " $values " == *" $prev "* ]]; then COMPREPLY=(); return; fi
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -o filenames -F _lispscope lispscope
`;
}

/** Text inside zsh's `[...]` and `'...'`. */
function zshText(s: string): string {
  return s.replace(/'/g, "'\\''").replace(/[[\]]/g, (c) => `\\${c}`).replace(/:/g, '\\:');
}

function zshArguments(spec: CommandSpec): string {
  const specs = spec.options.map((o) => {
    const names = [`--${o.name}`, ...shortsOf(o).map((s) => `-${s}`)];
    const repeat = o.kind === 'list' || o.kind === 'count' ? '*' : '';
    const value = o.kind === 'value' || o.kind === 'list' ? `:${zshText(o.arg ?? 'value')}:${takesFile(o.arg) ? '_files' : ' '}` : '';
    const help = `[${zshText(o.help)}]`;
    if (names.length === 1) return `'${repeat}${names[0]}${help}${value}'`;
    const group = repeat ? '' : `(${names.join(' ')})`;
    return `${repeat ? "'*'" : `'${group}'`}{${names.join(',')}}'${help}${value}'`;
  });
  return `_arguments -s ${specs.join(' ')} '*:file:_files'`;
}

export function zshCompletion(commands: Commands): string {
  const describe = (entries: [string, string][]) => entries.map(([n, s]) => `'${n}:${zshText(s)}'`).join(' ');
  const cases: string[] = [];
  for (const [name, c] of Object.entries(commands)) {
    if (c.subcommands) {
      const subs = Object.entries(c.subcommands);
      cases.push(
        `    ${name})\n      if (( CURRENT == 3 )); then local -a subs; subs=(${describe(subs.map(([n, s]) => [n, s.summary]))}); _describe 'subcommand' subs; return; fi\n` +
          `      words=("\${(@)words[2,-1]}"); (( CURRENT-- ))\n      case $words[2] in\n${subs.map(([n, s]) => `        ${n}) ${zshArguments(s)} ;;`).join('\n')}\n      esac ;;`,
      );
    } else if (c.spec) cases.push(`    ${name}) ${zshArguments(c.spec)} ;;`);
  }
  const all: [string, string][] = [...Object.entries(commands).map(([n, c]): [string, string] => [n, c.summary]), ['help', 'help of a command'], ['completion', 'shell completion script (bash, zsh)']];
  return `#compdef lispscope
# lispscope completion for zsh: source <(lispscope completion zsh)
_lispscope() {
  if (( CURRENT == 2 )); then local -a cmds; cmds=(${describe(all)}); _describe 'command' cmds; return; fi
  case $words[2] in
    help) local -a cmds; cmds=(${Object.keys(commands).join(' ')}); _describe 'command' cmds ;;
    completion) _values 'shell' bash zsh ;;
${cases.join('\n')}
  esac
}
if (( $+functions[compdef] )); then compdef _lispscope lispscope; fi
`;
}
