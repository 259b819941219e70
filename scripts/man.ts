// Writes man/lispscope.1 from the commands' option tables (run by `npm run build`, so the page in
// the package always says what --help says).

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS, VERSION } from '../src/cli/main.js';
import { manPage } from '../src/cli/man.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
mkdirSync(join(root, 'man'), { recursive: true });
writeFileSync(join(root, 'man', 'lispscope.1'), manPage(COMMANDS, VERSION));
