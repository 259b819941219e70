// Prints docs/schema.md from the export's table declarations: node dist/scripts/schema-doc.js > docs/schema.md

import { schemaMarkdown } from '../src/export/schema-doc.js';

process.stdout.write(schemaMarkdown());
