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
  /** Environment of the package installation (dpkg's maintainer scripts see it). */
  installEnv?: Record<string, string>;
  /** Commands run in the root (chroot) after the overlay, in order. */
  customize: string[][];
  /** The kernel command line GRUB boots with. */
  kernelCmdline: string;
  /** ext4 label of the root partition (fstab and GRUB find it by label). */
  rootLabel: string;
  /**
   * How the build checks the initramfs before it packs the disk: the listing
   * command run in the root and paths the listing must hold. Left out, the
   * check is initramfs-tools' (lsinitramfs, open-iscsi's local-top script).
   */
  initrdCheck?: InitrdCheck;
}

export interface InitrdCheck {
  /** A command run in the root (sh -c) that lists the initramfs; the glob /boot/initrd.img-* names it. */
  list: string;
  /** Substrings the listing must hold, each naming a part without which the initramfs cannot log in. */
  mustHold: string[];
  /** What to look at when one is missing. */
  hint: string;
}

/** The check for an initramfs-tools initramfs (debian-iscsi-root's, whose recipe predates the field). */
export const INITRAMFS_TOOLS_CHECK: InitrdCheck = {
  list: 'lsinitramfs /boot/initrd.img-*',
  mustHold: ['scripts/local-top/iscsi', 'sbin/iscsistart', 'iscsi_ibft.ko', 'virtio_net.ko'],
  hint: "check the recipe's overlay (/etc/iscsi/iscsi.initramfs, /etc/initramfs-tools/modules)",
};

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

/**
 * dracut's configuration: a generic initramfs (not host-only: it is built in
 * a chroot, whose host is not the machine it boots), with dracut's iSCSI
 * module and the network module that reads the iBFT. 40network would pick
 * systemd-networkd (Debian's systemd ships it), which has no iBFT support;
 * network-legacy's parse-ibft.sh turns the table into ip= lines (rd.iscsi.ibft).
 */
const DRACUT_CONF = `hostonly="no"
add_dracutmodules+=" iscsi network-legacy ibft-lab-initrd "
add_drivers+=" virtio_pci virtio_net sd_mod iscsi_tcp iscsi_ibft "
compress="zstd"
`;

/** What dracut-iscsi-root's initramfs prints before it mounts the root (its pre-mount hook). */
export const DRACUT_REPORT_PREFIX = 'ibft-lab-dracut:';

/**
 * A dracut module of the image's own, for what Debian's packages leave out
 * of a dracut initramfs: open-iscsi's iscsid.service runs
 * /lib/open-iscsi/startup-checks.sh first, which dracut's 95iscsi does not
 * install (without it iscsid fails and no login happens). And a pre-mount
 * hook that says on the console which iSCSI sessions the initramfs holds and
 * whether 95iscsi's firmware login made them: the initqueue's own iscsiadm
 * output reaches only the journal, and must stay there, since
 * `iscsiadm -m fw` prints the table's CHAP secret with the rest of it.
 */
const DRACUT_IBFT_LAB_MODULE = `#!/bin/bash
# ibft-lab: what a Debian dracut initramfs needs to boot from the iBFT, and a line saying it did.
check() { return 255; }
depends() { echo iscsi; }
install() {
    inst_multiple grep /lib/open-iscsi/startup-checks.sh
    inst_hook pre-mount 99 "$moddir/ibft-lab-report.sh"
}
`;

/** Sourced by dracut (sh): reads sysfs with the shell alone, since the initramfs need not have cat or ls. */
const DRACUT_REPORT_HOOK = `#!/bin/sh
# ibft-lab: the iSCSI sessions the initramfs made, on the console (kernel log), before the root is mounted.
# /tmp/iscsistarted-firmware is written by 95iscsi's handle_firmware after \`iscsiadm -m fw -l\`, and only there.
if [ -e /tmp/iscsistarted-firmware ]; then ibft_lab_how="95iscsi firmware login"; else ibft_lab_how="no firmware login"; fi
ibft_lab_found=
for ibft_lab_s in /sys/class/iscsi_session/session*; do
    [ -e "$ibft_lab_s/targetname" ] || continue
    ibft_lab_n=\${ibft_lab_s##*session}
    read -r ibft_lab_target < "$ibft_lab_s/targetname"
    ibft_lab_portal=
    for ibft_lab_c in /sys/class/iscsi_connection/connection"$ibft_lab_n":*; do
        [ -e "$ibft_lab_c/persistent_address" ] || continue
        read -r ibft_lab_addr < "$ibft_lab_c/persistent_address"
        read -r ibft_lab_port < "$ibft_lab_c/persistent_port"
        ibft_lab_portal="$ibft_lab_addr:$ibft_lab_port"
    done
    echo "<5>${DRACUT_REPORT_PREFIX} session$ibft_lab_n target=$ibft_lab_target portal=$ibft_lab_portal by=$ibft_lab_how" > /dev/kmsg
    ibft_lab_found=1
done
[ -n "$ibft_lab_found" ] || echo "<5>${DRACUT_REPORT_PREFIX} no iSCSI session by=$ibft_lab_how" > /dev/kmsg
unset ibft_lab_how ibft_lab_found ibft_lab_s ibft_lab_n ibft_lab_target ibft_lab_portal ibft_lab_c ibft_lab_addr ibft_lab_port
`;

/**
 * The same Debian bookworm root on an iSCSI LUN, but its initramfs is built
 * by dracut (dracut + dracut-network, the initramfs family of Fedora, RHEL
 * and SUSE). The kernel command line names no target: rd.iscsi.firmware=1
 * makes dracut's 95iscsi log in with \`iscsiadm -m fw -l\` (CHAP from the
 * table), and rd.iscsi.ibft=1 brings the boot NIC up from the table, the
 * pair dracut itself writes for a host booted from an iBFT
 * (95iscsi/module-setup.sh, install_ibft).
 */
export const DRACUT_ISCSI_ROOT: OsImageRecipe = {
  name: 'dracut-iscsi-root',
  version: 1,
  suite: 'bookworm',
  variant: 'minbase',
  include: [
    'linux-image-cloud-amd64',
    // dracut conflicts with initramfs-tools and provides linux-initramfs-tool, so the kernel takes it instead.
    'dracut',
    'dracut-network',
    'open-iscsi',
    // What network-legacy's check requires: dhclient, arping (dracut-network's dependencies, named here
    // because the module needs them) and pgrep (procps, which minbase lacks; without it dracut drops the module).
    'isc-dhcp-client',
    'iputils-arping',
    'procps',
    // dracut's ibft_to_cmdline (40network/net-lib.sh) tests the table's NIC flags with awk's and(), which
    // only gawk has: with minbase's mawk it prints "awk: line 2: function and never defined" and skips every
    // iBFT NIC, so the network never comes up. gawk takes the awk alternative (its priority is higher).
    'gawk',
    'zstd',
    'systemd-sysv',
    'udev',
    'kmod',
    'iproute2',
    'e2fsprogs',
    'util-linux',
  ],
  overlay: {
    '/etc/dracut.conf.d/50-ibft-lab.conf': { content: DRACUT_CONF, mode: 0o644 },
    '/usr/lib/dracut/modules.d/99ibft-lab-initrd/module-setup.sh': { content: DRACUT_IBFT_LAB_MODULE, mode: 0o755 },
    '/usr/lib/dracut/modules.d/99ibft-lab-initrd/ibft-lab-report.sh': { content: DRACUT_REPORT_HOOK, mode: 0o755 },
    '/etc/fstab': { content: 'LABEL=root / ext4 defaults,_netdev 0 1\n', mode: 0o644 },
    '/etc/hostname': { content: 'ibft-lab-os\n', mode: 0o644 },
    '/usr/local/sbin/ibft-lab-proof': { content: PROOF_SCRIPT, mode: 0o755 },
    '/etc/systemd/system/ibft-lab-proof.service': { content: PROOF_UNIT, mode: 0o644 },
  },
  // Debian's dracut hook builds no initramfs while the packages install (its INITRD=No): with dracut's
  // defaults and before the overlay is there, that build fails (40network picks systemd-networkd, which
  // needs D-Bus) and takes the kernel's configuration with it. The customize step builds the one initramfs.
  installEnv: { INITRD: 'No' },
  customize: [
    ['systemctl', 'enable', 'ibft-lab-proof.service'],
    ['systemctl', 'mask', 'serial-getty@ttyS0.service'],
    // None was built while the packages installed (installEnv); this is the one it boots, with the overlay's configuration.
    ['dracut', '--force', '--regenerate-all'],
  ],
  kernelCmdline: 'root=LABEL=root ro console=ttyS0,115200 rd.iscsi.firmware=1 rd.iscsi.ibft=1',
  rootLabel: 'root',
  initrdCheck: {
    list: 'lsinitrd /boot/initrd.img-*',
    mustHold: [
      'sbin/iscsiroot',
      'sbin/iscsiadm',
      'parse-iscsiroot.sh',
      'parse-ibft.sh',
      'sbin/dhclient',
      'open-iscsi/startup-checks.sh',
      // inst_hook names it <priority>-<file>: hooks/pre-mount/99-ibft-lab-report.sh
      'pre-mount/99-ibft-lab-report.sh',
      'iscsi_ibft.ko',
      'iscsi_tcp.ko',
      'virtio_net.ko',
    ],
    hint: "check the recipe's dracut configuration (/etc/dracut.conf.d/50-ibft-lab.conf) and its 99ibft-lab-initrd module",
  },
};

export const OS_IMAGE_RECIPES: Record<string, OsImageRecipe> = {
  [DEBIAN_ISCSI_ROOT.name]: DEBIAN_ISCSI_ROOT,
  [DRACUT_ISCSI_ROOT.name]: DRACUT_ISCSI_ROOT,
};

export type OsImageRecipeName = keyof typeof OS_IMAGE_RECIPES;
