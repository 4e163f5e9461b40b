import { joinPathFragments, readProjectConfiguration, updateProjectConfiguration, type Tree } from '@nx/devkit';
import { parseDesiredState } from '../../lib/model';
import { lioTargetConfigTemplate, lioTargetTargets } from '../../lib/nx-targets';
import { optionsSchema } from './options';

/** Adds target-vm / setup-target / teardown-target / target-status and a lio-target.json to a lab project. */
export default async function targetGenerator(tree: Tree, raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const project = readProjectConfiguration(tree, options.project);
  const lab = options.lab ?? options.project.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const configFile = joinPathFragments(project.root, 'lio-target.json');
  if (!tree.exists(configFile)) {
    const template = lioTargetConfigTemplate(lab, options.initiatorIqn);
    // The lab name derived from the project name may still be invalid (leading '-', too long):
    // check what would be written before writing anything.
    parseDesiredState(template);
    tree.write(configFile, `${JSON.stringify(template, null, 2)}\n`);
  }
  updateProjectConfiguration(tree, options.project, {
    ...project,
    targets: { ...(project.targets ?? {}), ...lioTargetTargets(configFile, options.transport) },
  });
}
