// `node packages/ipxe-builder/bin/source-identity.js [--path P | --git-url U --git-ref R] [--nic N --platform P]`
// prints one line naming the iPXE source build-rom would use. Nx runs it as a
// runtime input, so a new commit, a local edit or a different IPXE_SRC
// changes build-rom's hash. It prints no local paths (the hash must match
// across machines that have the same source).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SourceOption, identityString, resolveSource } from './source';
import { Platform, stockRomFor } from './targets';

export interface IdentityArgs {
  source?: SourceOption;
  nic?: string;
  platform?: Platform;
}

export function parseIdentityArgs(argv: string[]): IdentityArgs {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  const path = get('--path');
  const url = get('--git-url');
  const ref = get('--git-ref');
  if (path && url) throw new Error('give either --path or --git-url, not both');
  if ((url && !ref) || (ref && !url)) throw new Error('--git-url and --git-ref go together');
  const platform = get('--platform');
  if (platform && platform !== 'bios' && platform !== 'uefi') throw new Error('--platform is bios or uefi');
  return {
    source: path ? { path } : url && ref ? { git: { url, ref } } : undefined,
    nic: get('--nic'),
    platform: platform as Platform | undefined,
  };
}

export function sourceIdentityLine(args: IdentityArgs, workspaceRoot: string, env: NodeJS.ProcessEnv): string {
  const found = resolveSource({ source: args.source, workspaceRoot, env });
  if (found.status === 'found') return `ipxe-source ${identityString(found.source.identity)}`;
  // No source: build-rom falls back to the stock ROM (if allowed), so its bytes are the input.
  if (args.nic) {
    try {
      const rom = stockRomFor(args.nic, args.platform ?? 'bios');
      return `ipxe-source none; stock ${args.nic}/${args.platform ?? 'bios'} sha256:${createHash('sha256').update(readFileSync(rom)).digest('hex')}`;
    } catch {
      // no stock ROM either: build-rom will fail; any stable line will do
    }
  }
  return 'ipxe-source none';
}

export function main(argv: string[], env: NodeJS.ProcessEnv, cwd: string): number {
  try {
    console.log(sourceIdentityLine(parseIdentityArgs(argv), cwd, env));
    return 0;
  } catch (err) {
    console.error(`source-identity: ${(err as Error).message}`);
    return 2;
  }
}
