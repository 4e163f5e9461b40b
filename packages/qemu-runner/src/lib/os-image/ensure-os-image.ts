// ensureOsImage: an OS image from the workspace cache, built once per content
// key (recipe + version + the package versions apt resolves it to) under
// <cacheDir>/os-images/<key>/, through @ibft-lab/cache's ensureCacheEntry:
// one builder per key, the others wait for it; a reader sees a whole entry or
// none; a killed build's leftovers are removed by the next one.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ensureCacheEntry, processStartTime, sameProcessAlive } from '@ibft-lab/cache';
import { withWritableCache } from '../guest/cache-dir';
import { registerLiveVm, unregisterLiveVm, type LiveVm } from '../vm/live-vms';
import { buildOsImage, osImageBuildUnavailable, removeBuildTree, type BootFiles } from './build-os-image';
import { grubConfig, GRUB_MODULES, MIN_IMAGE_MIB, ESP_MIB } from './layout';
import { OS_IMAGE_RECIPES, type OsImageRecipe } from './recipes';
import { resolveImagePackages } from './resolve-packages';

/** Bump when build-os-image.ts or layout.ts change what they make. */
export const OS_IMAGE_BUILDER_VERSION = 2;

export interface EnsureOsImageOptions {
  cacheDir: string;
  recipe: string;
  log?: (line: string) => void;
}

export interface OsImage {
  /** The raw disk image (read it, serve it copy-on-write; never write it). */
  path: string;
  sha256: string;
  sizeBytes: number;
  key: string;
  recipe: string;
  kernelVersion: string;
  /** The kernel and initrd GRUB loads, with their sizes. */
  bootFiles: BootFiles;
  /** True when this call built it; false for a cache hit. */
  built: boolean;
  /** Seconds the build took (of this call, or of the build that made the entry). */
  buildSeconds: { rootfs: number; disk: number; total: number };
}

interface Manifest {
  recipe: string;
  key: string;
  image: string;
  sha256: string;
  sizeBytes: number;
  kernelVersion: string;
  bootFiles: BootFiles;
  buildSeconds: OsImage['buildSeconds'];
  packages: string[];
}

export class OsImageUnavailable extends Error {
  constructor(readonly reason: string) {
    super(`cannot build an OS image here: ${reason}`);
    this.name = 'OsImageUnavailable';
  }
}

export function osImageRecipe(name: string): OsImageRecipe {
  const recipe = OS_IMAGE_RECIPES[name];
  if (!recipe) throw new Error(`recipe: unknown OS image recipe ${JSON.stringify(name)}; known: ${Object.keys(OS_IMAGE_RECIPES).join(', ')}`);
  return recipe;
}

/** The cache key: everything that shapes the image, packages at the versions apt resolves. */
export function osImageKey(recipe: OsImageRecipe, packages: string[]): string {
  const shape = {
    builder: OS_IMAGE_BUILDER_VERSION,
    recipe,
    layout: { MIN_IMAGE_MIB, ESP_MIB, GRUB_MODULES },
    grub: grubConfig({ rootLabel: recipe.rootLabel, kernel: '/K', initrd: '/I', cmdline: recipe.kernelCmdline }),
    packages,
  };
  return `${recipe.name}-${createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 16)}`;
}

function readEntry(dir: string): Manifest | undefined {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return undefined;
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  const image = join(dir, manifest.image);
  if (!existsSync(image) || statSync(image).size !== manifest.sizeBytes) return undefined;
  return manifest;
}

function toImage(dir: string, manifest: Manifest, built: boolean): OsImage {
  return {
    path: join(dir, manifest.image),
    sha256: manifest.sha256,
    sizeBytes: manifest.sizeBytes,
    key: manifest.key,
    recipe: manifest.recipe,
    kernelVersion: manifest.kernelVersion,
    bootFiles: manifest.bootFiles,
    built,
    buildSeconds: manifest.buildSeconds,
  };
}

/**
 * The folder a build makes its root tree and disk in: beside the entries,
 * not in the entry's staging folder. mmdebstrap mounts /proc, /sys and /dev
 * in the root while its hooks run, and the cache removes a dead build's
 * staging folder with a plain recursive rm, which must never meet those.
 * Named after its owner (host, pid, start time) so a later build can tell
 * an abandoned one from one that is still running.
 */
function workFolderName(): string {
  return `${WORK_PREFIX}${hostTag()}-${process.pid}-${processStartTime(process.pid) ?? 0}-${randomBytes(4).toString('hex')}`;
}

const WORK_PREFIX = '.work-';

function hostTag(): string {
  return hostname().replace(/[^A-Za-z0-9.]/g, '_');
}

/** Work folders of this host's builds whose process is gone (killed outright: no handler ran), removed without crossing a mount. */
function removeAbandonedWork(imagesDir: string, log: (line: string) => void): void {
  const mine = `${WORK_PREFIX}${hostTag()}-`;
  for (const name of readdirSync(imagesDir)) {
    if (!name.startsWith(mine)) continue;
    const [pid, startTime] = name.slice(mine.length).split('-');
    if (sameProcessAlive(Number(pid), startTime === '0' ? undefined : startTime)) continue;
    try {
      removeBuildTree(join(imagesDir, name));
      log(`os-image: removed ${name}, left by a build that is gone`);
    } catch (error) {
      log((error as Error).message);
    }
  }
}

export async function ensureOsImage(options: EnsureOsImageOptions): Promise<OsImage> {
  const log = options.log ?? (() => undefined);
  const recipe = osImageRecipe(options.recipe);
  return withWritableCache(options.cacheDir, async () => {
    const packages = await resolveImagePackages(recipe, options.cacheDir);
    const key = osImageKey(recipe, packages);
    const imagesDir = join(options.cacheDir, 'os-images');
    const dir = join(imagesDir, key);
    const hit = readEntry(dir);
    if (hit) return toImage(dir, hit, false);

    const why = osImageBuildUnavailable();
    if (why) throw new OsImageUnavailable(why);
    let manifest: Manifest | undefined;
    // One builder per key (the entry's lock); others wait and use its image.
    const entry = await ensureCacheEntry({
      path: dir,
      what: `OS image ${key}`,
      log,
      async build(staging) {
        removeAbandonedWork(imagesDir, log);
        const work = join(imagesDir, workFolderName());
        mkdirSync(work);
        // Removed on SIGINT/SIGTERM/exit too, never across a mount (removeBuildTree, not a plain rm -rf).
        const remove = () => {
          try {
            removeBuildTree(work);
          } catch (error) {
            log((error as Error).message);
          }
        };
        const cleanup: LiveVm = { stop: async () => remove(), killNow: remove };
        registerLiveVm(cleanup);
        try {
          log(`os-image ${key}: building (${packages.length} packages resolved by apt)`);
          const built = await buildOsImage({ recipe, dir: work, key, log });
          renameSync(built.path, join(staging, 'disk.img'));
          manifest = {
            recipe: recipe.name,
            key,
            image: 'disk.img',
            sha256: built.sha256,
            sizeBytes: built.sizeBytes,
            kernelVersion: built.kernelVersion,
            bootFiles: built.bootFiles,
            buildSeconds: built.seconds,
            packages: built.packages,
          };
          writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
          log(`os-image ${key}: built in ${built.seconds.total.toFixed(1)} s (root ${built.seconds.rootfs.toFixed(1)} s, disk ${built.seconds.disk.toFixed(1)} s), ${(built.sizeBytes / 2 ** 20).toFixed(0)} MiB sparse`);
        } finally {
          unregisterLiveVm(cleanup);
          remove();
        }
      },
    });
    const published = readEntry(entry.path);
    if (!published) throw new Error(`cache entry ${entry.path} exists but holds no whole OS image (manifest.json and disk.img); remove it and run again`);
    return toImage(entry.path, published, entry.built);
  });
}
