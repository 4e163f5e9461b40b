import { addProjectConfiguration, readJson, readProjectConfiguration } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { parseDesiredState } from '../../lib/model';
import targetGenerator from './generator';

describe('target generator', () => {
  it('adds a valid lio-target.json and the four targets (target-vm continuous, setup-target after it)', async () => {
    const tree = createTreeWithEmptyWorkspace();
    addProjectConfiguration(tree, 'demo-lab', { root: 'labs/demo-lab', targets: {} });
    await targetGenerator(tree, { project: 'demo-lab' });
    const config = readJson(tree, 'labs/demo-lab/lio-target.json');
    expect(parseDesiredState(config).targets[0].iqn).toBe('iqn.2024-01.org.ibft-lab:demo-lab');
    const targets = readProjectConfiguration(tree, 'demo-lab').targets!;
    expect(Object.keys(targets).sort()).toEqual(['setup-target', 'target-status', 'target-vm', 'teardown-target']);
    expect(targets['target-vm']).toMatchObject({ executor: '@ibft-lab/lio-target:target-vm', continuous: true });
    expect(targets['setup-target']).toMatchObject({ dependsOn: ['target-vm'], options: { configFile: 'labs/demo-lab/lio-target.json', transport: 'appliance' } });
  });

  it('rejects a lab name targetcli cannot carry', async () => {
    const tree = createTreeWithEmptyWorkspace();
    addProjectConfiguration(tree, 'demo', { root: 'labs/demo', targets: {} });
    await expect(targetGenerator(tree, { project: 'demo', lab: 'Bad Lab' })).rejects.toThrow(/may hold only/);
  });
});
