import { addProjectConfiguration, readProjectConfiguration, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { labScriptSchema } from '../../lib/lab-script';
import { renderScript } from '../../lib/render';
import scriptGenerator from './generator';

describe('script generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
    addProjectConfiguration(tree, 'my_Lab', { root: 'labs/my-lab', targets: { other: { executor: 'nx:noop' } } });
  });

  it('adds a gen-script target with a valid default script, keeping other targets', async () => {
    await scriptGenerator(tree, { project: 'my_Lab' });
    const config = readProjectConfiguration(tree, 'my_Lab');
    expect(config.targets?.other).toEqual({ executor: 'nx:noop' });
    expect(config.implicitDependencies).toEqual(['script-gen']);
    const target = config.targets?.['gen-script'];
    expect(target?.executor).toBe('@ibft-lab/script-gen:gen-script');
    const script = labScriptSchema.parse(target?.options.script);
    expect(script.initiatorIqn).toBe('iqn.2010-04.org.ipxe:ibft-my-lab');
    expect(renderScript(script)).toContain('sanhook iscsi:10.0.2.2::3260:1:iqn.2003-01.org.ibft-lab:my-lab ||');
    expect(script.next).toEqual({ action: 'exit' });
  });

  it('refuses to replace an existing gen-script target unless forced', async () => {
    await scriptGenerator(tree, { project: 'my_Lab' });
    await expect(scriptGenerator(tree, { project: 'my_Lab' })).rejects.toThrow(/already has a gen-script target; pass --force/);
    await expect(scriptGenerator(tree, { project: 'my_Lab', force: true })).resolves.toBeUndefined();
    expect(readProjectConfiguration(tree, 'my_Lab').implicitDependencies).toEqual(['script-gen']);
  });

  it('names a missing project option', async () => {
    await expect(scriptGenerator(tree, {})).rejects.toThrow(/project:/);
  });
});
