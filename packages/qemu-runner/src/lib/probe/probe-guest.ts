// Builds (once, then from the workspace cache) the Linux probe guest: Debian's
// cloud kernel plus a tiny initramfs of busybox-static and iscsi_ibft with its
// dependencies. Guest-image assembly is the guest library's (src/lib/guest).
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addKernelModules, buildInitramfs, downloadDebianPackages, ensureCloudKernel, extractDebs, withWritableCache } from '../guest';
import { PROBE_INIT_SCRIPT } from './probe-init';

export interface ProbeGuest {
  kernelVersion: string;
  vmlinuz: string;
  initrd: string;
}

export const PROBE_MODULES = ['iscsi_ibft'];

export async function ensureProbeGuest(cacheDir: string): Promise<ProbeGuest> {
  // A read-only cache folder otherwise fails as a bare ENOENT/EROFS from deep inside.
  return withWritableCache(cacheDir, () => buildProbeGuest(cacheDir));
}

async function buildProbeGuest(cacheDir: string): Promise<ProbeGuest> {
  const kernel = await ensureCloudKernel({ cacheDir });
  // The root's name carries everything that shapes it, so a changed /init or
  // kernel gets a new root and a new initramfs; an unchanged one is reused.
  const recipe = createHash('sha256').update(`${kernel.version}\n${PROBE_MODULES.join(',')}\n${PROBE_INIT_SCRIPT}`).digest('hex').slice(0, 16);
  const probeDir = join(cacheDir, 'probe');
  const rootDir = join(probeDir, `root-${recipe}`);
  const initrd = join(probeDir, `probe-${recipe}.cpio.gz`);
  if (!existsSync(rootDir)) {
    mkdirSync(probeDir, { recursive: true });
    const staging = `${rootDir}.staging-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    try {
      mkdirSync(staging, { recursive: true });
      const debs = await downloadDebianPackages(['busybox-static'], { cacheDir, closure: false });
      await extractDebs(debs, staging);
      await addKernelModules(kernel, PROBE_MODULES, staging);
      writeFileSync(join(staging, 'init'), PROBE_INIT_SCRIPT);
      chmodSync(join(staging, 'init'), 0o755);
      try {
        renameSync(staging, rootDir);
      } catch (error) {
        // Another process (a parallel lab) finished the same root first.
        if (!existsSync(rootDir)) throw error;
      }
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  if (!readFileSync(join(rootDir, 'init'), 'utf8').startsWith('#!')) throw new Error(`${rootDir}/init is not a script`);
  await buildInitramfs({ rootDir, outFile: initrd });
  return { kernelVersion: kernel.version, vmlinuz: kernel.vmlinuz, initrd };
}
