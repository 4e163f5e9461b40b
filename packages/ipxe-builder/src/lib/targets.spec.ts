import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../testing/fixtures';
import { makeTargetFor, qemuDeviceFor, stockRomFor } from './targets';

describe('makeTargetFor', () => {
  it.each([
    [{ nic: 'rtl8139' }, 'bin/rtl8139.rom'],
    [{ nic: 'virtio-net', platform: 'bios', format: 'rom' }, 'bin/1af41000.rom'],
    [{ nic: 'e1000' }, 'bin/8086100e.rom'],
    [{ nic: 'e1000e' }, 'bin/808610d3.rom'],
    [{ nic: 'rtl8139', format: 'lkrn' }, 'bin/ipxe.lkrn'],
    [{ format: 'iso' }, 'bin/ipxe.iso'],
    [{ platform: 'uefi' }, 'bin-x86_64-efi/ipxe.efi'],
    [{ nic: 'virtio-net', platform: 'uefi', format: 'rom' }, 'bin-x86_64-efi/1af41000.efirom'],
    [{ nic: 'rtl8139', makeTarget: 'bin-x86_64-efi/snponly.efi' }, 'bin-x86_64-efi/snponly.efi'],
  ] as const)('%j → %s', (spec, target) => {
    expect(makeTargetFor(spec)).toBe(target);
  });

  it('names the nic field and the escape hatch for an unknown NIC', () => {
    expect(() => makeTargetFor({ nic: 'tulip' })).toThrow(/nic "tulip".*set makeTarget/);
  });
  it('asks for a nic when a ROM needs one', () => {
    expect(() => makeTargetFor({ format: 'rom' })).toThrow(/nic is required/);
  });
  it('rejects format/platform mismatches', () => {
    expect(() => makeTargetFor({ platform: 'bios', format: 'efi' })).toThrow(/needs platform "uefi"/);
    expect(() => makeTargetFor({ platform: 'uefi', format: 'lkrn' })).toThrow(/not built for platform "uefi"/);
  });
  it('rejects make targets that are not iPXE output paths', () => {
    for (const bad of ['clean', '../x.rom', 'bin/../../etc', 'bin/a b.rom', '-j99']) {
      expect(() => makeTargetFor({ makeTarget: bad })).toThrow(/makeTarget/);
    }
  });
});

describe('qemuDeviceFor', () => {
  it('maps virtio-net to virtio-net-pci', () => expect(qemuDeviceFor('virtio-net')).toBe('virtio-net-pci'));
});

describe('stockRomFor', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  beforeAll(() => {
    mkdirSync(join(dir.path, 'q'));
    writeFileSync(join(dir.path, 'q', 'pxe-virtio.rom'), 'x');
    writeFileSync(join(dir.path, 'q', 'efi-virtio.rom'), 'x');
  });
  it('picks pxe-<nic>.rom for BIOS and efi-<nic>.rom for UEFI', () => {
    expect(stockRomFor('virtio-net', 'bios', join(dir.path, 'q'))).toBe(join(dir.path, 'q', 'pxe-virtio.rom'));
    expect(stockRomFor('virtio-net', 'uefi', join(dir.path, 'q'))).toBe(join(dir.path, 'q', 'efi-virtio.rom'));
  });
  it('names the nic and lists what exists when the ROM is missing', () => {
    expect(() => stockRomFor('e1000', 'bios', join(dir.path, 'q'))).toThrow(/nic "e1000".*pxe-virtio.rom/);
  });
  it('finds the real ipxe-qemu ROMs on this machine', () => {
    expect(stockRomFor('rtl8139')).toBe('/usr/lib/ipxe/qemu/pxe-rtl8139.rom');
    expect(stockRomFor('e1000e', 'uefi')).toBe('/usr/lib/ipxe/qemu/efi-e1000e.rom');
  });
});
