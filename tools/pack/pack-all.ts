// `npm run pack`: builds every package under packages/ (tools/pack/build-package.ts) and packs each
// built folder with `npm pack` into dist/tarballs. Prints one tarball path a line, relative to the
// workspace root, so the output is the same on every machine and every run.
//
// Usage: npm run pack [-- <package folder name>...]
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { buildPackages, WORKSPACE_ROOT, workspacePackages, type BuildOptions, type BuiltPackage } from './build-package';

export interface PackOptions extends BuildOptions {
  /** Package folder names under packages/; default: every one with a package.json. */
  names?: string[];
  /** Where the .tgz files go; default <workspaceRoot>/dist/tarballs. */
  tarballDir?: string;
}

export interface PackedPackage extends BuiltPackage {
  /** Absolute path of the tarball. */
  tarball: string;
}

/** Runs `npm pack` in a built package folder; returns the tarball's absolute path. */
export function npmPack(pkg: BuiltPackage, tarballDir: string): string {
  mkdirSync(tarballDir, { recursive: true });
  // --ignore-scripts: a built folder has nothing to prepare, and packing must not run code.
  const run = spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tarballDir], {
    cwd: pkg.outDir,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`npm pack failed for ${pkg.packageName}:\n${run.stderr}`);
  const [result] = JSON.parse(run.stdout) as { filename: string }[];
  return join(tarballDir, result.filename);
}

export function packAll(options: PackOptions = {}): PackedPackage[] {
  const workspaceRoot = options.workspaceRoot ?? WORKSPACE_ROOT;
  const names = options.names ?? [...workspacePackages(workspaceRoot).keys()];
  const tarballDir = options.tarballDir ?? join(workspaceRoot, 'dist', 'tarballs');
  return buildPackages(names, options).map((pkg) => ({ ...pkg, tarball: npmPack(pkg, tarballDir) }));
}

if (require.main === module) {
  try {
    const names = process.argv.slice(2);
    for (const pkg of packAll({ names: names.length ? names : undefined })) {
      console.log(relative(WORKSPACE_ROOT, pkg.tarball).split(sep).join('/'));
    }
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
