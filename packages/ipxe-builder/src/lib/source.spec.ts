import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitInit, tempDir, toyIpxeTree, writeFiles } from '../testing/fixtures';
import { identityString, ipxeCacheDir, resolveGitSource, resolveSource } from './source';

function found(r: ReturnType<typeof resolveSource>) {
  if (r.status !== 'found') throw new Error(`expected a source, got: ${r.reason}`);
  return r.source;
}

describe('resolveSource', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('identifies a clean git checkout by its commit and uses the commit time as SOURCE_DATE_EPOCH', () => {
    const repo = join(dir.path, 'ipxe');
    toyIpxeTree(repo);
    const commit = gitInit(repo, '2024-01-02T03:04:05Z');
    const src = found(resolveSource({ source: { path: repo }, workspaceRoot: dir.path, env: {} }));
    expect(src.identity).toEqual({ kind: 'git', commit });
    expect(src.sourceDateEpoch).toBe(Date.parse('2024-01-02T03:04:05Z') / 1000);
    expect(identityString(src.identity)).toBe(`git:${commit}`);
  });

  it('marks a checkout with local edits, untracked files or config/local headers as dirty, by content', () => {
    const repo = join(dir.path, 'ipxe');
    toyIpxeTree(repo);
    const commit = gitInit(repo);
    const id = () => found(resolveSource({ source: { path: repo }, workspaceRoot: dir.path, env: {} })).identity;
    writeFileSync(join(repo, 'src/config/general.h'), '#define BANNER_TIMEOUT 5\n');
    const edited = id();
    expect(edited).toMatchObject({ kind: 'git', commit, dirty: expect.stringMatching(/^[0-9a-f]{16}$/) });
    writeFileSync(join(repo, 'src/config/general.h'), '#define BANNER_TIMEOUT 6\n');
    expect(id()).not.toEqual(edited);
    execFileSync('git', ['checkout', '-q', '--', 'src'], { cwd: repo });
    expect(id()).toEqual({ kind: 'git', commit });
    writeFiles(repo, { 'src/config/local/general.h': '#undef BANNER_TIMEOUT\n' }); // ignored by git, still an input
    expect(id()).toMatchObject({ dirty: expect.any(String) });
  });

  it('ignores build products (src/bin) in identity', () => {
    const repo = join(dir.path, 'ipxe');
    toyIpxeTree(repo);
    const plain = found(resolveSource({ source: { path: repo }, workspaceRoot: dir.path, env: {} })).identity;
    writeFiles(repo, { 'src/bin/rtl8139.rom': 'built', 'src/.toolcheck': 'x', 'src/config/local/general.h': '' });
    expect(found(resolveSource({ source: { path: repo }, workspaceRoot: dir.path, env: {} })).identity).toEqual(plain);
  });

  it('identifies a plain tree (no .git) by a sha256 over its src/ files, even inside another git repo', () => {
    gitInit(dir.path); // the workspace is a git repo; the tree inside it is not its own checkout
    const tree = join(dir.path, 'vendor', 'ipxe');
    toyIpxeTree(tree);
    const a = found(resolveSource({ source: { path: 'vendor/ipxe' }, workspaceRoot: dir.path, env: {} }));
    expect(a.identity).toMatchObject({ kind: 'tree', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(a.sourceDateEpoch).toBe(0);
    // the src/ folder itself is accepted too
    expect(found(resolveSource({ source: { path: join(tree, 'src') }, workspaceRoot: dir.path, env: {} })).identity).toEqual(a.identity);
    writeFiles(tree, { 'src/drivers/new.c': 'int x;\n' });
    expect(found(resolveSource({ source: { path: tree }, workspaceRoot: dir.path, env: {} })).identity).not.toEqual(a.identity);
  });

  it('copies exactly the source files into a build tree', () => {
    const repo = join(dir.path, 'ipxe');
    toyIpxeTree(repo, { 'src/util/x.pl': '#!/usr/bin/perl\n' });
    gitInit(repo);
    writeFiles(repo, { 'src/bin/stale.o': 'x', 'src/new.c': 'new' });
    const src = found(resolveSource({ source: { path: repo }, workspaceRoot: dir.path, env: {} }));
    src.populate(join(dir.path, 'tree'));
    expect(existsSync(join(dir.path, 'tree/src/Makefile'))).toBe(true);
    expect(existsSync(join(dir.path, 'tree/src/new.c'))).toBe(true);
    expect(existsSync(join(dir.path, 'tree/src/bin'))).toBe(false);
    expect(existsSync(join(dir.path, 'tree/.git'))).toBe(false);
  });

  it('lets IPXE_SRC override source.path and source.git', () => {
    const a = join(dir.path, 'a');
    toyIpxeTree(a);
    const r = found(resolveSource({ source: { path: 'nowhere' }, workspaceRoot: dir.path, env: { IPXE_SRC: a } }));
    expect(r.origin).toBe('IPXE_SRC');
  });

  it('reports what is wrong when there is no usable source', () => {
    expect(resolveSource({ workspaceRoot: dir.path, env: {} })).toEqual({ status: 'unavailable', code: 'no-source', reason: 'no iPXE source configured' });
    expect(resolveSource({ source: { path: 'missing' }, workspaceRoot: dir.path, env: {} })).toMatchObject({
      code: 'path-missing',
      reason: 'source.path missing does not exist or is not a directory',
    });
    expect(resolveSource({ workspaceRoot: dir.path, env: { IPXE_SRC: dir.path } })).toMatchObject({
      reason: expect.stringMatching(/^IPXE_SRC .* is not an iPXE tree/),
    });
  });

  it('fetches source.git into the cache keyed by commit, and works offline once the commit is cached', () => {
    const upstream = join(dir.path, 'upstream');
    toyIpxeTree(upstream);
    const commit = gitInit(upstream);
    const workspace = join(dir.path, 'ws');
    const env = {};
    const r = found(resolveSource({ source: { git: { url: upstream, ref: 'HEAD' } }, workspaceRoot: workspace, env }));
    expect(r.identity).toEqual({ kind: 'git', commit });
    expect(r.origin).toBe('source.git');
    expect(ipxeCacheDir(workspace, env)).toBe(join(workspace, '.cache/ibft-lab/ipxe'));
    r.populate(join(dir.path, 'tree'));
    expect(readFileSync(join(dir.path, 'tree/src/config/general.h'), 'utf8')).toContain('BANNER_TIMEOUT');

    // the upstream disappears (offline): a commit ref still resolves from the cache, a branch ref from the last fetch
    execFileSync('mv', [upstream, `${upstream}.gone`]);
    const cache = ipxeCacheDir(workspace, env);
    expect(resolveGitSource(upstream, commit, cache)).toMatchObject({ status: 'found', source: { identity: { commit } } });
    const warnings: string[] = [];
    expect(resolveGitSource(upstream, 'HEAD', cache, (l) => warnings.push(l))).toMatchObject({ status: 'found' });
    expect(warnings.join('\n')).toMatch(/could not fetch .* using the commit it had last time/);
    expect(resolveGitSource(upstream, 'v9.9', cache)).toMatchObject({
      status: 'unavailable',
      reason: expect.stringMatching(/^could not fetch source.git/),
    });
  });

  it('puts the cache under IBFT_LAB_CACHE when set', () => {
    expect(ipxeCacheDir('/ws', { IBFT_LAB_CACHE: '/c' })).toBe('/c/ipxe');
  });
});
