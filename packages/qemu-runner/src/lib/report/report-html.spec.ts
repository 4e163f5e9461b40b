// The report pages without a boot: a real table (iPXE, mutual CHAP, two
// targets) in a made-up run. The real boots and the browser are in
// test/report-html.spec.ts.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { compareIbft, decodeIbft, formatSysfs, type IbftExpectation } from '@ibft-lab/ibft';
import type { BootReport } from '../boot/boot-lab';
import { escapeHtml, html, jsonScript, raw } from './html';
import { formatReportIndex, readReportIndexRows, writeReportIndex } from './report-index';
import { writeBootReport } from './write-report';

const FIXTURE = resolve(__dirname, '../../../../ibft/test/fixtures/stock-ipxe-tgt-mutual-chap');
const ROOT = resolve(__dirname, '../../../../..');

function chapReport(change: (expected: IbftExpectation) => void = () => {}): BootReport {
  const bytes = new Uint8Array(readFileSync(join(FIXTURE, 'ibft.bin')));
  const table = decodeIbft(bytes).table!;
  const expectations = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as IbftExpectation;
  change(expectations);
  const mismatches = compareIbft(expectations, table);
  return {
    verdict: mismatches.length ? 'fail' : 'pass',
    failure: mismatches.length ? `${mismatches.length} expectation mismatch(es): ${mismatches.map((m) => m.path).join(', ')}` : null,
    ipxeErrorUrl: null,
    ibft: table,
    ibftAddress: 0x9e620,
    ibftBytes: bytes,
    sysfsLines: formatSysfs(table),
    expectations,
    mismatches,
    probe: null,
    consumers: null,
    findings: [],
    boot: null,
    timings: { qemuStartToMarkerMs: 8800, qemuStartToIbftMs: 9000, markerToProbeEndMs: null, totalMs: 14000 },
    qemu: ['qemu-system-x86_64', '-nographic'],
    serialLog: 'iPXE 1.0.0\n== config done ==\n<script>alert("serial")</script>\n',
  };
}

const SECRETS = ['initiatorsecret1', 'targetsecret22'];

describe('html``', () => {
  it('escapes every interpolation, keeps nested fragments, prints nothing for null, undefined and false', () => {
    const hostile = `"><script>alert('x')</script>&`;
    expect(html`<a title="${hostile}">${hostile}</a>`.html).toBe(
      '<a title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</a>',
    );
    expect(html`<ul>${['<1>', '2'].map((x) => html`<li>${x}</li>`)}</ul>`.html).toBe('<ul><li>&lt;1&gt;</li><li>2</li></ul>');
    expect(html`${null}${undefined}${false}${0}${raw('<br>')}`.html).toBe('0<br>');
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });

  it('jsonScript data cannot close its script element', () => {
    const out = jsonScript('d', { v: '</script><script>alert(1)</script>', c: '<!--' }).html;
    expect(out.match(/<\/script>/g)).toHaveLength(1);
    expect(out).not.toContain('<!--');
    expect(JSON.parse(out.replace(/^<script[^>]*>|<\/script>$/g, ''))).toEqual({ v: '</script><script>alert(1)</script>', c: '<!--' });
  });
});

describe('report.html', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ibft-lab-report-html-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is written with the other files, holds no secret, and asks for nothing outside itself', () => {
    const report = chapReport();
    const out = join(dir, 'chap', 'boot-vm');
    const written = writeBootReport(report, out, 'chap:boot-vm', { lab: 'chap', nic: 'rtl8139', firmware: 'bios', romMode: 'stock' });
    expect(written.files.map((f) => f.slice(out.length + 1)).sort()).toEqual(['ibft.bin', 'ibft.sysfs.txt', 'junit.xml', 'report.html', 'report.json', 'serial.log']);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const page = readFileSync(join(out, 'report.html'), 'utf8');
    for (const secret of SECRETS) {
      expect(page).not.toContain(secret);
      expect(page).not.toContain(Buffer.from(secret).toString('hex').match(/../g)!.join(' '));
    }
    // Self-contained: no src/href that fetches, a CSP that forbids it, a data: icon.
    expect(page).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
    expect(page).not.toMatch(/\ssrc=/);
    expect([...page.matchAll(/<link [^>]*href="([^"]*)"/g)].map((m) => m[1])).toEqual(['data:,']);
    expect(page).toContain('&lt;script&gt;alert(&quot;serial&quot;)&lt;/script&gt;');
    expect(page).toContain('<a href="../../index.html" id="index-link">');
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(json.run).toEqual({ suite: 'chap:boot-vm', lab: 'chap', nic: 'rtl8139', firmware: 'bios', romMode: 'stock' });
    // Four secret strings in the table: each masked in the dump.
    const fields = JSON.parse(/<script type="application\/json" id="ibft-fields">(.*?)<\/script>/s.exec(page)![1]) as Array<{ p: string; v: string; r: string; x?: boolean }>;
    expect(fields.filter((f) => f.x).map((f) => [f.p, f.v, /^(•• )*••$/.test(f.r)])).toEqual([
      ['target[0].chapSecret', '********', true],
      ['target[0].reverseChapSecret', '********', true],
      ['target[1].chapSecret', '********', true],
      ['target[1].reverseChapSecret', '********', true],
    ]);
    // Every byte of the 715 in exactly one field.
    expect(fields.reduce((n, f) => n + (f as unknown as { l: number }).l, 0)).toBe(715);
  });

  it('a mismatch outlines the field in the dump and its row in the table; the failing serial line is marked', () => {
    const report = {
      ...chapReport((e) => {
        e.nics![0].dns = '10.0.2.99';
      }),
      serialLog: 'iPXE\nCould not open SAN device: Connection refused (http://ipxe.org/0f0c6039)\nnext\n',
    };
    report.failure = `${report.failure}; boot failed: Could not open SAN device: Connection refused (http://ipxe.org/0f0c6039)`;
    writeBootReport(report, dir);
    const page = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(page).toMatch(/<tr class="mismatch" data-path="nic\[0\]\.dns">/);
    const fields = JSON.parse(/id="ibft-fields">(.*?)<\/script>/s.exec(page)![1]) as Array<{ p: string; m?: unknown }>;
    const dns = fields.findIndex((f) => f.p === 'nic[0].primaryDns');
    expect(fields.filter((f) => f.m).map((f) => f.p)).toEqual(['nic[0].primaryDns']);
    const outlined = [...page.matchAll(/<span class="f [^"]*\bmm\b[^"]*" data-f="(\d+)"/g)].map((m) => Number(m[1]));
    expect(new Set(outlined)).toEqual(new Set([dns]));
    expect(page).toMatch(/<span class="ln failed" id="first-failed">Could not open SAN device/);
    expect(page).toMatch(/<details id="serial" open>/);
    expect(page).not.toContain('index-link'); // not under <labs>/<lab>/boot-vm
  });

  it('the consumer matrix: fields × consumers, what each read in the cell title, disagreements (findings apart) and each output', () => {
    const consumers: NonNullable<BootReport['consumers']> = [
      { name: 'kernel', required: true, agrees: true, fields: { 'nic[0].ip': '10.0.2.15', 'nic[0].vlan': 0, 'target[0].chapSecret': '********' }, mismatches: [], notes: [], exitCode: null, output: 'ip-addr: 10.0.2.15' },
      {
        name: 'iscsiadm',
        required: true,
        agrees: false,
        fields: { 'nic[0].ip': '10.0.2.16' },
        mismatches: [{ path: 'nic[0].ip', expected: '10.0.2.15', actual: '10.0.2.16', source: 'lab' }],
        notes: ['no iface.net_ifacename: no PCI device at the NIC\'s address'],
        exitCode: 0,
        output: '# BEGIN RECORD 2.1.8\n<b>iface.ipaddress = 10.0.2.16</b>',
      },
      { name: 'dracut', required: false, agrees: false, fields: { 'nic[0].ip': '10.0.2.15', 'nic[0].vlan': null }, mismatches: [{ path: 'nic[0].vlan', expected: 0, actual: null, source: 'table' }], notes: [], exitCode: 0, output: 'ip=10.0.2.15:::' },
    ];
    writeBootReport(Object.assign(chapReport(), { consumers, findings: [{ consumer: 'dracut', path: 'nic[0].vlan', expected: 0, actual: null, source: 'table' }] }), dir);
    const page = readFileSync(join(dir, 'report.html'), 'utf8');
    const matrix = /<div id="consumer-matrix">(.*?)<\/div>/s.exec(page)![1];
    expect(matrix).toContain('<thead><tr><th>field</th><th>kernel</th><th>iscsiadm</th><th>(dracut)</th></tr></thead>');
    const row = (path: string) => new RegExp(`<tr data-path="${path.replace(/[[\].]/g, '\\$&')}">(.*?)</tr>`, 's').exec(matrix)![1];
    expect(row('nic[0].ip')).toContain('<td class="ok" title="kernel: 10.0.2.15">✓</td><td class="bad" title="iscsiadm: 10.0.2.16 (the lab: 10.0.2.15)">✗</td><td class="ok" title="dracut: 10.0.2.15">✓</td>');
    expect(row('nic[0].vlan')).toContain('<td class="muted" title="iscsiadm: does not read it">–</td><td class="bad" title="dracut: (absent) (the table: 0)">✗</td>');
    const disagreements = /<table id="consumer-disagreements">(.*?)<\/table>/s.exec(page)![1];
    expect(disagreements).toMatch(/<tr class="mismatch"><td><span class="bad">✗<\/span><\/td><td>iscsiadm<\/td><td><code>nic\[0\]\.ip<\/code><\/td><td>10\.0\.2\.16<\/td>/);
    expect(disagreements).toMatch(/<tr class=""><td>finding<\/td><td>dracut<\/td>/);
    // A consumer's own output, escaped: markup it printed stays text.
    expect(page).toContain('<details class="consumer-output" data-consumer="iscsiadm"><summary>iscsiadm: <span class="bad">differs</span> · exit 0 · 1 note(s)</summary>');
    expect(page).toContain('&lt;b&gt;iface.ipaddress = 10.0.2.16&lt;/b&gt;');
    expect(page).not.toContain('<b>iface.ipaddress');
  });

  it('no consumer section without consumers', () => {
    writeBootReport(chapReport(), dir);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).not.toContain('id="consumers"');
  });
});

describe('index.html', () => {
  let labs: string;
  beforeEach(() => {
    labs = mkdtempSync(join(tmpdir(), 'ibft-lab-report-index-'));
  });
  afterEach(() => rmSync(labs, { recursive: true, force: true }));

  it('one row per lab folder from report.json, grouped by platform; an unreadable report is a row too', () => {
    writeBootReport(chapReport(), join(labs, 'b-chap', 'boot-vm'), 'b-chap:boot-vm', { lab: 'b-chap', nic: 'e1000', firmware: 'bios', romMode: 'built' });
    writeBootReport({ ...chapReport(), probe: { agrees: false, lines: [], differences: [] } }, join(labs, 'a-uefi', 'boot-vm'), 'x', { lab: 'a-uefi', nic: 'virtio-net-pci', firmware: 'uefi' });
    mkdirSync(join(labs, 'half', 'boot-vm'), { recursive: true });
    writeFileSync(join(labs, 'half', 'boot-vm', 'report.json'), '{"verd');
    mkdirSync(join(labs, 'no-report')); // a lab that never booted: no row
    const rows = readReportIndexRows(labs);
    expect(rows.map((r) => [r.folder, r.lab, r.nic, r.platform, r.network, r.chap, r.romMode, r.verdict, r.probe, r.href])).toEqual([
      ['a-uefi', 'a-uefi', 'virtio-net-pci', 'uefi', 'dhcp', 'mutual', null, 'pass', 'disagrees', 'a-uefi/boot-vm/report.html'],
      ['b-chap', 'b-chap', 'e1000', 'bios', 'dhcp', 'mutual', 'built', 'pass', 'off', 'b-chap/boot-vm/report.html'],
      ['half', 'half', null, null, null, null, null, 'unreadable', 'off', 'half/boot-vm/report.json'],
    ]);
    const page = formatReportIndex(rows);
    // Groups in platform order (bios, uefi, unknown), each with its rows.
    const groups = [...page.matchAll(/<tr class="group-head"><th colspan="11">([^<·]+)/g)].map((m) => m[1].trim());
    expect(groups).toEqual(['BIOS', 'UEFI', 'platform unknown']);
    expect(page).toContain('<td><a href="b-chap/boot-vm/report.html">b-chap</a></td>');
    for (const secret of SECRETS) expect(page).not.toContain(secret);
  });

  it('a lab that ends while the index is being written is in it all the same', () => {
    writeBootReport(chapReport(), join(labs, 'first', 'boot-vm'));
    let late = false;
    const { rows } = writeReportIndex(labs, {
      afterRead: () => {
        if (late) return;
        late = true;
        writeBootReport(chapReport(), join(labs, 'late', 'boot-vm'));
      },
    });
    expect(rows.map((r) => r.folder)).toEqual(['first', 'late']);
    expect(readFileSync(join(labs, 'index.html'), 'utf8')).toContain('data-lab="late"');
  });

  it('labs ending at once (four processes released together): every report is in the index, no temp file left', async () => {
    const child = join(labs, 'child.ts');
    writeFileSync(
      child,
      [
        `import { writeBootReport, writeReportIndex } from ${JSON.stringify(join(ROOT, 'packages/qemu-runner/src'))};`,
        `import { existsSync } from 'node:fs';`,
        `const report = JSON.parse(process.argv[3]);`,
        // Wait for the start signal, so the four write at the same moment.
        `const until = Date.now() + 30000; while (!existsSync(${JSON.stringify(join(labs, 'go'))}) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);`,
        `report.ibftBytes = null; report.ibft = null;`,
        `writeBootReport(report, process.argv[2] + '/boot-vm', 'x', { lab: process.argv[4], nic: 'rtl8139', firmware: 'bios' });`,
        `writeReportIndex(${JSON.stringify(labs)});`,
      ].join('\n'),
    );
    const base = JSON.stringify({ ...chapReport(), ibft: null, ibftBytes: null, expectations: null, mismatches: [] });
    const names = ['l1', 'l2', 'l3', 'l4'];
    const children = names.map((name) => promisify(execFile)(process.execPath, ['-r', join(ROOT, 'tools/register-ts.js'), child, join(labs, name), base, name], { cwd: ROOT }));
    await new Promise((r) => setTimeout(r, 3000)); // they start (compile) meanwhile
    writeFileSync(join(labs, 'go'), '');
    await Promise.all(children);
    const page = readFileSync(join(labs, 'index.html'), 'utf8');
    for (const name of names) expect(page).toContain(`data-lab="${name}"`);
    expect(readdirSync(labs).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // And once more from here: same rows, same page.
    expect(formatReportIndex(writeReportIndex(labs).rows)).toBe(page);
  }, 60_000);
});
