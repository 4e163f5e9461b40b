import { decodeIbft, isValid } from './decode';
import { formatSysfs } from './format';
import { loadFixture } from '../../test/support/fixtures';

describe('real fixture stock-ipxe-tgt (iPXE sanhook, Linux sysfs read back)', () => {
  const fx = loadFixture('stock-ipxe-tgt');

  it('decodes without problems', () => {
    const result = decodeIbft(fx.bin);
    expect(result.problems).toEqual([]);
    expect(isValid(result)).toBe(true);
    const t = result.table!;
    expect(t.header).toMatchObject({ signature: 'iBFT', length: 568, revision: 1, oemId: 'FENSYS', oemTableId: 'iPXE' });
    expect(t.initiator?.name?.value).toBe('iqn.2010-04.org.ipxe:foobar');
    expect(t.nics).toHaveLength(1);
    expect(t.nics[0]).toMatchObject({ mac: '52:54:00:12:34:56', prefixLength: 24, origin: 3, vlan: 0, pci: { bus: 0, device: 3, function: 0 } });
    expect(t.nics[0].ip.address).toBe('10.0.2.15');
    expect(t.targets).toHaveLength(1);
    expect(t.targets[0]).toMatchObject({ port: 3260, chapTypeName: 'none', nicAssociation: 0 });
    expect(t.targets[0].lun).toEqual({ hex: '0001000000000000', words: [1, 0, 0, 0], text: '0001-0000-0000-0000', number: 1 });
    expect(t.targets[0].name?.value).toBe('iqn.2003-01.org.example:lab');
  });

  it('formats to exactly the lines Linux showed under /sys/firmware/ibft', () => {
    const lines = formatSysfs(decodeIbft(fx.bin).table!);
    expect(new Set(lines)).toEqual(new Set(fx.sysfs));
    expect(lines).toHaveLength(fx.sysfs.length);
    expect(lines).toEqual([...fx.sysfs].sort());
  });
});
