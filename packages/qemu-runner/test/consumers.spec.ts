// Every consumer side by side, on real tables: stock iPXE builds the iBFT
// against a real tgt target, then the consumer probe (Debian's cloud kernel
// with open-iscsi, dracut and NetworkManager inside) reads that live table with
// each of them. The assertions are what the real tools print for these tables
// (captured into src/lib/consumers/fixtures/), not what we wish they printed.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeIbft } from '@ibft-lab/ibft';
import { bootLab, formatSummary, replayTable, writeBootReport, type BootLabOptions, type BootReport, type ConsumerResult } from '../src';
import { CRAFTED_TABLE } from './support/crafted-table';
import { INITIATOR_IQN, realBootSkipReason, startLabFixture, TARGET_IQN, type LabFixture } from './support/lab';
import { qemuProcessesMentioning } from './support/process';

const DEADLINE_SECONDS = 480; // a cold cache builds the consumer probe (about 40 s) first; TCG on 2 shared cores
jest.setTimeout((DEADLINE_SECONDS + 60) * 1000);

const skip = realBootSkipReason();
if (skip) console.warn(`skipping consumer boot tests: ${skip}`);
const describeBoot = skip ? describe.skip : describe;

/** IBFT_LAB_CAPTURE=DIR writes each run's serial log there (how the parser fixtures were captured). */
const CAPTURE = process.env.IBFT_LAB_CAPTURE;

async function boot(fixture: LabFixture, name: string, options: Omit<BootLabOptions, 'deadlineSeconds'>): Promise<BootReport> {
  const report = await bootLab({ deadlineSeconds: DEADLINE_SECONDS, ...options });
  writeBootReport(report, join(fixture.dir, 'out'));
  console.log(formatSummary(report));
  if (CAPTURE) {
    mkdirSync(CAPTURE, { recursive: true });
    writeFileSync(join(CAPTURE, `${name}.serial.log`), report.serialLog);
    writeFileSync(join(CAPTURE, `${name}.report.json`), readFileSync(join(fixture.dir, 'out', 'report.json')));
    // writeBootReport's ibft.bin: a CHAP table's secret bytes are zeroed.
    writeFileSync(join(CAPTURE, `${name}.ibft.bin`), readFileSync(join(fixture.dir, 'out', 'ibft.bin')));
  }
  expect(qemuProcessesMentioning(fixture.dir)).toEqual([]);
  return report;
}

function consumer(report: BootReport, name: ConsumerResult['name']): ConsumerResult {
  const found = report.consumers?.find((c) => c.name === name);
  if (!found) throw new Error(`no ${name} in report.consumers (${report.failure})`);
  return found;
}

describeBoot('the consumer probe on real tables (stock iPXE, tgt)', () => {
  let fixture: LabFixture | undefined;
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });

  it('DHCP: kernel, iscsiadm, iscsistart, dracut and NetworkManager all read the lab', async () => {
    fixture = await startLabFixture();
    const { port } = fixture.target;
    const scriptPath = fixture.writeScript({
      initiatorIqn: INITIATOR_IQN,
      sanhooks: [{ targets: [{ server: '10.0.2.2', port, lun: 1, targetIqn: TARGET_IQN }] }],
    });
    const report = await boot(fixture, 'dhcp', {
      scriptPath,
      probe: true,
      expectations: {
        initiator: { name: INITIATOR_IQN },
        nics: [{ ip: '10.0.2.15', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3', origin: 'dhcp', mac: '52:54:00:12:34:56' }],
        targets: [{ ip: '10.0.2.2', port, lun: 1, name: TARGET_IQN, chapType: 'none' }],
      },
    });
    if (report.verdict !== 'pass') console.error(report.failure, JSON.stringify(report.consumers, null, 2));
    expect(report.consumers?.map((c) => c.name)).toEqual(['kernel', 'iscsiadm', 'iscsistart', 'dracut', 'networkmanager']);
    expect(report.consumers?.every((c) => c.required)).toBe(true);

    const iscsiadm = consumer(report, 'iscsiadm');
    expect(iscsiadm.exitCode).toBe(0);
    expect(iscsiadm.fields).toMatchObject({
      'initiator.name': INITIATOR_IQN,
      'nic[0].mac': '52:54:00:12:34:56',
      'nic[0].method': 'dhcp',
      'nic[0].ip': '10.0.2.15',
      'nic[0].prefix': 24,
      'target[0].name': TARGET_IQN,
      'target[0].port': port,
      'target[0].lun': '01000000',
      'target[0].nic': 0,
    });
    // The rtl8139 has no driver in the cloud kernel: open-iscsi names the dummy interface carrying its MAC.
    expect(iscsiadm.output).toContain('iface.net_ifacename = fwnic0');
    expect(consumer(report, 'iscsistart').fields).toEqual(iscsiadm.fields);

    const dracut = consumer(report, 'dracut');
    expect(dracut.output).toContain('file /etc/cmdline.d/40-ibft.conf: ip=ibft0:dhcp');
    expect(dracut.output).toContain('file /etc/cmdline.d/45-ifname.conf: ifname=ibft0:52:54:00:12:34:56');
    // DHCP: dracut takes no address from the table, so those fields are not compared.
    expect(dracut.fields).toEqual({ 'initiator.name': INITIATOR_IQN, 'nic[0].mac': '52:54:00:12:34:56', 'nic[0].method': 'dhcp', 'nic[0].vlan': 0 });

    const nm = consumer(report, 'networkmanager');
    expect(nm.exitCode).toBe(0);
    expect(nm.output).toContain('method=auto');
    // NetworkManager keeps the table's address beside DHCP (address1 with ipv4.method=auto).
    expect(nm.fields).toMatchObject({ 'nic[0].method': 'dhcp', 'nic[0].ip': '10.0.2.15', 'nic[0].prefix': 24, 'nic[0].gateway': '10.0.2.2', 'nic[0].dns': '10.0.2.3' });

    for (const c of report.consumers ?? []) expect({ name: c.name, mismatches: c.mismatches }).toEqual({ name: c.name, mismatches: [] });
    expect(report.findings).toEqual([]);
    expect(report.verdict).toBe('pass');
    const summary = formatSummary(report);
    expect(summary).toMatch(/field\s+kernel\s+iscsiadm\s+iscsistart\s+dracut\s+NetworkManager/);
    expect(summary).toMatch(/nic\[0\]\.ip\s+✓\s+✓\s+✓\s+–\s+✓/);
    const junit = readFileSync(join(fixture.dir, 'out', 'junit.xml'), 'utf8');
    for (const name of ['kernel', 'iscsiadm', 'iscsistart', 'dracut', 'networkmanager']) expect(junit).toContain(`consumer ${name} agrees`);
    const json = JSON.parse(readFileSync(join(fixture.dir, 'out', 'report.json'), 'utf8'));
    expect(json.consumers.map((c: ConsumerResult) => Object.keys(c))).toContainEqual(['name', 'required', 'agrees', 'fields', 'mismatches', 'notes', 'exitCode', 'output']);
  });

  it('static IP + mutual CHAP: open-iscsi and dracut take the table for DHCP (its dhcp field is set), NetworkManager does not; secrets only as salted hashes', async () => {
    const chap = { username: 'labuser', password: 'Secr3tChapPw16' };
    const mutualChap = { username: 'labtarget', password: 'MutualSecret99' };
    fixture = await startLabFixture({ chap, mutualChap });
    const { port } = fixture.target;
    const scriptPath = fixture.writeScript({
      network: { mode: 'static', ip: '10.0.2.77', prefix: 24, gateway: '10.0.2.2', dns: ['10.0.2.3'], hostname: 'ibft-host' },
      initiatorIqn: INITIATOR_IQN,
      sanhooks: [{ targets: [{ server: '10.0.2.2', port, lun: 1, targetIqn: TARGET_IQN }], chap: { ...chap, mutual: mutualChap } }],
    });
    const lines: string[] = [];
    const report = await boot(fixture, 'static-mutual-chap', {
      scriptPath,
      probe: true,
      // What agrees on this table; open-iscsi and dracut disagree (below) and are findings.
      consumers: ['kernel', 'networkmanager'],
      log: (line) => lines.push(line),
      expectations: {
        initiator: { name: INITIATOR_IQN },
        nics: [{ ip: '10.0.2.77', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3', origin: 'manual', hostname: 'ibft-host' }],
        targets: [
          {
            port,
            lun: 1,
            name: TARGET_IQN,
            chapType: 'mutual',
            chapName: chap.username,
            chapSecret: chap.password,
            reverseChapName: mutualChap.username,
            reverseChapSecret: mutualChap.password,
          },
        ],
      },
    });
    if (report.verdict !== 'pass') console.error(report.failure, JSON.stringify(report.consumers, null, 2));
    expect(report.mismatches).toEqual([]);
    // Stock iPXE got the script by DHCP before the script set the static address: the table says
    // origin 1 (manual) and still carries the DHCP server, 10.0.2.2.
    expect(report.probe?.lines).toEqual(expect.arrayContaining(['ethernet0/origin=1', 'ethernet0/dhcp=10.0.2.2']));

    const kernel = consumer(report, 'kernel');
    expect(kernel.fields).toMatchObject({ 'nic[0].method': 'static', 'nic[0].hostname': 'ibft-host', 'target[0].chapType': 'mutual', 'target[0].chapSecret': '********' });
    expect(kernel.mismatches).toEqual([]);

    // open-iscsi (fw_entry.c dump_network): DHCP when origin is 3 or the dhcp field holds an address.
    const iscsiadm = consumer(report, 'iscsiadm');
    expect(iscsiadm.output).toContain('iface.bootproto = DHCP');
    expect(iscsiadm.fields).toMatchObject({
      'nic[0].method': 'dhcp',
      'nic[0].ip': '10.0.2.77',
      'target[0].chapName': 'labuser',
      'target[0].chapSecret': '********',
      'target[0].reverseChapName': 'labtarget',
      'target[0].reverseChapSecret': '********',
    });
    // The guest hashed the secrets open-iscsi printed; they equal the hashes of the lab's secrets.
    expect(iscsiadm.mismatches).toEqual([{ path: 'nic[0].method', expected: 'static', actual: 'dhcp', source: 'lab' }]);
    expect(consumer(report, 'iscsistart').mismatches).toEqual([{ path: 'nic[0].method', expected: 'static', actual: 'dhcp', source: 'lab' }]);

    // dracut (net-lib.sh ibft_to_cmdline): `[ -n "$dhcp" ] || [ "$origin" -eq 3 ]` gives ip=ibft0:dhcp, so the
    // table's static address, gateway, DNS and hostname are never used.
    const dracut = consumer(report, 'dracut');
    expect(dracut.output).toContain('file /etc/cmdline.d/40-ibft.conf: ip=ibft0:dhcp');
    expect(dracut.fields).toEqual({ 'initiator.name': INITIATOR_IQN, 'nic[0].mac': '52:54:00:12:34:56', 'nic[0].method': 'dhcp', 'nic[0].vlan': 0 });
    expect(dracut.mismatches).toEqual([{ path: 'nic[0].method', expected: 'static', actual: 'dhcp', source: 'lab' }]);

    // NetworkManager (nmi-ibft-reader.c) looks at origin only: manual, with the table's address.
    const nm = consumer(report, 'networkmanager');
    expect(nm.required).toBe(true);
    expect(nm.fields).toMatchObject({ 'nic[0].method': 'static', 'nic[0].ip': '10.0.2.77', 'nic[0].prefix': 24, 'nic[0].gateway': '10.0.2.2', 'nic[0].dns': '10.0.2.3' });
    expect(nm.mismatches).toEqual([]);

    expect(report.findings.map((f) => `${f.consumer} ${f.path} ${f.actual}`)).toEqual([
      'iscsiadm nic[0].method dhcp',
      'iscsistart nic[0].method dhcp',
      'dracut nic[0].method dhcp',
    ]);
    expect(report.verdict).toBe('pass');
    const summary = formatSummary(report);
    expect(summary).toMatch(/nic\[0\]\.method\s+✓\s+✗\s+✗\s+✗\s+✓/);
    expect(summary).toContain('finding: iscsiadm nic[0].method: dhcp (the lab: static)');
    const written = fixture.allText(join(fixture.dir, 'out'));
    for (const text of [written, formatSummary(report), lines.join('\n'), report.serialLog, JSON.stringify(report.consumers)]) {
      expect(text).not.toContain(chap.password);
      expect(text).not.toContain(mutualChap.password);
      expect(text).not.toMatch(/salted-sha256/);
    }
  });
});

const IBFT_FIXTURES = join(__dirname, '..', '..', 'ibft', 'test', 'fixtures');

describeBoot('the consumer probe on replayed tables (QEMU -acpitable, no iPXE, no NIC)', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function replay(name: string, tablePath: string, options: Omit<Parameters<typeof replayTable>[0], 'tablePath'> = {}): Promise<BootReport> {
    const report = await replayTable({ tablePath, deadlineSeconds: DEADLINE_SECONDS, ...options });
    console.log(formatSummary(report, `replay ${name}`));
    if (CAPTURE) {
      mkdirSync(CAPTURE, { recursive: true });
      writeFileSync(join(CAPTURE, `replay-${name}.serial.log`), report.serialLog);
    }
    expect(qemuProcessesMentioning(tablePath)).toEqual([]);
    return report;
  }

  it("a real iPXE table (mutual CHAP, two targets) replayed: every consumer reads it as it read it live, open-iscsi names no interface", async () => {
    const expectations = JSON.parse(readFileSync(join(IBFT_FIXTURES, 'stock-ipxe-tgt-mutual-chap', 'expected.json'), 'utf8'));
    const report = await replay('mutual-chap', join(IBFT_FIXTURES, 'stock-ipxe-tgt-mutual-chap', 'ibft.bin'), { expectations });
    if (report.verdict !== 'pass') console.error(report.failure, JSON.stringify(report.consumers, null, 2));
    expect(report.ibftAddress).toBeNull();
    expect(report.qemu).toEqual(expect.arrayContaining(['-acpitable', '-nic', 'none']));
    for (const c of report.consumers ?? []) expect({ name: c.name, mismatches: c.mismatches }).toEqual({ name: c.name, mismatches: [] });
    const iscsiadm = consumer(report, 'iscsiadm');
    expect(iscsiadm.fields).toMatchObject({ 'target[0].lun': '01000000', 'target[1].lun': '02000000', 'target[1].nic': 0, 'target[1].reverseChapName': 'labtarget' });
    // No PCI device at the NIC's address: open-iscsi leaves iface.net_ifacename out.
    expect(iscsiadm.output).not.toContain('net_ifacename');
    // iscsistart -f prints every target too, not only the one flagged for boot.
    expect(consumer(report, 'iscsistart').output.match(/# BEGIN RECORD/g)).toHaveLength(2);
    expect(report.verdict).toBe('pass');
    for (const text of [formatSummary(report), report.serialLog, JSON.stringify(report.consumers)]) {
      expect(text).not.toContain(expectations.targets[0].chapSecret);
      expect(text).not.toContain(expectations.targets[0].reverseChapSecret);
    }
  });

  it('a crafted table (ibft encode: VLAN 5, a NIC not selected for boot, two targets): dracut configures the VLAN NIC untagged and skips the other', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ibft-lab-crafted-'));
    const tablePath = join(dir, 'ibft.bin');
    writeFileSync(tablePath, encodeIbft(CRAFTED_TABLE));
    const report = await replay('crafted', tablePath, { consumers: ['kernel', 'open-iscsi', 'networkmanager'] });
    if (report.verdict !== 'pass') console.error(report.failure, JSON.stringify(report.consumers, null, 2));
    for (const name of ['kernel', 'iscsiadm', 'iscsistart', 'networkmanager'] as const) {
      expect({ name, mismatches: consumer(report, name).mismatches }).toEqual({ name, mismatches: [] });
    }
    expect(consumer(report, 'networkmanager').output).toMatch(/type=vlan[\s\S]*\[vlan\][\s\S]*id=5/);
    const dracut = consumer(report, 'dracut');
    expect(dracut.output).toContain('file /etc/cmdline.d/40-ibft.conf: ip=192.168.50.10::192.168.50.1:255.255.255.0:replay-host:ibft0:none:192.168.50.2:192.168.50.3');
    expect(dracut.output).toContain('file /etc/cmdline.d/40-ibft.conf: vlan=ibft0.5:ibft0');
    expect(dracut.mismatches.map((m) => `${m.path} ${m.actual}`)).toEqual([
      'nic[0].vlan 0',
      'nic[1].mac null',
      'nic[1].method null',
      'nic[1].ip null',
      'nic[1].prefix null',
      'nic[1].gateway null',
      'nic[1].vlan null',
    ]);
    expect(dracut.notes).toEqual([
      'vlan=ibft0.5:ibft0 makes VLAN 5 on ibft0, but ip= configures ibft0 itself (untagged)',
      'names ibft1 (52:54:00:aa:00:02) but configures nothing on it (not selected for boot: only rd.iscsi.mp=1 takes such NICs)',
    ]);
    expect(report.findings.every((f) => f.consumer === 'dracut')).toBe(true);
    expect(report.verdict).toBe('pass');
    expect(JSON.stringify(report.consumers)).not.toContain('replaysecret01');
  });
});
