// A secret named by reference: `{ "env": "NAME" }` or `{ "file": "PATH" }`
// where a CHAP secret goes. The reference, not the secret, is what lab.json,
// Nx's project graph and its task hashes hold; executors resolve it when they
// run. An inline secret still works, with a warning that it is in the graph.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const secretRefSchema = z
  .union([
    z
      .object({
        env: z.string().regex(ENV_NAME, { message: 'must be an environment variable name (letters, digits, _)' }).describe('Environment variable holding the secret.'),
        field: z.string().optional().describe('The lab field it stands for (set by the lab plugin, for messages).'),
      })
      .strict(),
    z
      .object({
        file: z.string().min(1).describe('File holding the secret (one line); relative to the lab folder in lab.json, to the workspace in options.'),
        field: z.string().optional().describe('The lab field it stands for (set by the lab plugin, for messages).'),
      })
      .strict(),
  ])
  .describe('A secret by reference: {"env": "NAME"} or {"file": "PATH"}, resolved when the task runs.');

export type SecretRef = z.output<typeof secretRefSchema>;

export function isSecretRef(value: unknown): value is SecretRef {
  return secretRefSchema.safeParse(value).success;
}

/** Keys whose values are secrets wherever they appear in options. */
export const SECRET_KEY = /^(password|chapSecret|reverseChapSecret|mutualChapSecret|secret)$/;

export class SecretRefError extends Error {}

export interface ResolveSecretsOptions {
  /** `file` references are read relative to this folder (the workspace root). */
  baseDir: string;
  env?: NodeJS.ProcessEnv;
  /** Told once when a secret is written inline. */
  warn?: (line: string) => void;
}

function resolveOne(ref: SecretRef, path: string, options: ResolveSecretsOptions): string {
  const named = ref.field ? `${ref.field} (${path})` : path;
  if ('env' in ref) {
    const value = (options.env ?? process.env)[ref.env];
    if (value === undefined || value === '') {
      throw new SecretRefError(`${named}: environment variable ${ref.env} is not set; export ${ref.env}=<the secret> before running`);
    }
    return value;
  }
  const file = isAbsolute(ref.file) ? ref.file : join(options.baseDir, ref.file);
  try {
    // One line: a trailing newline (as editors write it) is not part of the secret.
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new SecretRefError(`${named}: the secret file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); create it or fix the path`);
  }
}

/**
 * A copy of `value` with every secret reference replaced by the secret. Throws
 * SecretRefError naming the option path (and lab field) of a missing one.
 */
export function resolveSecretRefs<T>(value: T, options: ResolveSecretsOptions): T {
  let warned = false;
  const walk = (node: unknown, path: string[]): unknown => {
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, String(i)]));
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node as Record<string, unknown>)) {
      const childPath = [...path, key];
      if (SECRET_KEY.test(key) && isSecretRef(child)) out[key] = resolveOne(child, childPath.join('.'), options);
      else {
        if (SECRET_KEY.test(key) && typeof child === 'string' && child && !warned) {
          options.warn?.(`warning: ${childPath.join('.')} is a secret written inline: it is in Nx's project graph (nx show project --json) and its workspace data; name it by reference instead, {"env": "NAME"} or {"file": "PATH"}`);
          warned = true;
        }
        out[key] = walk(child, childPath);
      }
    }
    return out;
  };
  return walk(value, []) as T;
}
