// The display-filter fields for people: `-Y help` in the terminal, and docs/filters.md, both from
// the one declaration of the fields (flows/filter-fields.ts).

import { exampleFor, fieldList, type FieldDef, type FilterDomain } from '../flows/filter-fields.js';

const TITLE: Record<FilterDomain, string> = {
  packet: 'Packets (read, sniff, the terminal UI’s packet list)',
  exchange: 'Exchanges (flows, sniff --flows, the terminal UI’s sessions)',
  mapping: 'Mappings (mappings)',
};

function typeText(def: FieldDef): string {
  return def.values ? `one of ${def.values.join(', ')}` : def.type;
}

/** The fields of one domain, one per line: name, type, meaning, example. */
export function filterHelpText(domain: FilterDomain): string {
  const rows = fieldList(domain);
  const width = Math.max(...rows.map(([n]) => n.length));
  const lines = [`Display-filter fields of ${TITLE[domain]}:`, ''];
  for (const [name, def] of rows) {
    const ex = exampleFor(name, def);
    lines.push(`  ${name.padEnd(width)}  ${def.help} (${typeText(def)})${ex ? `: ${ex}` : ''}`);
  }
  lines.push(
    '',
    'Operators: == != < <= > >= (eq ne lt le gt ge), in PREFIX, contains TEXT, matches REGEX (~, case-insensitive);',
    'and/&&, or/||, not/!, parentheses. A bare boolean field tests it (smr), a bare value of the type, kind or',
    'outcome stands for that field == value (map-register, unanswered). See docs/filters.md.',
  );
  return lines.join('\n');
}

/** docs/filters.md. */
export function filterDocs(): string {
  const out = [
    '# Display filters',
    '',
    '`-Y EXPR` on `read`, `sniff`, `flows` and `mappings`, and `/` in the terminal UI, keep what matches the',
    'expression. The fields are the JSON output’s (see [json.md](json.md)), named as Wireshark would:',
    '`records.locators.priority` looks into every record’s every locator, and a comparison holds when any',
    'value satisfies it (`!=` when none equals). A name that is not a field is an error (exit 2) that lists',
    'the fields; `lispscope read -Y help` (or `flows -Y help`, `mappings -Y help`) prints them.',
    '',
    '- Operators: `==` `!=` `<` `<=` `>` `>=` (also `eq` `ne` `lt` `le` `gt` `ge`), `in PREFIX` (address within',
    '  a prefix), `contains TEXT`, `matches REGEX` (or `~`, case-insensitive as in Wireshark); `&&`/`and`,',
    '  `||`/`or`, `!`/`not`, parentheses. Values: numbers, addresses, prefixes (`3.0.0.3` also matches',
    '  `3.0.0.3/32`), nonces with or without `0x`, words or quoted strings.',
    '- A bare boolean field tests it: `smr`, `!want_map_notify`. A bare value of the type (packets) or of',
    '  the kind or outcome (exchanges) stands for that comparison: `map-register`, `unanswered`.',
    '- Enumerated fields refuse values they do not take: `type == map-regster` is an error.',
    '',
    'Examples: `read -Y \'smr && ip.src == 10.10.4.2\'`, `flows -Y \'outcome == unanswered && eid in 10.0.0.0/8\'`,',
    '`mappings -Y \'handovers.baseline == data-plane\'`, `read -Y \'auth_error matches "key|nonce"\'`.',
  ];
  for (const domain of ['packet', 'exchange', 'mapping'] as const) {
    out.push('', `## ${TITLE[domain]}`, '', '| field | type | meaning | example |', '|---|---|---|---|');
    for (const [name, def] of fieldList(domain)) {
      const ex = exampleFor(name, def);
      out.push(`| \`${name}\` | ${typeText(def)} | ${def.help} | ${ex ? `\`${ex.replace(/\|/g, '\\|')}\`` : ''} |`);
    }
  }
  return `${out.join('\n')}\n`;
}
