// Nx plugin: every lab.json is a lab project with the targets its spec implies
// (gen-script, build-rom, target-vm, setup-target, boot-vm, ...), so a lab is
// one file. Registered in nx.json as "@ibft-lab/lab/plugin".
import { dirname, join } from 'node:path';
import { createNodesFromFiles, type CreateNodes, type CreateNodesContext } from '@nx/devkit';
import { LAB_FILE, labTargets, readLab } from '../lib';

export interface LabPluginOptions {
  /** Prefix for the inferred target names, e.g. "lab-" gives lab-boot-vm. */
  targetPrefix?: string;
}

function createLabProject(file: string, options: LabPluginOptions | undefined, context: CreateNodesContext) {
  const root = dirname(file);
  const lab = readLab(join(context.workspaceRoot, file), file);
  const prefix = options?.targetPrefix ?? '';
  const targets = Object.fromEntries(
    Object.entries(labTargets(lab, { workspaceRoot: context.workspaceRoot, labRoot: root })).map(([name, config]) => [
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

/** Nx 24's `createNodes`: one call for all matching files (the v2 semantics). */
export const createNodes: CreateNodes<LabPluginOptions> = [
  `**/${LAB_FILE}`,
  (files, options, context) => createNodesFromFiles(createLabProject, files, options ?? {}, context),
];

// Older Nx reads `createNodesV2` (same signature).
export const createNodesV2 = createNodes;
