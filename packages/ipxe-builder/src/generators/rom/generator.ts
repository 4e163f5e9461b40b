import { Tree, readProjectConfiguration, updateProjectConfiguration } from '@nx/devkit';
import { buildRomTargetConfig, identityScriptPath } from '../../lib/nx-target';
import type { SourceOption } from '../../lib/source';
import { optionsSchema } from './options';

export default async function romGenerator(tree: Tree, raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  if (options.sourcePath && options.gitUrl) throw new Error('rom: give sourcePath or gitUrl, not both');
  if (Boolean(options.gitUrl) !== Boolean(options.gitRef)) throw new Error('rom: gitUrl and gitRef go together');
  const source: SourceOption | undefined = options.sourcePath
    ? { path: options.sourcePath }
    : options.gitUrl && options.gitRef
      ? { git: { url: options.gitUrl, ref: options.gitRef } }
      : undefined;
  const project = readProjectConfiguration(tree, options.project);
  const targets = project.targets ?? {};
  targets['build-rom'] = buildRomTargetConfig({
    nic: options.nic,
    platform: options.platform,
    format: options.format,
    source,
    fallback: options.fallback,
    overrides: options.fastBanner ? { general: { BANNER_TIMEOUT: 0, ROM_BANNER_TIMEOUT: 0 } } : undefined,
    script: options.script,
    hasGenScript: Boolean(targets['gen-script']),
    // Where this package is, seen from the workspace: packages/ here, node_modules/ in a workspace that installed it.
    identityScript: identityScriptPath(tree.root),
  });
  updateProjectConfiguration(tree, options.project, { ...project, targets });
}
