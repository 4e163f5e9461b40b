// What a registry user gets from each packages/*/package.json (fast: no build, no network): the
// fields npm and Nx read, the supported Nx range, and our own packages declared as dependencies
// with their versions, so `nx add @ibft-lab/lab` installs every package the lab targets use.
// tools/pack/build-package.ts rewrites main/types/exports to the compiled files; pack.spec.ts and
// registry.spec.ts check the packed manifests.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_ROOT, workspaceDependencies, workspacePackages } from './build-package';

// semver comes with nx; its types are not installed.
const semver = require('semver') as { satisfies(version: string, range: string): boolean };

const all = workspacePackages();
const NX_RANGE = '>=24 <25';
/** Packages with executors, generators or a plugin: they run inside Nx. ibft and cache are plain libraries. */
const NX_PLUGINS = ['ipxe-builder', 'lab', 'lio-target', 'qemu-runner', 'script-gen'];

describe('packages/*/package.json', () => {
  it('lists the seven packages', () => {
    expect([...all.keys()]).toEqual(['cache', 'ibft', 'ipxe-builder', 'lab', 'lio-target', 'qemu-runner', 'script-gen']);
  });

  it.each([...all.keys()])('%s carries license, repository, engines, publishConfig', (name) => {
    const { manifest } = all.get(name)!;
    expect(manifest.name).toBe(`@ibft-lab/${name}`);
    expect(manifest.license).toBe('MIT');
    expect(manifest.repository).toEqual({ type: 'git', url: expect.stringMatching(/^git\+https:\/\/.+\.git$/), directory: `packages/${name}` });
    expect(manifest.engines).toEqual({ node: '>=20.19' });
    expect(manifest.publishConfig).toEqual({ access: 'public' });
    expect(semver.satisfies(process.versions.node, (manifest.engines as { node: string }).node)).toBe(true);
  });

  it.each([...all.keys()])('%s: files and exports name what is there, ./package.json exported', (name) => {
    const { manifest, dir } = all.get(name)!;
    const exportsField = manifest.exports as Record<string, unknown>;
    expect(exportsField['.']).toEqual({ types: manifest.types, default: manifest.main });
    expect(exportsField['./package.json']).toBe('./package.json');
    for (const collection of [manifest.executors, manifest.generators].filter(Boolean) as string[]) {
      expect(exportsField[collection]).toBe(collection);
      expect(manifest.files).toContain(collection.replace(/^\.\//, ''));
    }
    for (const entry of manifest.files as string[]) {
      if (!entry.startsWith('!')) expect([entry, existsSync(join(dir, entry))]).toEqual([entry, true]);
    }
    for (const bin of Object.values((manifest.bin ?? {}) as Record<string, string>)) {
      expect(manifest.files).toContain(bin.split('/')[1]);
    }
  });

  it('@ibft-lab/lab exports ./plugin, the name nx.json registers', () => {
    const { manifest } = all.get('lab')!;
    expect((manifest.exports as Record<string, unknown>)['./plugin']).toEqual({ types: './src/plugins/plugin.ts', default: './plugin.js' });
    expect(manifest.files).toContain('plugin.js');
  });

  it.each(NX_PLUGINS)('%s has nx and @nx/devkit as peers with the supported range, which the installed Nx satisfies', (name) => {
    const { manifest } = all.get(name)!;
    expect(manifest.peerDependencies).toEqual({ '@nx/devkit': NX_RANGE, nx: NX_RANGE });
    expect(semver.satisfies(require('nx/package.json').version, NX_RANGE)).toBe(true);
    expect(semver.satisfies(require('@nx/devkit/package.json').version, NX_RANGE)).toBe(true);
  });

  it.each(['cache', 'ibft'])('%s needs no Nx', (name) => {
    expect(all.get(name)!.manifest.peerDependencies).toBeUndefined();
  });

  it.each([...all.keys()])('%s declares every workspace package its sources import, at that package version', (name) => {
    const pkg = all.get(name)!;
    for (const dep of workspaceDependencies(pkg, all)) {
      const depManifest = all.get(dep)!.manifest;
      expect([depManifest.name, pkg.manifest.dependencies?.[depManifest.name]]).toEqual([depManifest.name, depManifest.version]);
    }
  });

  it('@ibft-lab/lab depends on all six others, so installing it installs every executor its targets use', () => {
    const { manifest } = all.get('lab')!;
    const others = [...all.values()].filter((p) => p.name !== 'lab');
    expect(Object.fromEntries(others.map((p) => [p.manifest.name, manifest.dependencies?.[p.manifest.name]]))).toEqual(
      Object.fromEntries(others.map((p) => [p.manifest.name, p.manifest.version])),
    );
  });

  it('one version for all (nx release: one fixed group), as nx.json says', () => {
    expect(new Set([...all.values()].map((p) => p.manifest.version)).size).toBe(1);
    const release = require(join(WORKSPACE_ROOT, 'nx.json')).release;
    expect(release).toMatchObject({ projects: ['packages/*'], projectsRelationship: 'fixed' });
  });
});
