import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildRomTargetConfig, identityScriptPath, REPO_IDENTITY_SCRIPT } from './nx-target';

const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

describe('identityScriptPath', () => {
  it('names the repository path inside this repository, and the file exists', () => {
    expect(identityScriptPath(WORKSPACE_ROOT)).toBe(REPO_IDENTITY_SCRIPT);
    expect(existsSync(join(WORKSPACE_ROOT, REPO_IDENTITY_SCRIPT))).toBe(true);
  });

  it('is relative to the workspace it is asked for, with forward slashes', () => {
    expect(identityScriptPath(join(WORKSPACE_ROOT, 'labs', 'lab'))).toBe(`../../${REPO_IDENTITY_SCRIPT}`);
  });

  it('is what build-rom runs as its runtime input', () => {
    const target = buildRomTargetConfig({ nic: 'rtl8139', hasGenScript: true, identityScript: 'node_modules/@ibft-lab/ipxe-builder/bin/source-identity.js' });
    expect(target.inputs).toContainEqual({ runtime: 'node node_modules/@ibft-lab/ipxe-builder/bin/source-identity.js --nic rtl8139' });
  });
});
