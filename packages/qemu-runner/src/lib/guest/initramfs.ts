// Packs a guest root into a gzip'd cpio (newc) initramfs. Every entry is
// recorded as owned by uid/gid 0 whatever owns it on the host: dropbear
// refuses keys and authorized_keys owned by anyone else (facts.md).
// A key over the tree's listing (paths, modes, sizes, link targets, mtimes)
// is stored beside the output, so packing an unchanged tree again is a no-op.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runHostCommand } from './run-command';

export interface BuildInitramfsOptions {
  rootDir: string;
  outFile: string;
}

export interface BuiltInitramfs {
  path: string;
  /** Content key of the tree it was built from. */
  key: string;
  /** True when the existing file already matched the tree. */
  cached: boolean;
}

/** A hash of the tree's listing; changes when any file, mode or link changes. */
export function treeKey(rootDir: string): string {
  const hash = createHash('sha256');
  const walk = (relative: string) => {
    const full = join(rootDir, relative);
    for (const name of readdirSync(full).sort()) {
      const rel = relative ? `${relative}/${name}` : name;
      const stat = lstatSync(join(rootDir, rel));
      if (stat.isSymbolicLink()) hash.update(`l ${rel} ${readlinkSync(join(rootDir, rel))}\n`);
      else if (stat.isDirectory()) {
        hash.update(`d ${rel} ${stat.mode}\n`);
        walk(rel);
      } else hash.update(`f ${rel} ${stat.mode} ${stat.size} ${Math.floor(stat.mtimeMs)}\n`);
    }
  };
  walk('');
  return hash.digest('hex');
}

export async function buildInitramfs(options: BuildInitramfsOptions): Promise<BuiltInitramfs> {
  const key = treeKey(options.rootDir);
  const keyFile = `${options.outFile}.key`;
  if (existsSync(options.outFile) && existsSync(keyFile) && readFileSync(keyFile, 'utf8').trim() === key) {
    return { path: options.outFile, key, cached: true };
  }
  mkdirSync(dirname(options.outFile), { recursive: true });
  const partial = `${options.outFile}.partial-${process.pid}`;
  try {
    // Sorted names and gzip -n keep the bytes the same for the same tree.
    await runHostCommand(
      'sh',
      ['-c', 'find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet | gzip -1 -n > "$1"', 'sh', partial],
      { cwd: options.rootDir },
    );
    renameSync(partial, options.outFile);
  } finally {
    rmSync(partial, { force: true });
  }
  writeFileSync(keyFile, `${key}\n`);
  return { path: options.outFile, key, cached: false };
}
