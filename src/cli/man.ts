// The man page (man/lispscope.1), written from the same option tables as `--help`.

import { optionNames, type CommandSpec } from './args.js';
import type { Commands } from './commands.js';

/** Text for roff: backslashes doubled, a leading dot or quote made harmless. */
function roff(s: string): string {
  return s.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/"/g, '\\(dq').replace(/^([.'])/gm, '\\&$1');
}

function section(spec: CommandSpec, title: string): string[] {
  const out = [`.SS ${roff(title)}`, roff(spec.summary), '.PP', `.B ${roff(spec.usage)}`];
  for (const o of spec.options) out.push('.TP', `.B ${roff(optionNames(o).trim())}`, roff(o.help));
  if (spec.example) out.push('.PP', 'Example:', '.RS', '.nf', roff(spec.example), '.fi', '.RE');
  return out;
}

export function manPage(commands: Commands, version: string): string {
  const out = [
    `.TH LISPSCOPE 1 "" "lispscope ${version}" "User Commands"`,
    '.SH NAME',
    'lispscope \\- packet\\-capture analyzer and debugger for LISP (RFC 9300, RFC 9301)',
    '.SH SYNOPSIS',
    '.B lispscope',
    '.I command',
    '[\\fIoptions\\fR] [\\fIargs\\fR]',
    '.br',
    '.B lispscope help',
    '.I command',
    '.br',
    '.B lispscope completion',
    'bash|zsh',
    '.SH DESCRIPTION',
    'lispscope reads pcap and pcapng files or captures live, decodes every LISP data and control message, matches requests and answers into exchanges, follows each EID\'s mapping and measures handovers; it can also act as a LISP Mobile Node and run a whole LISP lab on loopback.',
    '.SH COMMANDS',
  ];
  for (const [name, c] of Object.entries(commands)) {
    out.push('.TP', `.B ${roff(name)}`, roff(c.summary));
  }
  out.push('.SH OPTIONS');
  for (const [name, c] of Object.entries(commands)) {
    if (c.spec) out.push(...section(c.spec, name));
    for (const [sub, spec] of Object.entries(c.subcommands ?? {})) out.push(...section(spec, `${name} ${sub}`));
  }
  out.push(
    '.SH EXIT STATUS',
    '0 success; 1 the analysis found what \\-\\-fail\\-on asked about (or an active command got no answer); 2 bad usage or unreadable input, said in one line on stderr.',
    '.SH ENVIRONMENT',
    '.TP',
    '.B NO_COLOR',
    'no colour, even on a terminal',
    '.TP',
    '.B LISPSCOPE_PCAP',
    'native or cap: which libpcap binding live capture uses',
    '.TP',
    '.B LISPSCOPE_KEY',
    'the key of the active commands when no \\-\\-key\\-file is given',
    '.TP',
    '.B LISPSCOPE_EXPORT_TRACE',
    'a file: export appends a timeline to it (batches pushed and loaded, the reader waiting, the steps after the last packet, with memory at each); see docs/export.md',
    '.SH SEE ALSO',
    'tcpdump(1), tshark(1); docs/ in the package: usage.md, json.md, filters.md, tui.md, lab.md, mobile\\-node.md',
  );
  return `${out.join('\n')}\n`;
}
