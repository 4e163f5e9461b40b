// Builds (once, then from the workspace cache) the Linux probe guest: Debian's
// cloud kernel plus a tiny initramfs of busybox-static and iscsi_ibft with its
// dependencies. Guest-image assembly is the guest library's (src/lib/guest).
import { createHash } from 'node:crypto';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCacheEntry } from '@ibft-lab/cache';
import { addKernelModules, buildInitramfs, downloadDebianPackages, ensureCloudKernel, extractDebs, withWritableCache } from '../guest';
import { PROBE_INIT_SCRIPT } from './probe-init';

export interface ProbeGuest {
  kernelVersion: string;
  vmlinuz: string;
  initrd: string;
}

export const PROBE_MODULES = ['iscsi_ibft'];

export async function ensureProbeGuest(cacheDir: string, log?: (line: string) => void): Promise<ProbeGuest> {
  // A read-only cache folder otherwise fails as a bare ENOENT/EROFS from deep inside.
  return withWritableCache(cacheDir, () => buildProbeGuest(cacheDir, log));
}

async function buildProbeGuest(cacheDir: string, log?: (line: string) => void): Promise<ProbeGuest> {
  const kernel = await ensureCloudKernel({ cacheDir, log });
  // The entry's name carries everything that shapes it, so a changed /init or
  // kernel gets a new entry; an unchanged one is reused.
  const recipe = createHash('sha256').update(`${kernel.version}\n${PROBE_MODULES.join(',')}\n${PROBE_INIT_SCRIPT}`).digest('hex').slice(0, 16);
  const entry = join(cacheDir, 'probe', recipe);
  await ensureCacheEntry({
    path: entry,
    what: `Linux probe guest ${recipe}`,
    log,
    async build(staging) {
      const root = join(staging, 'root');
      const debs = await downloadDebianPackages(['busybox-static'], { cacheDir, closure: false, log });
      await extractDebs(debs, root);
      await addKernelModules(kernel, PROBE_MODULES, root);
      writeFileSync(join(root, 'init'), PROBE_INIT_SCRIPT, { mode: 0o755 });
      chmodSync(join(root, 'init'), 0o755);
      await buildInitramfs({ rootDir: root, outFile: join(staging, 'probe.cpio.gz') });
      rmSync(root, { recursive: true, force: true });
      rmSync(join(staging, 'probe.cpio.gz.key'), { force: true });
    },
  });
  return { kernelVersion: kernel.version, vmlinuz: kernel.vmlinuz, initrd: join(entry, 'probe.cpio.gz') };
}
