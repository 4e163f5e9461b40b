// Spawns the real `ibft` bin (bin/ibft.js -> src/cli.ts through @swc-node/register).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeIbft } from './support/encode-ibft';
import { FIXTURES_DIR, loadFixture } from './support/fixtures';

const BIN = join(__dirname, '..', 'bin', 'ibft.js');
const FIXTURE_BIN = join(FIXTURES_DIR, 'stock-ipxe-tgt', 'ibft.bin');
const fixture = loadFixture('stock-ipxe-tgt');

function ibft(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
const file = (name: string, bytes: Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ibft-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

jest.setTimeout(120_000);

describe('ibft CLI (spawned for real)', () => {
  it('decode <fixture> --format sysfs prints exactly what Linux showed', () => {
    const r = ibft('decode', FIXTURE_BIN, '--format', 'sysfs');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(new Set(lines)).toEqual(new Set(fixture.sysfs));
    expect(lines).toHaveLength(fixture.sysfs.length);
  });

  it('the shared fixture path (../shared, as in the issue) gives the same lines when present', () => {
    const shared = join(__dirname, '..', '..', '..', '..', 'shared', 'fixtures', 'ibft', 'stock-ipxe-tgt', 'ibft.bin');
    const r = ibft('decode', shared, '--format=sysfs');
    if (r.code === 2 && /cannot read/.test(r.stderr)) {
      console.log(`shared fixture not found at ${shared}; the copy in test/fixtures is checked above`);
      return;
    }
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual([...fixture.sysfs].sort());
  });

  it('finds the table in a 1 MiB memory dump (BIOS rule) and honours --offset', () => {
    const memory = new Uint8Array(1 << 20);
    memory.set(fixture.bin, 0x9e620);
    const dump = file('memory.bin', memory);
    const table = ibft('decode', dump);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('iqn.2003-01.org.example:lab');
    expect(table.stdout).toContain('10.0.2.2:3260');
    const json = ibft('decode', dump, '--format', 'json', '--offset', '0x9e620');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).initiator.name.value).toBe('iqn.2010-04.org.ipxe:foobar');
    const located = ibft('locate', dump);
    expect(located.code).toBe(0);
    expect(located.stdout).toMatch(/^0x9e620\s+bios-scan\s+iBFT\s+length 568\s+valid$/m);
  });

  it('masks CHAP secrets in every format unless --reveal-secrets', () => {
    const chap = file(
      'chap.bin',
      encodeIbft({
        initiator: { name: 'iqn.2010-04.org.ipxe:lab' },
        nics: [{ ip: '10.0.2.15', prefix: 24 }],
        targets: [{ ip: '10.0.2.2', name: 'iqn.2003-01.org.example:lab', chapType: 2, chapName: 'user', chapSecret: 'cli-secret-one', reverseChapName: 'tgt', reverseChapSecret: 'cli-secret-two' }],
      }),
    );
    for (const format of ['table', 'json', 'sysfs', 'iscsiadm']) {
      const r = ibft('decode', chap, '--format', format);
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).not.toMatch(/cli-secret/);
      expect(r.stdout).toContain('********');
    }
    const revealed = ibft('decode', chap, '--format', 'sysfs', '--reveal-secrets');
    expect(revealed.stdout).toContain('target0/chap-secret=cli-secret-one\n');
    expect(revealed.stdout).toContain('target0/rev-chap-name-secret=cli-secret-two\n');
  });

  it('--format iscsiadm: exit 1 with open-iscsi\'s messages when iscsiadm -m fw would find no target', () => {
    const bad = file(
      'bad-assoc.bin',
      encodeIbft({ initiator: { name: 'iqn.2010-04.org.ipxe:x' }, nics: [{ ip: '10.0.2.15', prefix: 24 }], targets: [{ ip: '10.0.2.2', name: 'iqn.2003-01.org.example:x', nicAssociation: 3 }] }),
    );
    const r = ibft('decode', bad, '--format', 'iscsiadm');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('Invalid nic-assoc of 3. Max id 1.\n');
    expect(r.stderr).toContain('iscsiadm: Could not get list of targets from firmware. (err 21)\n');
    expect(r.stderr).toContain('warning: target[0].nicAssociation:');
    const good = ibft('decode', FIXTURE_BIN, '--format', 'iscsiadm');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^# BEGIN RECORD 2\.1\.8\niface\.initiatorname = iqn\.2010-04\.org\.ipxe:foobar\n/);
  });

  it('--format sysfs writes raw string bytes as Linux does', () => {
    const bytes = encodeIbft({ initiator: { name: 'iqn.2010-04.org.ipxe:caf_' }, nics: [{}], targets: [{ ip: '10.0.2.2', name: 'iqn.2003-01.org.example:x' }] });
    const at = Buffer.from(bytes).indexOf('caf_') + 3;
    bytes[at] = 0xe9;
    bytes[9] = 0;
    bytes[9] = (0x100 - (bytes.reduce((a, b) => a + b, 0) & 0xff)) & 0xff;
    const r = spawnSync(process.execPath, [BIN, 'decode', file('raw.bin', bytes), '--format', 'sysfs'], { timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.includes(Buffer.from('initiator/initiator-name=iqn.2010-04.org.ipxe:caf\xe9\n', 'latin1'))).toBe(true);
    expect(r.stderr.toString()).toContain('warning: initiator.name: bytes are not valid UTF-8');
  });

  it('exit 1 with the problems for an invalid table', () => {
    const broken = fixture.bin.slice();
    broken[9] = (broken[9] + 0x10) & 0xff;
    const r = ibft('decode', file('broken.bin', broken), '--format', 'json');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: header.checksum: bytes sum to 0x10');
    expect(r.stderr).toContain('is invalid');
  });

  it('exit 1 when a dump holds no table', () => {
    const r = ibft('decode', file('empty.bin', new Uint8Array(4096)));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no iBFT signature/);
  });

  it.each([
    [[], /missing command/],
    [['decode'], /decode needs a file/],
    [['decode', 'x.bin', '--format', 'xml'], /--format must be one of/],
    [['decode', 'x.bin', '--offset', 'ten'], /--offset must be a non-negative number/],
    [['decode', '/nonexistent/ibft.bin'], /cannot read \/nonexistent\/ibft.bin: no such file/],
    [['decode', FIXTURE_BIN, '--offset', '99999'], /past the end/],
    [['frobnicate', 'x'], /unknown command/],
    [['decode', FIXTURE_BIN, '--bogus'], /unknown option --bogus/],
  ])('usage error %j exits 2', (args, message) => {
    const r = ibft(...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stderr).toContain('Usage:');
  });

  it('--help prints usage and exits 0', () => {
    const r = ibft('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ibft decode <file>');
  });
});
