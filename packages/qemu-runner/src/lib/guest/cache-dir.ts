// Where built guest images, downloaded .deb files and extracted kernels live.
// One folder per workspace (not per project) so every lab shares them.
import { existsSync } from 'node:fs';
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
