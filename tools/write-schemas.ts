import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listSchemaFiles, renderSchemaJson } from './schemas';

for (const file of listSchemaFiles()) {
  writeFileSync(join(__dirname, '..', file.jsonPath), renderSchemaJson(file));
  console.log(`wrote ${file.jsonPath}`);
}
