import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listSchemaFiles, renderSchemaJson } from './schemas';

describe('schema.json files', () => {
  const files = listSchemaFiles();

  it('exist for executors and generators', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files.map((f) => [f.jsonPath, f]))('%s matches its zod source (run `npm run schemas`)', (_, file) => {
    const committed = readFileSync(join(__dirname, '..', file.jsonPath), 'utf8');
    expect(committed).toBe(renderSchemaJson(file));
  });
});
