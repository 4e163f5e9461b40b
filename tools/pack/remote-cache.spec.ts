// A shared Nx remote cache, proven on one machine: two git clones of one workspace (the packed
// plugins installed with nx, three labs) point at one self-hosted remote cache over Nx's HTTP
// protocol (tools/testing/nx-remote-cache.ts; NX_SELF_HOSTED_REMOTE_CACHE_SERVER and
// NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN, no Nx Cloud). Clone A runs gen-script and build-rom
// and uploads them; clone B gets both from the remote cache, byte for byte; no uploaded artefact
// names clone A's folder; a changed lab.json, or a new commit of the iPXE source, misses; a CHAP
// lab uploads nothing, and no artefact holds its secrets. Only gen-script and build-rom run: the
// stock-ROM lab needs Debian's iPXE ROMs, the "built" lab a stand-in iPXE tree whose Makefile
// writes the ROM from the embedded script (build-rom runs make as with upstream iPXE). No QEMU.
// Needs the npm registry (nx, zod, ...), git, make and Debian's stock ROMs; skips, saying why.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { stripVTControlCharacters } from 'node:util';
import { resolveSecretRefs } from '../../packages/script-gen/src/lib/secret-ref';
import { startRemoteCache, type CacheRequest, type RemoteCacheServer } from '../testing/nx-remote-cache';
import { createForeignWorkspace, foreignEnv, foreignWorkspaceAt, npmRegistryProblem, NX_DEVKIT_VERSION, NX_VERSION, type ForeignWorkspace } from './foreign-workspace';
import { packAll } from './pack-all';

const PACKAGES = ['cache', 'ibft', 'script-gen', 'ipxe-builder', 'lio-target', 'qemu-runner', 'lab'];
const STOCK_ROM = '/usr/lib/ipxe/qemu/pxe-rtl8139.rom';

function skipReason(): string | undefined {
  const registry = npmRegistryProblem();
  if (registry) return `npm cannot reach its registry (${registry})`;
  for (const tool of ['git', 'make']) {
    if (spawnSync(tool, ['--version']).status !== 0) return `${tool} is missing`;
  }
  if (!existsSync(STOCK_ROM)) return `${STOCK_ROM} is missing (tools/setup installs ipxe-qemu)`;
  return undefined;
}
const skip = skipReason();
if (skip) console.log(`remote cache test skipped: ${skip}`);
const itRuns = skip ? it.skip : it;
jest.setTimeout(180_000);

function git(cwd: string, ...args: string[]): string {
  const run = spawnSync('git', ['-c', 'user.name=ibft-lab test', '-c', 'user.email=test@ibft-lab.invalid', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z' },
  });
  if (run.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${run.stderr}`);
  return run.stdout.trim();
}

/**
 * A stand-in iPXE tree (what resolveSource accepts: src/Makefile, src/config/general.h) whose make
 * writes bin/<nic>.rom from the commit it is told and the embedded script: real make, real git
 * identity, deterministic bytes, two seconds instead of a 45 s iPXE build.
 */
function fakeIpxeTree(dir: string): void {
  mkdirSync(join(dir, 'src', 'config'), { recursive: true });
  writeFileSync(
    join(dir, 'src', 'Makefile'),
    ['bin/%.rom: $(EMBED)', '\tmkdir -p bin', "\t{ printf 'stand-in iPXE %s\\n' '$(GITVERSION)'; cat '$(EMBED)'; } > $@", ''].join('\n'),
  );
  writeFileSync(join(dir, 'src', 'config', 'general.h'), '/* stand-in */\n');
  git(dir, 'init', '-q');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'stand-in iPXE');
}

/** The files of a folder, recursively, by relative path. */
function filesOf(dir: string, prefix = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) for (const [k, v] of filesOf(dir, rel)) out.set(k, v);
    else out.set(rel, readFileSync(join(dir, rel)));
  }
  return out;
}

/** An uploaded artefact as Nx made it: a tar archive, gzip-compressed or not. */
function archiveBytes(entry: Buffer): Buffer {
  return entry[0] === 0x1f && entry[1] === 0x8b ? gunzipSync(entry) : entry;
}

/** How many requests of each method and status, e.g. { 'GET 404': 2, 'PUT 200': 2 }. */
const tally = (requests: CacheRequest[]) =>
  requests.reduce<Record<string, number>>((counts, r) => ({ ...counts, [`${r.method} ${r.status}`]: (counts[`${r.method} ${r.status}`] ?? 0) + 1 }), {});

const cacheTag = (output: string, project: string, target: string) =>
  new RegExp(`nx run ${project}:${target}\\s*\\[([a-z ,]+)\\]`).exec(stripVTControlCharacters(output))?.[1];

describe('two clones of a workspace sharing one self-hosted Nx remote cache', () => {
  let tmp: string;
  let cache: RemoteCacheServer;
  let a: ForeignWorkspace;
  let b: ForeignWorkspace;
  let secrets: string[];
  /** The requests one nx run made (the server's log since the last call). */
  let seen = 0;
  const newRequests = (): CacheRequest[] => {
    const fresh = cache.requests.slice(seen);
    seen = cache.requests.length;
    return fresh;
  };
  /** Generators: synchronous (they do not talk to the cache). */
  const nxSync = (workspace: ForeignWorkspace, ...args: string[]) => {
    const run = workspace.nx(...args);
    if (run.status !== 0) throw new Error(`nx ${args.join(' ')} in ${workspace.root} failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    return run.stdout + run.stderr;
  };
  /** Task runs: asynchronous, since the cache server answers from this very process. */
  const nx = async (workspace: ForeignWorkspace, ...args: string[]) => {
    const run = await workspace.nxLong(args, 150_000);
    if (run.status !== 0) {
      throw new Error(`nx ${args.join(' ')} in ${workspace.root} failed (${run.timedOut ? 'deadline' : run.status}):\n${run.stdout}\n${run.stderr}`);
    }
    return run.stdout + run.stderr;
  };

  beforeAll(async () => {
    if (skip) return;
    // realpath: the folder as the processes see it (tmpdir may be a symlink)
    tmp = realpathSync(mkdtempSync(join(tmpdir(), 'ibft-lab-remote-cache-')));
    cache = await startRemoteCache();
    const packed = packAll({ names: PACKAGES, outRoot: join(tmp, 'packages'), tarballDir: join(tmp, 'tarballs'), log: () => undefined });
    fakeIpxeTree(join(tmp, 'ipxe'));

    const env = foreignEnv({
      NX_SELF_HOSTED_REMOTE_CACHE_SERVER: cache.url,
      NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: cache.token,
    });
    // Each clone keeps its own image cache (.cache/ibft-lab in it), and no source comes from the caller.
    delete env.IBFT_LAB_CACHE;
    delete env.IPXE_SRC;
    // Clone A: nx and the tarballs (package.json records them as file:../tarballs/..., the same for
    // a clone beside it), the plugin, three labs; committed, then cloned as a teammate would.
    a = createForeignWorkspace(join(tmp, 'a'), [`nx@${NX_VERSION}`, `@nx/devkit@${NX_DEVKIT_VERSION}`, ...packed.map((p) => relative(join(tmp, 'a'), p.tarball))], env);
    a = foreignWorkspaceAt(a.root, { ...env, NX_CACHE_DIRECTORY: join(a.root, '.nx', 'cache') });
    nxSync(a, 'g', '@ibft-lab/lab:init', '--no-interactive');
    nxSync(a, 'g', '@ibft-lab/lab:lab', 'shared', '--no-interactive');
    nxSync(a, 'g', '@ibft-lab/lab:lab', 'built', '--no-interactive');
    nxSync(a, 'g', '@ibft-lab/lab:lab', 'secret', '--chap', 'mutual', '--no-interactive');
    const builtFile = join(a.root, 'labs', 'built', 'lab.json');
    const built = JSON.parse(readFileSync(builtFile, 'utf8'));
    // Relative to the workspace root: the same source for both clones, named the same way.
    built.firmware.source = { path: '../ipxe' };
    writeFileSync(builtFile, `${JSON.stringify(built, null, 2)}\n`);
    // The generator names the secrets by reference, in git-ignored files beside lab.json.
    const secretLab = join(a.root, 'labs', 'secret');
    const secret = JSON.parse(readFileSync(join(secretLab, 'lab.json'), 'utf8'));
    const chap = resolveSecretRefs(secret.chap, { baseDir: secretLab }) as { password: string; mutual: { password: string } };
    secrets = [chap.password, chap.mutual.password];
    expect(secrets.every((s) => /^[A-Za-z0-9._~+-]{16}$/.test(s))).toBe(true);
    writeFileSync(join(a.root, '.gitignore'), `${readFileSync(join(a.root, '.gitignore'), 'utf8')}node_modules\n.nx\n`);
    git(a.root, 'init', '-q');
    git(a.root, 'add', '-A');
    git(a.root, 'commit', '-q', '-m', 'workspace with three labs');
    git(tmp, 'clone', '-q', a.root, join(tmp, 'b'));
    // git left the secret files behind, as it should: clone B's user provides them.
    for (const file of ['chap-secret.txt', 'mutual-secret.txt']) copyFileSync(join(secretLab, file), join(tmp, 'b', 'labs', 'secret', file));
    // Nx 24 keeps one local cache per user for every checkout of a repository (~/.nx/<repo id>/cache,
    // the repo known by its remote or first commit): clones on one machine would share it. Each clone
    // gets a cache of its own, as two machines have.
    b = foreignWorkspaceAt(join(tmp, 'b'), { ...env, NX_CACHE_DIRECTORY: join(tmp, 'b', '.nx', 'cache') });
    const install = b.run('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline']);
    if (install.status !== 0) throw new Error(`npm ci in clone B failed:\n${install.stdout}\n${install.stderr}`);
  }, 600_000);

  afterAll(async () => {
    await a?.stopAll();
    await b?.stopAll();
    await cache?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  itRuns('clone A runs gen-script and build-rom of a lab and uploads both to the remote cache', async () => {
    newRequests();
    const output = await nx(a, 'run', 'shared:build-rom');
    expect(cacheTag(output, 'shared', 'gen-script')).toBeUndefined();
    expect(cacheTag(output, 'shared', 'build-rom')).toBeUndefined();
    const requests = newRequests();
    // Nx looks in the remote cache first (both miss), runs the tasks, and uploads each once.
    expect(tally(requests)).toEqual({ 'GET 404': 2, 'PUT 200': 2 });
    expect(new Set(requests.filter((r) => r.method === 'PUT').map((r) => r.hash)).size).toBe(2);
  });

  itRuns('clone B gets both from the remote cache, byte-identical to clone A outputs', async () => {
    const output = await nx(b, 'run', 'shared:build-rom');
    expect(cacheTag(output, 'shared', 'gen-script')).toBe('remote cache');
    expect(cacheTag(output, 'shared', 'build-rom')).toBe('remote cache');
    expect(tally(newRequests())).toEqual({ 'GET 200': 2 });
    const fromA = filesOf(join(a.root, 'dist', 'labs', 'shared'));
    const fromB = filesOf(join(b.root, 'dist', 'labs', 'shared'));
    expect([...fromB.keys()].sort()).toEqual([...fromA.keys()].sort());
    expect([...fromA.keys()]).toEqual(expect.arrayContaining(['boot.ipxe', 'firmware/manifest.json', 'firmware/pxe-rtl8139.rom']));
    for (const [file, bytes] of fromA) expect([file, fromB.get(file)?.equals(bytes)]).toEqual([file, true]);
  });

  itRuns('a ROM built from an iPXE source: clone B gets it from the remote cache; a new commit of the source misses build-rom only', async () => {
    await nx(a, 'run', 'built:build-rom');
    expect(tally(newRequests())).toEqual({ 'GET 404': 2, 'PUT 200': 2 });
    const manifestA = JSON.parse(readFileSync(join(a.root, 'dist', 'labs', 'built', 'firmware', 'manifest.json'), 'utf8'));
    expect(manifestA).toMatchObject({ mode: 'built', source: { kind: 'git' } });

    const fromRemote = await nx(b, 'run', 'built:build-rom');
    expect(cacheTag(fromRemote, 'built', 'build-rom')).toBe('remote cache');
    for (const file of ['boot.ipxe', 'firmware/manifest.json', 'firmware/rtl8139.rom']) {
      expect([file, readFileSync(join(b.root, 'dist', 'labs', 'built', file)).equals(readFileSync(join(a.root, 'dist', 'labs', 'built', file)))]).toEqual([file, true]);
    }
    newRequests();

    writeFileSync(join(tmp, 'ipxe', 'src', 'config', 'general.h'), '/* stand-in, second commit */\n');
    git(join(tmp, 'ipxe'), 'commit', '-q', '-am', 'second commit');
    const afterCommit = await nx(b, 'run', 'built:build-rom');
    // The script did not change: gen-script is B's own (local) copy now. The ROM must be rebuilt.
    expect(cacheTag(afterCommit, 'built', 'gen-script')).toMatch(/local cache|existing outputs match the cache/);
    expect(cacheTag(afterCommit, 'built', 'build-rom')).toBeUndefined();
    expect(tally(newRequests())).toEqual({ 'GET 404': 1, 'PUT 200': 1 });
    const manifestB = JSON.parse(readFileSync(join(b.root, 'dist', 'labs', 'built', 'firmware', 'manifest.json'), 'utf8'));
    expect(manifestB.source.commit).not.toBe(manifestA.source.commit);
  });

  itRuns('a changed lab.json misses the cache: both tasks run again in clone B and upload new entries', async () => {
    const file = join(b.root, 'labs', 'shared', 'lab.json');
    const lab = JSON.parse(readFileSync(file, 'utf8'));
    lab.initiator.iqn = 'iqn.2010-04.org.ipxe:shared-changed';
    writeFileSync(file, `${JSON.stringify(lab, null, 2)}\n`);
    const before = new Set(cache.entries.keys());
    const output = await nx(b, 'run', 'shared:build-rom');
    expect(cacheTag(output, 'shared', 'gen-script')).toBeUndefined();
    expect(cacheTag(output, 'shared', 'build-rom')).toBeUndefined();
    const requests = newRequests();
    // Nx uploads in the background while the next task runs: count, do not order.
    expect(tally(requests)).toEqual({ 'GET 404': 2, 'PUT 200': 2 });
    for (const r of requests) expect(before.has(r.hash)).toBe(false);
    expect(readFileSync(join(b.root, 'dist', 'labs', 'shared', 'boot.ipxe'), 'utf8')).toContain('shared-changed');
  });

  itRuns('a CHAP lab never reaches the remote cache: its tasks neither read nor upload, in either clone', async () => {
    for (const workspace of [a, b]) {
      await nx(workspace, 'run', 'secret:build-rom');
      expect(newRequests()).toEqual([]);
      // the script carries the secrets (iPXE sends them): that is why it stays out of the cache
      expect(readFileSync(join(workspace.root, 'dist', 'labs', 'secret', 'boot.ipxe'), 'utf8')).toContain(secrets[0]);
    }
  });

  itRuns('no uploaded artefact holds a path of clone A or a CHAP secret', () => {
    expect(cache.entries.size).toBeGreaterThanOrEqual(7);
    for (const [hash, entry] of cache.entries) {
      const bytes = archiveBytes(entry);
      // a tar archive: "ustar" at offset 257 of its first header
      expect([hash, bytes.subarray(257, 262).toString()]).toEqual([hash, 'ustar']);
      for (const needle of [a.root, ...secrets]) expect([hash, needle, bytes.includes(needle)]).toEqual([hash, needle, false]);
    }
  });
});
