// zod schemas are the single source of truth for executor and generator
// options; every schema.json is generated from the `optionsSchema` export of
// the schema.ts beside it. `npm run schemas` writes them; schemas.spec.ts
// fails when a committed schema.json drifts from its zod source.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { SECRET_KEY, secretRefSchema } from '../packages/script-gen/src/lib/secret-ref';

export interface SchemaFile {
  /** e.g. packages/script-gen/src/executors/gen-script/schema.json */
  jsonPath: string;
  tsPath: string;
  kind: 'executor' | 'generator';
  name: string;
  description?: string;
}

const root = join(__dirname, '..');

export function listSchemaFiles(): SchemaFile[] {
  const files: SchemaFile[] = [];
  for (const pkg of readdirSync(join(root, 'packages'))) {
    for (const [kind, manifest, key] of [
      ['executor', 'executors.json', 'executors'],
      ['generator', 'generators.json', 'generators'],
    ] as const) {
      const manifestPath = join(root, 'packages', pkg, manifest);
      if (!existsSync(manifestPath)) continue;
      const entries = JSON.parse(readFileSync(manifestPath, 'utf8'))[key] ?? {};
      for (const [name, entry] of Object.entries<{ schema: string; description?: string }>(entries)) {
        const jsonPath = join('packages', pkg, entry.schema);
        files.push({
          jsonPath,
          tsPath: join(dirname(jsonPath), 'schema.ts'),
          kind,
          name,
          description: entry.description,
        });
      }
    }
  }
  return files;
}

/**
 * JSON Schema's "anything" is `{}`, but Nx's option validator rejects an array
 * or object checked against `{}` (it wants a type). `true` means the same and
 * Nx skips it.
 */
function anyValueAsTrue(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (key === 'additionalProperties' && value && typeof value === 'object' && Object.keys(value).length === 0) record[key] = true;
    else anyValueAsTrue(value);
  }
}

const SECRET_REF_JSON = z.toJSONSchema(secretRefSchema, { io: 'input', target: 'draft-7' }) as Record<string, unknown>;
delete SECRET_REF_JSON.$schema;

/**
 * Executors resolve secret references before their zod schema sees the options
 * (resolveSecretRefs), so Nx's own option validation must let a reference
 * stand wherever a secret goes.
 */
function secretsAcceptReferences(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  const properties = record.properties as Record<string, Record<string, unknown>> | undefined;
  for (const [key, property] of Object.entries(properties ?? {})) {
    if (SECRET_KEY.test(key) && property.type === 'string') properties![key] = { anyOf: [property, SECRET_REF_JSON] };
  }
  for (const value of Object.values(record)) secretsAcceptReferences(value);
}

export function renderSchemaJson(file: SchemaFile): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(join(root, file.tsPath)) as { optionsSchema?: z.ZodType };
  if (!mod.optionsSchema) throw new Error(`${file.tsPath} must export optionsSchema (a zod schema)`);
  const json = z.toJSONSchema(mod.optionsSchema, { io: 'input', target: 'draft-7', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  anyValueAsTrue(json);
  secretsAcceptReferences(json);
  const nx = {
    $schema: 'https://json-schema.org/schema',
    version: 2,
    title: file.name,
    description: file.description,
    ...json,
    ...(file.kind === 'generator' ? { cli: 'nx' } : {}),
  };
  return `${JSON.stringify(nx, null, 2)}\n`;
}
