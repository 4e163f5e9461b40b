// The Nx target configuration for build-rom: cacheable, with every input that
// changes the firmware declared. Plain data (no @nx/devkit) so the generator,
// docs and tests share it.
import { join, relative, sep } from 'node:path';
import type { SourceOption } from './source';

/** The identity script's path in the ibft-lab repository (the default). */
export const REPO_IDENTITY_SCRIPT = 'packages/ipxe-builder/bin/source-identity.js';

/**
 * This package's bin/source-identity.js relative to `workspaceRoot`, as the runtime input must name
 * it: packages/ipxe-builder/bin/... in the ibft-lab repository, node_modules/@ibft-lab/ipxe-builder/bin/...
 * where the package is installed. The path matters: Nx runs a runtime input in the workspace root
 * and hashes whatever it prints, so a path that does not exist gives a constant "Cannot find module"
 * hash and build-rom's cache silently stops depending on the iPXE source.
 */
export function identityScriptPath(workspaceRoot: string): string {
  // src/lib/ → package root → bin/; the compiled package keeps the same layout.
  const script = join(__dirname, '..', '..', 'bin', 'source-identity.js');
  return relative(workspaceRoot, script).split(sep).join('/');
}

export interface BuildRomTargetArgs {
  nic?: string;
  platform?: 'bios' | 'uefi';
  format?: string;
  source?: SourceOption;
  fallback?: 'none' | 'stock';
  overrides?: Record<string, Record<string, unknown>>;
  /** Overrides under `overrides` (a composing tool's own); see BuildRomOptions.baseOverrides. */
  baseOverrides?: Record<string, Record<string, unknown>>;
  /** A checked-in script (workspace-relative) instead of gen-script's output. */
  script?: string;
  /** Whether the project has a gen-script target to depend on. */
  hasGenScript: boolean;
  /** Workspace-relative path of bin/source-identity.js (see identityScriptPath); default REPO_IDENTITY_SCRIPT. */
  identityScript?: string;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function identityCommand(args: Pick<BuildRomTargetArgs, 'source' | 'nic' | 'platform' | 'identityScript'>): string {
  const parts = ['node', args.identityScript ?? REPO_IDENTITY_SCRIPT];
  if (args.source && 'path' in args.source) parts.push('--path', args.source.path);
  if (args.source && 'git' in args.source) parts.push('--git-url', args.source.git.url, '--git-ref', args.source.git.ref);
  if (args.nic) parts.push('--nic', args.nic);
  if (args.platform) parts.push('--platform', args.platform);
  return parts.map(shellQuote).join(' ');
}

export function buildRomTargetConfig(args: BuildRomTargetArgs) {
  const options: Record<string, unknown> = {};
  if (args.script) options.script = args.script;
  if (args.nic) options.nic = args.nic;
  if (args.platform) options.platform = args.platform;
  if (args.format) options.format = args.format;
  if (args.source) options.source = args.source;
  if (args.fallback) options.fallback = args.fallback;
  if (args.overrides) options.overrides = args.overrides;
  if (args.baseOverrides) options.baseOverrides = args.baseOverrides;
  const scriptInput = args.script
    ? `{workspaceRoot}/${args.script}`
    : { dependentTasksOutputFiles: '**/*.ipxe', transitive: false };
  return {
    executor: '@ibft-lab/ipxe-builder:build-rom',
    cache: true,
    ...(args.script || !args.hasGenScript ? {} : { dependsOn: ['gen-script'] }),
    inputs: [
      scriptInput,
      // the builder's own code decides the bytes too
      '{workspaceRoot}/packages/ipxe-builder/src/lib/**/*.ts',
      '!{workspaceRoot}/packages/ipxe-builder/src/**/*.spec.ts',
      { env: 'IPXE_SRC' },
      { runtime: identityCommand(args) },
    ],
    outputs: ['{workspaceRoot}/dist/labs/{projectName}/firmware'],
    options,
  };
}
