import { decodeIbft, isValid } from './decode';
import { compareIbft, SECRET_DIFFERS } from './compare';
import { formatIscsiadm, formatJson, formatSysfs, formatTable, MASKED_SECRET } from './format';
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

describe('real fixture stock-ipxe-tgt-mutual-chap (iPXE sanhook with two paths, mutual CHAP)', () => {
  const fx = loadFixture('stock-ipxe-tgt-mutual-chap');
  const result = decodeIbft(fx.bin);

  it('decodes without problems and matches the lab configuration', () => {
    expect(result.problems).toEqual([]);
    expect(compareIbft(fx.expected!, result.table!)).toEqual([]);
    expect(result.table!.targets.map((t) => [t.slot, t.header.index, t.lun.number, t.chapTypeName])).toEqual([
      [0, 0, 1, 'mutual'],
      [1, 1, 2, 'mutual'],
    ]);
  });

  it('formats both targets with CHAP lines, secrets masked by default', () => {
    const lines = formatSysfs(result.table!);
    expect(lines).toEqual(
      expect.arrayContaining([
        'target0/chap-type=2',
        'target0/chap-name=labinitiator',
        `target0/chap-secret=${MASKED_SECRET}`,
        'target0/rev-chap-name=labtarget',
        `target1/rev-chap-name-secret=${MASKED_SECRET}`,
        'target1/lun=02000000',
        'target1/index=1',
      ]),
    );
    const secrets = [fx.expected!.targets![0].chapSecret!, fx.expected!.targets![0].reverseChapSecret!];
    const text = [lines.join('\n'), formatJson(result.table!), formatTable(result.table!), formatIscsiadm(result.table!)].join('\n');
    for (const s of secrets) expect(text).not.toContain(s);
    expect(formatSysfs(result.table!, { revealSecrets: true })).toContain(`target0/chap-secret=${secrets[0]}`);
  });

  it('wrong secrets are reported without their values', () => {
    const expected = { targets: [{ chapSecret: 'not-the-secret', reverseChapSecret: fx.expected!.targets![0].reverseChapSecret }] };
    const mismatches = compareIbft(expected, result.table!);
    expect(mismatches).toEqual([{ path: 'target[0].chapSecret', expected: SECRET_DIFFERS, actual: SECRET_DIFFERS }]);
  });
});
