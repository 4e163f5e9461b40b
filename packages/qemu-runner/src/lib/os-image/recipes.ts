// OS image recipes: what goes into the root file system, which files are laid
// over it and what runs in it before it is packed. Everything here is part of
// the image's cache key (with the versions apt resolves the packages to).
import { PROOF_SCRIPT, PROOF_UNIT } from './proof';

export interface OverlayFile {
  content: string;
  mode: number;
}

export interface OsImageRecipe {
  name: string;
  /** Bump when the build changes in a way the recipe's fields do not show. */
  version: number;
  suite: string;
  variant: 'minbase';
  /** Packages on top of the variant (mmdebstrap --include). */
  include: string[];
  /** Files written into the root before the customize commands run (absolute paths). */
  overlay: Record<string, OverlayFile>;
  /** Commands run in the root (chroot) after the overlay, in order. */
  customize: string[][];
  /** The kernel command line GRUB boots with. */
  kernelCmdline: string;
  /** ext4 label of the root partition (fstab and GRUB find it by label). */
  rootLabel: string;
}

/**
 * A Debian bookworm whose root is on an iSCSI LUN: its initramfs
 * (initramfs-tools + open-iscsi, ISCSI_AUTO=true) logs in from the iBFT with
 * iscsistart, CHAP included, and mounts the root by label. Nothing in the
 * image may reconfigure the boot NIC, so it has no network manager at all.
 */
export const DEBIAN_ISCSI_ROOT: OsImageRecipe = {
  name: 'debian-iscsi-root',
  version: 1,
  suite: 'bookworm',
  variant: 'minbase',
  include: [
    'linux-image-cloud-amd64',
    'open-iscsi',
    'initramfs-tools',
    'zstd',
    'systemd-sysv',
    'udev',
    'kmod',
    'busybox',
    'iproute2',
    'e2fsprogs',
    'util-linux',
  ],
  overlay: {
    // open-iscsi's initramfs hook: log in from the iBFT (iscsistart -N, -b).
    '/etc/iscsi/iscsi.initramfs': { content: 'ISCSI_AUTO=true\n', mode: 0o644 },
    // The boot NIC (virtio-net: Debian's cloud kernel has no rtl8139/e1000), the disk and the iBFT reader.
    '/etc/initramfs-tools/modules': { content: ['virtio_pci', 'virtio_net', 'sd_mod', 'iscsi_tcp', 'iscsi_ibft', ''].join('\n'), mode: 0o644 },
    // FSTYPE: the fsck hook cannot identify the root's type at build time (the root is not mounted on the host).
    '/etc/initramfs-tools/conf.d/ibft-lab.conf': { content: 'MODULES=list\nFSTYPE=ext4\n', mode: 0o644 },
    '/etc/fstab': { content: 'LABEL=root / ext4 defaults,_netdev 0 1\n', mode: 0o644 },
    '/etc/hostname': { content: 'ibft-lab-os\n', mode: 0o644 },
    '/usr/local/sbin/ibft-lab-proof': { content: PROOF_SCRIPT, mode: 0o755 },
    '/etc/systemd/system/ibft-lab-proof.service': { content: PROOF_UNIT, mode: 0o644 },
  },
  customize: [
    ['systemctl', 'enable', 'ibft-lab-proof.service'],
    // A getty on the console can swallow the proof's output; nobody logs in anyway.
    ['systemctl', 'mask', 'serial-getty@ttyS0.service'],
    ['update-initramfs', '-u', '-k', 'all'],
  ],
  kernelCmdline: 'root=LABEL=root ro console=ttyS0,115200',
  rootLabel: 'root',
};

export const OS_IMAGE_RECIPES: Record<string, OsImageRecipe> = {
  [DEBIAN_ISCSI_ROOT.name]: DEBIAN_ISCSI_ROOT,
};

export type OsImageRecipeName = keyof typeof OS_IMAGE_RECIPES;
