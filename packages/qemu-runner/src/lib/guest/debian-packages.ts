// Debian packages for guest images, fetched with the host's apt (its package
// lists are present; `apt-get download` needs no root and installs nothing).
// Every .deb is kept in the cache under its own file name (name_version_arch),
// so a second call downloads nothing.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withFileLock } from '@ibft-lab/cache';
import { aptAnswer } from './apt-answers';
import { runHostCommand } from './run-command';

export interface DownloadDebianPackagesOptions {
  /** Cache root; .deb files go to `<cacheDir>/debs`. */
  cacheDir: string;
  /** Also fetch the Depends/PreDepends closure (no Recommends/Suggests). */
  closure: boolean;
  /** Package names to leave out of the closure (e.g. an alternative we do not want). */
  exclude?: string[];
  /** Told when this run waits for another that is downloading. */
  log?: (line: string) => void;
}

/** The names of `names` plus everything they depend on (apt-cache depends --recurse). */
export async function debianDependencyClosure(names: string[], exclude: string[] = []): Promise<string[]> {
  const { stdout } = await runHostCommand('apt-cache', [
    'depends',
    '--recurse',
    '--no-recommends',
    '--no-suggests',
    '--no-conflicts',
    '--no-breaks',
    '--no-replaces',
    '--no-enhances',
    ...names,
  ]);
  const skip = new Set(exclude);
  // Lines at column 0 are package names; virtual packages print as <name>,
  // foreign-architecture ones carry a ':' suffix. Neither is downloadable.
  const all = stdout
    .split('\n')
    .filter((line) => /^[a-z0-9]/.test(line) && !line.includes(':'))
    .map((line) => line.trim());
  return [...new Set(all)].filter((name) => !skip.has(name)).sort();
}

/** The .deb file names apt would download for `names`, without downloading. */
async function plannedDebFiles(names: string[]): Promise<string[]> {
  const { stdout } = await runHostCommand('apt-get', ['download', '--print-uris', ...names]);
  // Each line: 'URI' file_name size SHA256:...
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[1])
    .filter((file): file is string => Boolean(file && file.endsWith('.deb')));
}

/** Downloads `names` (and their closure when asked) into the cache; returns the .deb paths. */
export async function downloadDebianPackages(names: string[], options: DownloadDebianPackagesOptions): Promise<string[]> {
  if (names.length === 0) return [];
  const debDir = join(options.cacheDir, 'debs');
  mkdirSync(debDir, { recursive: true });
  // The .deb file names apt would fetch: resolved once per apt state (apt-answers.ts).
  const { wanted, files } = await aptAnswer(
    options.cacheDir,
    { debs: names, closure: options.closure, exclude: options.exclude ?? [] },
    async () => {
      const wanted = options.closure
        ? await debianDependencyClosure(names, options.exclude)
        : names.filter((name) => !(options.exclude ?? []).includes(name));
      return { wanted, files: await plannedDebFiles(wanted) };
    },
  );
  const absentFrom = () => files.filter((file) => !existsSync(join(debDir, file)));
  if (absentFrom().length > 0) {
    // One download at a time: a parallel run that needs the same packages waits, then finds them here.
    await withFileLock(
      join(debDir, '.download.lock'),
      async () => {
        const missing = absentFrom();
        if (missing.length === 0) return;
        // apt-get download names files after the package; download into a private
        // folder and move each file in, so no run ever sees a partial .deb.
        // Only the lock holder downloads: a .download-* folder here is a killed run's.
        for (const name of readdirSync(debDir)) if (name.startsWith('.download-')) rmSync(join(debDir, name), { recursive: true, force: true });
        const staging = mkdtempSync(join(debDir, '.download-'));
        try {
          const missingNames = missing.map((file) => decodeURIComponent(file.split('_')[0]));
          options.log?.(`downloading ${missingNames.length} Debian package(s): ${missingNames.slice(0, 3).join(', ')}${missingNames.length > 3 ? ', …' : ''}`);
          await runHostCommand('apt-get', ['download', '-q', ...missingNames], { cwd: staging });
          for (const file of readdirSync(staging)) {
            if (file.endsWith('.deb')) renameSync(join(staging, file), join(debDir, file));
          }
        } finally {
          rmSync(staging, { recursive: true, force: true });
        }
      },
      { what: `downloading ${wanted.length} Debian package(s) into ${debDir}`, log: options.log },
    );
  }
  const paths = files.map((file) => join(debDir, file));
  const absent = paths.filter((path) => !existsSync(path));
  if (absent.length) throw new Error(`apt-get download did not produce ${absent.join(', ')}`);
  return paths;
}
