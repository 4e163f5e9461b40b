// Test support for tools/pack/*.spec.ts: a folder outside the repo where packed tarballs are
// installed with real `npm install` and used the way a user's workspace would use them.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The versions this repository runs, so the foreign workspace runs the same Nx. */
export const NX_VERSION: string = require('nx/package.json').version;
export const NX_DEVKIT_VERSION: string = require('@nx/devkit/package.json').version;

/** Why npm cannot reach its registry (`npm ping`), or undefined when it can. */
export function npmRegistryProblem(): string | undefined {
  const ping = spawnSync('npm', ['ping'], { encoding: 'utf8', timeout: 60_000 });
  if (ping.status === 0) return undefined;
  // A timeout leaves only npm's "PING <url>" notice on stderr: say that it timed out, too.
  return [ping.error?.message, ping.stderr?.trim()].filter(Boolean).join(': ') || `npm ping exited ${ping.status}`;
}

/**
 * The environment for commands in the foreign workspace: Nx settings of whatever started these
 * tests (e.g. `nx test`) must not leak into it, and Nx runs without daemon, cloud, TUI or prompts.
 */
export function foreignEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('NX_'))),
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    NX_INTERACTIVE: 'false',
    // npm asks the registry for its own newest version otherwise
    NPM_CONFIG_UPDATE_NOTIFIER: 'false',
    ...extra,
  };
}

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Whether the deadline killed it. */
  timedOut: boolean;
}

export interface ForeignWorkspace {
  root: string;
  env: NodeJS.ProcessEnv;
  /** Runs a command in the workspace and waits for it (short commands). */
  run(command: string, args: string[], timeoutMs?: number): SpawnSyncReturns<string>;
  /** The workspace's own nx (node_modules/.bin/nx), synchronously. */
  nx(...args: string[]): SpawnSyncReturns<string>;
  /**
   * The workspace's nx in its own process group, without blocking the event loop (so Jest's
   * timeout still fires): at the deadline, or when stopAll() is called, the whole group (nx, its
   * task processes and what they started) gets SIGTERM, then SIGKILL 10 s later.
   */
  nxLong(args: string[], deadlineMs: number): Promise<RunResult>;
  /** Stops every nxLong still running (for afterAll). */
  stopAll(): Promise<void>;
}

/**
 * Makes `root` an npm package with an empty nx.json (and `files`, written as given) and
 * `npm install`s `installs` (registry specs such as nx@24.0.6, or tarball paths) into it. Throws
 * with npm's output when the install fails.
 */
export function createForeignWorkspace(
  root: string,
  installs: string[],
  env: NodeJS.ProcessEnv = foreignEnv(),
  files: Record<string, string> = {},
): ForeignWorkspace {
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true }, null, 2)}\n`);
  writeFileSync(join(root, 'nx.json'), '{}\n');
  // e.g. an .npmrc naming the registry of the @ibft-lab scope, before anything is installed
  for (const [file, text] of Object.entries(files)) writeFileSync(join(root, file), text);

  const workspace = foreignWorkspaceAt(root, env);
  const install = workspace.run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...installs]);
  if (install.status !== 0) throw new Error(`npm install failed:\n${install.stdout}\n${install.stderr}`);
  return workspace;
}

/** Commands in an existing workspace folder (e.g. a git clone of one createForeignWorkspace made). */
export function foreignWorkspaceAt(root: string, env: NodeJS.ProcessEnv = foreignEnv()): ForeignWorkspace {
  const run = (command: string, args: string[], timeoutMs = 300_000) =>
    spawnSync(command, args, { cwd: root, encoding: 'utf8', timeout: timeoutMs, env });
  const nxBin = join(root, 'node_modules', '.bin', 'nx');
  const running = new Set<Promise<RunResult>>();
  const stoppers = new Set<() => void>();

  const nxLong = (args: string[], deadlineMs: number): Promise<RunResult> => {
    const child = spawn(nxBin, args, { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // the group is gone already
      }
    };
    const stop = () => {
      killGroup('SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), 10_000);
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      stop();
    }, deadlineMs);
    const done = new Promise<RunResult>((resolve) => {
      child.on('close', (status, signal) => {
        clearTimeout(deadline);
        if (killTimer) {
          // Stopped: nx is gone, and nothing of its group may outlive it.
          clearTimeout(killTimer);
          killGroup('SIGKILL');
        }
        // Ended by itself: whatever it left running is for the caller to find (and fail on).
        resolve({ status, signal, stdout, stderr, timedOut });
      });
    });
    stoppers.add(stop);
    running.add(done);
    void done.then(() => {
      stoppers.delete(stop);
      running.delete(done);
    });
    return done;
  };

  return {
    root,
    env,
    run,
    nx: (...args) => run(nxBin, args),
    nxLong,
    async stopAll() {
      for (const stop of stoppers) stop();
      await Promise.all(running);
    },
  };
}
