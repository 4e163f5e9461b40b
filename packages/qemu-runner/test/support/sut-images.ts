// Small systems under test for real boots: Debian's cloud kernel with a
// busybox initramfs whose /init reads the iBFT Linux found and says so, as a
// bare kernel + initrd and as an ISOLINUX CD (an "installer" the firmware
// boots after iPXE exits). Built from Debian packages into a temp folder.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addKernelModules, buildInitramfs, downloadDebianPackages, ensureCloudKernel, extractDebs, workspaceCacheDir } from '../../src';

export const SUT_SAYS = 'sut: iBFT initiator=';

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
modprobe iscsi_ibft
echo "sut: booted $(cat /proc/cmdline | sed 's/.*\\(sut-from=[a-z]*\\).*/\\1/')"
if [ -r /sys/firmware/ibft/initiator/initiator-name ]; then
  echo "${SUT_SAYS}$(cat /sys/firmware/ibft/initiator/initiator-name) target=$(cat /sys/firmware/ibft/target0/target-name)"
else
  echo "sut: no iBFT"
fi
poweroff -f
`;

export interface SutImages {
  kernel: string;
  initrd: string;
  iso: string;
}

export async function buildSutImages(dir: string): Promise<SutImages> {
  const cacheDir = workspaceCacheDir();
  const kernel = await ensureCloudKernel({ cacheDir });
  const root = join(dir, 'root');
  await extractDebs(await downloadDebianPackages(['busybox-static'], { cacheDir, closure: false }), root);
  await addKernelModules(kernel, ['iscsi_ibft'], root);
  for (const d of ['proc', 'sys']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'init'), INIT);
  chmodSync(join(root, 'init'), 0o755);
  const initrd = join(dir, 'initrd.gz');
  await buildInitramfs({ rootDir: root, outFile: initrd });

  const cd = join(dir, 'cd');
  mkdirSync(join(cd, 'isolinux'), { recursive: true });
  copyFileSync('/usr/lib/ISOLINUX/isolinux.bin', join(cd, 'isolinux', 'isolinux.bin'));
  copyFileSync('/usr/lib/syslinux/modules/bios/ldlinux.c32', join(cd, 'isolinux', 'ldlinux.c32'));
  copyFileSync(kernel.vmlinuz, join(cd, 'vmlinuz'));
  copyFileSync(initrd, join(cd, 'initrd.gz'));
  writeFileSync(
    join(cd, 'isolinux', 'isolinux.cfg'),
    'SERIAL 0 115200\nDEFAULT sut\nPROMPT 0\nTIMEOUT 1\nLABEL sut\n  KERNEL /vmlinuz\n  APPEND initrd=/initrd.gz console=ttyS0 rdinit=/init sut-from=cdrom\n',
  );
  const iso = join(dir, 'sut.iso');
  execFileSync('genisoimage', ['-quiet', '-o', iso, '-b', 'isolinux/isolinux.bin', '-c', 'isolinux/boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table', '-J', '-R', cd]);
  return { kernel: kernel.vmlinuz, initrd, iso };
}
