// Terminal colour, only when writing to a TTY and never with NO_COLOR (https://no-color.org).

export interface Style {
  type(s: string): string;
  eid(s: string): string;
  good(s: string): string;
  bad(s: string): string;
  /** Warnings: decodes, but deviates from the RFCs. */
  warn(s: string): string;
  dim(s: string): string;
}

const id = (s: string) => s;
const plain: Style = { type: id, eid: id, good: id, bad: id, warn: id, dim: id };

const sgr = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
const colour: Style = {
  type: sgr('1;36'),
  eid: sgr('33'),
  good: sgr('32'),
  bad: sgr('1;31'),
  warn: sgr('33'),
  dim: sgr('2'),
};

export function chooseStyle(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Style {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return plain;
  return stream.isTTY ? colour : plain;
}

export const PLAIN: Style = plain;
