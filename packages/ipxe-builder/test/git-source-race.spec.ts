// Several builds of labs that name different refs of one source.git URL share
// one bare repository in the cache. Real processes fetch into it at once, and
// each must get the commit of its own ref, never a neighbour's.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir, toyIpxeTree } from '../src/testing/fixtures';

jest.setTimeout(120_000);

const root = resolve(__dirname, '..', '..', '..');
const BRANCHES = ['b0', 'b1', 'b2', 'b3'];
// Two processes per ref: the same ref is also updated by two at once.
const FETCHERS = [...BRANCHES, ...BRANCHES];
const ROUNDS = 2;

// Each child loads the code, says so, and waits for the start file: all of them reach the
// first use of the empty cache together (node's start-up alone spreads them over seconds).
function resolveInChild(url: string, ref: string, cacheDir: string, startFile: string, loaded: () => void): Promise<string[]> {
  const program = `
    const { existsSync } = require('node:fs');
    const { resolveGitSource } = require(${JSON.stringify(join(root, 'packages/ipxe-builder/src/lib/source.ts'))});
    process.stderr.write('loaded\\n');
    const giveUp = Date.now() + 60000;
    while (!existsSync(${JSON.stringify(startFile)}) && Date.now() < giveUp) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    const out = [];
    for (let i = 0; i < ${ROUNDS}; i++) {
      const r = resolveGitSource(process.argv[1], process.argv[2], process.argv[3]);
      out.push(r.status === 'found' ? r.source.identity.commit : 'unavailable: ' + r.reason);
    }
    console.log(JSON.stringify(out));`;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['-r', join(root, 'tools/register-ts.js'), '-e', program, url, ref, cacheDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    let saidLoaded = false;
    const sayLoaded = () => {
      if (!saidLoaded) loaded();
      saidLoaded = true;
    };
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes('loaded\n')) sayLoaded();
    });
    child.on('error', fail);
    // A child that died before loading must not keep the others waiting.
    child.on('close', (code) => (sayLoaded(), code === 0 ? done(JSON.parse(stdout.trim().split('\n').pop()!)) : fail(new Error(`child exited ${code}: ${stderr}`))));
  });
}

describe('source.git fetched by several processes at once', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('gives each process the commit of its own ref (no shared FETCH_HEAD between fetches)', async () => {
    const upstream = join(dir.path, 'upstream');
    toyIpxeTree(upstream);
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: upstream, encoding: 'utf8' }).trim();
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'toy');
    const expected: Record<string, string> = {};
    for (const branch of BRANCHES) {
      git('checkout', '-q', '-b', branch, 'HEAD');
      git('commit', '-q', '--allow-empty', '-m', branch);
      expected[branch] = git('rev-parse', 'HEAD');
    }
    const cacheDir = join(dir.path, 'cache');
    // allSettled: every child has ended before the temp folder is removed.
    const startFile = join(dir.path, 'start');
    let loaded = 0;
    const onLoaded = () => {
      if (++loaded === FETCHERS.length) writeFileSync(startFile, '');
    };
    const settled = await Promise.allSettled(FETCHERS.map((branch) => resolveInChild(upstream, branch, cacheDir, startFile, onLoaded)));
    const got = settled.map((s) => (s.status === 'fulfilled' ? s.value : String(s.reason).split('\n').slice(0, 6).join('\n')));
    expect(FETCHERS.map((b, i) => [b, got[i]])).toEqual(FETCHERS.map((b) => [b, Array(ROUNDS).fill(expected[b])]));
    // The per-fetch landing refs are gone; what stays is one remembered ref per ref name.
    const refs = execFileSync('git', ['--git-dir', join(cacheDir, 'git', readdirSync(join(cacheDir, 'git'))[0]), 'for-each-ref', '--format=%(refname)'], { encoding: 'utf8' }).trim().split('\n');
    expect(refs.filter((r) => r.startsWith('refs/ibft-lab/fetch/'))).toEqual([]);
    expect(refs).toHaveLength(BRANCHES.length);
  });
});
