// The OS image builder's pure parts: layout, sfdisk input, GRUB configuration,
// the cache key, apt's simulated install, the proof lines and the guard that
// keeps a build tree's removal out of the host's mounts. The real build and
// boot are the labs labs/debian-iscsi-root and -uefi (labs/e2e/labs.spec.ts).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEBIAN_ISCSI_ROOT,
  DRACUT_ISCSI_ROOT,
  DRACUT_REPORT_PREFIX,
  INITRAMFS_TOOLS_CHECK,
  diskLayout,
  grubConfig,
  idsFromKey,
  MIN_IMAGE_MIB,
  mountsUnder,
  osImageKey,
  osImageRecipe,
  parseProofLines,
  parseSimulatedInstall,
  PROOF_SCRIPT,
  removeBuildTree,
  sfdiskScript,
  writeOverlay,
} from './index';

const MIB = 1024 * 1024;

describe('diskLayout', () => {
  it('puts the ESP at 1 MiB, the root right after it to the end, and leaves the gap for core.img', () => {
    const l = diskLayout(355e6);
    expect(l.imageBytes).toBe(MIN_IMAGE_MIB * MIB);
    expect(l.esp).toEqual({ startSector: 2048, sectors: 65536, offsetBytes: MIB });
    expect(l.root.startSector).toBe(2048 + 65536);
    expect(l.root.startSector + l.root.sectors).toBe(l.imageBytes / 512);
    expect(l.root.sizeKiB * 1024).toBe(l.root.sectors * 512);
    expect(l.coreImageMaxBytes).toBe(2047 * 512);
  });

  it('grows past the minimum for a big root, in whole MiB, with half as much again free', () => {
    const l = diskLayout(1000 * MIB);
    expect(l.imageBytes % MIB).toBe(0);
    expect(l.root.sectors * 512).toBeGreaterThanOrEqual(1500 * MIB);
    expect(() => diskLayout(-1)).toThrow(/byte count/);
  });
});

describe('sfdiskScript', () => {
  it('writes a DOS label: p1 EFI system, p2 Linux and bootable', () => {
    const l = diskLayout(0);
    expect(sfdiskScript(l, '0x1234abcd')).toBe(
      [
        'label: dos',
        'label-id: 0x1234abcd',
        'unit: sectors',
        '',
        'start=2048, size=65536, type=ef',
        `start=67584, size=${l.root.sectors}, type=83, bootable`,
        '',
      ].join('\n'),
    );
  });

  it('is what sfdisk itself reads back from a sparse file (real sfdisk, no loop device)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-sfdisk-'));
    try {
      const l = diskLayout(0);
      const image = join(dir, 'disk.img');
      writeFileSync(image, '');
      execFileSync('truncate', ['-s', String(l.imageBytes), image]);
      execFileSync('sfdisk', ['--quiet', image], { input: sfdiskScript(l, '0x1234abcd') });
      const dump = JSON.parse(execFileSync('sfdisk', ['--json', image]).toString()).partitiontable;
      expect(dump.label).toBe('dos');
      expect(dump.partitions.map((p: any) => [p.start, p.size, p.type, Boolean(p.bootable)])).toEqual([
        [2048, 65536, 'ef', false],
        [67584, l.root.sectors, '83', true],
      ]);
      expect(statSync(image).blocks * 512).toBeLessThan(MIB);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('grubConfig', () => {
  const cfg = grubConfig({ rootLabel: 'root', kernel: '/boot/vmlinuz-6.1.0-57-cloud-amd64', initrd: '/boot/initrd.img-6.1.0-57-cloud-amd64', cmdline: DEBIAN_ISCSI_ROOT.kernelCmdline });

  it('uses the serial terminal only, finds the root by label and prints when it reads the kernel and the initrd', () => {
    expect(cfg.split('\n')).toEqual([
      'serial --unit=0 --speed=115200',
      'terminal_input serial',
      'terminal_output serial',
      'search --no-floppy --label root --set=root',
      'echo ibft-lab-grub: loading kernel /boot/vmlinuz-6.1.0-57-cloud-amd64',
      'linux /boot/vmlinuz-6.1.0-57-cloud-amd64 root=LABEL=root ro console=ttyS0,115200',
      'echo ibft-lab-grub: loading initrd /boot/initrd.img-6.1.0-57-cloud-amd64',
      'initrd /boot/initrd.img-6.1.0-57-cloud-amd64',
      'echo ibft-lab-grub: booting',
      'boot',
      '',
    ]);
    expect(cfg).not.toMatch(/terminal_output .*console/);
  });

  it('refuses values GRUB\'s parser would split or expand', () => {
    expect(() => grubConfig({ rootLabel: 'root', kernel: '/boot/$x', initrd: '/i', cmdline: 'ro' })).toThrow(/kernel/);
    expect(() => grubConfig({ rootLabel: 'my root"', kernel: '/k', initrd: '/i', cmdline: 'ro' })).toThrow(/rootLabel/);
  });
});

describe('the debian-iscsi-root recipe', () => {
  it('has the package list of facts.md and no network manager', () => {
    expect(osImageRecipe('debian-iscsi-root')).toBe(DEBIAN_ISCSI_ROOT);
    expect(DEBIAN_ISCSI_ROOT.include).toEqual(expect.arrayContaining(['linux-image-cloud-amd64', 'open-iscsi', 'initramfs-tools', 'systemd-sysv', 'udev']));
    for (const manager of ['ifupdown', 'network-manager', 'systemd-networkd', 'netplan.io', 'connman']) expect(DEBIAN_ISCSI_ROOT.include).not.toContain(manager);
    expect(() => osImageRecipe('fedora')).toThrow(/unknown OS image recipe "fedora"; known: debian-iscsi-root, dracut-iscsi-root/);
  });

  it('makes the initramfs log in from the iBFT and mount the root by label', () => {
    const o = DEBIAN_ISCSI_ROOT.overlay;
    expect(o['/etc/iscsi/iscsi.initramfs'].content).toBe('ISCSI_AUTO=true\n');
    expect(o['/etc/initramfs-tools/modules'].content.split('\n')).toEqual(expect.arrayContaining(['virtio_net', 'iscsi_tcp', 'iscsi_ibft', 'sd_mod']));
    expect(o['/etc/initramfs-tools/conf.d/ibft-lab.conf'].content).toBe('MODULES=list\nFSTYPE=ext4\n');
    expect(o['/etc/fstab'].content).toBe('LABEL=root / ext4 defaults,_netdev 0 1\n');
    expect(DEBIAN_ISCSI_ROOT.customize).toEqual([
      ['systemctl', 'enable', 'ibft-lab-proof.service'],
      ['systemctl', 'mask', 'serial-getty@ttyS0.service'],
      ['update-initramfs', '-u', '-k', 'all'],
    ]);
  });

  it('writes its overlay with the modes it declares', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-overlay-'));
    try {
      writeOverlay(DEBIAN_ISCSI_ROOT, dir);
      expect(readFileSync(join(dir, 'etc/fstab'), 'utf8')).toBe(DEBIAN_ISCSI_ROOT.overlay['/etc/fstab'].content);
      expect(statSync(join(dir, 'usr/local/sbin/ibft-lab-proof')).mode & 0o777).toBe(0o755);
      expect(() => writeOverlay({ ...DEBIAN_ISCSI_ROOT, overlay: { 'etc/x': { content: '', mode: 0o644 } } }, dir)).toThrow(/absolute/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has a proof script that sh accepts (checked, never run here: it powers the machine off)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-proof-'));
    try {
      writeFileSync(join(dir, 'proof.sh'), PROOF_SCRIPT);
      expect(() => execFileSync('sh', ['-n', join(dir, 'proof.sh')])).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the dracut-iscsi-root recipe', () => {
  const r = DRACUT_ISCSI_ROOT;
  const MODULE = '/usr/lib/dracut/modules.d/99ibft-lab-initrd';

  it('builds its initramfs with dracut, not initramfs-tools, with what network-legacy needs and no network manager', () => {
    expect(osImageRecipe('dracut-iscsi-root')).toBe(r);
    expect(r.include).toEqual(expect.arrayContaining(['linux-image-cloud-amd64', 'dracut', 'dracut-network', 'open-iscsi', 'isc-dhcp-client', 'iputils-arping', 'procps', 'gawk']));
    for (const absent of ['initramfs-tools', 'ifupdown', 'network-manager', 'systemd-networkd', 'netplan.io', 'connman', 'dbus']) expect(r.include).not.toContain(absent);
    // Debian's dracut kernel hook builds nothing while the packages install; the customize step builds the one it boots.
    expect(r.installEnv).toEqual({ INITRD: 'No' });
    expect(r.customize[r.customize.length - 1]).toEqual(['dracut', '--force', '--regenerate-all']);
  });

  it('names no target on the kernel command line: dracut takes it from the iBFT', () => {
    expect(r.kernelCmdline).toBe('root=LABEL=root ro console=ttyS0,115200 rd.iscsi.firmware=1 rd.iscsi.ibft=1');
    expect(r.kernelCmdline).not.toMatch(/netroot|iqn\.|ip=/);
  });

  it('configures a generic dracut initramfs with its iSCSI and iBFT network modules and its own module', () => {
    const conf = r.overlay['/etc/dracut.conf.d/50-ibft-lab.conf'].content;
    expect(conf).toContain('hostonly="no"');
    expect(conf).toMatch(/add_dracutmodules\+=" iscsi network-legacy ibft-lab-initrd "/);
    const setup = r.overlay[`${MODULE}/module-setup.sh`];
    expect(setup.mode).toBe(0o755);
    expect(setup.content).toContain('/lib/open-iscsi/startup-checks.sh');
    expect(setup.content).toContain('inst_hook pre-mount 99 "$moddir/ibft-lab-report.sh"');
    expect(r.initrdCheck?.list).toBe('lsinitrd /boot/initrd.img-*');
    expect(r.initrdCheck?.mustHold).toEqual(expect.arrayContaining(['sbin/iscsiroot', 'parse-ibft.sh', 'open-iscsi/startup-checks.sh', 'pre-mount/99-ibft-lab-report.sh', 'iscsi_ibft.ko']));
    expect(DEBIAN_ISCSI_ROOT.initrdCheck).toBeUndefined();
    expect(INITRAMFS_TOOLS_CHECK.mustHold).toContain('sbin/iscsistart');
  });

  it('has a module bash accepts and a report hook sh accepts, which prints sessions, never a secret (checked, not run)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-dracut-'));
    try {
      writeOverlay(r, dir);
      expect(() => execFileSync('bash', ['-n', join(dir, MODULE, 'module-setup.sh')])).not.toThrow();
      const hook = join(dir, MODULE, 'ibft-lab-report.sh');
      expect(() => execFileSync('sh', ['-n', hook])).not.toThrow();
      const text = readFileSync(hook, 'utf8');
      expect(text).toContain(`${DRACUT_REPORT_PREFIX} session`);
      expect(text).toContain('/tmp/iscsistarted-firmware');
      // It reads sysfs only: iscsiadm -m fw would print the table's CHAP secret with the rest.
      expect(text).not.toMatch(/^\s*[^\s#].*iscsiadm|password|chap|auth/im);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('osImageKey', () => {
  const packages = ['apt 2.6.1', 'open-iscsi 2.1.8-1+deb12u1'];
  it('is stable for the same recipe and versions, and changes with a package version or the recipe', () => {
    const key = osImageKey(DEBIAN_ISCSI_ROOT, packages);
    expect(key).toMatch(/^debian-iscsi-root-[0-9a-f]{16}$/);
    expect(osImageKey(DEBIAN_ISCSI_ROOT, [...packages])).toBe(key);
    expect(osImageKey(DEBIAN_ISCSI_ROOT, ['apt 2.6.1', 'open-iscsi 2.1.8-1+deb12u2'])).not.toBe(key);
    expect(osImageKey({ ...DEBIAN_ISCSI_ROOT, version: 2 }, packages)).not.toBe(key);
    expect(osImageKey({ ...DEBIAN_ISCSI_ROOT, kernelCmdline: 'root=LABEL=root ro quiet' }, packages)).not.toBe(key);
  });

  it('gives file system ids derived from the key', () => {
    const ids = idsFromKey('87ba62e4c4eafb87');
    expect(ids.diskId).toBe('0x87ba62e4');
    expect(ids.fatVolumeId).toBe('c4eafb87');
    expect(ids.rootUuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('parseSimulatedInstall', () => {
  it('reads name and version of every Inst line', () => {
    const out = [
      'NOTE: This is only a simulation!',
      'Inst gcc-12-base (12.2.0-14+deb12u1 Debian:12.15/oldstable [amd64])',
      'Inst libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [amd64]) []',
      'Inst tzdata [2024a-0+deb12u1] (2026f-0+deb12u1 Debian:12.15/oldstable-updates [all])',
      'Conf libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [amd64])',
    ].join('\n');
    expect(parseSimulatedInstall(out)).toEqual(['gcc-12-base 12.2.0-14+deb12u1', 'libc6 2.36-9+deb12u14', 'tzdata 2026f-0+deb12u1']);
  });
});

describe('parseProofLines', () => {
  it('reads what the booted system printed', () => {
    const serial = [
      '[  OK  ] Reached target local-fs.target - Local File Systems.',
      'ibft-lab-proof: root=/dev/sda2 fstype=ext4 label=root on /dev/sda (session1, LIO-ORG ibftlab_oslun_o)',
      'ibft-lab-proof: session target=iqn.2024-01.org.ibft-lab:oslun portal=10.0.2.2:40131 transport=tcp sid=1 (iscsiadm -m session)',
      'ibft-lab-proof: ibft initiator=iqn.2010-04.org.ipxe:oslun-initiator target=iqn.2024-01.org.ibft-lab:oslun portal=10.0.2.2:40131',
      'ibft-lab-proof: os=Debian GNU/Linux 12 (bookworm) kernel=6.1.0-57-cloud-amd64',
      'ibft-lab-proof: done',
    ].join('\n');
    const proof = parseProofLines(serial);
    expect(proof.root).toEqual({ source: '/dev/sda2', fstype: 'ext4', label: 'root', disk: 'sda', session: 'session1', detail: 'session1, LIO-ORG ibftlab_oslun_o' });
    expect(proof.sessions).toEqual([{ target: 'iqn.2024-01.org.ibft-lab:oslun', portal: '10.0.2.2:40131', transport: 'tcp', via: 'iscsiadm -m session' }]);
    expect(proof.ibft).toEqual({ initiator: 'iqn.2010-04.org.ipxe:oslun-initiator', target: 'iqn.2024-01.org.ibft-lab:oslun', portal: '10.0.2.2:40131' });
    expect(proof.os).toBe('Debian GNU/Linux 12 (bookworm)');
    expect(proof.done).toBe(true);
    expect(proof.lines).toHaveLength(5);
  });

  it('shows a root that is not on iSCSI as such', () => {
    const proof = parseProofLines('ibft-lab-proof: root=/dev/vda2 fstype=ext4 label=root on /dev/vda (no iSCSI session, 0x1af4 )\nibft-lab-proof: session none\n');
    expect(proof.root?.session).toBeUndefined();
    expect(proof.sessions).toEqual([]);
    expect(proof.done).toBe(false);
  });
});

describe('removeBuildTree', () => {
  it('finds mounts at and below a folder, deepest first, and nothing beside it', () => {
    const mountinfo = [
      '22 1 8:1 / / rw - ext4 /dev/vda rw',
      '30 22 0:5 / /build/rootfs/dev rw - devtmpfs udev rw',
      '31 30 0:6 / /build/rootfs/dev/pts rw - devpts devpts rw',
      '32 22 0:7 / /build/rootfs-other/proc rw - proc proc rw',
      '33 22 0:8 / /build/with\\040space/proc rw - proc proc rw',
    ].join('\n');
    expect(mountsUnder('/build/rootfs', mountinfo)).toEqual(['/build/rootfs/dev/pts', '/build/rootfs/dev']);
    expect(mountsUnder('/build/with space', mountinfo)).toEqual(['/build/with space/proc']);
  });

  it('removes a plain tree', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-tree-'));
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    writeFileSync(join(dir, 'a', 'b', 'f'), 'x');
    removeBuildTree(dir);
    expect(() => statSync(dir)).toThrow();
  });
});
