// boot kind sanboot: the lines iPXE runs after the marker, the NIC properties
// Debian's virtio ROMs need, and the phases a calm console shows for such a
// boot (lines from a real run of labs/debian-iscsi-root).
import { existsSync } from 'node:fs';
import { calmLog } from '../vm/calm-log';
import { romPciId, virtioRomProperties } from './boot-lab';
import { initiatorPhases } from './ipxe-failures';
import { checkSystemUnderTest, DEFAULT_FAIL_ON, systemUnderTestDrives, systemUnderTestLines, type SystemUnderTest } from './system-under-test';

const sanboot: SystemUnderTest = { kind: 'sanboot', expect: [{ pattern: 'ibft-lab-proof: done', withinSeconds: 60 }] };

describe('sanboot as the system under test', () => {
  it('boots the drive sanhook registered for LUN 0, and reboots (ending the run under -no-reboot) when that fails', () => {
    expect(systemUnderTestLines(sanboot)).toEqual(['sanboot --drive 0x80 || reboot']);
    expect(systemUnderTestDrives(sanboot)).toEqual([]);
    expect(() => checkSystemUnderTest(sanboot)).not.toThrow();
    expect(() => checkSystemUnderTest({ ...sanboot, expect: [{ pattern: '(', withinSeconds: 1 }] })).toThrow(/systemUnderTest\.expect\[0\]\.pattern: /);
  });

  it("fails by default on open-iscsi's refusal by the target's CHAP (the line of a real run), not on a login that works", () => {
    const failOn = DEFAULT_FAIL_ON.map((p) => new RegExp(p));
    const fails = (line: string) => failOn.some((p) => p.test(line));
    // labs/e2e's rotated-CHAP case: iPXE logged in, the secret changed, the OS's initramfs was refused.
    expect(fails('iscsistart: Login failed to authenticate with target iqn.2024-01.org.ibft-lab:wrong-chap-root')).toBe(true);
    expect(fails('iscsiadm: initiator reported error (24 - iSCSI login failed due to authorization failure)')).toBe(true);
    for (const line of [
      'iscsistart: Logging into iqn.2024-01.org.ibft-lab:debian-iscsi-root 10.0.2.2:26998,1',
      'iscsistart: Connection1:0 to [target: iqn.2024-01.org.ibft-lab:debian-iscsi-root, portal: 10.0.2.2,26998] through [iface: default] is operational now',
      'ibft-lab-proof: session target=iqn.2024-01.org.ibft-lab:debian-iscsi-root portal=10.0.2.2:26998 transport=tcp sid=1 (iscsiadm -m session)',
    ]) {
      expect(fails(line)).toBe(false);
    }
  });

  it('the calm console follows it: sanboot, the kernel, the initramfs login, the proof, power off', () => {
    const printed: string[] = [];
    let t = 0;
    const calm = calmLog({ serialPrefix: '[l] ', phases: initiatorPhases('== config done =='), errors: [], verbose: false, print: (l) => printed.push(l), now: () => (t += 1000) });
    for (const line of [
      'Registered SAN device 0x80',
      '== config done ==',
      'Booting from SAN device 0x80',
      '[    0.000000] Linux version 6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0)',
      'iscsistart: Logging into iqn.2024-01.org.ibft-lab:debian-iscsi-root 10.0.2.2:26998,1',
      'ibft-lab-proof: root=/dev/sda2 fstype=ext4 label=root on /dev/sda (session1, LIO-ORG ibftlab_debian-)',
      'ibft-lab-proof: done',
      '[  102.803170] reboot: Power down',
    ]) {
      calm.log(`[l] ${line}`);
    }
    expect(printed.map((l) => l.replace(/ \(\d+\.\d s\)$/, ''))).toEqual([
      '[l] Registered SAN device 0x80',
      '[l] marker == config done ==',
      '[l] sanboot 0x80',
      '[l] Linux 6.1.0-57-cloud-amd64 booting',
      '[l] initramfs: iscsistart logs in to iqn.2024-01.org.ibft-lab:debian-iscsi-root at 10.0.2.2:26998',
      '[l] proof: root is /dev/sda2',
      '[l] power off',
    ]);
  });
});

const stock = (name: string) => `/usr/lib/ipxe/qemu/${name}`;
const haveRoms = ['pxe-virtio.rom', 'efi-virtio.rom', 'pxe-rtl8139.rom'].every((name) => existsSync(stock(name)));
if (!haveRoms) console.log('virtio ROM id tests skipped: Debian ipxe-qemu ROMs are missing (tools/setup installs them)');
(haveRoms ? describe : describe.skip)("Debian's stock virtio ROMs (built for the modern device)", () => {
  it('are read as 1af4:1041; rtl8139 as 10ec:8139', () => {
    expect(romPciId(stock('pxe-virtio.rom'))).toEqual({ vendor: 0x1af4, device: 0x1041 });
    expect(romPciId(stock('efi-virtio.rom'))).toEqual({ vendor: 0x1af4, device: 0x1041 });
    expect(romPciId(stock('pxe-rtl8139.rom'))).toEqual({ vendor: 0x10ec, device: 0x8139 });
  });

  it('get disable-legacy=on under BIOS (else SeaBIOS offers no boot entry), nothing else does', () => {
    expect(virtioRomProperties('virtio-net-pci', 'bios', stock('pxe-virtio.rom'))).toEqual({ properties: { 'disable-legacy': 'on' } });
    expect(virtioRomProperties('virtio-net-pci', 'uefi', stock('efi-virtio.rom'))).toEqual({});
    expect(virtioRomProperties('rtl8139', 'bios', stock('pxe-rtl8139.rom'))).toEqual({});
    expect(virtioRomProperties('virtio-net-pci', 'bios', stock('pxe-rtl8139.rom'))).toEqual({});
  });
});
