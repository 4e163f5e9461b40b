// The consumer parsers and comparison on what the real tools printed in the
// consumer probe (fixtures/, captured by test/consumers.spec.ts with
// IBFT_LAB_CAPTURE): stock iPXE + tgt with DHCP, with a static address and
// mutual CHAP, and tables replayed with QEMU -acpitable. The captured serial
// logs are as boot-vm writes them, secrets masked; the tests put back the
// guest's salted hashes of the (throwaway) lab secrets where the masks are.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeIbft, MASKED_SECRET, SECRET_DIFFERS, type IbftExpectation, type IbftTable } from '@ibft-lab/ibft';
import { consumerPlan } from '../boot/boot-lab';
import { withAcpiChecksum } from '../boot/replay-table';
import { parseProbeOutput, saltedSecretHash } from '../probe';
import { consumerMatrix, formatConsumerMatrix } from '../report/consumer-matrix';
import {
  CONSUMERS,
  dracutReading,
  expandConsumers,
  expectedFields,
  hostConsumerFields,
  kernelFields,
  maskedOutput,
  netmaskPrefix,
  networkManagerReading,
  openIscsiReading,
  originMethod,
  parseConsumerSections,
  placeReading,
  readConsumers,
  sysfsLunText,
  type ConsumerName,
} from '.';

const SALT = 'fixture-salt';
const CHAP = { username: 'labuser', password: 'Secr3tChapPw16' };
const MUTUAL = { username: 'labtarget', password: 'MutualSecret99' };

function fixture(name: string): { serial: string; table: IbftTable } {
  const dir = join(__dirname, 'fixtures', name);
  const table = decodeIbft(withAcpiChecksum(readFileSync(join(dir, 'ibft.bin')))).table;
  if (!table) throw new Error(`${name}: no table`);
  return { serial: readFileSync(join(dir, 'serial.log'), 'utf8'), table };
}

/** The serial log as the guest printed it: each masked secret back as sha256(salt + secret). */
function unmasked(serial: string, secrets: { chap: string; mutual?: string }): string {
  const hash = (secret: string) => saltedSecretHash(SALT, secret);
  return serial
    .replace(/(target\d+\/chap-secret=)\*{8}/g, (_, k: string) => `${k}${hash(secrets.chap)}`)
    .replace(/(target\d+\/rev-chap-name-secret=)\*{8}/g, (_, k: string) => `${k}${hash(secrets.mutual ?? '')}`)
    .replace(/(node\.session\.auth\.password = )\*{8}/g, (_, k: string) => `${k}${hash(secrets.chap)}`)
    .replace(/(node\.session\.auth\.password_in = )\*{8}/g, (_, k: string) => `${k}${hash(secrets.mutual ?? '')}`);
}

/** The table with its (zeroed in ibft.bin) secrets back, as the guest saw it. */
function withSecrets(table: IbftTable, chap: string, mutual: string): IbftTable {
  const copy = structuredClone(table);
  for (const t of copy.targets) {
    if (t.chapSecret) t.chapSecret = { ...t.chapSecret, value: chap, hex: undefined };
    if (t.reverseChapSecret) t.reverseChapSecret = { ...t.reverseChapSecret, value: mutual, hex: undefined };
  }
  return copy;
}

function port(table: IbftTable): number {
  return table.targets[0].port;
}

const ALL = new Set<ConsumerName>(CONSUMERS);

describe('field model', () => {
  it('LUNs as Linux and open-iscsi print them, masks, origins', () => {
    expect(sysfsLunText(0)).toBe('00000000');
    expect(sysfsLunText(1)).toBe('01000000');
    expect(sysfsLunText(300)).toBe('12c000000');
    expect(sysfsLunText('0001-0000-0000-0000')).toBe('01000000');
    expect(sysfsLunText('zz')).toBeNull();
    expect(netmaskPrefix('255.255.255.0')).toBe(24);
    expect(netmaskPrefix('255.255.255.255')).toBe(32);
    expect(netmaskPrefix('0.0.0.0')).toBe(0);
    expect(netmaskPrefix('255.0.255.0')).toBeNull();
    expect([1, 3, 4, 0, 'manual', 'dhcp', '3'].map(originMethod)).toEqual(['static', 'dhcp', 'autoconf', 'origin 0', 'static', 'dhcp', 'dhcp']);
  });

  it("the lab's declaration: secrets as the guest's salted hash of the same secret, LUN in sysfs form", () => {
    const fields = expectedFields({ nics: [{ origin: 'manual', mac: '52-54-00-AA-00-01' }], targets: [{ lun: 2, chapSecret: CHAP.password }] }, SALT);
    expect(fields).toEqual({ 'nic[0].method': 'static', 'nic[0].mac': '52:54:00:aa:00:01', 'target[0].lun': '02000000', 'target[0].chapSecret': saltedSecretHash(SALT, CHAP.password) });
  });

  it('open-iscsi names go by MAC and by target name and LUN, whatever order the tool prints them in', () => {
    const reference = { 'nic[0].mac': 'aa', 'nic[1].mac': 'bb', 'target[0].name': 't', 'target[0].lun': '0', 'target[1].name': 't', 'target[1].lun': '1' };
    const placed = placeReading({ nics: [{ mac: 'bb', ip: '2' }, { mac: 'aa', ip: '1' }], targets: [{ name: 't', lun: '1', nicMac: 'bb' }, { name: 't', lun: '0', nicMac: 'aa' }], notes: [] }, reference);
    expect(placed).toEqual({
      'nic[1].mac': 'bb',
      'nic[1].ip': '2',
      'nic[0].mac': 'aa',
      'nic[0].ip': '1',
      'target[1].name': 't',
      'target[1].lun': '1',
      'target[1].nic': 1,
      'target[0].name': 't',
      'target[0].lun': '0',
      'target[0].nic': 0,
    });
  });

  it('consumer names: open-iscsi stands for iscsiadm and iscsistart; the default requires all; skip leaves the others out', () => {
    expect(expandConsumers(['open-iscsi', 'kernel'])).toEqual(['kernel', 'iscsiadm', 'iscsistart']);
    expect([...consumerPlan({}).required]).toEqual([...CONSUMERS]);
    expect(consumerPlan({ consumers: ['kernel'] }).ran).toEqual([...CONSUMERS]);
    expect(consumerPlan({ consumers: ['kernel'], otherConsumers: 'skip' }).ran).toEqual(['kernel']);
    expect(consumerPlan({ consumers: ['dracut'], otherConsumers: 'skip' }).ran).toEqual(['kernel', 'dracut']);
  });
});

describe('stock iPXE, DHCP (fixtures/ipxe-dhcp)', () => {
  const { serial, table } = fixture('ipxe-dhcp');
  const sections = parseConsumerSections(serial);
  const lab: IbftExpectation = {
    initiator: { name: 'iqn.2010-04.org.ipxe:ibft-lab-test' },
    nics: [{ ip: '10.0.2.15', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3', origin: 'dhcp', mac: '52:54:00:12:34:56' }],
    targets: [{ ip: '10.0.2.2', port: port(table), lun: 1, name: 'iqn.2003-01.org.example:lab', chapType: 'none' }],
  };

  it('every tool has a complete section with its exit status', () => {
    expect([...sections.keys()]).toEqual(['dracut', 'networkmanager', 'setup', 'iscsiadm', 'iscsistart']);
    for (const [name, section] of sections) expect({ name, complete: section.complete }).toEqual({ name, complete: true });
    expect(['dracut', 'networkmanager', 'iscsiadm', 'iscsistart'].map((n) => sections.get(n)?.exitCode)).toEqual([0, 0, 0, 0]);
    expect(sections.get('setup')?.out).toEqual(['ethernet0 mac=52:54:00:12:34:56 device=yes interface=dummy:fwnic0']);
    expect(sections.get('dracut')?.files.get('/etc/cmdline.d/40-ibft.conf')).toEqual(['ip=ibft0:dhcp']);
  });

  it("the kernel's lines and the host decode are one reading", () => {
    expect(kernelFields(parseProbeOutput(serial))).toEqual(hostConsumerFields(table, SALT));
  });

  it('iscsiadm: DHCP for origin 3, the interface of the MAC, LUN as sysfs prints it', () => {
    const s = sections.get('iscsiadm')!;
    const reading = openIscsiReading(s.out, s.exitCode);
    expect(reading.initiatorName).toBe('iqn.2010-04.org.ipxe:ibft-lab-test');
    expect(reading.nics).toEqual([{ mac: '52:54:00:12:34:56', method: 'dhcp', ip: '10.0.2.15', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3', secondaryDns: null, vlan: 0 }]);
    expect(reading.targets[0]).toMatchObject({ name: 'iqn.2003-01.org.example:lab', ip: '10.0.2.2', port: port(table), lun: '01000000', nicMac: '52:54:00:12:34:56', chapName: null });
    expect(s.out).toContain('iface.net_ifacename = fwnic0');
  });

  it('dracut: ip=ibft0:dhcp, so it takes no address from the table; the MAC from ifname=', () => {
    const reading = dracutReading(sections.get('dracut')!);
    expect(reading.initiatorName).toBe('iqn.2010-04.org.ipxe:ibft-lab-test');
    expect(reading.nics).toEqual([{ mac: '52:54:00:12:34:56', method: 'dhcp', vlan: 0 }]);
    // The probe runs no udev, which would rename the NIC to ibft0: not a finding.
    expect(reading.notes).toEqual(["dracut Warning: Network interface 'ibft0' does not exist"]);
  });

  it('NetworkManager: ipv4.method=auto with the table address kept as address1', () => {
    const s = sections.get('networkmanager')!;
    const reading = networkManagerReading(s.out, s.exitCode);
    expect(reading.initiatorName).toBeUndefined();
    expect(reading.nics).toEqual([{ mac: '52:54:00:12:34:56', method: 'dhcp', ip: '10.0.2.15', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3', secondaryDns: null, vlan: 0 }]);
  });

  it('every consumer agrees with the lab and the table, iscsiadm with its prediction too', () => {
    const results = readConsumers({ serialText: serial, table, expectations: lab, salt: SALT, linuxLines: parseProbeOutput(serial), required: ALL });
    expect(results.map((r) => [r.name, r.agrees, r.mismatches])).toEqual(CONSUMERS.map((n) => [n, true, []]));
    expect(results.find((r) => r.name === 'dracut')?.notes).toEqual([]);
    expect(formatConsumerMatrix(results)).toEqual([
      '  field                  kernel  iscsiadm  iscsistart  dracut  NetworkManager',
      '  initiator.name           ✓        ✓          ✓         ✓           –',
      '  nic[0].mac               ✓        ✓          ✓         ✓           ✓',
      '  nic[0].method            ✓        ✓          ✓         ✓           ✓',
      '  nic[0].ip                ✓        ✓          ✓         –           ✓',
      '  nic[0].prefix            ✓        ✓          ✓         –           ✓',
      '  nic[0].gateway           ✓        ✓          ✓         –           ✓',
      '  nic[0].dns               ✓        ✓          ✓         –           ✓',
      '  nic[0].vlan              ✓        ✓          ✓         ✓           ✓',
      '  target[0].name           ✓        ✓          ✓         –           –',
      '  target[0].ip             ✓        ✓          ✓         –           –',
      '  target[0].port           ✓        ✓          ✓         –           –',
      '  target[0].lun            ✓        ✓          ✓         –           –',
      '  target[0].nic            ✓        ✓          ✓         –           –',
      '  target[0].chapType       ✓        –          –         –           –',
    ]);
  });

  it('a lab that declares something else: the consumers that read the field differ, the others show –', () => {
    const results = readConsumers({
      serialText: serial,
      table,
      expectations: { ...lab, nics: [{ ...lab.nics![0], ip: '10.0.2.99' }] },
      salt: SALT,
      linuxLines: parseProbeOutput(serial),
      required: new Set(['kernel', 'iscsiadm']),
    });
    const row = consumerMatrix(results).rows.find((r) => r.path === 'nic[0].ip');
    expect(row?.cells).toEqual(['✗', '✗', '✗', '–', '✗']);
    expect(results.map((r) => [r.name, r.required, r.agrees])).toEqual([
      ['kernel', true, false],
      ['iscsiadm', true, false],
      ['iscsistart', false, false],
      ['dracut', false, true],
      ['networkmanager', false, false],
    ]);
    expect(results[1].mismatches).toEqual([{ path: 'nic[0].ip', expected: '10.0.2.99', actual: '10.0.2.15', source: 'lab' }]);
  });

  it('a consumer that printed nothing differs on every field it reads', () => {
    const cut = serial.slice(0, serial.indexOf('IBFT-LAB-CONSUMER-BEGIN iscsiadm'));
    const results = readConsumers({ serialText: cut, table, expectations: lab, salt: SALT, linuxLines: parseProbeOutput(serial), required: ALL });
    const iscsiadm = results.find((r) => r.name === 'iscsiadm')!;
    expect(iscsiadm.agrees).toBe(false);
    expect(iscsiadm.notes).toEqual(['no output from iscsiadm on the serial console']);
    expect(iscsiadm.mismatches.map((m) => m.path)).toContain('target[0].name');
    expect(iscsiadm.fields['target[0].name']).toBeNull();
  });
});

describe('stock iPXE, static address + mutual CHAP (fixtures/ipxe-static-mutual-chap)', () => {
  const captured = fixture('ipxe-static-mutual-chap');
  const serial = unmasked(captured.serial, { chap: CHAP.password, mutual: MUTUAL.password });
  const table = withSecrets(captured.table, CHAP.password, MUTUAL.password);
  const lab: IbftExpectation = {
    initiator: { name: 'iqn.2010-04.org.ipxe:ibft-lab-test' },
    nics: [{ ip: '10.0.2.77', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3', origin: 'manual', hostname: 'ibft-host' }],
    targets: [
      {
        port: port(table),
        lun: 1,
        name: 'iqn.2003-01.org.example:lab',
        chapType: 'mutual',
        chapName: CHAP.username,
        chapSecret: CHAP.password,
        reverseChapName: MUTUAL.username,
        reverseChapSecret: MUTUAL.password,
      },
    ],
  };
  const read = (expectations: IbftExpectation) =>
    readConsumers({ serialText: serial, table, expectations, salt: SALT, linuxLines: parseProbeOutput(serial), required: new Set(['kernel', 'networkmanager']) });

  it('the table: origin 1 (manual) and a DHCP server address (stock iPXE fetched the script by DHCP first)', () => {
    expect(parseProbeOutput(serial)).toEqual(expect.arrayContaining(['ethernet0/origin=1', 'ethernet0/dhcp=10.0.2.2']));
  });

  it('open-iscsi and dracut say DHCP (the dhcp field), NetworkManager and the kernel static (origin); secrets agree as hashes', () => {
    const results = read(lab);
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    expect(byName.kernel.mismatches).toEqual([]);
    expect(byName.networkmanager.mismatches).toEqual([]);
    for (const name of ['iscsiadm', 'iscsistart', 'dracut']) {
      expect({ name, mismatches: byName[name].mismatches }).toEqual({ name, mismatches: [{ path: 'nic[0].method', expected: 'static', actual: 'dhcp', source: 'lab' }] });
    }
    expect(byName.iscsiadm.fields).toMatchObject({ 'target[0].chapSecret': MASKED_SECRET, 'target[0].reverseChapSecret': MASKED_SECRET, 'target[0].reverseChapName': 'labtarget' });
    expect(byName.dracut.fields).toEqual({ 'initiator.name': 'iqn.2010-04.org.ipxe:ibft-lab-test', 'nic[0].mac': '52:54:00:12:34:56', 'nic[0].method': 'dhcp', 'nic[0].vlan': 0 });
    expect(byName.networkmanager.fields).toMatchObject({ 'nic[0].method': 'static', 'nic[0].ip': '10.0.2.77', 'nic[0].prefix': 24 });
    const text = JSON.stringify(results);
    for (const secret of [CHAP.password, MUTUAL.password, 'salted-sha256']) expect(text).not.toContain(secret);
  });

  it('a wrong secret in the lab: every consumer that reads it differs, showing neither value', () => {
    const results = read({ ...lab, targets: [{ ...lab.targets![0], reverseChapSecret: 'WrongSecret123' }] });
    for (const name of ['kernel', 'iscsiadm', 'iscsistart'] as const) {
      expect(results.find((r) => r.name === name)?.mismatches).toContainEqual({ path: 'target[0].reverseChapSecret', expected: SECRET_DIFFERS, actual: SECRET_DIFFERS, source: 'lab' });
    }
    expect(JSON.stringify(results)).not.toMatch(/WrongSecret123|MutualSecret99|salted-sha256/);
  });

  it('report output keeps the lines, never the hashes', () => {
    const output = maskedOutput(parseConsumerSections(serial).get('iscsiadm'));
    expect(output).toContain(`out: node.session.auth.password_in = ${MASKED_SECRET}`);
    expect(output).not.toContain('salted-sha256');
  });
});

describe('UEFI + virtio-net, the LIO appliance (fixtures/ipxe-uefi-virtio)', () => {
  it('open-iscsi finds eth0 through the PCI device, as predicted; every consumer agrees', () => {
    const { serial, table } = fixture('ipxe-uefi-virtio');
    const sections = parseConsumerSections(serial);
    expect(sections.get('setup')?.out).toEqual(['ethernet0 mac=52:54:00:12:34:56 device=yes interface=eth0']);
    expect(sections.get('iscsiadm')?.out).toContain('iface.net_ifacename = eth0');
    const lab: IbftExpectation = {
      initiator: { name: 'iqn.2010-04.org.ipxe:virtio-uefi' },
      nics: [{ mac: '52:54:00:12:34:56', origin: 'dhcp', ip: '10.0.2.15', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3', dhcp: '10.0.2.2' }],
      targets: [{ ip: '10.0.2.4', port: 3260, lun: 0, name: 'iqn.2024-01.org.ibft-lab:virtio-uefi', nicAssociation: 0, chapType: 'none' }],
    };
    const results = readConsumers({ serialText: serial, table, expectations: lab, salt: SALT, linuxLines: parseProbeOutput(serial), required: ALL });
    expect(results.map((r) => [r.name, r.mismatches])).toEqual(CONSUMERS.map((n) => [n, []]));
    expect(results.find((r) => r.name === 'iscsiadm')?.fields['target[0].lun']).toBe('00000000');
  });
});

describe('replayed tables (QEMU -acpitable, no PCI device for the NIC)', () => {
  it('the real mutual-CHAP iPXE table: open-iscsi names no interface, both targets read', () => {
    // Its table is @ibft-lab/ibft's fixture stock-ipxe-tgt-mutual-chap/ibft.bin.
    const serial = readFileSync(join(__dirname, 'fixtures', 'replay-mutual-chap', 'serial.log'), 'utf8');
    const s = parseConsumerSections(serial).get('iscsiadm')!;
    expect(s.out.some((l) => l.includes('net_ifacename'))).toBe(false);
    expect(openIscsiReading(s.out, s.exitCode).targets.map((t) => t.lun)).toEqual(['01000000', '02000000']);
  });

  it('the crafted table: dracut puts the address on the untagged parent of its VLAN and skips the NIC not selected for boot', () => {
    const captured = fixture('replay-crafted');
    const table = captured.table;
    const serial = unmasked(captured.serial, { chap: 'replaysecret01' });
    const results = readConsumers({ serialText: serial, table, salt: SALT, linuxLines: parseProbeOutput(serial), required: ALL });
    for (const name of ['kernel', 'iscsiadm', 'iscsistart', 'networkmanager']) {
      expect({ name, mismatches: results.find((r) => r.name === name)?.mismatches }).toEqual({ name, mismatches: [] });
    }
    const dracut = results.find((r) => r.name === 'dracut')!;
    expect(dracut.mismatches.map((m) => `${m.path} ${m.expected} ${m.actual}`)).toEqual([
      'nic[0].vlan 5 0',
      'nic[1].mac 52:54:00:aa:00:02 null',
      'nic[1].method static null',
      'nic[1].ip 192.168.60.10 null',
      'nic[1].prefix 24 null',
      'nic[1].gateway 192.168.60.1 null',
      'nic[1].vlan 0 null',
    ]);
    expect(dracut.fields).toMatchObject({ 'nic[0].ip': '192.168.50.10', 'nic[0].secondaryDns': '192.168.50.3', 'nic[0].hostname': 'replay-host' });
    const nm = results.find((r) => r.name === 'networkmanager')!;
    expect(nm.mismatches).toEqual([]);
    expect(nm.fields).toMatchObject({ 'nic[0].vlan': 5, 'nic[1].ip': '192.168.60.10' });
    const iscsiadm = results.find((r) => r.name === 'iscsiadm')!;
    expect(iscsiadm.fields).toMatchObject({ 'target[1].nic': 1, 'target[1].port': 3261, 'target[0].lun': '02000000' });
  });
});
