// Packs ibft and script-gen for real (tools/pack), installs the tarballs with real `npm install`
// into a fresh folder outside the repo next to nx, and uses them from there: the library loads,
// the `ibft` and `ipxe-lint` bins run compiled JS, and Nx resolves the executors and generators
// from the installed executors.json/generators.json. Third-party dependencies (zod, @nx/devkit, nx)
// come from the npm registry; when npm cannot reach it, these tests skip and say so.
import { type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { WORKSPACE_ROOT } from './build-package';
import { createForeignWorkspace, npmRegistryProblem, NX_VERSION, type ForeignWorkspace } from './foreign-workspace';
import { packAll, type PackedPackage } from './pack-all';

const FIXTURE_DIR = join(WORKSPACE_ROOT, 'packages', 'ibft', 'test', 'fixtures', 'stock-ipxe-tgt');

const registryProblem = npmRegistryProblem();
if (registryProblem) console.log(`pack tests skipped: npm cannot reach its registry (${registryProblem})`);
const describeWithRegistry = registryProblem ? describe.skip : describe;

// npm install over the network on 2 shared cores.
jest.setTimeout(600_000);

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Files of a folder, recursively, relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? filesUnder(dir, rel) : [rel];
  });
}

describeWithRegistry('packed tarballs in a workspace outside the repo', () => {
  let tmp: string;
  let consumer: string;
  let workspace: ForeignWorkspace;
  let packed: PackedPackage[];
  const notes: string[] = [];

  /** Runs a command in the consumer folder, where only the installed tarballs are visible. */
  const inConsumer = (command: string, args: string[]): SpawnSyncReturns<string> => workspace.run(command, args);
  const nx = (...args: string[]) => workspace.nx(...args);

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'ibft-lab-pack-'));
    packed = packAll({
      names: ['ibft', 'script-gen'],
      outRoot: join(tmp, 'packages'),
      tarballDir: join(tmp, 'tarballs'),
      log: (line) => notes.push(line),
    });

    consumer = join(tmp, 'consumer');
    workspace = createForeignWorkspace(consumer, [`nx@${NX_VERSION}`, ...packed.map((pkg) => pkg.tarball)]);
  });

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('packs one tarball per package, named by npm from the package name and version', () => {
    expect(packed.map((pkg) => basename(pkg.tarball))).toEqual(packed.map((pkg) => `ibft-lab-${pkg.name}-${pkg.version}.tgz`));
  });

  it('packs the same bytes twice', () => {
    const [again] = packAll({ names: ['ibft'], outRoot: join(tmp, 'again', 'packages'), tarballDir: join(tmp, 'again', 'tarballs') });
    expect(sha256(again.tarball)).toBe(sha256(packed[0].tarball));
  });

  it('installs compiled JavaScript only, with main/types and dependencies for npm', () => {
    const installed = join(consumer, 'node_modules', '@ibft-lab', 'script-gen');
    const files = filesUnder(installed);
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    expect(files).toEqual(
      expect.arrayContaining([
        'README.md',
        'executors.json',
        'generators.json',
        'bin/ipxe-lint.js',
        'src/index.js',
        'src/index.d.ts',
        'src/executors/gen-script/executor.js',
        'src/executors/gen-script/schema.json',
        'src/generators/script/schema.json',
      ]),
    );
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({
      main: './src/index.js',
      types: './src/index.d.ts',
      bin: { 'ipxe-lint': './bin/ipxe-lint.js' },
      // The source manifest's exports name the TypeScript; the packed one the compiled files.
      exports: {
        '.': { types: './src/index.d.ts', default: './src/index.js' },
        './executors.json': './executors.json',
        './generators.json': './generators.json',
        './package.json': './package.json',
      },
      files: expect.arrayContaining(['src', 'bin', 'executors.json', 'generators.json']),
      license: 'MIT',
      engines: { node: '>=20.19' },
      repository: { type: 'git', directory: 'packages/script-gen' },
    });
    // The generator requires @nx/devkit at run time: a peer (the workspace's own Nx), never a copy of its own.
    expect(Object.keys(manifest.dependencies)).toEqual(['zod']);
    expect(manifest.peerDependencies).toEqual({ '@nx/devkit': '>=24 <25', nx: '>=24 <25' });
    // Every package declares what its compiled code requires: the build had nothing to fill in.
    expect(notes).toEqual([]);
  });

  it.each(['@ibft-lab/ibft', '@ibft-lab/script-gen'])('node -e "require(\'%s\')" works', (name) => {
    const run = inConsumer(process.execPath, ['-e', `const m = require(${JSON.stringify(name)}); if (!Object.keys(m).length) process.exit(3);`]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('the installed ibft bin decodes the stock iPXE fixture to the sysfs lines Linux showed', () => {
    const run = inConsumer(join(consumer, 'node_modules', '.bin', 'ibft'), ['decode', join(FIXTURE_DIR, 'ibft.bin'), '--format', 'sysfs']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const expected = readFileSync(join(FIXTURE_DIR, 'sysfs.txt'), 'utf8').split('\n').filter(Boolean);
    expect(run.stdout.split('\n').filter(Boolean).sort()).toEqual([...expected].sort());
  });

  it('the installed ipxe-lint bin lints a script', () => {
    writeFileSync(join(consumer, 'good.ipxe'), '#!ipxe\necho hello\n');
    writeFileSync(join(consumer, 'bad.ipxe'), 'echo hello\n');
    const bin = join(consumer, 'node_modules', '.bin', 'ipxe-lint');
    expect(inConsumer(bin, ['good.ipxe']).status).toBe(0);
    const bad = inConsumer(bin, ['bad.ipxe']);
    expect(bad.status).toBe(1);
    expect(bad.stdout + bad.stderr).toContain('bad.ipxe:1:1');
  });

  it('Nx resolves every executor and generator of the installed script-gen to a function', () => {
    // Runs in the consumer so that nx and the plugin come from its node_modules. Both the plain
    // require of each executors.json path and Nx's own resolution (what `nx run` calls).
    const probe = `
      const path = require('node:path');
      const { getExecutorInformation } = require('nx/src/command-line/run/executor-utils');
      const { getGeneratorInformation } = require('nx/src/command-line/generate/generator-utils');
      const plugin = '@ibft-lab/script-gen';
      const pluginDir = path.dirname(require.resolve(plugin + '/package.json'));
      const out = {};
      const { executors } = require(plugin + '/executors.json');
      for (const [name, entry] of Object.entries(executors)) {
        const mod = require(path.join(pluginDir, entry.implementation));
        const info = getExecutorInformation(plugin, name, process.cwd(), {});
        out['executor ' + name] = [typeof (mod.default ?? mod), typeof info.implementationFactory(), typeof info.schema.properties];
      }
      const { generators } = require(plugin + '/generators.json');
      for (const [name, entry] of Object.entries(generators)) {
        const mod = require(path.join(pluginDir, entry.factory));
        const info = getGeneratorInformation(plugin, name, process.cwd(), {});
        out['generator ' + name] = [typeof (mod.default ?? mod), typeof info.implementationFactory(), typeof info.schema.properties];
      }
      console.log(JSON.stringify(out));
    `;
    const run = inConsumer(process.execPath, ['-e', probe]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      'executor gen-script': ['function', 'function', 'object'],
      'executor lint': ['function', 'function', 'object'],
      'generator script': ['function', 'function', 'object'],
    });
  });

  it('nx g @ibft-lab/script-gen:script adds a gen-script target, and nx run executes the installed executor', () => {
    mkdirSync(join(consumer, 'labs', 'demo'), { recursive: true });
    const projectFile = join(consumer, 'labs', 'demo', 'project.json');
    writeFileSync(projectFile, `${JSON.stringify({ name: 'demo', root: 'labs/demo', targets: {} }, null, 2)}\n`);

    const generate = nx('g', '@ibft-lab/script-gen:script', '--project', 'demo', '--no-interactive');
    expect(generate.stderr).toBe('');
    expect(generate.status).toBe(0);
    const project = JSON.parse(readFileSync(projectFile, 'utf8'));
    expect(project.targets['gen-script'].executor).toBe('@ibft-lab/script-gen:gen-script');

    // Run the generated target's options through a project that names no workspace project of
    // ours: the generator also adds `implicitDependencies: ["script-gen"]`, a project that only
    // exists in the ibft-lab monorepo (reported to script-gen's owner).
    writeFileSync(projectFile, `${JSON.stringify({ ...project, implicitDependencies: undefined }, null, 2)}\n`);
    const run = nx('run', 'demo:gen-script');
    expect(run.status).toBe(0);
    const script = readFileSync(join(consumer, 'dist', 'labs', 'demo', 'boot.ipxe'), 'utf8');
    expect(script.startsWith('#!ipxe\n')).toBe(true);
    expect(script).toContain('sanhook iscsi:');
  });
});
