// Adds a `gen-script` target with a working default lab script to a project.
import { getProjects, readProjectConfiguration, updateProjectConfiguration, type Tree } from '@nx/devkit';
import { defaultLabScript } from '../../lib/default-script';
import { formatIssues } from '../../lib/lab-script';
import { optionsSchema } from './options';

export default async function scriptGenerator(tree: Tree, options: unknown): Promise<void> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw new Error(`script generator: invalid options:\n${formatIssues(parsed.error)}`);
  const { project, force } = parsed.data;
  // Nx's own message ("Cannot find configuration for 'x'") names no option: say which one.
  if (!getProjects(tree).has(project)) throw new Error(`script generator: project: no project named ${JSON.stringify(project)} in this workspace`);
  const config = readProjectConfiguration(tree, project);
  if (config.targets?.['gen-script'] && !force) {
    throw new Error(`project "${project}" already has a gen-script target; pass --force to replace it`);
  }
  // The rendered script depends on this package's renderer: make the
  // dependency explicit so a renderer change invalidates Nx's cache.
  const implicitDependencies = config.implicitDependencies ?? [];
  updateProjectConfiguration(tree, project, {
    ...config,
    implicitDependencies: implicitDependencies.includes('script-gen') ? implicitDependencies : [...implicitDependencies, 'script-gen'],
    targets: {
      ...config.targets,
      'gen-script': {
        executor: '@ibft-lab/script-gen:gen-script',
        options: { script: defaultLabScript(project) },
      },
    },
  });
}
