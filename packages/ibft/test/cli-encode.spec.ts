// `ibft encode` and `ibft import`, spawned for real: files written whole or not at all, secrets kept out of
// output unless asked, bad specs refused with the field and the fix.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeIbft } from '../src/lib/decode';
import { FIXTURES_DIR, loadFixture } from './support/fixtures';

const BIN = join(__dirname, '..', 'bin', 'ibft.js');
const PLAIN = join(FIXTURES_DIR, 'stock-ipxe-tgt', 'ibft.bin');
const CHAP = join(FIXTURES_DIR, 'stock-ipxe-tgt-mutual-chap', 'ibft.bin');
const chapFixture = loadFixture('stock-ipxe-tgt-mutual-chap');
const SECRETS = [chapFixture.expected!.targets![0].chapSecret!, chapFixture.expected!.targets![0].reverseChapSecret!];

function ibft(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { timeout: 60_000 });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), raw: r.stdout };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ibft-cli-encode-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);
const write = (name: string, content: string | Uint8Array) => (writeFileSync(at(name), content), at(name));
/** Nothing in the folder but these names (no temp file left behind). */
const onlyFiles = (...names: string[]) => expect(readdirSync(dir).sort()).toEqual([...names].sort());

jest.setTimeout(120_000);

describe('ibft encode', () => {
  it('decode --format json --reveal-secrets | encode gives back the same bytes (mode 0600 when it holds secrets)', () => {
    const spec = ibft('decode', CHAP, '--format', 'json', '--reveal-secrets');
    expect(spec.code).toBe(0);
    write('spec.json', spec.stdout);
    const r = ibft('encode', at('spec.json'), at('out.bin'));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`wrote ${at('out.bin')}: 715 bytes (iBFT, 1 NIC, 2 targets)\n`);
    expect(r.stderr).toBe('');
    expect(Buffer.compare(readFileSync(at('out.bin')), readFileSync(CHAP))).toBe(0);
    expect(statSync(at('out.bin')).mode & 0o777).toBe(0o600);
    onlyFiles('spec.json', 'out.bin');
  });

  it('a hand-written spec with three pairs: written, warnings on stderr', () => {
    const spec = {
      initiator: { name: 'iqn.2010-04.org.ipxe:x' },
      nics: [{ ip: '10.0.2.15', prefixLength: 24 }, { ip: '10.0.3.15', prefixLength: 24 }, { ip: 'fd00::15', prefixLength: 64 }],
      targets: [{ ip: '10.0.2.2', name: 'iqn.2003-01.org.example:a' }, { ip: '10.0.3.2', name: 'iqn.2003-01.org.example:b', nicAssociation: 1 }, { ip: 'fd00::2', name: 'iqn.2003-01.org.example:c', nicAssociation: 9 }],
    };
    const r = ibft('encode', write('spec.json', JSON.stringify(spec)), at('out.bin'));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: target\[2\]\.nicAssociation: target is associated with NIC index 9/);
    const t = decodeIbft(readFileSync(at('out.bin'))).table!;
    expect(t.control!.header.length).toBe(22);
    expect(t.targets.map((x) => x.name?.value)).toEqual(['iqn.2003-01.org.example:a', 'iqn.2003-01.org.example:b', 'iqn.2003-01.org.example:c']);
    expect(statSync(at('out.bin')).mode & 0o777).toBe(0o644 & ~process.umask());
  });

  it('a bad spec: every wrong field with its JSON path and the fix, exit 1, nothing written, no temp file', () => {
    writeFileSync(at('out.bin'), 'old contents');
    // Shapes and ranges are checked first (the schema); what fields say about each other after.
    const shape = ibft('encode', write('spec.json', JSON.stringify({ targets: [{ nmae: 'x' }] })), at('out.bin'));
    expect(shape.code).toBe(1);
    expect(shape.stderr).toMatch(/^error: targets\[0\]\.nmae: unknown field: remove it \(a target has .*\)\n/);
    const spec = { nics: [{ ip: { family: 'ipv4', address: 'fd00::1' }, prefixLength: 200 }], targets: [{ chapType: 1 }] };
    const r = ibft('encode', write('spec.json', JSON.stringify(spec)), at('out.bin'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: nics[0].ip.family: fd00::1 is not an IPv4 address: set family to "ipv6", or give a dotted quad\n');
    expect(r.stderr).toContain('error: nics[0].prefixLength: 200 is too long for an IPv6 address (at most 128): lower it\n');
    expect(r.stderr).toContain('error: targets[0].chapName: CHAP type chap needs a CHAP name: add chapName, or set chapType to 0 (none)\n');
    expect(r.stderr).toMatch(/is not a valid iBFT spec \(4 problems\); nothing written\n$/);
    expect(readFileSync(at('out.bin'), 'utf8')).toBe('old contents');
    onlyFiles('spec.json', 'out.bin');
  });

  it('decode JSON with masked secrets is refused: the secret is not in the file', () => {
    const masked = ibft('decode', CHAP, '--format', 'json');
    const r = ibft('encode', write('spec.json', masked.stdout), at('out.bin'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: targets[0].chapSecret: is masked (decode prints CHAP secrets as ******** unless --reveal-secrets)');
    for (const s of SECRETS) expect(r.stdout + r.stderr).not.toContain(s);
    onlyFiles('spec.json');
  });

  it('not JSON, a missing output folder, an output that is a directory: exit 1, nothing left behind', () => {
    const notJson = ibft('encode', write('spec.json', '{ "nics": [ }'), at('out.bin'));
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/^error: .*spec\.json is not JSON: .*: fix the syntax/);
    write('spec.json', '{}');
    const noFolder = ibft('encode', at('spec.json'), at('missing/out.bin'));
    expect(noFolder.code).toBe(1);
    expect(noFolder.stderr).toContain(`error: cannot write ${at('missing/out.bin')}: its folder does not exist; nothing was written`);
    mkdirSync(at('outdir'));
    const isDir = ibft('encode', at('spec.json'), at('outdir'));
    expect(isDir.code).toBe(1);
    expect(isDir.stderr).toMatch(/cannot write .*outdir: .*nothing was written/);
    onlyFiles('spec.json', 'outdir');
    expect(readdirSync(at('outdir'))).toEqual([]);
  });

  it('usage: encode needs a spec and an output', () => {
    const r = ibft('encode', PLAIN);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('encode needs a spec and an output file');
  });
});

describe('ibft import', () => {
  it('a table with CHAP: a JSON spec on stdout with placeholders, said on stderr; encode turns it into a table', () => {
    const r = ibft('import', CHAP);
    expect(r.code).toBe(0);
    for (const s of SECRETS) expect(r.stdout + r.stderr).not.toContain(s);
    expect(r.stderr).toContain("note: CHAP secrets replaced by placeholders ('*', same length): target[0].chapSecret, target[0].reverseChapSecret, target[1].chapSecret, target[1].reverseChapSecret");
    const spec = JSON.parse(r.stdout);
    expect(spec.targets[0].chapSecret.value).toBe('*'.repeat(SECRETS[0].length));
    const enc = ibft('encode', write('spec.json', r.stdout), at('out.bin'));
    expect(enc.code).toBe(0);
    const t = decodeIbft(readFileSync(at('out.bin'))).table!;
    expect(t.targets[1].reverseChapSecret!.value).toBe('*'.repeat(SECRETS[1].length));
    // Only the secret bytes (and the checksum) differ from the real table.
    const real = readFileSync(CHAP);
    const out = readFileSync(at('out.bin'));
    const differing = [...out].map((b, i) => (b === real[i] ? -1 : i)).filter((i) => i >= 0 && i !== 9);
    expect(differing.every((i) => out[i] === 0x2a)).toBe(true);
    expect(differing).toHaveLength(2 * (SECRETS[0].length + SECRETS[1].length));
  });

  it('--out FILE.bin writes the table bytes; --keep-secrets keeps them, says so, and writes mode 0600', () => {
    const bin = ibft('import', CHAP, '--out', at('ibft.bin'));
    expect(bin.code).toBe(0);
    expect(bin.stdout).toBe('');
    expect(readFileSync(at('ibft.bin')).length).toBe(715);
    for (const s of SECRETS) expect(readFileSync(at('ibft.bin')).includes(s)).toBe(false);
    const kept = ibft('import', CHAP, '--keep-secrets', '--out', at('kept.json'));
    expect(kept.code).toBe(0);
    expect(kept.stderr).toContain(`note: --keep-secrets: the output holds the CHAP secrets in clear (target[0].chapSecret, target[0].reverseChapSecret, target[1].chapSecret, target[1].reverseChapSecret); ${at('kept.json')} is written readable by its owner only`);
    expect(statSync(at('kept.json')).mode & 0o777).toBe(0o600);
    expect(readFileSync(at('kept.json'), 'utf8')).toContain(SECRETS[0]);
    onlyFiles('ibft.bin', 'kept.json');
  });

  it('a table without CHAP: no note about secrets; a dump is searched like decode does', () => {
    const memory = new Uint8Array(1 << 20);
    memory.set(readFileSync(PLAIN), 0x9e620);
    const r = ibft('import', write('memory.bin', memory));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`note: ${at('memory.bin')}: the table at 0x9e620 (bios-scan), 568 bytes (iBFT, 1 NIC, 1 target)\n`);
    expect(JSON.parse(r.stdout).header.length).toBe(568);
  });

  it('an invalid table: its problems, exit 1, nothing written', () => {
    const broken = readFileSync(PLAIN);
    broken[8] = 2;
    const r = ibft('import', write('broken.bin', broken), '--out', at('spec.json'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: header.revision: revision is 2');
    expect(r.stderr).toMatch(/is invalid; nothing written\n$/);
    expect(existsSync(at('spec.json'))).toBe(false);
    onlyFiles('broken.bin');
  });

  it('usage: bin needs --out; one input file', () => {
    expect(ibft('import', PLAIN, '--format', 'bin')).toMatchObject({ code: 2, stderr: expect.stringContaining('needs --out FILE') });
    expect(ibft('import', PLAIN, CHAP)).toMatchObject({ code: 2, stderr: expect.stringContaining('import reads one file') });
  });
});
