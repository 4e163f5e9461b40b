// Where built guest images, downloaded .deb files and extracted kernels live.
// One folder per workspace (not per project) so every lab shares them.
import { existsSync, mkdirSync, mkdtempSync, rmdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The workspace root: the nearest folder upward from `start` holding nx.json. */
export function findWorkspaceRoot(start: string = process.cwd()): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      // Fall back to this package's own workspace (it lives at packages/qemu-runner/src/lib/guest).
      return resolve(__dirname, '..', '..', '..', '..', '..');
    }
    dir = parent;
  }
}

/** `$IBFT_LAB_CACHE`, or `<workspace root>/.cache/ibft-lab`. */
export function workspaceCacheDir(): string {
  const fromEnv = process.env.IBFT_LAB_CACHE;
  if (fromEnv && fromEnv.trim()) return resolve(fromEnv);
  return join(findWorkspaceRoot(), '.cache', 'ibft-lab');
}

/** Why `dir` cannot be written into (it is created when missing), or undefined when it can. */
export function cacheDirNotWritable(dir: string): string | undefined {
  const tryWrite = (folder: string) => {
    try {
      rmdirSync(mkdtempSync(join(folder, '.write-check-')));
      return undefined;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    }
  };
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    // Recursive mkdir under a read-only folder says ENOENT; name the folder that refuses.
    let parent = dirname(resolve(dir));
    while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
    const why = tryWrite(parent);
    return `cannot be created${why ? `: ${parent} refuses writes (${why})` : ` (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`}`;
  }
  return tryWrite(dir);
}

/**
 * Runs `fill`, which writes into the cache folder `dir`. When it fails and the
 * folder cannot be written, that is the error: on a read-only folder Node's
 * recursive mkdir reports a bare "ENOENT ... mkdir '<dir>/debs'". A complete
 * cache on a read-only folder still works, since nothing is written then.
 */
export async function withWritableCache<T>(dir: string, fill: () => Promise<T>): Promise<T> {
  try {
    return await fill();
  } catch (error) {
    const why = cacheDirNotWritable(dir);
    if (!why) throw error;
    throw new Error(
      `cache folder ${dir} is not writable (${why}); set IBFT_LAB_CACHE to a writable folder, or make this one writable (mount it read-write, fix its permissions)`,
      { cause: error },
    );
  }
}
