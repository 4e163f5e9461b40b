// Nx plugin: every lab.json is a lab project with the targets its spec implies
// (gen-script, build-rom, target-vm, setup-target, boot-vm, ...), so a lab is
// one file. Registered in nx.json as "@ibft-lab/qemu-runner/plugin".
import { dirname, join } from 'node:path';
import { createNodesFromFiles, type CreateNodesContextV2, type CreateNodesV2 } from '@nx/devkit';
import { LAB_FILE, labTargets, readLabSpec } from '../lib/lab';

export interface LabPluginOptions {
  /** Prefix for the inferred target names, e.g. "lab-" gives lab-boot-vm. */
  targetPrefix?: string;
}

function createLabProject(file: string, options: LabPluginOptions | undefined, context: CreateNodesContextV2) {
  const root = dirname(file);
  const lab = readLabSpec(join(context.workspaceRoot, file), file);
  const prefix = options?.targetPrefix ?? '';
  const targets = Object.fromEntries(
    Object.entries(labTargets(lab, { workspaceRoot: context.workspaceRoot })).map(([name, config]) => [
      `${prefix}${name}`,
      prefix ? { ...config, dependsOn: (config.dependsOn as string[] | undefined)?.map((d) => `${prefix}${d}`) } : config,
    ]),
  );
  return {
    projects: {
      [root]: { name: lab.name, root, projectType: 'application' as const, tags: ['ibft-lab:lab'], targets },
    },
  };
}

export const createNodesV2: CreateNodesV2<LabPluginOptions> = [
  `**/${LAB_FILE}`,
  (files, options, context) => createNodesFromFiles(createLabProject, files, options ?? {}, context),
];

// Nx 24 reads `createNodes` (same signature); older Nx reads `createNodesV2`.
export const createNodes = createNodesV2;
