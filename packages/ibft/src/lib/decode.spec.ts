import { decodeIbft, isValid } from './decode';
import { formatIscsiadm, formatJson, formatSysfs, formatTable, MASKED_SECRET } from './format';
import { encodeIbft, encodeIbftLayout, fixChecksum, patchU16, patchU8, type EncodeSpec } from '../../test/support/encode-ibft';
import { loadFixture } from '../../test/support/fixtures';

const INITIATOR = 'iqn.2010-04.org.ipxe:lab';
const TARGET = 'iqn.2003-01.org.example:lab';

function decodeValid(spec: EncodeSpec) {
  const result = decodeIbft(encodeIbft(spec));
  expect(result.problems).toEqual([]);
  expect(isValid(result)).toBe(true);
  return result.table!;
}

function errorPaths(bytes: Uint8Array): string[] {
  return decodeIbft(bytes)
    .problems.filter((p) => p.severity === 'error')
    .map((p) => p.path);
}

describe('decodeIbft on encoder-built tables', () => {
  it('the encoder reproduces the real fixture: same sysfs lines as Linux showed', () => {
    const fx = loadFixture('stock-ipxe-tgt');
    const table = decodeValid({
      initiator: { name: 'iqn.2010-04.org.ipxe:foobar' },
      nics: [{ ip: '10.0.2.15', prefix: 24, origin: 3, gateway: '10.0.2.2', dns: '10.0.2.3', dhcp: '10.0.2.2', mac: '52:54:00:12:34:56' }],
      targets: [{ ip: '10.0.2.2', port: 3260, lunWords: [1, 0, 0, 0], name: 'iqn.2003-01.org.example:lab' }],
    });
    expect(formatSysfs(table)).toEqual([...fx.sysfs].sort());
  });

  it('static IP (origin 1, no DHCP server): Linux hides dhcp, iscsiadm says STATIC', () => {
    const table = decodeValid({
      initiator: { name: INITIATOR },
      nics: [{ ip: '192.168.50.10', prefix: 24, origin: 1, gateway: '192.168.50.1', dns: '192.168.50.1' }],
      targets: [{ ip: '192.168.50.2', lunWords: [0, 0, 0, 0], name: TARGET }],
    });
    expect(table.nics[0]).toMatchObject({ origin: 1, originName: 'manual', prefixLength: 24, subnetMask: '255.255.255.0' });
    expect(table.nics[0].dhcp.unset).toBe(true);
    const lines = formatSysfs(table);
    expect(lines).toContain('ethernet0/origin=1');
    expect(lines).toContain('ethernet0/ip-addr=192.168.50.10');
    expect(lines).toContain('target0/lun=00000000');
    expect(lines.some((l) => l.startsWith('ethernet0/dhcp='))).toBe(false);
    expect(lines.some((l) => l.startsWith('ethernet0/secondary-dns='))).toBe(false);
    expect(formatIscsiadm(table)).toContain('iface.bootproto = STATIC\n');
  });

  it('hostname: decoded and shown as ethernet0/hostname', () => {
    const table = decodeValid({ initiator: { name: INITIATOR }, nics: [{ ip: '10.0.2.15', prefix: 24, hostname: 'lab-initiator' }], targets: [{ ip: '10.0.2.2', name: TARGET }] });
    expect(table.nics[0].hostname?.value).toBe('lab-initiator');
    expect(formatSysfs(table)).toContain('ethernet0/hostname=lab-initiator');
    expect(formatTable(table)).toContain('lab-initiator');
  });

  it('one-way CHAP: name shown, secret masked everywhere unless revealed', () => {
    const table = decodeValid({
      initiator: { name: INITIATOR },
      nics: [{ ip: '10.0.2.15', prefix: 24 }],
      targets: [{ ip: '10.0.2.2', name: TARGET, chapType: 1, chapName: 'labuser', chapSecret: 'supersecret123' }],
    });
    expect(table.targets[0]).toMatchObject({ chapType: 1, chapTypeName: 'chap' });
    expect(table.targets[0].chapName?.value).toBe('labuser');
    expect(table.targets[0].chapSecret?.value).toBe('supersecret123');
    const masked = formatSysfs(table);
    expect(masked).toContain('target0/chap-name=labuser');
    expect(masked).toContain(`target0/chap-secret=${MASKED_SECRET}`);
    expect(masked.some((l) => l.startsWith('target0/rev-chap-name'))).toBe(false);
    expect(formatSysfs(table, { revealSecrets: true })).toContain('target0/chap-secret=supersecret123');
    for (const text of [masked.join('\n'), formatJson(table), formatTable(table), formatIscsiadm(table)]) {
      expect(text).not.toContain('supersecret123');
    }
    expect(formatIscsiadm(table)).toContain(`node.session.auth.username = labuser\nnode.session.auth.password = ${MASKED_SECRET}\n`);
    expect(formatJson(table, { revealSecrets: true })).toContain('supersecret123');
    expect(formatIscsiadm(table, { revealSecrets: true })).toContain('node.session.auth.password = supersecret123');
  });

  it('mutual CHAP: reverse name and secret decoded, reverse secret masked', () => {
    const table = decodeValid({
      initiator: { name: INITIATOR },
      nics: [{ ip: '10.0.2.15', prefix: 24 }],
      targets: [{ ip: '10.0.2.2', name: TARGET, chapType: 2, chapName: 'labuser', chapSecret: 'supersecret123', reverseChapName: 'labtarget', reverseChapSecret: 'mutualsecret99' }],
    });
    expect(table.targets[0].chapTypeName).toBe('mutual');
    expect(table.targets[0].reverseChapSecret?.value).toBe('mutualsecret99');
    const lines = formatSysfs(table);
    expect(lines).toContain('target0/chap-type=2');
    expect(lines).toContain('target0/rev-chap-name=labtarget');
    expect(lines).toContain(`target0/rev-chap-name-secret=${MASKED_SECRET}`);
    const iscsiadm = formatIscsiadm(table);
    expect(iscsiadm).toContain('node.session.auth.username_in = labtarget\n');
    expect(iscsiadm).toContain(`node.session.auth.password_in = ${MASKED_SECRET}\n`);
    expect(formatJson(table) + formatTable(table)).not.toMatch(/mutualsecret99|supersecret123/);
  });

  it('CHAP type without credentials is a problem', () => {
    const bytes = encodeIbft({ initiator: { name: INITIATOR }, nics: [{}], targets: [{ ip: '10.0.2.2', name: TARGET, chapType: 2, chapName: 'u', chapSecret: 's' }] });
    expect(errorPaths(bytes)).toEqual(['target[0].reverseChapName', 'target[0].reverseChapSecret']);
  });

  it('two targets over two NICs (multipath): both kobjects, one iscsiadm record each', () => {
    const table = decodeValid({
      initiator: { name: INITIATOR },
      nics: [
        { ip: '10.0.2.15', prefix: 24, mac: '52:54:00:12:34:56', pci: 0x18 },
        { ip: '10.0.3.15', prefix: 24, mac: '52:54:00:12:34:57', pci: 0x20 },
      ],
      targets: [
        { ip: '10.0.2.2', name: TARGET, lunWords: [1, 0, 0, 0], nicAssociation: 0 },
        { ip: '10.0.3.2', name: TARGET, lunWords: [1, 0, 0, 0], nicAssociation: 1, flags: 1 },
      ],
    });
    expect(table.nics.map((n) => n.pci.device)).toEqual([3, 4]);
    expect(table.targets.map((t) => t.slot)).toEqual([0, 1]);
    const lines = formatSysfs(table);
    expect(lines).toEqual(expect.arrayContaining(['ethernet1/ip-addr=10.0.3.15', 'ethernet1/mac=52:54:00:12:34:57', 'target1/ip-addr=10.0.3.2', 'target1/nic-assoc=1', 'target1/flags=1']));
    const records = formatIscsiadm(table).split('# END RECORD\n').filter(Boolean);
    expect(records).toHaveLength(2);
    expect(records[1]).toContain('iface.hwaddress = 52:54:00:12:34:57\n');
    expect(records[1]).toContain('node.conn[0].address = 10.0.3.2\n');
  });

  it('VLAN: decoded and shown decimal', () => {
    const table = decodeValid({ initiator: { name: INITIATOR }, nics: [{ ip: '10.0.2.15', prefix: 24, vlan: 100 }], targets: [{ ip: '10.0.2.2', name: TARGET }] });
    expect(table.nics[0].vlan).toBe(100);
    expect(formatSysfs(table)).toContain('ethernet0/vlan=100');
    expect(formatIscsiadm(table)).toContain('iface.vlan_id = 100\n');
  });

  it('IPv6: decoded as IPv6, Linux prints %pI6 (uncompressed) and its mask quirk', () => {
    const table = decodeValid({
      initiator: { name: INITIATOR },
      nics: [{ ip: 'fd00::5054:ff:fe12:3456', prefix: 64, origin: 4, gateway: 'fd00::1', dns: 'fd00::3' }],
      targets: [{ ip: 'fd00::2', name: TARGET }],
    });
    expect(table.nics[0].ip).toEqual({ family: 'ipv6', address: 'fd00::5054:ff:fe12:3456', unset: false });
    expect(table.targets[0].ip.address).toBe('fd00::2');
    const lines = formatSysfs(table);
    expect(lines).toContain('ethernet0/ip-addr=fd00:0000:0000:0000:5054:00ff:fe12:3456');
    expect(lines).toContain('ethernet0/prefix-len=64');
    // Linux computes ~((1 << (32 - 64)) - 1); the shift count wraps mod 32 on x86.
    expect(lines).toContain('ethernet0/subnet-mask=255.255.255.255');
    expect(lines).toContain('target0/ip-addr=fd00:0000:0000:0000:0000:0000:0000:0002');
    expect(formatTable(table)).toContain('[fd00::2]:3260');
  });

  it('an unset target address still shows, as Linux does (0.0.0.0 when IPv4-mapped)', () => {
    const table = decodeValid({ initiator: { name: INITIATOR }, nics: [{}], targets: [{ ip: '0.0.0.0', name: TARGET }] });
    expect(formatSysfs(table)).toContain('target0/ip-addr=0.0.0.0');
    expect(formatSysfs(table).some((l) => l.startsWith('ethernet0/ip-addr'))).toBe(false);
  });
});

describe('decodeIbft on broken tables: problems, never exceptions', () => {
  const good = () => encodeIbftLayout({ initiator: { name: INITIATOR }, nics: [{ ip: '10.0.2.15', prefix: 24 }], targets: [{ ip: '10.0.2.2', name: TARGET }] });

  it('bad checksum: an error on header.checksum, and Linux would show nothing', () => {
    const bytes = good().bytes;
    bytes[9] ^= 0x01;
    expect(errorPaths(bytes)).toEqual(['header.checksum']);
    const result = decodeIbft(bytes);
    expect(result.table?.targets).toHaveLength(1);
    expect(formatSysfs(result.table!)).toEqual([]);
  });

  it('truncated: the header length runs past the bytes given', () => {
    const bytes = good().bytes;
    for (const cut of [0, 10, 35, 36, 60, 100, bytes.length - 1]) {
      const result = decodeIbft(bytes.subarray(0, cut));
      expect(isValid(result)).toBe(false);
      expect(result.problems[0].path).toBe('header' + (cut >= 36 ? '.length' : ''));
    }
  });

  it('structure offset outside the table', () => {
    const { bytes } = good();
    patchU16(bytes, 0x3c, bytes.length + 8); // target0 offset
    expect(errorPaths(bytes)).toEqual(['control.targetOffsets[0]']);
    expect(decodeIbft(bytes).table!.targets).toEqual([]);
  });

  it('structure offset pointing into the header', () => {
    const { bytes } = good();
    patchU16(bytes, 0x3a, 0x10);
    expect(errorPaths(bytes)).toContain('control.nicOffsets[0]');
  });

  it('string offset outside the table', () => {
    const { bytes, targetOffsets } = good();
    patchU16(bytes, targetOffsets[0] + 36, 0xfff0);
    expect(errorPaths(bytes)).toEqual(['target[0].name']);
  });

  it('string not NUL-terminated', () => {
    const { bytes, initiatorOffset } = good();
    const nameOff = new DataView(bytes.buffer).getUint16(initiatorOffset + 72, true);
    const nameLen = new DataView(bytes.buffer).getUint16(initiatorOffset + 70, true);
    patchU8(bytes, nameOff + nameLen, 0x41);
    expect(errorPaths(bytes)).toEqual(['initiator.name']);
  });

  it('wrong structure id, version and length', () => {
    const { bytes, nicOffsets, targetOffsets } = good();
    bytes[nicOffsets[0]] = 4;
    bytes[nicOffsets[0] + 1] = 2;
    new DataView(bytes.buffer).setUint16(targetOffsets[0] + 2, 60, true);
    fixChecksum(bytes);
    // The NIC slot points at a structure with id 4: Linux takes it for a target (by its id), whose length
    // (the NIC's 102) is then wrong too.
    expect(errorPaths(bytes)).toEqual(['nic[0].header.id', 'nic[0].header.version', 'nic[0].header.length', 'target[0].header.length']);
    expect(decodeIbft(bytes).table!.targets.map((t) => [t.slot, t.via])).toEqual([
      [0, 'nic'],
      [0, undefined],
    ]);
    // Linux registers neither structure.
    const lines = formatSysfs(decodeIbft(bytes).table!);
    expect(lines.some((l) => /^(ethernet|target)/.test(l))).toBe(false);
  });

  it('revision other than 1 and a foreign signature', () => {
    const { bytes } = good();
    bytes[8] = 2;
    bytes.set([0x58, 0x58, 0x58, 0x58], 0);
    fixChecksum(bytes);
    expect(errorPaths(bytes)).toEqual(['header.signature', 'header.revision']);
  });

  it('control structure with a non-zero index', () => {
    const { bytes } = good();
    patchU8(bytes, 0x34, 1);
    expect(errorPaths(bytes)).toEqual(['control.header.index']);
  });

  it('non-Uint8Array input', () => {
    expect(decodeIbft('nope' as unknown as Uint8Array).problems[0].message).toMatch(/byte array/);
  });
});
