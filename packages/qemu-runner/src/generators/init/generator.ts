// `nx add @ibft-lab/qemu-runner`: boot-vm has side effects (it boots a VM and
// talks to a live target), so Nx must never serve it from cache.
import { readNxJson, updateNxJson, type Tree } from '@nx/devkit';
import { optionsSchema } from './options';

export default async function initGenerator(tree: Tree, options: unknown = {}): Promise<void> {
  optionsSchema.parse(options ?? {});
  const nxJson = readNxJson(tree) ?? {};
  nxJson.targetDefaults ??= {};
  const defaults = nxJson.targetDefaults as Record<string, Record<string, unknown>>;
  defaults['boot-vm'] = { ...(defaults['boot-vm'] ?? {}), cache: false };
  updateNxJson(tree, nxJson);
}
