import type { ExecutorContext } from '@nx/devkit';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedModel } from '../../../test/fixtures/seed';
import genScript from './executor';

describe('gen-script executor', () => {
  let root: string;
  let errors: string[];
  const context = (projectName = 'lab') => ({ root, projectName, cwd: root, isVerbose: false }) as unknown as ExecutorContext;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'script-gen-exec-'));
    errors = [];
    jest.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(root, { recursive: true, force: true });
  });

  it('writes dist/labs/<project>/boot.ipxe by default', async () => {
    await expect(genScript({ script: seedModel }, context('mylab'))).resolves.toEqual({ success: true });
    const text = readFileSync(join(root, 'dist/labs/mylab/boot.ipxe'), 'utf8');
    expect(text).toBe(readFileSync(join(__dirname, '../../../test/fixtures/seed.ipxe'), 'utf8'));
  });

  it('honours outputPath', async () => {
    await expect(genScript({ script: {}, outputPath: 'out/x.ipxe' }, context())).resolves.toEqual({ success: true });
    expect(readFileSync(join(root, 'out/x.ipxe'), 'utf8')).toMatch(/^#!ipxe\ndhcp\necho == config done ==\n$/);
  });

  it.each([
    [{ script: { initiatorIqn: 'iqn.2010-04.org.ipxe:Bad Name' } }, /script\.initiatorIqn: iSCSI name/],
    [{ script: { sanhooks: [{ targets: [{ server: '10.0.2.300', targetIqn: 'iqn.2003-01.org.a.b' }] }] } }, /script\.sanhooks\.0\.targets\.0\.server/],
    [{ script: { sanhooks: [{ targets: [{ server: '10.0.2.2', lun: 'zz', targetIqn: 'iqn.2003-01.org.a.b' }] }] } }, /script\.sanhooks\.0\.targets\.0\.lun/],
    [
      { script: { sanhooks: [{ targets: [{ server: '10.0.2.2', targetIqn: 'iqn.2003-01.org.a.b' }], chap: { username: 'u', password: 'has"quote1234' } }] } },
      /script\.sanhooks\.0\.chap\.password: CHAP secret may contain only/,
    ],
    [{ script: { network: { mode: 'static', ip: '10.0.2.15.1', prefix: 24 } } }, /script\.network\.ip/],
    [{}, /script: /],
    [{ script: {}, outputFile: 'x' }, /outputFile|Unrecognized/],
  ])('rejects bad input naming the field and writes nothing (%#)', async (options, message) => {
    await expect(genScript(options, context())).resolves.toEqual({ success: false });
    expect(errors.join('\n')).toMatch(message);
    expect(errors.join('\n')).not.toContain('has"quote1234');
    expect(existsSync(join(root, 'dist'))).toBe(false);
  });
});
