// `npm run docs`: writes docs/lab.schema.json and docs/labs.md from labSpecSchema (see lab-docs.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderLabDocs, WORKSPACE_ROOT } from './lab-docs';

for (const file of renderLabDocs()) {
  writeFileSync(join(WORKSPACE_ROOT, file.path), file.content);
  console.log(`wrote ${file.path}`);
}
