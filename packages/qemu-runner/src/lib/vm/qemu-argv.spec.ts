import { buildQemuArgv, VmSpecError } from './qemu-argv';
import type { VmSpec } from './vm-spec';

const base: VmSpec = {
  memoryMiB: 128,
  nics: [{ model: 'rtl8139', netdev: { kind: 'user' } }],
  serialFile: '/tmp/x/serial.log',
  qmpSocket: '/tmp/x/qmp.sock',
};

function pairs(argv: string[], flag: string): string[] {
  return argv.flatMap((arg, i) => (arg === flag ? [argv[i + 1]] : []));
}

describe('buildQemuArgv', () => {
  it('defaults to TCG, serial to a file, monitor off, QMP on a unix socket, no display', () => {
    const argv = buildQemuArgv(base);
    expect(pairs(argv, '-accel')).toEqual(['tcg']);
    expect(argv).toContain('-nographic');
    expect(pairs(argv, '-serial')).toEqual(['file:/tmp/x/serial.log']);
    expect(pairs(argv, '-monitor')).toEqual(['none']);
    expect(pairs(argv, '-qmp')).toEqual(['unix:/tmp/x/qmp.sock,server=on,wait=off']);
    expect(pairs(argv, '-m')).toEqual(['128']);
  });

  it('auto tries KVM, then TCG', () => {
    expect(pairs(buildQemuArgv({ ...base, accel: 'auto' }), '-accel')).toEqual(['kvm', 'tcg']);
    expect(pairs(buildQemuArgv({ ...base, accel: 'kvm' }), '-accel')).toEqual(['kvm']);
  });

  it('boots from the first NIC by default (no key press), with romfile and MAC', () => {
    const argv = buildQemuArgv({
      ...base,
      nics: [
        {
          model: 'rtl8139',
          romfile: '/usr/lib/ipxe/qemu/pxe-rtl8139.rom',
          mac: '52:54:00:12:34:56',
          netdev: { kind: 'user', tftpDir: '/srv/t', bootfile: 'boot.ipxe' },
        },
      ],
    });
    expect(pairs(argv, '-boot')).toEqual(['n']);
    expect(pairs(argv, '-netdev')).toEqual(['user,id=net0,tftp=/srv/t,bootfile=boot.ipxe']);
    expect(pairs(argv, '-device')).toEqual([
      'rtl8139,netdev=net0,mac=52:54:00:12:34:56,romfile=/usr/lib/ipxe/qemu/pxe-rtl8139.rom,bootindex=1',
    ]);
  });

  it('publishes host forwards on loopback only', () => {
    const argv = buildQemuArgv({
      ...base,
      nics: [{ model: 'virtio-net-pci', netdev: { kind: 'user', hostForwards: [{ hostPort: 2222, guestPort: 22 }] } }],
    });
    expect(pairs(argv, '-netdev')).toEqual(['user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22']);
  });

  it('relays a fixed guest address to a host loopback port (guestfwd)', () => {
    const argv = buildQemuArgv({
      ...base,
      nics: [{ model: 'rtl8139', netdev: { kind: 'user', guestForwards: [{ guestIp: '10.0.2.4', guestPort: 3260, hostPort: 40123 }] } }],
    });
    expect(pairs(argv, '-netdev')).toEqual(['user,id=net0,guestfwd=tcp:10.0.2.4:3260-cmd:busybox nc 127.0.0.1 40123']);
  });

  it.each([['10.0.2.2'], ['10.0.2.3'], ['192.168.1.4'], ['10.0.2.255']])('refuses guest forward address %s, naming the field', (guestIp) => {
    expect(() =>
      buildQemuArgv({ ...base, nics: [{ model: 'rtl8139', netdev: { kind: 'user', guestForwards: [{ guestIp, guestPort: 3260, hostPort: 4000 }] } }] }),
    ).toThrow(/nics\[0\]\.netdev\.guestForwards\[0\]\.guestIp/);
  });

  it('joins a loopback UDP socket to the user network through a hub (the NIC, slirp and the socket on one hub)', () => {
    const argv = buildQemuArgv({ ...base, nics: [{ model: 'rtl8139', netdev: { kind: 'user', tftpDir: '/t', hubSocket: { port: 40555 } } }] });
    expect(pairs(argv, '-netdev')).toEqual([
      'user,id=net0user,tftp=/t',
      'hubport,id=net0hubuser,hubid=0,netdev=net0user',
      'socket,id=net0sock,udp=127.0.0.1:40555,localaddr=127.0.0.1:0',
      'hubport,id=net0hubsock,hubid=0,netdev=net0sock',
      'hubport,id=net0,hubid=0',
    ]);
    expect(pairs(argv, '-device')[0]).toMatch(/^rtl8139,netdev=net0(,|$)/);
    expect(() => buildQemuArgv({ ...base, nics: [{ model: 'rtl8139', netdev: { kind: 'user', hubSocket: { port: 0 } } }] })).toThrow(/nics\[0\]\.netdev\.hubSocket\.port/);
  });

  it('escapes commas in paths (QEMU option syntax)', () => {
    const argv = buildQemuArgv({ ...base, nics: [{ model: 'e1000', netdev: { kind: 'user', tftpDir: '/a,b' } }] });
    expect(pairs(argv, '-netdev')).toEqual(['user,id=net0,tftp=/a,,b']);
  });

  it('uses OVMF pflash drives for UEFI', () => {
    const argv = buildQemuArgv({ ...base, firmware: 'uefi', uefi: { code: '/o/CODE.fd', vars: '/t/VARS.fd' } });
    expect(pairs(argv, '-drive')).toEqual([
      'if=pflash,format=raw,unit=0,readonly=on,file=/o/CODE.fd',
      'if=pflash,format=raw,unit=1,file=/t/VARS.fd',
    ]);
  });

  it('adds NIC properties (disable-legacy for Debian\'s virtio ROMs) and refuses ones it sets itself', () => {
    const nic = { model: 'virtio-net-pci', romfile: '/r.rom', properties: { 'disable-legacy': 'on' }, netdev: { kind: 'user' as const } };
    expect(pairs(buildQemuArgv({ ...base, nics: [nic] }), '-device')).toEqual(['virtio-net-pci,netdev=net0,romfile=/r.rom,disable-legacy=on,bootindex=1']);
    expect(() => buildQemuArgv({ ...base, nics: [{ ...nic, properties: { romfile: '/x' } }] })).toThrow(/^nics\[0\]\.properties\.romfile: /);
    expect(() => buildQemuArgv({ ...base, nics: [{ ...nic, properties: { 'a,b': 'x' } }] })).toThrow(VmSpecError);
  });

  it('adds disks as virtio drives, copy-on-write when asked, format always given', () => {
    const argv = buildQemuArgv({
      ...base,
      drives: [
        { path: '/img/os,1.img', format: 'raw', snapshot: true },
        { path: '/img/b.qcow2', format: 'qcow2' },
      ],
    });
    expect(pairs(argv, '-drive')).toEqual(['file=/img/os,,1.img,if=virtio,format=raw,snapshot=on', 'file=/img/b.qcow2,if=virtio,format=qcow2']);
    expect(() => buildQemuArgv({ ...base, drives: [{ path: '/a', format: 'vmdk' as never }] })).toThrow(/^drives\[0\]\.format: /);
    expect(() => buildQemuArgv({ ...base, drives: [{ path: '', format: 'raw' }] })).toThrow(/^drives\[0\]\.path: /);
  });

  it('adds kernel, initrd and append, and then does not force network boot', () => {
    const argv = buildQemuArgv({ ...base, kernel: { path: '/k/vmlinuz', initrd: '/k/initrd', append: 'console=ttyS0' } });
    expect(pairs(argv, '-kernel')).toEqual(['/k/vmlinuz']);
    expect(pairs(argv, '-initrd')).toEqual(['/k/initrd']);
    expect(pairs(argv, '-append')).toEqual(['console=ttyS0']);
    expect(argv).not.toContain('-boot');
  });

  it('gives a NIC no option ROM when asked (one iPXE ROM drives all NICs of its model)', () => {
    const argv = buildQemuArgv({ ...base, bootFromNetwork: false, nics: [{ model: 'rtl8139', noRom: true, netdev: { kind: 'socket', connect: '127.0.0.1:4000' } }] });
    expect(pairs(argv, '-device')).toEqual(['rtl8139,netdev=net0,romfile=']);
    expect(() => buildQemuArgv({ ...base, nics: [{ model: 'rtl8139', romfile: '/x.rom', noRom: true, netdev: { kind: 'user' } }] })).toThrow(/^nics\[0\]\.noRom: /);
  });

  it('builds socket netdevs', () => {
    const argv = buildQemuArgv({ ...base, nics: [{ model: 'e1000', netdev: { kind: 'socket', listen: '127.0.0.1:4000' } }] });
    expect(pairs(argv, '-netdev')).toEqual(['socket,id=net0,listen=127.0.0.1:4000']);
  });

  it.each<[string, Partial<VmSpec>, RegExp]>([
    ['memoryMiB', { memoryMiB: 4 }, /^memoryMiB: .*at least 16/],
    ['mac', { nics: [{ model: 'rtl8139', mac: '52-54', netdev: { kind: 'user' } }] }, /^nics\[0\]\.mac: .*52:54:00:12:34:56/],
    ['uefi', { firmware: 'uefi' }, /^uefi: /],
    ['hostPort', { nics: [{ model: 'e1000', netdev: { kind: 'user', hostForwards: [{ hostPort: 0, guestPort: 22 }] } }] }, /hostForwards\[0\]\.hostPort/],
    ['socket', { nics: [{ model: 'e1000', netdev: { kind: 'socket' } }] }, /^nics\[0\]\.netdev: /],
    ['accel', { accel: 'hvf' as never }, /^accel: .*'tcg'/],
  ])('rejects a bad %s with an error naming the field and the fix', (_, change, message) => {
    expect(() => buildQemuArgv({ ...base, ...change })).toThrow(VmSpecError);
    expect(() => buildQemuArgv({ ...base, ...change })).toThrow(message);
  });
});
