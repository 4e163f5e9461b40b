// buildRom: script + source + overrides → ROM and manifest.json in the
// firmware folder. Each configuration (source identity, overrides, debug)
// gets its own build tree in the cache, reused across builds so only what
// changed is rebuilt, and locked so two builds never run make in one tree.
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { ConfigOverrides, mergeLocalHeader, mergeOverrides, renderOverrides } from './config-overrides';
import { withFileLock } from '@ibft-lab/cache';
import { MakeProgress, summarizeMakeFailure } from './make-output';
import { Manifest, renderManifest, sha256File } from './manifest';
import { HOW_TO_PROVIDE_SOURCE, ResolvedSource, SourceOption, UnavailableCode, identityString, ipxeCacheDir, resolveSource } from './source';
import { Format, Platform, makeTargetFor, stockRomFor } from './targets';
import { missingTools, missingToolsMessage } from './toolchain';

export interface BuildRomOptions {
  /** The iPXE script to embed (workspace-relative or absolute). */
  script: string;
  nic?: string;
  platform?: Platform;
  format?: Format;
  makeTarget?: string;
  source?: SourceOption;
  /** "stock": with no source, bundle the distro's stock ROM and hand the script over TFTP. */
  fallback?: 'none' | 'stock';
  overrides?: ConfigOverrides;
  /**
   * A composing tool's own overrides (the lab's speed defaults), under `overrides`: file by file and macro
   * by macro, `overrides` wins. The stock fallback ignores them without a warning; it warns about `overrides`.
   */
  baseOverrides?: ConfigOverrides;
  /** iPXE DEBUG= value, e.g. "iscsi,ibft:3". */
  debug?: string;
  jobs?: number;
  /** Firmware folder (workspace-relative or absolute). */
  outputPath: string;
}

export interface BuildContext {
  workspaceRoot: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Defaults to ipxeCacheDir(workspaceRoot, env). */
  cacheDir?: string;
  /** Progress line interval. */
  progressEveryMs?: number;
}

export class MissingSourceError extends Error {}
export class MakeFailedError extends Error {}

/** The file name QEMU's TFTP serves in stock mode (`-netdev user,tftp=<firmware>,bootfile=boot.ipxe`). */
export const STOCK_SCRIPT_NAME = 'boot.ipxe';
export const MANIFEST_NAME = 'manifest.json';

const DEBUG_VALUE = /^[A-Za-z0-9_]+(:[0-9]+)?(,[A-Za-z0-9_]+(:[0-9]+)?)*$/;

export function validateDebug(debug: string | undefined): string | undefined {
  if (debug === undefined || debug === '') return undefined;
  if (!DEBUG_VALUE.test(debug)) {
    throw new Error(`debug "${debug}" is not an iPXE DEBUG= list: object names with optional :level, comma-separated (e.g. "iscsi,ibft:3")`);
  }
  return debug;
}

export interface MakeInvocation {
  argv: string[];
  env: Record<string, string>;
}

// Variables iPXE's make would pick up from the environment and that change
// what it builds; a build sees only what we pass on the command line.
const MAKE_ENV_LEAKS = ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'DEBUG', 'EMBED', 'EMBEDDED_IMAGE', 'CROSS', 'CROSS_COMPILE',
  'ARCH', 'CFLAGS', 'LDFLAGS', 'EXTRA_CFLAGS', 'V', 'BIN', 'GITVERSION', 'CONFIG', 'TRUST', 'CERT', 'PRIVKEY'];

/** `make -C <tree>/src <target> EMBED=<script> [DEBUG=..] [GITVERSION=..] -j<n>` and its environment. */
export function makeInvocation(args: {
  tree: string;
  target: string;
  embed: string;
  debug?: string;
  jobs: number;
  source: Pick<ResolvedSource, 'identity' | 'sourceDateEpoch'>;
  env?: NodeJS.ProcessEnv;
}): MakeInvocation {
  const src = join(args.tree, 'src');
  // make splits variable values on whitespace, and EMBED on commas too.
  if (/[\s,]/.test(args.embed)) throw new Error(`script path ${args.embed} has a space or comma, which iPXE's EMBED= cannot take; move or rename it`);
  if (/\s/.test(src)) throw new Error(`build tree ${src} has a space in its path; set IBFT_LAB_CACHE to a folder without spaces`);
  const argv = ['-C', src, args.target, `EMBED=${args.embed}`];
  // iPXE compiles with -g, and the link's build id is a checksum over the
  // objects: without this, the tree's absolute path in the debug info makes
  // every tree produce different ROM bytes.
  argv.push(`EXTRA_CFLAGS=-ffile-prefix-map=${src}=.`);
  if (args.debug) argv.push(`DEBUG=${args.debug}`);
  // The tree is a copy without .git; tell make the commit so the version string says it.
  if (args.source.identity.kind === 'git') argv.push(`GITVERSION=${args.source.identity.commit}`);
  argv.push(`-j${args.jobs}`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(args.env ?? process.env)) {
    if (v !== undefined && !MAKE_ENV_LEAKS.includes(k)) env[k] = v;
  }
  Object.assign(env, { SOURCE_DATE_EPOCH: String(args.source.sourceDateEpoch), LC_ALL: 'C', TZ: 'UTC' });
  return { argv, env };
}

/** The build tree for a configuration: same source, overrides and debug → same folder. */
export function treeKey(source: ResolvedSource, renderedOverrides: Record<string, string>, debug?: string): string {
  const key = JSON.stringify({ v: 1, source: identityString(source.identity), overrides: renderedOverrides, debug: debug ?? null });
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

function abs(workspaceRoot: string, p: string): string {
  return isAbsolute(p) ? p : resolve(workspaceRoot, p);
}

function readScript(workspaceRoot: string, script: string): { file: string; sha256: string } {
  const file = abs(workspaceRoot, script);
  if (!existsSync(file)) {
    throw new Error(`script ${script} not found: run the project's gen-script target first, or set the script option to an iPXE script`);
  }
  const head = readFileSync(file, 'utf8').slice(0, 6);
  if (head !== '#!ipxe') throw new Error(`script ${script} does not start with "#!ipxe"; iPXE would not run it`);
  return { file, sha256: sha256File(file) };
}

function prepareOutput(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

/** Stock fallback: the distro's ROM for the NIC plus the script as boot.ipxe for QEMU's TFTP. */
function bundleStock(options: BuildRomOptions, reason: string, code: UnavailableCode, ctx: BuildContext, script: { file: string; sha256: string }): Manifest {
  const log = ctx.log ?? console.log;
  const platform = options.platform ?? 'bios';
  if (options.makeTarget || (options.format && options.format !== 'rom')) {
    throw new MissingSourceError(
      `${reason}; fallback "stock" only provides NIC ROMs (format "rom"), not ${options.makeTarget ?? `format "${options.format}"`}. ${HOW_TO_PROVIDE_SOURCE}`,
    );
  }
  if (!options.nic) throw new Error('nic is required for fallback "stock" (the stock ROM is per NIC)');
  const stock = stockRomFor(options.nic, platform);
  const out = abs(ctx.workspaceRoot, options.outputPath);
  prepareOutput(out);
  const rom = basename(stock);
  copyFileSync(stock, join(out, rom));
  copyFileSync(script.file, join(out, STOCK_SCRIPT_NAME));
  if (options.overrides && Object.keys(options.overrides).length) {
    log('ipxe-builder: warning: overrides are ignored in stock mode (the stock ROM is prebuilt)');
  }
  log(
    `ipxe-builder: WARNING: ${reason}. Using the STOCK ROM ${stock} (mode "stock"): the script is not embedded; ` +
      `boot-vm must serve ${STOCK_SCRIPT_NAME} over QEMU's TFTP (-netdev user,tftp=<firmware>,bootfile=${STOCK_SCRIPT_NAME}).`,
  );
  const manifest: Manifest = {
    mode: 'stock',
    rom,
    romSha256: sha256File(join(out, rom)),
    makeTarget: null,
    source: null,
    sourceDateEpoch: null,
    nic: options.nic,
    platform,
    format: 'rom',
    script: { sha256: script.sha256, delivery: 'tftp', file: STOCK_SCRIPT_NAME },
    overrides: options.overrides ?? {},
    debug: null,
    stockRom: rom,
    reason: code,
  };
  writeFileSync(join(out, MANIFEST_NAME), renderManifest(manifest));
  return manifest;
}

function runMake(inv: MakeInvocation, target: string, logFile: string, ctx: BuildContext): Promise<void> {
  const log = ctx.log ?? console.log;
  const progress = new MakeProgress(target, log, ctx.progressEveryMs);
  const logStream = createWriteStream(logFile);
  let output = '';
  return new Promise((resolvePromise, reject) => {
    const child = spawn('make', inv.argv, { env: inv.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    const onData = (chunk: Buffer) => {
      logStream.write(chunk);
      const text = chunk.toString('utf8');
      output += text;
      if (output.length > 4_000_000) output = output.slice(-2_000_000);
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) progress.line(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => {
      logStream.end();
      reject(err);
    });
    child.on('close', (code, signal) => {
      logStream.end();
      if (code === 0) {
        log(progress.summary().replace(/\(.*\)$/, 'done'));
        resolvePromise();
        return;
      }
      reject(
        new MakeFailedError(
          `make ${target} failed (${signal ?? `exit ${code}`}):\n${summarizeMakeFailure(output)}\nfull log: ${logFile}`,
        ),
      );
    });
  });
}

/** Builds (or, with fallback "stock" and no source, bundles) the firmware and writes manifest.json. */
/**
 * The build tree outlives the build and serves every lab with the same
 * configuration, but the embedded script may hold CHAP secrets: remove every
 * file made from it (make rebuilds them from the next script anyway).
 */
function scrubEmbeddedScript(srcDir: string, target: string): void {
  const binDir = join(srcDir, dirname(target));
  if (!existsSync(binDir)) return;
  for (const name of readdirSync(binDir)) {
    if (name === 'embedded.o' || name === 'blib.a' || name.endsWith('.tmp') || name === basename(target)) rmSync(join(binDir, name), { force: true });
  }
}

/**
 * Log lines name the workspace's files relative to its root: Nx caches a task's terminal output with
 * its outputs and replays it on a cache hit, on other machines and in other clones, where the
 * absolute path of this one would be wrong (and would tell where someone's checkout lives).
 */
export function workspaceRelative(workspaceRoot: string): (line: string) => string {
  const prefix = resolve(workspaceRoot) + sep;
  return (line) => line.split(prefix).join('');
}

export async function buildRom(options: BuildRomOptions, givenCtx: BuildContext): Promise<Manifest> {
  const print = givenCtx.log ?? console.log;
  const shown = workspaceRelative(givenCtx.workspaceRoot);
  const ctx: BuildContext = { ...givenCtx, log: (line) => print(shown(line)) };
  const log = ctx.log!;
  const env = ctx.env ?? process.env;
  const script = readScript(ctx.workspaceRoot, options.script);
  const debug = validateDebug(options.debug);
  const overrides = mergeOverrides(options.baseOverrides, options.overrides);
  const rendered = renderOverrides(overrides);
  const fallback = options.fallback ?? 'none';
  const platform = options.platform ?? 'bios';
  const target = makeTargetFor({ nic: options.nic, platform, format: options.format, makeTarget: options.makeTarget });

  const resolution = resolveSource({ source: options.source, workspaceRoot: ctx.workspaceRoot, env, log });
  if (resolution.status === 'unavailable') {
    if (fallback === 'stock') return bundleStock(options, resolution.reason, resolution.code, ctx, script);
    throw new MissingSourceError(`${resolution.reason}. ${HOW_TO_PROVIDE_SOURCE}`);
  }
  const source = resolution.source;

  const missing = missingTools(target, env);
  if (missing.length) throw new Error(missingToolsMessage(missing));

  const cacheDir = ctx.cacheDir ?? ipxeCacheDir(ctx.workspaceRoot, env);
  const treesDir = join(cacheDir, 'trees');
  mkdirSync(treesDir, { recursive: true });
  const key = treeKey(source, rendered, debug);
  const tree = join(treesDir, key);
  const out = abs(ctx.workspaceRoot, options.outputPath);
  log(`ipxe-builder: ${target} from ${source.origin} ${source.location}`);

  return withFileLock(
    `${tree}.lock`,
    async () => {
      const marker = join(tree, '.ibft-lab-tree.json');
      // make writes objects in place: one killed (kill -9 leaves no make cleanup) may have left a
      // truncated object newer than its source, which the next make would link. Start that tree again.
      const makeRunning = join(tree, '.ibft-lab-make-running');
      if (existsSync(makeRunning)) {
        log(`ipxe-builder: a build in ${tree} was cut off; preparing the tree again`);
        rmSync(tree, { recursive: true, force: true });
      }
      if (!existsSync(marker)) {
        log(`ipxe-builder: preparing build tree ${tree}`);
        const staging = `${tree}.new`;
        rmSync(staging, { recursive: true, force: true });
        rmSync(tree, { recursive: true, force: true });
        source.populate(staging);
        const localDir = join(staging, 'src', 'config', 'local');
        mkdirSync(localDir, { recursive: true });
        for (const [file, text] of Object.entries(rendered)) {
          const path = join(localDir, file);
          writeFileSync(path, mergeLocalHeader(existsSync(path) ? readFileSync(path, 'utf8') : undefined, text));
        }
        writeFileSync(
          join(staging, '.ibft-lab-tree.json'),
          `${JSON.stringify({ source: identityString(source.identity), overrides, debug: debug ?? null }, null, 2)}\n`,
        );
        renameSync(staging, tree);
      } else {
        log(`ipxe-builder: reusing build tree ${tree}`);
      }
      const inv = makeInvocation({
        tree,
        target,
        embed: script.file,
        debug,
        jobs: options.jobs ?? availableParallelism(),
        source,
        env,
      });
      log(`ipxe-builder: make ${inv.argv.join(' ')} (SOURCE_DATE_EPOCH=${source.sourceDateEpoch})`);
      const built = join(tree, 'src', target);
      const rom = basename(target);
      try {
        writeFileSync(makeRunning, `${process.pid}\n`);
        try {
          await runMake(inv, target, join(tree, 'build.log'), ctx);
        } finally {
          rmSync(makeRunning, { force: true }); // make ended, with or without success: its own cleanup ran
        }
        if (!existsSync(built)) throw new MakeFailedError(`make succeeded but ${target} is not in ${dirname(built)}`);
        prepareOutput(out);
        copyFileSync(built, join(out, rom));
      } finally {
        scrubEmbeddedScript(join(tree, 'src'), target);
      }
      const manifest: Manifest = {
        mode: 'built',
        rom,
        romSha256: sha256File(join(out, rom)),
        makeTarget: target,
        source: source.identity,
        sourceDateEpoch: source.sourceDateEpoch,
        nic: options.nic ?? null,
        platform,
        format: options.makeTarget ? null : (options.format ?? (platform === 'uefi' ? 'efi' : 'rom')),
        script: { sha256: script.sha256, delivery: 'embedded', file: null },
        overrides,
        debug: debug ?? null,
        stockRom: null,
        reason: null,
      };
      writeFileSync(join(out, MANIFEST_NAME), renderManifest(manifest));
      log(`ipxe-builder: wrote ${rom} (sha256 ${manifest.romSha256.slice(0, 16)}…) and ${MANIFEST_NAME} to ${options.outputPath}`);
      return manifest;
    },
    { what: `building ${target} in ${tree}`, log: (line) => log(`ipxe-builder: ${line}`) },
  );
}
