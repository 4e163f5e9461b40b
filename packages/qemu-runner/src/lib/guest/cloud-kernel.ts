// Debian's cloud kernel (small, virtio built as modules, no initramfs needed
// for our own /init): resolved from the linux-image-cloud-amd64 metapackage,
// downloaded once and unpacked once into the cache.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ensureCacheEntry } from '@ibft-lab/cache';
import { aptAnswer } from './apt-answers';
import { downloadDebianPackages } from './debian-packages';
import { runHostCommand } from './run-command';

export interface CloudKernel {
  /** e.g. 6.1.0-56-cloud-amd64 (the `uname -r` of the guest). */
  version: string;
  /** Path of the kernel image to give QEMU's -kernel. */
  vmlinuz: string;
  /** The unpacked modules tree, `<extracted>/lib/modules/<version>`. */
  modulesRoot: string;
}

/** The linux-image package the cloud metapackage currently points at. */
export async function cloudKernelPackage(): Promise<string> {
  const { stdout } = await runHostCommand('apt-cache', ['depends', 'linux-image-cloud-amd64']);
  const match = /Depends:\s*(linux-image-[0-9][^\s]*-cloud-amd64)/.exec(stdout);
  if (!match) throw new Error('apt-cache knows no linux-image-cloud-amd64 dependency; run apt-get update');
  return match[1];
}

export async function ensureCloudKernel(options: { cacheDir: string; log?: (line: string) => void }): Promise<CloudKernel> {
  const pkg = await aptAnswer(options.cacheDir, { cloudKernelPackage: 'linux-image-cloud-amd64' }, cloudKernelPackage);
  const version = pkg.replace(/^linux-image-/, '');
  const [deb] = await downloadDebianPackages([pkg], { cacheDir: options.cacheDir, closure: false, log: options.log });
  // The folder is named after the .deb (name_version_arch), so a new Debian
  // build of the same ABI gets its own folder.
  const kernelsDir = join(options.cacheDir, 'kernels');
  const extracted = join(kernelsDir, basename(deb, '.deb'));
  const kernel = {
    version,
    vmlinuz: join(extracted, 'boot', `vmlinuz-${version}`),
    modulesRoot: join(extracted, 'lib', 'modules', version),
  };
  await ensureCacheEntry({
    path: extracted,
    what: `kernel ${basename(deb, '.deb')}`,
    log: options.log,
    async build(staging) {
      await runHostCommand('dpkg', ['-x', deb, staging]);
      // The package ships no modules.dep (its postinst writes it); make it here.
      await runHostCommand('depmod', ['-b', staging, version]);
      if (!existsSync(join(staging, 'boot', `vmlinuz-${version}`))) throw new Error(`${deb} holds no boot/vmlinuz-${version}`);
    },
  });
  return kernel;
}
