// Real apt-get download, dpkg -x, depmod and cpio on the host: builds a tiny
// guest root (busybox + configfs module) and packs it twice.
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  addKernelModules,
  buildInitramfs,
  downloadDebianPackages,
  ensureCloudKernel,
  extractDebs,
  resolveModuleClosure,
  workspaceCacheDir,
} from './index';

jest.setTimeout(300_000);

describe('resolveModuleClosure', () => {
  const dep = [
    'kernel/drivers/target/iscsi/iscsi_target_mod.ko: kernel/drivers/target/target_core_mod.ko kernel/fs/configfs/configfs.ko',
    'kernel/drivers/target/target_core_mod.ko: kernel/fs/configfs/configfs.ko',
    'kernel/fs/configfs/configfs.ko:',
    'kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko',
    'kernel/drivers/net/net_failover.ko:',
  ].join('\n');

  it('follows dependencies and accepts dashes for underscores', () => {
    expect(resolveModuleClosure(dep, ['iscsi-target-mod'])).toEqual([
      'kernel/drivers/target/iscsi/iscsi_target_mod.ko',
      'kernel/drivers/target/target_core_mod.ko',
      'kernel/fs/configfs/configfs.ko',
    ]);
  });

  it('skips built-in modules and names an unknown one', () => {
    expect(resolveModuleClosure(dep, ['virtio_pci'], ['kernel/drivers/virtio/virtio_pci.ko'])).toEqual([]);
    expect(() => resolveModuleClosure(dep, ['nope_mod'])).toThrow(/nope_mod/);
  });
});

describe('guest image assembly (real apt-get, dpkg, depmod, cpio)', () => {
  const work = mkdtempSync(join(tmpdir(), 'ibft-lab-guest-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('fetches the cloud kernel, builds an initramfs, and a second build is a cache hit', async () => {
    const cacheDir = workspaceCacheDir();
    const kernel = await ensureCloudKernel({ cacheDir });
    expect(kernel.version).toMatch(/cloud-amd64$/);
    expect(statSync(kernel.vmlinuz).size).toBeGreaterThan(1_000_000);
    expect(existsSync(join(kernel.modulesRoot, 'modules.dep'))).toBe(true);
    const again = await ensureCloudKernel({ cacheDir });
    expect(again).toEqual(kernel);

    const debs = await downloadDebianPackages(['busybox-static'], { cacheDir, closure: false });
    expect(debs).toHaveLength(1);
    const rootDir = join(work, 'root');
    await extractDebs(debs, rootDir);
    expect(lstatSync(join(rootDir, 'bin')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(rootDir, 'var', 'run'))).toBe('../run');
    expect(existsSync(join(rootDir, 'bin', 'busybox'))).toBe(true);

    const copied = await addKernelModules(kernel, ['configfs'], rootDir);
    expect(copied.some((path) => path.endsWith('configfs.ko'))).toBe(true);
    expect(existsSync(join(rootDir, 'lib', 'modules', kernel.version, 'modules.dep'))).toBe(true);

    const outFile = join(work, 'guest.cpio.gz');
    const first = await buildInitramfs({ rootDir, outFile });
    expect(first.cached).toBe(false);
    expect(statSync(outFile).size).toBeGreaterThan(100_000);
    // Every entry is owned by root inside the archive.
    const listing = execFileSync('sh', ['-c', 'gzip -dc "$1" | cpio -itv --quiet 2>/dev/null | head -50', 'sh', outFile]).toString();
    for (const line of listing.trim().split('\n')) expect(line.split(/\s+/).slice(2, 4)).toEqual(['root', 'root']);

    const started = Date.now();
    const second = await buildInitramfs({ rootDir, outFile });
    expect(second).toEqual({ ...first, cached: true });
    expect(Date.now() - started).toBeLessThan(5_000);

    // lz4 (the probe guests'): the same tree, the same bytes, and a new key (gzip's archive is not reused).
    const lz4File = join(work, 'guest.cpio.lz4');
    const lz4 = await buildInitramfs({ rootDir, outFile: lz4File, compression: 'lz4' });
    expect(lz4.key).not.toEqual(first.key);
    expect(readFileSync(lz4File).readUInt32LE(0)).toBe(0x184c2102); // lz4 legacy frame magic: what the kernel unpacks
    const lz4Listing = execFileSync('sh', ['-c', 'lz4 -dc "$1" | cpio -itv --quiet 2>/dev/null | head -50', 'sh', lz4File]).toString();
    expect(lz4Listing).toEqual(listing);
    const lz4Bytes = readFileSync(lz4File);
    rmSync(`${lz4File}.key`);
    await buildInitramfs({ rootDir, outFile: lz4File, compression: 'lz4' });
    expect(readFileSync(lz4File).equals(lz4Bytes)).toBe(true);
  });
});
