// What the consumer probe adds to the probe guest's root: open-iscsi's
// iscsiadm and iscsistart, dracut 059's iBFT hooks with the dash they run
// under, NetworkManager's nm-initrd-generator, each with exactly the shared
// libraries it loads, and the scripts that run them (consumer-scripts.ts).
// Everything comes from Debian packages unpacked with dpkg -x (no root, no
// maintainer scripts): the tools' own packages without their dependency trees
// (udev, systemd, D-Bus, polkit...), and the closure of the library packages
// their binaries link against.
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { copyBinariesWithLibraries, downloadDebianPackages, extractDebs } from '../guest';
import { CONSUMER_RUN_PATH, CONSUMER_RUN_SCRIPT, DRACUT_DRIVER_SCRIPT } from './consumer-scripts';

/** The packages whose tools run (unpacked whole into a scratch root; only the files below are kept). */
export const CONSUMER_TOOL_PACKAGES = ['open-iscsi', 'dracut-core', 'dracut-network', 'network-manager', 'dash', 'kmod'];
/**
 * Library packages the tools' binaries link against (their closure is fetched).
 * A soname none of them ships fails the build naming it: add its package here.
 */
export const CONSUMER_LIBRARY_PACKAGES = ['libisns0', 'libopeniscsiusr', 'libssl3', 'libkmod2', 'libmount1', 'libglib2.0-0', 'libgnutls30', 'libudev1', 'libsystemd0'];
/** Packages of the library closure that hold no library: never unpacked. */
const NOT_LIBRARIES = ['dpkg', 'tar', 'debianutils'];

/** Kernel modules the consumers need beside the probe's: a virtio NIC and dummy interfaces for open-iscsi, iscsi_tcp for dracut (95iscsi refuses to go on without it). */
export const CONSUMER_MODULES = ['virtio_pci', 'virtio_net', 'dummy', 'iscsi_tcp'];

/** Binaries copied with their libraries (guest paths; Debian's /sbin is /usr/sbin under merged-usr). */
export const CONSUMER_BINARIES = ['/usr/sbin/iscsiadm', '/usr/sbin/iscsistart', '/usr/lib/NetworkManager/nm-initrd-generator', '/usr/bin/dash', '/usr/lib/dracut/dracut-util', '/usr/bin/kmod'];

/** dracut's files, from its modules.d to where its module-setup.sh scripts install them. */
export const DRACUT_FILES: Array<[from: string, to: string]> = [
  ['/usr/lib/dracut/modules.d/99base/dracut-lib.sh', '/usr/lib/dracut-lib.sh'],
  ['/usr/lib/dracut/modules.d/99base/dracut-dev-lib.sh', '/usr/lib/dracut-dev-lib.sh'],
  ['/usr/lib/dracut/modules.d/99base/initqueue.sh', '/usr/sbin/initqueue'],
  ['/usr/lib/dracut/modules.d/99fs-lib/fs-lib.sh', '/usr/lib/fs-lib.sh'],
  ['/usr/lib/dracut/modules.d/40network/net-lib.sh', '/usr/lib/net-lib.sh'],
  ['/usr/lib/dracut/modules.d/95iscsi/iscsiroot.sh', '/usr/sbin/iscsiroot'],
  ['/usr/lib/dracut/modules.d/99base/parse-root-opts.sh', '/usr/lib/dracut/hooks/cmdline/10-parse-root-opts.sh'],
  ['/usr/lib/dracut/modules.d/95iscsi/parse-iscsiroot.sh', '/usr/lib/dracut/hooks/cmdline/90-parse-iscsiroot.sh'],
  ['/usr/lib/dracut/modules.d/35network-legacy/parse-ibft.sh', '/usr/lib/dracut/hooks/cmdline/92-parse-ibft.sh'],
  ['/usr/lib/dracut/modules.d/35network-legacy/parse-ip-opts.sh', '/usr/lib/dracut/hooks/cmdline/98-parse-ip-opts.sh'],
];
/** The hook folders dracut's 99base makes in every initramfs. */
const DRACUT_HOOK_DIRS = ['cmdline', 'emergency', 'initqueue', 'initqueue/finished', 'initqueue/online', 'initqueue/settled', 'initqueue/timeout', 'pre-udev', 'cleanup'];

export interface ConsumerLayer {
  /** The .deb files it was made from (name_version_arch), sorted: part of the cache key. */
  debs: string[];
  /** Guest paths of the files it added. */
  files: string[];
}

/** The .deb files the layer is made from (downloaded into the cache when missing). */
export async function consumerDebs(cacheDir: string, log?: (line: string) => void): Promise<string[]> {
  const tools = await downloadDebianPackages(CONSUMER_TOOL_PACKAGES, { cacheDir, closure: false, log });
  const libraries = await downloadDebianPackages(CONSUMER_LIBRARY_PACKAGES, { cacheDir, closure: true, exclude: NOT_LIBRARIES, log });
  return [...new Set([...tools, ...libraries])].sort();
}

/** Adds the consumer tools to a guest root that already holds busybox (the probe's). */
export async function addConsumerLayer(debs: string[], scratchDir: string, rootDir: string): Promise<ConsumerLayer> {
  const unpacked = join(scratchDir, 'consumer-packages');
  await extractDebs(debs, unpacked);
  const copied = copyBinariesWithLibraries(unpacked, rootDir, CONSUMER_BINARIES);
  const files = [...copied.files];
  for (const link of ['dracut-getarg', 'dracut-getargs']) {
    // dracut-lib.sh calls dracut-util under these names (99base/module-setup.sh).
    mkdirSync(join(rootDir, 'usr/bin'), { recursive: true });
    symlinkSync('../lib/dracut/dracut-util', join(rootDir, 'usr/bin', link));
    files.push(`/usr/bin/${link}`);
  }
  for (const [from, to] of DRACUT_FILES) {
    copyGuestFile(unpacked, from, rootDir, to, 0o755);
    files.push(to);
  }
  for (const dir of DRACUT_HOOK_DIRS) mkdirSync(join(rootDir, 'usr/lib/dracut/hooks', dir), { recursive: true });
  mkdirSync(join(rootDir, 'etc/cmdline.d'), { recursive: true });
  // dracut calls kmod's modprobe (--all, -b): first in its PATH, busybox's for everything else.
  mkdirSync(join(rootDir, 'consumers/bin'), { recursive: true });
  symlinkSync('/usr/bin/kmod', join(rootDir, 'consumers/bin/modprobe'));
  files.push('/consumers/bin/modprobe');
  // open-iscsi's configuration, as its package installs it.
  copyGuestFile(unpacked, '/etc/iscsi/iscsid.conf', rootDir, '/etc/iscsi/iscsid.conf', 0o644);
  files.push('/etc/iscsi/iscsid.conf');
  mkdirSync(join(rootDir, 'consumers'), { recursive: true });
  writeFileSync(join(rootDir, CONSUMER_RUN_PATH), CONSUMER_RUN_SCRIPT);
  chmodSync(join(rootDir, CONSUMER_RUN_PATH), 0o755);
  writeFileSync(join(rootDir, 'consumers/dracut.sh'), DRACUT_DRIVER_SCRIPT);
  chmodSync(join(rootDir, 'consumers/dracut.sh'), 0o755);
  files.push(CONSUMER_RUN_PATH, '/consumers/dracut.sh');
  return { debs: debs.map((deb) => basename(deb)), files: files.sort() };
}

function copyGuestFile(fromRoot: string, from: string, toRoot: string, to: string, mode: number): void {
  const destination = join(toRoot, to);
  mkdirSync(dirname(destination), { recursive: true });
  copyFileSync(join(fromRoot, from), destination);
  chmodSync(destination, mode);
}
