import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { gitInit, tempDir, toyIpxeTree } from '../testing/fixtures';
import { WORKSPACE_ROOT } from '../testing/ipxe-tree';
import { parseIdentityArgs, sourceIdentityLine } from './identity-cli';

describe('source identity (Nx runtime input)', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('prints the commit of a path source, without any local path', () => {
    toyIpxeTree(join(dir.path, 'ipxe'));
    const commit = gitInit(join(dir.path, 'ipxe'));
    const line = sourceIdentityLine(parseIdentityArgs(['--path', join(dir.path, 'ipxe')]), dir.path, {});
    expect(line).toBe(`ipxe-source git:${commit}`);
  });

  it('names the stock ROM by its bytes when there is no source', () => {
    expect(sourceIdentityLine(parseIdentityArgs(['--nic', 'rtl8139']), dir.path, {})).toMatch(
      /^ipxe-source none; stock rtl8139\/bios sha256:[0-9a-f]{64}$/,
    );
  });

  it('rejects bad flags', () => {
    expect(() => parseIdentityArgs(['--git-url', 'x'])).toThrow(/go together/);
    expect(() => parseIdentityArgs(['--path'])).toThrow(/--path needs a value/);
  });

  it('runs as node packages/ipxe-builder/bin/source-identity.js from the workspace root (real process)', () => {
    const out = execFileSync(process.execPath, ['packages/ipxe-builder/bin/source-identity.js', '--path', join(dir.path, 'ipxe')], {
      cwd: WORKSPACE_ROOT,
      env: { ...process.env, IPXE_SRC: '' },
      encoding: 'utf8',
    });
    expect(out).toMatch(/^ipxe-source git:[0-9a-f]{40}\n$/);
  });
});
