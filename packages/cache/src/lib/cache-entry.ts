// A cache entry is a folder that is complete or absent. It is built once in a
// private staging folder beside it and published by one rename; parallel runs
// that need it wait on its lock and then use what the first one built. A
// build killed at any point leaves only its staging folder (removed by the
// next builder) and a lock whose owner is gone (taken over), never an entry.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { withFileLock } from './file-lock';
import { stopProcessesWorkingIn } from './leftover-writers';

export interface CacheEntryOptions {
  /** The entry's folder; its name should carry the entry's content key. */
  path: string;
  /** For people: "LIO appliance 03e0b653c7577bcb". */
  what: string;
  /** Fills `staging` (an empty folder) with everything the entry holds. */
  build(staging: string): Promise<void>;
  log?: (line: string) => void;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface CacheEntry {
  path: string;
  /** True when this call built it; false when it was there or another run built it. */
  built: boolean;
}

const STAGING_INFIX = '.staging-';

export function stagingFoldersOf(path: string): string[] {
  const parent = dirname(path);
  const prefix = `${basename(path)}${STAGING_INFIX}`;
  if (!existsSync(parent)) return [];
  return readdirSync(parent)
    .filter((name) => name.startsWith(prefix))
    .map((name) => join(parent, name));
}

export async function ensureCacheEntry(options: CacheEntryOptions): Promise<CacheEntry> {
  if (existsSync(options.path)) return { path: options.path, built: false };
  mkdirSync(dirname(options.path), { recursive: true });
  return withFileLock(
    `${options.path}.lock`,
    async () => {
      if (existsSync(options.path)) return { path: options.path, built: false };
      // Only the lock holder builds: any staging folder here is a dead build's, and whatever still works in it
      // (its killed builder's children) is stopped before it goes.
      for (const leftover of stagingFoldersOf(options.path)) {
        await stopProcessesWorkingIn(leftover);
        rmSync(leftover, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
      }
      const staging = `${options.path}${STAGING_INFIX}${process.pid}-${randomBytes(4).toString('hex')}`;
      mkdirSync(staging);
      options.log?.(`building ${options.what}`);
      try {
        await options.build(staging);
        renameSync(staging, options.path);
      } finally {
        rmSync(staging, { recursive: true, force: true });
      }
      return { path: options.path, built: true };
    },
    { what: `building ${options.what}`, log: options.log, timeoutMs: options.timeoutMs, signal: options.signal },
  );
}
