// Where the iPXE source comes from and what identifies it. Order: the
// IPXE_SRC environment variable, then source.path, then source.git (cloned or
// fetched into the workspace cache). The identity (a commit, a commit plus a
// hash of local changes, or a hash of a plain tree's src/ files) keys the
// build trees and goes into the manifest, so equal identities mean equal
// sources.
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

export type SourceOption = { path: string } | { git: { url: string; ref: string } };

export type SourceIdentity =
  | { kind: 'git'; commit: string; /** hash of uncommitted changes and config/local headers */ dirty?: string }
  | { kind: 'tree'; sha256: string };

export interface ResolvedSource {
  origin: 'IPXE_SRC' | 'source.path' | 'source.git';
  /** Human description for logs (may hold a local path; never goes into the manifest). */
  location: string;
  identity: SourceIdentity;
  /** SOURCE_DATE_EPOCH for the build: the commit's committer time, or 0 for a plain tree. */
  sourceDateEpoch: number;
  /** Copies the source's src/ tree into `<dest>/src`. */
  populate(dest: string): void;
}

/** Why there is no source, as a stable code (goes into the manifest; `reason` may hold local paths). */
export type UnavailableCode = 'no-source' | 'path-missing' | 'not-ipxe-tree' | 'git-unavailable';

export type SourceResolution =
  | { status: 'found'; source: ResolvedSource }
  | { status: 'unavailable'; code: UnavailableCode; reason: string };

export interface ResolveSourceOptions {
  source?: SourceOption;
  workspaceRoot: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export function identityString(id: SourceIdentity): string {
  return id.kind === 'git' ? `git:${id.commit}${id.dirty ? `+dirty.${id.dirty}` : ''}` : `tree:sha256:${id.sha256}`;
}

/** The workspace cache shared by ibft-lab tools: $IBFT_LAB_CACHE or <workspaceRoot>/.cache/ibft-lab. */
export function cacheRoot(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.IBFT_LAB_CACHE ? resolve(env.IBFT_LAB_CACHE) : join(workspaceRoot, '.cache', 'ibft-lab');
}

export function ipxeCacheDir(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(workspaceRoot, env), 'ipxe');
}

export const HOW_TO_PROVIDE_SOURCE =
  'Provide an iPXE source: set IPXE_SRC=/path/to/ipxe (a checkout or plain tree), or build-rom option ' +
  'source.path, or source.git { url, ref } (e.g. { "url": "https://github.com/ipxe/ipxe.git", "ref": "master" }); ' +
  'or set fallback: "stock" to use the distro\'s stock ROM with the script over TFTP.';

function git(args: string[], cwd?: string, raw = false): string {
  const out = execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
    maxBuffer: 256 * 1024 * 1024,
  });
  return raw ? out : out.trim();
}

function gitOk(args: string[], cwd?: string): boolean {
  return spawnSync('git', args, { cwd, stdio: 'ignore' }).status === 0;
}

/** Accepts a repository root (with src/Makefile) or its src/ folder; returns the root. */
function ipxeRootOf(path: string): string | undefined {
  if (existsSync(join(path, 'src', 'Makefile')) && existsSync(join(path, 'src', 'config', 'general.h'))) return path;
  if (existsSync(join(path, 'Makefile')) && existsSync(join(path, 'config', 'general.h'))) return dirname(path);
  return undefined;
}

// Build products and editor files that iPXE's make writes into src/; never source.
function isBuildProduct(relFromSrc: string): boolean {
  const top = relFromSrc.split('/')[0];
  return top === 'bin' || top.startsWith('bin-') || top === '.toolcheck' || top === '.echocheck' || top.startsWith('TAGS');
}

// iPXE's make creates empty config/local/*.h files on its first build: an
// empty local header is the same as none.
function isEmptyLocalConfig(root: string, rel: string): boolean {
  return /(^|\/)config\/local\/[^/]+\.h$/.test(rel) && statSync(join(root, rel)).size === 0;
}

function walkFiles(root: string, dir: string, out: string[]): void {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (isBuildProduct(rel)) continue;
    if (isEmptyLocalConfig(root, rel)) continue;
    if (entry.isDirectory()) walkFiles(root, rel, out);
    else if (entry.isFile() || entry.isSymbolicLink()) out.push(rel);
  }
}

function hashFiles(base: string, rels: string[]): string {
  const hash = createHash('sha256');
  for (const rel of [...rels].sort()) {
    const file = join(base, rel);
    const st = lstatSync(file, { throwIfNoEntry: false });
    hash.update(`${rel}\0`);
    if (!st) hash.update('deleted\0');
    else if (st.isSymbolicLink()) hash.update(`link\0${readlinkSync(file)}\0`);
    else {
      hash.update(`${st.mode & 0o111 ? 'x' : '-'}\0${st.size}\0`);
      hash.update(readFileSync(file));
    }
  }
  return hash.digest('hex');
}

function copyFiles(base: string, rels: string[], dest: string): void {
  for (const rel of rels) {
    const from = join(base, rel);
    const to = join(dest, rel);
    const st = lstatSync(from, { throwIfNoEntry: false });
    if (!st) continue; // tracked but deleted in the working tree
    mkdirSync(dirname(to), { recursive: true });
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else {
      copyFileSync(from, to);
      chmodSync(to, st.mode & 0o777);
    }
  }
}

/** The user's own config/local headers: ignored by iPXE's .gitignore, but they change the build. */
function localConfigFiles(root: string): string[] {
  const dir = join(root, 'src', 'config', 'local');
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  walkFiles(root, 'src/config/local', files);
  return files.filter((f) => !f.endsWith('/.gitignore') && statSync(join(root, f)).size > 0);
}

function isGitTopLevel(root: string): boolean {
  if (!existsSync(join(root, '.git'))) return false;
  try {
    return realpathSync(git(['rev-parse', '--show-toplevel'], root)) === realpathSync(root);
  } catch {
    return false;
  }
}

/** Identity and copier for a local path: a git checkout (commit + dirty hash) or a plain tree. */
export function describePath(root: string, origin: ResolvedSource['origin']): ResolvedSource {
  if (isGitTopLevel(root)) {
    const commit = git(['rev-parse', 'HEAD'], root);
    const sourceDateEpoch = Number(git(['log', '-1', '--format=%ct', 'HEAD'], root));
    const status = git(['status', '--porcelain=v1', '-z', '--no-renames', '--untracked-files=all', '--', 'src'], root, true);
    const changed = status
      .split('\0')
      .filter(Boolean)
      .map((entry) => entry.slice(3))
      .filter((p) => p.startsWith('src/'));
    const local = localConfigFiles(root);
    const dirtyFiles = [...new Set([...changed, ...local])];
    const dirty = dirtyFiles.length ? hashFiles(root, dirtyFiles).slice(0, 16) : undefined;
    return {
      origin,
      location: `${root} (git ${commit.slice(0, 12)}${dirty ? ', with local changes' : ''})`,
      identity: dirty ? { kind: 'git', commit, dirty } : { kind: 'git', commit },
      sourceDateEpoch,
      populate(dest) {
        const listed = git(['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', 'src'], root)
          .split('\0')
          .filter((p) => p && !isBuildProduct(p.slice(4)));
        copyFiles(root, [...new Set([...listed, ...local])], dest);
      },
    };
  }
  const files: string[] = [];
  walkFiles(join(root, 'src'), '', files);
  const sha256 = hashFiles(join(root, 'src'), files);
  return {
    origin,
    location: `${root} (plain tree)`,
    identity: { kind: 'tree', sha256 },
    sourceDateEpoch: 0,
    populate(dest) {
      copyFiles(join(root, 'src'), files, join(dest, 'src'));
    },
  };
}

const FULL_SHA = /^[0-9a-f]{40}$/;

// Other processes write refs of the same bare repository: wait for their ref locks (git's
// defaults give up after 0.1 s and 1 s), and leave repacking refs to nobody mid-build.
const SHARED_REPO_CONFIG = ['-c', 'core.filesRefLockTimeout=30000', '-c', 'core.packedRefsTimeout=30000', '-c', 'gc.auto=0', '-c', 'maintenance.auto=false'];

function refKey(ref: string): string {
  return createHash('sha256').update(ref).digest('hex').slice(0, 16);
}

// Builds of several labs naming one URL start at once: two `git init` in one folder fail on each
// other's config lock, and a fetch can meet a repository whose HEAD is written but not its config.
// Each initialises a folder of its own and publishes it by one rename; a loser uses the winner's.
function initBareRepository(bare: string): void {
  mkdirSync(dirname(bare), { recursive: true });
  const staging = `${bare}.staging-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    git(['init', '--bare', '-q', staging]);
    try {
      renameSync(staging, bare);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !existsSync(join(bare, 'HEAD'))) throw e;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Fetches url@ref into a bare repository in the cache (one per URL) and resolves the commit. */
export function resolveGitSource(
  url: string,
  ref: string,
  cacheDir: string,
  log: (line: string) => void = () => undefined,
): SourceResolution {
  if (!url.trim()) return { status: 'unavailable', code: 'git-unavailable', reason: 'source.git.url is empty' };
  // `git fetch <url>` reads a url starting with '-' as an option: --upload-pack=<command> ran <command>.
  if (url.startsWith('-')) return { status: 'unavailable', code: 'git-unavailable', reason: `source.git.url "${url}" is not a URL` };
  if (!ref.trim() || ref.startsWith('-')) return { status: 'unavailable', code: 'git-unavailable', reason: `source.git.ref "${ref}" is not a ref` };
  const bare = join(cacheDir, 'git', `${createHash('sha256').update(url).digest('hex').slice(0, 16)}.git`);
  if (!existsSync(join(bare, 'HEAD'))) initBareRepository(bare);
  const remembered = `refs/ibft-lab/${refKey(ref)}`;
  let commit: string | undefined;
  if (FULL_SHA.test(ref) && gitOk(['--git-dir', bare, 'cat-file', '-e', `${ref}^{commit}`])) {
    commit = ref; // a commit already in the cache needs no network
  } else {
    log(`ipxe-builder: fetching ${url} ${ref}`);
    // Labs naming other refs of this URL fetch into the same bare repository at the same time:
    // each fetch lands in a ref of its own, since a shared FETCH_HEAD would hand one the other's commit.
    const landing = `refs/ibft-lab/fetch/${process.pid}-${randomBytes(4).toString('hex')}`;
    const fetched = spawnSync('git', [...SHARED_REPO_CONFIG, '--git-dir', bare, 'fetch', '-q', '--no-tags', '--no-write-fetch-head', url, `+${ref}:${landing}`], {
      encoding: 'utf8',
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    });
    if (fetched.status === 0) {
      commit = git(['--git-dir', bare, 'rev-parse', `${landing}^{commit}`]);
      git([...SHARED_REPO_CONFIG, '--git-dir', bare, 'update-ref', remembered, commit]);
      git([...SHARED_REPO_CONFIG, '--git-dir', bare, 'update-ref', '-d', landing]);
    } else if (gitOk(['--git-dir', bare, 'rev-parse', '--verify', '-q', `${remembered}^{commit}`])) {
      commit = git(['--git-dir', bare, 'rev-parse', `${remembered}^{commit}`]);
      log(`ipxe-builder: warning: could not fetch ${url} ${ref}; using the commit it had last time (${commit.slice(0, 12)})`);
    } else {
      const why = (fetched.stderr || '').trim().split('\n').slice(-2).join(' ');
      return { status: 'unavailable', code: 'git-unavailable', reason: `could not fetch source.git ${url} ${ref}: ${why || 'git fetch failed'}` };
    }
  }
  const sourceDateEpoch = Number(git(['--git-dir', bare, 'log', '-1', '--format=%ct', commit]));
  return {
    status: 'found',
    source: {
      origin: 'source.git',
      location: `${url} ${ref} (${commit.slice(0, 12)})`,
      identity: { kind: 'git', commit },
      sourceDateEpoch,
      populate(dest) {
        mkdirSync(dest, { recursive: true });
        const archive = spawnSync('git', ['--git-dir', bare, 'archive', '--format=tar', commit, 'src'], {
          maxBuffer: 512 * 1024 * 1024,
        });
        if (archive.status !== 0) throw new Error(`git archive ${commit} failed: ${archive.stderr.toString().trim()}`);
        const untar = spawnSync('tar', ['-x', '-C', dest], { input: archive.stdout });
        if (untar.status !== 0) throw new Error(`tar -x into ${dest} failed: ${untar.stderr.toString().trim()}`);
      },
    },
  };
}

/**
 * Finds the iPXE source: IPXE_SRC (overrides everything), then source.path,
 * then source.git. Returns `unavailable` with the reason when there is none.
 */
export function resolveSource(options: ResolveSourceOptions): SourceResolution {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const fromPath = (raw: string, origin: ResolvedSource['origin']): SourceResolution => {
    const abs = isAbsolute(raw) ? raw : resolve(options.workspaceRoot, raw);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) {
      return { status: 'unavailable', code: 'path-missing', reason: `${origin} ${raw} does not exist or is not a directory` };
    }
    const root = ipxeRootOf(abs);
    if (!root) {
      return {
        status: 'unavailable',
        code: 'not-ipxe-tree',
        reason: `${origin} ${raw} is not an iPXE tree (expected src/Makefile and src/config/general.h in it)`,
      };
    }
    return { status: 'found', source: describePath(root, origin) };
  };

  if (env.IPXE_SRC) return fromPath(env.IPXE_SRC, 'IPXE_SRC');
  const source = options.source;
  if (source && 'path' in source) return fromPath(source.path, 'source.path');
  if (source && 'git' in source) {
    return resolveGitSource(source.git.url, source.git.ref, ipxeCacheDir(options.workspaceRoot, env), log);
  }
  return { status: 'unavailable', code: 'no-source', reason: 'no iPXE source configured' };
}

/** Relative form of a path for messages, when it is inside the workspace. */
export function displayPath(path: string, workspaceRoot: string): string {
  const rel = relative(workspaceRoot, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : path;
}
