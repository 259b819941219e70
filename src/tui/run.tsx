// Runs the UI full screen on the terminal (the alternate screen, restored on exit) until the user
// quits, then stops the source. Imported lazily by `lispscope tui`, so that the other commands do
// not load React and Ink.

import { render } from 'ink';
import { App } from './components/App.js';
import type { Paint } from './paint.js';
import type { DataSource } from './source.js';

export interface RunOptions {
  paint: Paint;
  /** A `-Y` filter for the sessions to start with. */
  filter?: string;
}

export async function runTui(source: DataSource, opts: RunOptions): Promise<void> {
  const out = process.stdout;
  out.write('\x1b[?1049h\x1b[H\x1b[2J');
  const restore = () => {
    out.write('\x1b[?25h\x1b[?1049l');
    process.off('exit', restore);
  };
  process.on('exit', restore);
  const app = render(<App source={source} paint={opts.paint} {...(opts.filter ? { filter: opts.filter } : {})} />, { exitOnCtrlC: true, patchConsole: true, maxFps: 20 });
  // The screen is the UI's: a resize redraws it from scratch.
  const onResize = () => out.write('\x1b[H\x1b[2J');
  out.prependListener('resize', onResize);
  try {
    await app.waitUntilExit();
  } finally {
    out.off('resize', onResize);
    app.cleanup();
    restore();
    await source.stop();
  }
}
