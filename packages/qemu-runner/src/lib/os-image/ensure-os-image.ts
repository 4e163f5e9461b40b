// ensureOsImage: an OS image from the workspace cache, built once per content
// key (recipe + version + the package versions apt resolves it to) under
// <cacheDir>/os-images/<key>/. A build runs in a staging folder beside it and
// is published by one rename, so a reader sees a whole entry or none; two
// builders of one key both build, and the first rename wins.
// TODO(cache): move to ensureCacheEntry from @ibft-lab/cache once that package is on this branch.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
    mkdirSync(imagesDir, { recursive: true });
    const staging = join(imagesDir, `.staging-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(staging);
    // Removed on SIGINT/SIGTERM/exit too, never across a mount (removeBuildTree; not registerTempDir's rm -rf).
    const remove = () => {
      try {
        removeBuildTree(staging);
      } catch (error) {
        log((error as Error).message);
      }
    };
    const cleanup: LiveVm = { stop: async () => remove(), killNow: remove };
    registerLiveVm(cleanup);
    try {
      log(`os-image ${key}: building (${packages.length} packages resolved by apt)`);
      const built = await buildOsImage({ recipe, dir: staging, key, log });
      const manifest: Manifest = {
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
      try {
        renameSync(staging, dir);
      } catch (error) {
        // Another builder published the same key first; its entry is as good as ours.
        const theirs = readEntry(dir);
        if (!theirs) throw error;
        log(`os-image ${key}: another build published it first; using that one`);
        return toImage(dir, theirs, false);
      }
      log(`os-image ${key}: built in ${built.seconds.total.toFixed(1)} s (root ${built.seconds.rootfs.toFixed(1)} s, disk ${built.seconds.disk.toFixed(1)} s), ${(built.sizeBytes / 2 ** 20).toFixed(0)} MiB sparse`);
      return toImage(dir, manifest, true);
    } finally {
      unregisterLiveVm(cleanup);
      if (existsSync(staging)) removeBuildTree(staging);
    }
  });
}
