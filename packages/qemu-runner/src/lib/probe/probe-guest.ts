// Builds (once, then from the workspace cache) the Linux probe guest: Debian's
// cloud kernel plus a tiny initramfs of busybox-static and iscsi_ibft with its
// dependencies. The consumer probe is the same guest with the other readers of
// the table added (../consumers/consumer-layer.ts): a bigger initramfs, built
// and cached as an entry of its own, used only when a run asks for consumers.
// Guest-image assembly is the guest library's (src/lib/guest).
import { createHash } from 'node:crypto';
import { chmodSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ensureCacheEntry } from '@ibft-lab/cache';
import { addKernelModules, buildInitramfs, downloadDebianPackages, ensureCloudKernel, extractDebs, withWritableCache } from '../guest';
import { addConsumerLayer, consumerDebs, CONSUMER_MODULES } from '../consumers/consumer-layer';
import { CONSUMER_RUN_SCRIPT, DRACUT_DRIVER_SCRIPT } from '../consumers/consumer-scripts';
import { PROBE_INIT_SCRIPT } from './probe-init';

export interface ProbeGuest {
  kernelVersion: string;
  vmlinuz: string;
  initrd: string;
  /** Size of the initramfs in bytes. */
  initrdBytes: number;
  /** True for the consumer probe (open-iscsi, dracut, NetworkManager inside). */
  consumers: boolean;
}

export const PROBE_MODULES = ['iscsi_ibft'];
/** The probe boots once per run: its kernel unpacks lz4 in a third of gzip's time (initramfs.ts). */
export const PROBE_INITRD_COMPRESSION = 'lz4';

export interface ProbeGuestOptions {
  /** Build the consumer probe: every reader of the table, not the kernel's alone. */
  consumers?: boolean;
  log?: (line: string) => void;
}

export async function ensureProbeGuest(cacheDir: string, logOrOptions?: ((line: string) => void) | ProbeGuestOptions): Promise<ProbeGuest> {
  const options = typeof logOrOptions === 'function' ? { log: logOrOptions } : (logOrOptions ?? {});
  // A read-only cache folder otherwise fails as a bare ENOENT/EROFS from deep inside.
  return withWritableCache(cacheDir, () => buildProbeGuest(cacheDir, options));
}

async function buildProbeGuest(cacheDir: string, options: ProbeGuestOptions): Promise<ProbeGuest> {
  const log = options.log;
  const kernel = await ensureCloudKernel({ cacheDir, log });
  const modules = options.consumers ? [...PROBE_MODULES, ...CONSUMER_MODULES] : PROBE_MODULES;
  const layerDebs = options.consumers ? await consumerDebs(cacheDir, log) : [];
  // The entry's name carries everything that shapes it (kernel, modules, scripts,
  // and for the consumer probe every .deb by name_version_arch), so a change gets
  // a new entry; an unchanged one is reused.
  const parts = [kernel.version, modules.join(','), PROBE_INIT_SCRIPT, PROBE_INITRD_COMPRESSION];
  if (options.consumers) parts.push(CONSUMER_RUN_SCRIPT, DRACUT_DRIVER_SCRIPT, ...layerDebs.map((deb) => basename(deb)));
  const recipe = createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16);
  const entry = join(cacheDir, options.consumers ? 'consumer-probe' : 'probe', recipe);
  const file = options.consumers ? 'consumer-probe.cpio.lz4' : 'probe.cpio.lz4';
  await ensureCacheEntry({
    path: entry,
    what: `Linux probe guest ${options.consumers ? 'with consumers ' : ''}${recipe}`,
    log,
    async build(staging) {
      const root = join(staging, 'root');
      const debs = await downloadDebianPackages(['busybox-static'], { cacheDir, closure: false, log });
      await extractDebs(debs, root);
      await addKernelModules(kernel, modules, root);
      if (options.consumers) await addConsumerLayer(layerDebs, staging, root);
      writeFileSync(join(root, 'init'), PROBE_INIT_SCRIPT, { mode: 0o755 });
      chmodSync(join(root, 'init'), 0o755);
      await buildInitramfs({ rootDir: root, outFile: join(staging, file), compression: PROBE_INITRD_COMPRESSION });
      rmSync(root, { recursive: true, force: true });
      rmSync(join(staging, 'consumer-packages'), { recursive: true, force: true });
      rmSync(join(staging, `${file}.key`), { force: true });
    },
  });
  const initrd = join(entry, file);
  return { kernelVersion: kernel.version, vmlinuz: kernel.vmlinuz, initrd, initrdBytes: statSync(initrd).size, consumers: !!options.consumers };
}
