// `nx add @ibft-lab/qemu-runner`: registers the plugin that turns every
// lab.json into a lab project, and marks boot-vm as never cached (it boots a
// VM and talks to a live target).
import { readNxJson, updateNxJson, type Tree } from '@nx/devkit';
import { optionsSchema } from './options';

export const LAB_PLUGIN = '@ibft-lab/qemu-runner/plugin';

export default async function initGenerator(tree: Tree, options: unknown = {}): Promise<void> {
  optionsSchema.parse(options ?? {});
  const nxJson = readNxJson(tree) ?? {};
  nxJson.targetDefaults ??= {};
  const defaults = nxJson.targetDefaults as Record<string, Record<string, unknown>>;
  defaults['boot-vm'] = { ...(defaults['boot-vm'] ?? {}), cache: false };
  nxJson.plugins ??= [];
  const registered = nxJson.plugins.some((p) => (typeof p === 'string' ? p : p.plugin) === LAB_PLUGIN);
  if (!registered) nxJson.plugins.push({ plugin: LAB_PLUGIN });
  updateNxJson(tree, nxJson);
}
