// The sha256 of a local image a fileio backstore starts from, taken at run
// time when the declaration gives only its path (a lab: its Nx graph must not
// hash images, and the file may change between runs). Remembered in the cache
// by the file's identity and times, so an unchanged image of hundreds of MiB
// is hashed once, not on every setup-target; any write changes its mtime and
// ctime, and then it is hashed again.
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ensureCacheEntry } from '@ibft-lab/cache';
import { workspaceCacheDir } from '@ibft-lab/qemu-runner';
import type { FileioBackstore, ResolvedDesiredState } from './model';
import { sha256OfFile } from './remote-image';

export interface ImageDigestOptions {
  /** Where the remembered digests live (`image-digests/`); default the workspace cache (IBFT_LAB_CACHE). */
  cacheDir?: string;
  /** A relative image path is read from here; default the current folder. */
  workspaceRoot?: string;
  log?: (line: string) => void;
}

function identity(stat: Stats): string {
  return JSON.stringify([stat.dev, stat.ino, stat.size, stat.mtimeMs, stat.ctimeMs]);
}

/** sha256 of the file at `path`, hashed only when no run has hashed these very bytes (same file, size and times). */
export async function imageDigest(path: string, options: ImageDigestOptions = {}): Promise<string> {
  let real: string;
  let before: Stats;
  try {
    real = realpathSync(path);
    before = statSync(real);
    if (!before.isFile()) throw Object.assign(new Error('not a file'), { code: 'not a file' });
  } catch (error) {
    throw new Error(`image ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); fix image.path`);
  }
  const key = createHash('sha256').update(`${real}\n${identity(before)}`).digest('hex').slice(0, 24);
  const entry = await ensureCacheEntry({
    path: join(options.cacheDir ?? workspaceCacheDir(), 'image-digests', key),
    what: `the sha256 of ${path}`,
    log: options.log,
    build: async (staging) => {
      const sha256 = await sha256OfFile(real);
      // Written to while it was read: these bytes are no one state of the file, so nothing is remembered.
      if (identity(statSync(real)) !== identity(before)) throw new Error(`image ${path} changed while it was hashed; run again once nothing writes to it`);
      writeFileSync(join(staging, 'sha256'), `${sha256}\n`);
    },
  });
  return readFileSync(join(entry.path, 'sha256'), 'utf8').trim();
}

/**
 * The declaration with every image path absolute and every image's sha256
 * known: declared, or taken from the file now (imageDigest). `fromFile` names
 * the backstores whose digest was taken here: their file need not be hashed
 * again before an upload.
 */
export async function withImageDigests(desired: ResolvedDesiredState, options: ImageDigestOptions = {}): Promise<{ desired: ResolvedDesiredState; fromFile: Set<string> }> {
  const fromFile = new Set<string>();
  const backstores = [];
  for (const b of desired.backstores) {
    if (b.kind !== 'fileio' || !b.image) {
      backstores.push(b);
      continue;
    }
    const path = isAbsolute(b.image.path) || !options.workspaceRoot ? b.image.path : join(options.workspaceRoot, b.image.path);
    let sha256 = b.image.sha256;
    if (sha256 === undefined) {
      sha256 = await imageDigest(path, options);
      fromFile.add(b.name);
    }
    backstores.push({ ...b, image: { path, sha256 } } satisfies FileioBackstore);
  }
  return { desired: { ...desired, backstores }, fromFile };
}
