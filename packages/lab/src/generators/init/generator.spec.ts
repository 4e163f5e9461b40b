import { readNxJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import initGenerator from './generator';

describe('init generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
  });

  it('marks boot-vm as never cached in nx.json', async () => {
    await initGenerator(tree, {});
    expect(readNxJson(tree)?.targetDefaults?.['boot-vm']).toEqual({ cache: false });
  });

  it('keeps existing boot-vm defaults and other targets, and is idempotent', async () => {
    const nxJson = readNxJson(tree)!;
    nxJson.targetDefaults = { 'boot-vm': { dependsOn: ['gen-script'], cache: true }, build: { cache: true } };
    tree.write('nx.json', JSON.stringify(nxJson));
    await initGenerator(tree, {});
    await initGenerator(tree, {});
    const defaults = readNxJson(tree)?.targetDefaults;
    expect(defaults?.['boot-vm']).toEqual({ dependsOn: ['gen-script'], cache: false });
    expect(defaults?.build).toEqual({ cache: true });
  });

  it('rejects unknown options, naming them', async () => {
    await expect(initGenerator(tree, { bogus: 1 })).rejects.toThrow(/bogus/);
  });

  it('ignores the guest image cache and dist in .gitignore, once', async () => {
    tree.write('.gitignore', 'node_modules\ndist/\n');
    await initGenerator(tree, {});
    await initGenerator(tree, {});
    expect(tree.read('.gitignore', 'utf8')).toBe('node_modules\ndist/\n# ibft-lab\n.cache/ibft-lab\n');
  });

  it('registers the lab plugin once', async () => {
    await initGenerator(tree, {});
    await initGenerator(tree, {});
    expect(readNxJson(tree)?.plugins?.filter((p) => (typeof p === 'string' ? p : p.plugin) === '@ibft-lab/lab/plugin')).toHaveLength(1);
  });
});
