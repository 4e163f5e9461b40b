// Runs the real bin (node + @swc-node/register + the TS cli) as a user would.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = join(__dirname, '../bin/ipxe-lint.js');
const seed = join(__dirname, 'fixtures/seed.ipxe');

describe('ipxe-lint bin', () => {
  jest.setTimeout(60_000);
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'ipxe-lint-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });

  it('exits 0 on a clean script', () => {
    const r = run(seed);
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: '' });
  });

  it('exits 1 and prints file:line:col diagnostics on errors', () => {
    writeFileSync(join(dir, 'bad.ipxe'), '#!ipxe\nsanhook iscsi:10.0.2.2::::iqn.2003-01.org.a.b:X\n');
    const r = run('bad.ipxe');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('bad.ipxe:2:1: warning san-without-fallback');
    expect(r.stdout).toMatch(/bad\.ipxe:2:27: error bad-iqn target name contains uppercase/);
  });

  it('exits 2 on usage errors', () => {
    expect(run().status).toBe(2);
    expect(run('--bogus', seed).status).toBe(2);
    expect(run('--help').status).toBe(0);
  });
});
