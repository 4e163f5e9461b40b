import { addProjectConfiguration, readProjectConfiguration } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import romGenerator from './generator';

/** The identity script a runtime input runs, as it resolves from the workspace root. */
const IDENTITY = /^node (\S*ipxe-builder\/bin\/source-identity\.js) /;

describe('rom generator', () => {
  it('adds a cacheable build-rom target with script, source identity and IPXE_SRC inputs', async () => {
    const tree = createTreeWithEmptyWorkspace();
    addProjectConfiguration(tree, 'lab', {
      root: 'labs/lab',
      targets: { 'gen-script': { executor: '@ibft-lab/script-gen:gen-script' } },
    });
    await romGenerator(tree, { project: 'lab', nic: 'virtio-net', sourcePath: '../ipxe' });
    const target = readProjectConfiguration(tree, 'lab').targets?.['build-rom'];
    expect(target).toEqual({
      executor: '@ibft-lab/ipxe-builder:build-rom',
      cache: true,
      dependsOn: ['gen-script'],
      inputs: [
        { dependentTasksOutputFiles: '**/*.ipxe', transitive: false },
        '{workspaceRoot}/packages/ipxe-builder/src/lib/**/*.ts',
        '!{workspaceRoot}/packages/ipxe-builder/src/**/*.spec.ts',
        { env: 'IPXE_SRC' },
        { runtime: expect.stringMatching(/ --path \.\.\/ipxe --nic virtio-net --platform bios$/) },
      ],
      outputs: ['{workspaceRoot}/dist/labs/{projectName}/firmware'],
      options: {
        nic: 'virtio-net',
        platform: 'bios',
        source: { path: '../ipxe' },
        fallback: 'stock',
        overrides: { general: { BANNER_TIMEOUT: 0, ROM_BANNER_TIMEOUT: 0 } },
      },
    });
  });

  it('uses a checked-in script as a file input when given one', async () => {
    const tree = createTreeWithEmptyWorkspace();
    addProjectConfiguration(tree, 'lab', { root: 'labs/lab', targets: {} });
    await romGenerator(tree, { project: 'lab', script: 'labs/lab/boot.ipxe', gitUrl: 'https://github.com/ipxe/ipxe.git', gitRef: 'master', fastBanner: false });
    const target = readProjectConfiguration(tree, 'lab').targets?.['build-rom'];
    expect(target?.dependsOn).toBeUndefined();
    expect(target?.inputs?.[0]).toBe('{workspaceRoot}/labs/lab/boot.ipxe');
    const runtime = (target?.inputs?.[4] as { runtime: string }).runtime;
    expect(runtime).toMatch(/ --git-url https:\/\/github\.com\/ipxe\/ipxe\.git --git-ref master --nic rtl8139 --platform bios$/);
    // The script path works from the workspace root, wherever the package lives (packages/ or node_modules/).
    expect(existsSync(join(tree.root, IDENTITY.exec(runtime)![1]))).toBe(true);
    expect(target?.options.overrides).toBeUndefined();
  });

  it('rejects half a git source', async () => {
    const tree = createTreeWithEmptyWorkspace();
    addProjectConfiguration(tree, 'lab', { root: 'labs/lab' });
    await expect(romGenerator(tree, { project: 'lab', gitUrl: 'x' })).rejects.toThrow(/gitUrl and gitRef go together/);
  });
});
