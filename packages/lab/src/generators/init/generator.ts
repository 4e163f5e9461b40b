// `nx add @ibft-lab/lab`: registers the plugin that turns every
// lab.json into a lab project, and marks boot-vm as never cached (it boots a
// VM and talks to a live target).
import { readNxJson, updateNxJson, type Tree } from '@nx/devkit';
import { optionsSchema } from './options';

export const LAB_PLUGIN = '@ibft-lab/lab/plugin';

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
  ignoreGenerated(tree);
}

/** Guest images (hundreds of MB) and lab outputs must not be committed, nor scanned by Nx. */
function ignoreGenerated(tree: Tree): void {
  const current = tree.exists('.gitignore') ? (tree.read('.gitignore', 'utf8') ?? '') : '';
  const patterns = new Set(current.split('\n').map((line) => line.trim().replace(/^\//, '').replace(/\/$/, '')));
  const covered = (entry: string) => entry.split('/').some((_, i, parts) => patterns.has(parts.slice(0, i + 1).join('/')));
  const missing = ['.cache/ibft-lab', 'dist'].filter((entry) => !covered(entry));
  if (missing.length === 0) return;
  const separator = current && !current.endsWith('\n') ? '\n' : '';
  tree.write('.gitignore', `${current}${separator}# ibft-lab\n${missing.join('\n')}\n`);
}
