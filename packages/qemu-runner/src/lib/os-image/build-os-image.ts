// Builds one OS image into a folder (the caller's staging folder): mmdebstrap
// makes the root, the recipe's overlay and commands customize it, and the
// loop-free layout of layout.ts packs it into disk.img with BIOS and UEFI GRUB.
// Needs root (mmdebstrap --mode=root, ownership kept by mke2fs -d).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, ftruncateSync, lstatSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { runHostCommand } from '../guest/run-command';
import { diskLayout, grubConfig, GRUB_MODULES, idsFromKey, sfdiskScript, type DiskLayout, type GrubPlatform } from './layout';
import { INITRAMFS_TOOLS_CHECK, type OsImageRecipe } from './recipes';

export const GRUB_LIB_DIR = '/usr/lib/grub';

/** Host tools the build runs, with the Debian package that has each (tools/setup installs them). */
export const OS_IMAGE_TOOLS: Array<{ command: string; pkg: string }> = [
  { command: 'mmdebstrap', pkg: 'mmdebstrap' },
  { command: 'sfdisk', pkg: 'fdisk' },
  { command: 'mke2fs', pkg: 'e2fsprogs' },
  { command: 'mkfs.fat', pkg: 'dosfstools' },
  { command: 'mmd', pkg: 'mtools' },
  { command: 'mcopy', pkg: 'mtools' },
  { command: 'grub-mkimage', pkg: 'grub-common' },
];

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;
}

/** Why this machine cannot build an OS image now (root, tools, GRUB platforms), or undefined when it can. */
export function osImageBuildUnavailable(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return 'building an OS image needs root (mmdebstrap --mode=root; mke2fs -d keeps ownership only as root); CI runs as root';
  }
  const missing = OS_IMAGE_TOOLS.filter((t) => !onPath(t.command));
  if (missing.length) {
    return `missing ${missing.map((t) => `${t.command} (Debian package ${t.pkg})`).join(', ')}; run bash tools/setup`;
  }
  for (const [platform, pkg] of [['i386-pc', 'grub-pc-bin'], ['x86_64-efi', 'grub-efi-amd64-bin']] as const) {
    if (!existsSync(join(GRUB_LIB_DIR, platform, 'linux.mod'))) return `GRUB ${platform} modules are missing (Debian package ${pkg}); run bash tools/setup`;
  }
  return undefined;
}

export interface BootFiles {
  kernel: string;
  kernelBytes: number;
  initrd: string;
  initrdBytes: number;
}

export interface BuiltOsImage {
  /** disk.img inside the folder. */
  path: string;
  sha256: string;
  sizeBytes: number;
  kernelVersion: string;
  /** What GRUB reads from the root partition at boot (a bench divides their size by GRUB's read time). */
  bootFiles: BootFiles;
  /** "name version" of every package in the root (dpkg's own record). */
  packages: string[];
  layout: DiskLayout;
  /** Seconds per step (mmdebstrap, disk), for the bench and the log. */
  seconds: { rootfs: number; disk: number; total: number };
}

/** Shell-quotes one word for the hooks mmdebstrap runs with sh. */
function sh(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The host's apt sources: mmdebstrap uses the same ones the key was resolved with. */
export function hostAptSources(): string[] {
  const files: string[] = [];
  if (existsSync('/etc/apt/sources.list') && readFileSync('/etc/apt/sources.list', 'utf8').split('\n').some((l) => /^\s*deb\s/.test(l))) {
    files.push('/etc/apt/sources.list');
  }
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) files.push(...readdirSync(dir).filter((f) => /\.(list|sources)$/.test(f)).sort().map((f) => join(dir, f)));
  return files;
}

/** Mount points at or below `dir` (from /proc/self/mountinfo), deepest first. */
export function mountsUnder(dir: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => Boolean(point))
    .map((point) => point.replace(/\\040/g, ' '))
    .filter((point) => point === dir || point.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/**
 * rm -rf that never crosses into a mount: a root being built has the host's
 * /proc, /sys and /dev mounted in it while mmdebstrap's hooks run, and an
 * interrupted build may leave them. They are unmounted first; if one stays,
 * the folder is left alone and the error says so.
 */
export function removeBuildTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const point of mountsUnder(dir)) spawnSync('umount', ['-l', point], { stdio: 'ignore' });
  const left = mountsUnder(dir);
  if (left.length) throw new Error(`not removing ${dir}: ${left.join(', ')} still mounted; unmount by hand`);
  rmSync(dir, { recursive: true, force: true });
}

function treeBytes(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      const st = lstatSync(full);
      if (st.isDirectory()) walk(full);
      else total += st.isFile() ? Math.max(st.size, 4096) : 0;
    }
  };
  walk(dir);
  return total;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function writeAt(file: string, bytes: Buffer, offset: number): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** Writes the recipe's overlay into `dir` (a tree mmdebstrap's sync-in copies over the root). */
export function writeOverlay(recipe: OsImageRecipe, dir: string): void {
  for (const [path, file] of Object.entries(recipe.overlay)) {
    if (!path.startsWith('/') || path.includes('..')) throw new Error(`overlay path ${path} must be absolute and plain`);
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.content, { mode: file.mode });
  }
}

export interface BuildOsImageOptions {
  recipe: OsImageRecipe;
  /** An empty folder to build in; disk.img ends up here, the root tree is removed again. */
  dir: string;
  key: string;
  log?: (line: string) => void;
}

export async function buildOsImage(options: BuildOsImageOptions): Promise<BuiltOsImage> {
  const { recipe, dir, key } = options;
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const rootfs = join(dir, 'rootfs');
  const overlay = join(dir, 'overlay');
  writeOverlay(recipe, overlay);

  const initrdListing = join(dir, 'initrd-listing.txt');
  const initrdCheck = recipe.initrdCheck ?? INITRAMFS_TOOLS_CHECK;
  const hooks = [
    `sync-in ${overlay} /`,
    ...recipe.customize.map((argv) => `chroot "$1" ${argv.map(sh).join(' ')}`),
    // What the initramfs holds, read with the root's own lister (the host need not have initramfs-tools or dracut).
    `chroot "$1" sh -c ${sh(initrdCheck.list)} > ${sh(initrdListing)}`,
  ];
  log(`os-image ${key}: mmdebstrap ${recipe.suite} (${recipe.variant}, ${recipe.include.length} packages on top)`);
  // Under setpriv --pdeathsig: a builder killed outright takes mmdebstrap with it (it unmounts and cleans up on
  // SIGTERM), instead of leaving it filling a folder the next builder removes as abandoned.
  const launcher = spawnSync('setpriv', ['--pdeathsig', 'SIGTERM', 'true'], { stdio: 'ignore' }).status === 0 ? ['setpriv', '--pdeathsig', 'SIGTERM'] : [];
  await runHostCommand(launcher[0] ?? 'mmdebstrap', [
    ...launcher.slice(1),
    ...(launcher.length ? ['mmdebstrap'] : []),
    `--variant=${recipe.variant}`,
    '--mode=root',
    '--format=directory',
    '--quiet',
    `--include=${recipe.include.join(',')}`,
    ...hooks.map((hook) => `--customize-hook=${hook}`),
    recipe.suite,
    rootfs,
    ...hostAptSources(),
  ], { env: recipe.installEnv });
  const rootfsSeconds = (Date.now() - started) / 1000;
  const left = mountsUnder(rootfs);
  if (left.length) throw new Error(`mmdebstrap left ${left.join(', ')} mounted`);

  const { stdout: dpkg } = await runHostCommand('dpkg-query', [`--admindir=${join(rootfs, 'var/lib/dpkg')}`, '-W', '-f', '${Package} ${Version}\\n']);
  const packages = dpkg.split('\n').filter(Boolean).sort();
  const kernels = readdirSync(join(rootfs, 'boot')).filter((f) => /^vmlinuz-/.test(f));
  if (kernels.length !== 1) throw new Error(`the root holds ${kernels.length} kernels in /boot (${kernels.join(', ')}); expected one`);
  const kernelVersion = kernels[0].replace(/^vmlinuz-/, '');
  const kernelPath = `/boot/vmlinuz-${kernelVersion}`;
  const initrdPath = `/boot/initrd.img-${kernelVersion}`;
  if (!existsSync(join(rootfs, initrdPath))) throw new Error(`the root has no ${initrdPath} (update-initramfs did not run?)`);
  const initrdBytes = statSync(join(rootfs, initrdPath)).size;
  const kernelBytes = statSync(join(rootfs, kernelPath)).size;
  // An initramfs without its iSCSI login or the iBFT module cannot log in: say so now, not after a boot.
  const listing = readFileSync(initrdListing, 'utf8');
  for (const needed of initrdCheck.mustHold) {
    if (!listing.includes(needed)) throw new Error(`${initrdPath} holds no ${needed}; ${initrdCheck.hint}`);
  }
  rmSync(initrdListing, { force: true });
  log(`os-image ${key}: root ${rootfsSeconds.toFixed(1)} s, kernel ${kernelVersion}, initrd ${(initrdBytes / 1e6).toFixed(1)} MB, ${packages.length} packages`);

  const diskStarted = Date.now();
  const layout = diskLayout(treeBytes(rootfs));
  const ids = idsFromKey(key.replace(/^.*-/, ''));
  const image = join(dir, 'disk.img');
  const fd = openSync(image, 'w');
  ftruncateSync(fd, layout.imageBytes);
  closeSync(fd);
  await runHostCommand('sh', ['-c', 'sfdisk --quiet --no-reread --no-tell-kernel "$1" < "$2"', 'sh', image, writeTemp(dir, 'sfdisk.txt', sfdiskScript(layout, ids.diskId))]);
  await runHostCommand('mke2fs', [
    '-q', '-F', '-t', 'ext4', '-L', recipe.rootLabel, '-U', ids.rootUuid,
    '-E', `offset=${layout.root.offsetBytes},hash_seed=${ids.rootUuid}`,
    '-d', rootfs, image, `${layout.root.sizeKiB}k`,
  ]);
  await runHostCommand('mkfs.fat', ['-F', '16', '-n', 'ESP', '-i', ids.fatVolumeId, `--offset=${layout.esp.startSector}`, image, String((layout.esp.sectors * 512) / 1024)]);

  const cfg = writeTemp(dir, 'grub-embedded.cfg', grubConfig({ rootLabel: recipe.rootLabel, kernel: kernelPath, initrd: initrdPath, cmdline: recipe.kernelCmdline }));
  const grubImage = async (platform: GrubPlatform, out: string) => {
    await runHostCommand('grub-mkimage', ['-O', platform, '-d', join(GRUB_LIB_DIR, platform), '-p', '/boot/grub', '-c', cfg, '-o', out, ...GRUB_MODULES[platform]]);
    return out;
  };
  // BIOS: boot.img's code (not its partition table) in the MBR; it loads core.img from sector 1 (its default).
  const core = readFileSync(await grubImage('i386-pc', join(dir, 'core.img')));
  if (core.length > layout.coreImageMaxBytes) throw new Error(`GRUB core.img is ${core.length} bytes; the gap before the first partition holds ${layout.coreImageMaxBytes}`);
  const bootImg = readFileSync(join(GRUB_LIB_DIR, 'i386-pc', 'boot.img'));
  writeAt(image, bootImg.subarray(0, 440), 0);
  writeAt(image, core, 512);
  // UEFI: the removable-media path, which firmware boots without NVRAM entries.
  const efi = await grubImage('x86_64-efi', join(dir, 'BOOTX64.EFI'));
  const mtoolsEnv = { MTOOLS_SKIP_CHECK: '1' };
  const fat = `${image}@@${layout.esp.offsetBytes}`;
  await runHostCommand('mmd', ['-i', fat, '::/EFI', '::/EFI/BOOT'], { env: mtoolsEnv });
  await runHostCommand('mcopy', ['-i', fat, efi, '::/EFI/BOOT/BOOTX64.EFI'], { env: mtoolsEnv });

  for (const f of ['core.img', 'BOOTX64.EFI', 'sfdisk.txt', 'grub-embedded.cfg']) rmSync(join(dir, f), { force: true });
  removeBuildTree(rootfs);
  rmSync(overlay, { recursive: true, force: true });
  const diskSeconds = (Date.now() - diskStarted) / 1000;
  const sha256 = await sha256File(image);
  return {
    path: image,
    sha256,
    sizeBytes: statSync(image).size,
    kernelVersion,
    bootFiles: { kernel: kernelPath, kernelBytes, initrd: initrdPath, initrdBytes },
    packages,
    layout,
    seconds: { rootfs: rootfsSeconds, disk: diskSeconds, total: (Date.now() - started) / 1000 },
  };
}

function writeTemp(dir: string, name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
