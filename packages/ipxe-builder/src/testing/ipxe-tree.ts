// Where tests and the bench find a real iPXE tree: IPXE_SRC, or a checkout in
// the workspace cache (<cache>/ipxe/checkout, e.g.
// `git clone https://github.com/ipxe/ipxe .cache/ibft-lab/ipxe/checkout`).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ipxeCacheDir } from '../lib/source';

export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

export function realIpxeTree(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [env.IPXE_SRC, join(ipxeCacheDir(WORKSPACE_ROOT, env), 'checkout')].filter(Boolean) as string[];
  return candidates.find((dir) => existsSync(join(dir, 'src', 'Makefile')));
}

export const NO_IPXE_TREE_MESSAGE =
  'ipxe-builder integration tests SKIPPED: no iPXE tree. Set IPXE_SRC=/path/to/ipxe or clone one into ' +
  '.cache/ibft-lab/ipxe/checkout (git clone https://github.com/ipxe/ipxe .cache/ibft-lab/ipxe/checkout).';
