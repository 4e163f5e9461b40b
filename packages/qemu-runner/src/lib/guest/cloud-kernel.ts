// Debian's cloud kernel (small, virtio built as modules, no initramfs needed
// for our own /init): resolved from the linux-image-cloud-amd64 metapackage,
// downloaded once and unpacked once into the cache.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
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

export async function ensureCloudKernel(options: { cacheDir: string }): Promise<CloudKernel> {
  const pkg = await cloudKernelPackage();
  const version = pkg.replace(/^linux-image-/, '');
  const [deb] = await downloadDebianPackages([pkg], { cacheDir: options.cacheDir, closure: false });
  // The folder is named after the .deb (name_version_arch), so a new Debian
  // build of the same ABI gets its own folder.
  const kernelsDir = join(options.cacheDir, 'kernels');
  const extracted = join(kernelsDir, basename(deb, '.deb'));
  const kernel = {
    version,
    vmlinuz: join(extracted, 'boot', `vmlinuz-${version}`),
    modulesRoot: join(extracted, 'lib', 'modules', version),
  };
  if (existsSync(kernel.vmlinuz) && existsSync(join(kernel.modulesRoot, 'modules.dep'))) return kernel;

  mkdirSync(kernelsDir, { recursive: true });
  const staging = mkdtempSync(join(kernelsDir, '.extract-'));
  try {
    await runHostCommand('dpkg', ['-x', deb, staging]);
    // The package ships no modules.dep (its postinst writes it); make it here.
    await runHostCommand('depmod', ['-b', staging, version]);
    try {
      rmSync(extracted, { recursive: true, force: true });
      renameSync(staging, extracted);
    } catch (error) {
      // Another process finished first; its copy is as good as ours.
      if (!existsSync(kernel.vmlinuz)) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  if (!existsSync(kernel.vmlinuz)) throw new Error(`${deb} holds no boot/vmlinuz-${version}`);
  return kernel;
}
