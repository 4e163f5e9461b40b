// `iscsiadm -m fw` as open-iscsi 2.1.8's source prints it (usr/fwparam_ibft/fw_entry.c fw_print_entry,
// fwparam_sysfs.c get_targets/fill_*_context, usr/sysfs.c sysfs_get_str/int). The expected texts below
// are written from that code, line by line; the comparison with the real binary in a guest uses
// predictIscsiadmFw + compareIscsiadmFw.
import { decodeIbft } from '../decode';
import { compareIscsiadmFw, formatIscsiadm, predictIscsiadmFw } from './iscsiadm';
import { MASKED_SECRET } from './options';
import { encodeIbft, encodeIbftLayout, fixChecksum, patchU8, type EncodeSpec } from '../../../test/support/encode-ibft';
import { loadFixture } from '../../../test/support/fixtures';

const INITIATOR = 'iqn.2010-04.org.ipxe:lab';
const TARGET = 'iqn.2003-01.org.example:lab';
const table = (spec: EncodeSpec) => decodeIbft(encodeIbft(spec)).table!;
const one = (nic: EncodeSpec['nics'] extends (infer N)[] | undefined ? N : never = {}, target: NonNullable<EncodeSpec['targets']>[number] = {}): EncodeSpec => ({
  initiator: { name: INITIATOR },
  nics: [{ ip: '10.0.2.15', prefix: 24, origin: 1, mac: '52:54:00:12:34:56', ...nic }],
  targets: [{ ip: '10.0.2.2', name: TARGET, lunWords: [1, 0, 0, 0], ...target }],
});
const lines = (text: string) => text.split('\n').filter(Boolean);

describe('predictIscsiadmFw / formatIscsiadm: open-iscsi 2.1.8 iscsiadm -m fw', () => {
  it('the real fixture: every field in fw_print_entry order', () => {
    const t = decodeIbft(loadFixture('stock-ipxe-tgt').bin).table!;
    expect(formatIscsiadm(t)).toBe(
      [
        '# BEGIN RECORD 2.1.8',
        'iface.initiatorname = iqn.2010-04.org.ipxe:foobar',
        'iface.transport_name = tcp',
        'iface.hwaddress = 52:54:00:12:34:56',
        'iface.bootproto = DHCP',
        'iface.ipaddress = 10.0.2.15',
        'iface.prefix_len = 24',
        'iface.subnet_mask = 255.255.255.0',
        'iface.gateway = 10.0.2.2',
        'iface.primary_dns = 10.0.2.3',
        'iface.vlan_id = 0',
        'node.name = iqn.2003-01.org.example:lab',
        'node.conn[0].address = 10.0.2.2',
        'node.conn[0].port = 3260',
        'node.boot_lun = 01000000',
        '# END RECORD',
        '',
      ].join('\n'),
    );
    expect(predictIscsiadmFw(t)).toMatchObject({ exitCode: 0, stderr: '', uncertain: [] });
    expect(formatIscsiadm(t, { version: '2.1.11' })).toMatch(/^# BEGIN RECORD 2\.1\.11\n/);
  });

  it('bootproto is DHCP whenever origin is 3, even with a zero DHCP-server field; STATIC otherwise', () => {
    expect(formatIscsiadm(table(one({ origin: 3 })))).toContain('iface.bootproto = DHCP\n');
    expect(formatIscsiadm(table(one({ origin: 1 })))).toContain('iface.bootproto = STATIC\n');
    expect(formatIscsiadm(table(one({ origin: 1, dhcp: '10.0.2.2' })))).toContain('iface.bootproto = DHCP\n');
  });

  it('a NIC with prefix 0: no prefix-len file, sysfs_get_int leaves -1, and dump_network prints it', () => {
    const text = formatIscsiadm(table(one({ prefix: 0 })));
    expect(text).toContain('iface.ipaddress = 10.0.2.15\niface.prefix_len = -1\niface.vlan_id = 0\n');
    expect(text).not.toContain('iface.subnet_mask');
  });

  it('static IPv4 with secondary DNS and VLAN, every iface line in order', () => {
    const text = formatIscsiadm(table(one({ gateway: '10.0.2.1', dns: '10.0.2.3', secondaryDns: '10.0.2.4', vlan: 100 })));
    expect(lines(text).slice(0, 12)).toEqual([
      '# BEGIN RECORD 2.1.8',
      `iface.initiatorname = ${INITIATOR}`,
      'iface.transport_name = tcp',
      'iface.hwaddress = 52:54:00:12:34:56',
      'iface.bootproto = STATIC',
      'iface.ipaddress = 10.0.2.15',
      'iface.prefix_len = 24',
      'iface.subnet_mask = 255.255.255.0',
      'iface.gateway = 10.0.2.1',
      'iface.primary_dns = 10.0.2.3',
      'iface.secondary_dns = 10.0.2.4',
      'iface.vlan_id = 100',
    ]);
  });

  it('IPv6: addresses as Linux prints them (%pI6, uncompressed)', () => {
    const text = formatIscsiadm(table(one({ ip: 'fd00::15', prefix: 64, origin: 4 }, { ip: 'fd00::2' })));
    expect(text).toContain('iface.ipaddress = fd00:0000:0000:0000:0000:0000:0000:0015\niface.prefix_len = 64\niface.subnet_mask = 255.255.255.255\n');
    expect(text).toContain('node.conn[0].address = fd00:0000:0000:0000:0000:0000:0000:0002\n');
  });

  it('mutual CHAP: username, password, username_in, password_in before boot_lun; secrets masked unless revealed', () => {
    const t = table(one({}, { chapType: 2, chapName: 'u1', chapSecret: 'secret-one-1', reverseChapName: 'u2', reverseChapSecret: 'secret-two-2' }));
    const tail = [
      `node.name = ${TARGET}`,
      'node.conn[0].address = 10.0.2.2',
      'node.conn[0].port = 3260',
      'node.session.auth.username = u1',
      `node.session.auth.password = ${MASKED_SECRET}`,
      'node.session.auth.username_in = u2',
      `node.session.auth.password_in = ${MASKED_SECRET}`,
      'node.boot_lun = 01000000',
      '# END RECORD',
    ];
    expect(lines(formatIscsiadm(t)).slice(-9)).toEqual(tail);
    expect(formatIscsiadm(t)).not.toMatch(/secret-(one|two)/);
    expect(formatIscsiadm(t, { revealSecrets: true })).toContain('node.session.auth.password = secret-one-1\nnode.session.auth.username_in = u2\nnode.session.auth.password_in = secret-two-2\n');
  });

  it('iface.net_ifacename: only when the NIC has an interface; null (no netdev) skips the target', () => {
    expect(formatIscsiadm(table(one()), { netIfaceName: 'ens3' })).toContain('iface.vlan_id = 0\niface.net_ifacename = ens3\nnode.name');
    expect(formatIscsiadm(table(one()))).not.toContain('net_ifacename');
    const r = predictIscsiadmFw(table(one()), { netIfaceName: () => null });
    expect(r.exitCode).toBe(21);
  });

  it('a nic-assoc to a missing NIC: "Invalid nic-assoc" on stdout, and with no other target exit 21', () => {
    const r = predictIscsiadmFw(table(one({}, { nicAssociation: 5 })));
    expect(r.exitCode).toBe(21);
    expect(r.stdout.toString()).toBe('Invalid nic-assoc of 5. Max id 1.\n');
    expect(r.stderr).toBe('iscsiadm: Could not get list of targets from firmware. (err 21)\n');
    expect(r.records).toEqual([]);
  });

  it('a nic-assoc to a missing NIC skips only that target; the others print (exit 0)', () => {
    const spec = one();
    spec.targets!.push({ ip: '10.0.2.3', name: `${TARGET}2`, nicAssociation: 7 });
    const r = predictIscsiadmFw(table(spec));
    expect(r.exitCode).toBe(0);
    expect(r.records.map((x) => x.target)).toEqual(['target0']);
    expect(r.stdout.toString()).toMatch(/^Invalid nic-assoc of 7\. Max id 1\.\n# BEGIN RECORD 2\.1\.8\n/);
  });

  it('targets open-iscsi skips: flags 0, no target name, a NIC with flags 0', () => {
    expect(predictIscsiadmFw(table(one({}, { flags: 0 }))).exitCode).toBe(21);
    expect(predictIscsiadmFw(table(one({}, { name: undefined }))).exitCode).toBe(21);
    expect(predictIscsiadmFw(table(one({ flags: 0 }))).exitCode).toBe(21);
    // Only the boot-selected bit is enough ("some firmware only sets Bit 1").
    expect(predictIscsiadmFw(table(one({ flags: 2 }, { flags: 2 }))).exitCode).toBe(0);
    // A value starting "(null)" reads as absent (sysfs_get_value).
    expect(predictIscsiadmFw(table(one({}, { name: '(null)-target' }))).exitCode).toBe(21);
  });

  it('no initiator kobject, or a table Linux refuses: exit 21 with nothing on stdout', () => {
    expect(predictIscsiadmFw(table({ ...one(), initiator: null }))).toMatchObject({ exitCode: 21, records: [] });
    const { bytes } = encodeIbftLayout(one());
    bytes[9] ^= 1;
    const broken = predictIscsiadmFw(decodeIbft(bytes).table!);
    expect(broken.exitCode).toBe(21);
    expect(broken.stdout.length).toBe(0);
  });

  it('records come in readdir order of /sys/firmware/ibft (kernfs hash): target2, target0, target3, target1', () => {
    const spec: EncodeSpec = {
      initiator: { name: INITIATOR },
      nics: [{ ip: '10.0.2.15', prefix: 24 }],
      targets: [0, 1, 2, 3].map((i) => ({ ip: `10.0.2.${10 + i}`, name: `${TARGET}${i}` })),
    };
    const r = predictIscsiadmFw(table(spec));
    expect(r.records.map((x) => x.target)).toEqual(['target2', 'target0', 'target3', 'target1']);
    expect(lines(r.stdout.toString()).filter((l) => l.startsWith('node.conn[0].address'))).toEqual([
      'node.conn[0].address = 10.0.2.12',
      'node.conn[0].address = 10.0.2.10',
      'node.conn[0].address = 10.0.2.13',
      'node.conn[0].address = 10.0.2.11',
    ]);
  });

  it('raw bytes reach stdout as they are', () => {
    const { bytes, targetOffsets } = encodeIbftLayout(one());
    const off = new DataView(bytes.buffer).getUint16(targetOffsets[0] + 36, true);
    patchU8(bytes, off + 4, 0xff);
    fixChecksum(bytes);
    const out = predictIscsiadmFw(decodeIbft(bytes).table!).stdout;
    expect(out.includes(Buffer.from(`node.name = iqn.\xff003-01`, 'latin1'))).toBe(true);
  });

  it('a value of 256 bytes or more is flagged uncertain (open-iscsi overruns its read buffer)', () => {
    const r = predictIscsiadmFw(table(one({}, { name: `iqn.2003-01.org.example:${'x'.repeat(300)}` })));
    expect(r.uncertain).toEqual([expect.stringMatching(/^target0\/target-name: 325 bytes/)]);
  });
});

describe('compareIscsiadmFw', () => {
  const t = table(one({}, { chapType: 1, chapName: 'u1', chapSecret: 'secret-one-1' }));
  const predicted = predictIscsiadmFw(t, { revealSecrets: true });

  it('agrees with identical output', () => {
    expect(compareIscsiadmFw(predicted, { exitCode: 0, stdout: predicted.stdout.toString() })).toEqual([]);
  });

  it('names differing lines and the exit code, never the secrets', () => {
    const actual = predicted.stdout.toString().replace('secret-one-1', 'other-secret').replace('port = 3260', 'port = 3261');
    const diffs = compareIscsiadmFw(predicted, { exitCode: 21, stdout: actual });
    expect(diffs).toEqual([
      { line: 0, expected: 'exit 0', actual: 'exit 21' },
      { line: 12, expected: 'node.conn[0].port = 3260', actual: 'node.conn[0].port = 3261' },
      { line: 14, expected: `node.session.auth.password = ${MASKED_SECRET}`, actual: `node.session.auth.password = ${MASKED_SECRET}` },
    ]);
    expect(JSON.stringify(diffs)).not.toMatch(/secret-one|other-secret/);
  });
});
