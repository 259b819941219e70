// Terminal attributes for the UI, written as SGR sequences into the strings the panes render (so
// every pane decides its own layout on plain text first, then paints it). Colour only without
// NO_COLOR (the same rule as src/output/style.ts); inverse, bold and dim are not colours and stay,
// so the selection and the hex highlight remain visible with NO_COLOR.

import { chooseStyle, PLAIN } from '../output/style.js';

export type Colour = 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan' | 'gray';

const FG: Record<Colour, number> = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90 };

export interface Paint {
  readonly colour: boolean;
  fg(c: Colour, s: string): string;
  bold(s: string): string;
  dim(s: string): string;
  inverse(s: string): string;
}

const sgr = (on: string, off: string) => (s: string) => (s ? `\x1b[${on}m${s}\x1b[${off}m` : s);

export function makePaint(colour: boolean): Paint {
  return {
    colour,
    fg: (c, s) => (colour && s ? `\x1b[${FG[c]}m${s}\x1b[39m` : s),
    bold: sgr('1', '22'),
    dim: sgr('2', '22'),
    inverse: sgr('7', '27'),
  };
}

/** Colour unless NO_COLOR is set (the UI only runs on a terminal). */
export function paintFor(env: NodeJS.ProcessEnv): Paint {
  return makePaint(chooseStyle({ isTTY: true }, env) !== PLAIN);
}

/** The text without SGR sequences. */
export function plain(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}
