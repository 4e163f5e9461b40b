// The Nx target configuration for build-rom: cacheable, with every input that
// changes the firmware declared. Plain data (no @nx/devkit) so the generator,
// docs and tests share it.
import type { SourceOption } from './source';

export interface BuildRomTargetArgs {
  nic?: string;
  platform?: 'bios' | 'uefi';
  format?: string;
  source?: SourceOption;
  fallback?: 'none' | 'stock';
  overrides?: Record<string, Record<string, unknown>>;
  /** A checked-in script (workspace-relative) instead of gen-script's output. */
  script?: string;
  /** Whether the project has a gen-script target to depend on. */
  hasGenScript: boolean;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function identityCommand(args: Pick<BuildRomTargetArgs, 'source' | 'nic' | 'platform'>): string {
  const parts = ['node', 'packages/ipxe-builder/bin/source-identity.js'];
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
