// The package versions an OS image will hold, as the host's apt resolves them
// (mmdebstrap uses the host's sources): an install simulated onto an empty
// system of what the variant holds (minbase: Essential, Priority required
// and apt) and the recipe's packages. The
// answer is kept per state of the apt lists, since apt takes seconds for it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runHostCommand } from '../guest/run-command';
import type { OsImageRecipe } from './recipes';

const APT_LISTS = '/var/lib/apt/lists';

/** What mmdebstrap's variants install before --include (mmdebstrap(1), VARIANTS), as apt patterns. */
const VARIANT_SETS: Record<OsImageRecipe['variant'], string[]> = {
  minbase: ['?essential', '?priority(required)', 'apt'],
};

/** Names, sizes and mtimes of the apt lists and sources: changes whenever `apt-get update` brings anything new. */
export function aptListsIdentity(): string {
  const hash = createHash('sha256');
  const files: string[] = [];
  if (existsSync(APT_LISTS)) files.push(...readdirSync(APT_LISTS).filter((f) => /Release$|_Packages/.test(f)).map((f) => join(APT_LISTS, f)));
  for (const dir of ['/etc/apt/sources.list.d', '/etc/apt/preferences.d']) {
    if (existsSync(dir)) files.push(...readdirSync(dir).map((f) => join(dir, f)));
  }
  for (const file of ['/etc/apt/sources.list', '/etc/apt/preferences']) if (existsSync(file)) files.push(file);
  for (const file of files.sort()) {
    const stat = statSync(file);
    hash.update(`${file} ${stat.size} ${Math.floor(stat.mtimeMs)}\n`);
  }
  return hash.digest('hex');
}

/** `Inst name (version …)` lines of `apt-get -s install` → sorted "name version". */
export function parseSimulatedInstall(output: string): string[] {
  const found = new Map<string, string>();
  for (const line of output.split('\n')) {
    const m = /^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) /.exec(line);
    if (m) found.set(m[1], m[2]);
  }
  return [...found].map(([name, version]) => `${name} ${version}`).sort();
}

export async function resolveImagePackages(recipe: OsImageRecipe, cacheDir: string): Promise<string[]> {
  const request = [...VARIANT_SETS[recipe.variant], ...recipe.include];
  const memoKey = createHash('sha256').update(`${aptListsIdentity()}\n${recipe.suite}\n${request.join(' ')}`).digest('hex').slice(0, 16);
  const memoDir = join(cacheDir, 'os-images', '.resolved');
  const memo = join(memoDir, `${memoKey}.txt`);
  if (existsSync(memo)) return readFileSync(memo, 'utf8').split('\n').filter(Boolean);
  const { stdout } = await runHostCommand('apt-get', [
    '-s',
    '-q',
    '-o',
    'Dir::State::status=/dev/null',
    '-o',
    'APT::Install-Recommends=false',
    '-o',
    'Debug::NoLocking=true',
    'install',
    ...request,
  ]);
  const packages = parseSimulatedInstall(stdout);
  if (!packages.some((p) => p.startsWith('apt '))) {
    throw new Error(`apt-get -s install ${request.join(' ')} resolved no apt package; run apt-get update (tools/setup)`);
  }
  mkdirSync(memoDir, { recursive: true });
  const partial = `${memo}.partial-${process.pid}`;
  writeFileSync(partial, `${packages.join('\n')}\n`);
  renameSync(partial, memo);
  return packages;
}
