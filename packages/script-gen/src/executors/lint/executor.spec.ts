import type { ExecutorContext } from '@nx/devkit';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lint from './executor';

describe('lint executor', () => {
  let root: string;
  let out: string[];
  const context = () => ({ root, projectName: 'lab', cwd: root, isVerbose: false }) as unknown as ExecutorContext;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'script-gen-lint-'));
    out = [];
    jest.spyOn(console, 'log').mockImplementation((m: string) => void out.push(m));
    jest.spyOn(console, 'error').mockImplementation((m: string) => void out.push(m));
    mkdirSync(join(root, 'labs/a'), { recursive: true });
    writeFileSync(join(root, 'labs/a/good.ipxe'), '#!ipxe\ndhcp\necho ok\n');
    writeFileSync(join(root, 'labs/a/warn.ipxe'), '#!ipxe\nsanhook iscsi:10.0.2.2::::iqn.2003-01.org.a.b\n');
    writeFileSync(join(root, 'labs/bad.ipxe'), 'dhcp\ndchp\n');
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(root, { recursive: true, force: true });
  });

  it('passes clean files, prints warnings as file:line:col', async () => {
    await expect(lint({ files: 'labs/a/*.ipxe' }, context())).resolves.toEqual({ success: true });
    expect(out).toContain('labs/a/warn.ipxe:2:1: warning san-without-fallback "sanhook" has no "||": if the target cannot be reached the script ends here (append " ||" to keep going)');
  });

  it('fails on warnings when asked', async () => {
    await expect(lint({ files: ['labs/a/warn.ipxe'], failOnWarnings: true }, context())).resolves.toEqual({ success: false });
  });

  it('fails on errors found through ** patterns', async () => {
    await expect(lint({ files: ['labs/**/*.ipxe'] }, context())).resolves.toEqual({ success: false });
    expect(out).toEqual(expect.arrayContaining(['labs/bad.ipxe:1:1: error missing-shebang script must start with "#!ipxe" on its first line, or iPXE will not run it as a script']));
    expect(out.some((l) => l.startsWith('labs/bad.ipxe:2:1: error unknown-command'))).toBe(true);
    expect(out.at(-1)).toBe('lint: 3 file(s), 2 error(s), 1 warning(s)');
  });

  it('fails when nothing matches or a named file is missing', async () => {
    await expect(lint({ files: 'nowhere/*.ipxe' }, context())).resolves.toEqual({ success: false });
    await expect(lint({ files: 'missing.ipxe' }, context())).resolves.toEqual({ success: false });
    expect(out.join('\n')).toMatch(/missing\.ipxe:1:1: error file-not-found/);
  });
});
