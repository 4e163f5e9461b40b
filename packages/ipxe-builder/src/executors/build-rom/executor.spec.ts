import type { ExecutorContext } from '@nx/devkit';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, writeFiles } from '../../testing/fixtures';
import buildRomExecutor from './executor';

function context(root: string): ExecutorContext {
  return { root, projectName: 'lab', cwd: root, isVerbose: false } as unknown as ExecutorContext;
}

describe('build-rom executor', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  let errors: string[];
  beforeEach(() => {
    errors = [];
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    jest.spyOn(console, 'error').mockImplementation((l: string) => void errors.push(l));
  });
  afterEach(() => jest.restoreAllMocks());

  it('defaults script and outputPath to dist/labs/<project>/ and falls back to the stock ROM when allowed', async () => {
    writeFiles(dir.path, { 'dist/labs/lab/boot.ipxe': '#!ipxe\necho hi\n' });
    const prev = process.env.IPXE_SRC;
    delete process.env.IPXE_SRC;
    try {
      await expect(buildRomExecutor({ nic: 'e1000', fallback: 'stock' }, context(dir.path))).resolves.toEqual({ success: true });
    } finally {
      if (prev !== undefined) process.env.IPXE_SRC = prev;
    }
    const manifest = JSON.parse(readFileSync(join(dir.path, 'dist/labs/lab/firmware/manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ mode: 'stock', rom: 'pxe-e1000.rom', script: { file: 'boot.ipxe' } });
  });

  it('fails with the option name for invalid options', async () => {
    await expect(buildRomExecutor({ nic: 'rtl8139', platform: 'arm' }, context(dir.path))).resolves.toEqual({ success: false });
    expect(errors.join('\n')).toMatch(/option platform/);
    await expect(buildRomExecutor({ nic: 'rtl8139', bogus: 1 }, context(dir.path))).resolves.toEqual({ success: false });
  });

  it('fails saying how to provide a source when there is none and no fallback', async () => {
    const prev = process.env.IPXE_SRC;
    delete process.env.IPXE_SRC;
    try {
      await expect(buildRomExecutor({ nic: 'rtl8139' }, context(dir.path))).resolves.toEqual({ success: false });
    } finally {
      if (prev !== undefined) process.env.IPXE_SRC = prev;
    }
    expect(errors.join('\n')).toMatch(/no iPXE source configured\. Provide an iPXE source: set IPXE_SRC/);
  });
});
