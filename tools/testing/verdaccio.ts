// A real npm registry on loopback for tests that publish: verdaccio (a root devDependency, 6.8.x:
// 6.10 needs Node 22; node-fetch is overridden to 2.7.0 for Node 20), started as its own process
// on a free 127.0.0.1 port with its storage and users in a folder of the test's. It has no uplink:
// it serves only what is published to it, so nothing it does reaches another registry. Packages
// are readable by anyone; publishing needs the throwaway user's token, created at start.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeLoopbackPort } from './tgt-target';

export interface LoopbackRegistry {
  /** http://127.0.0.1:<port>/ */
  url: string;
  /** npm's key for settings of this registry: //127.0.0.1:<port>/ */
  npmrcKey: string;
  /** A publish token of a user made for this registry only. */
  token: string;
  /** An .npmrc that publishes to this registry with the token and reads every @ibft-lab package from it. */
  npmrc(): string;
  /** What verdaccio printed (warnings and errors only). */
  log(): string;
  stop(): Promise<void>;
}

const VERDACCIO_BIN = require.resolve('verdaccio/bin/verdaccio');

function config(dir: string): string {
  return [
    `storage: ${JSON.stringify(join(dir, 'storage'))}`,
    'auth:',
    '  htpasswd:',
    `    file: ${JSON.stringify(join(dir, 'htpasswd'))}`,
    '    max_users: 1',
    'uplinks: {}',
    'packages:',
    "  '@ibft-lab/*':",
    '    access: $all',
    '    publish: $authenticated',
    '    unpublish: $authenticated',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    'web:',
    '  enable: false',
    'log: { type: stdout, format: pretty, level: warn }',
    '',
  ].join('\n');
}

async function waitForPing(url: string, child: ChildProcess, output: () => string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited ${child.exitCode} before it listened:\n${output()}`);
    try {
      const response = await fetch(`${url}-/ping`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`verdaccio did not answer ${url}-/ping within ${deadlineMs} ms:\n${output()}`);
}

/** Starts verdaccio with its files under `dir` and makes a user; stop() ends it (SIGTERM, then SIGKILL). */
export async function startLoopbackRegistry(dir: string): Promise<LoopbackRegistry> {
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, config(dir));
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}/`;
  const child = spawn(process.execPath, [VERDACCIO_BIN, '--config', configFile, '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  };
  try {
    await waitForPing(url, child, () => output, 60_000);
    const user = `ibft-lab-test-${process.pid}`;
    const response = await fetch(`${url}-/user/org.couchdb.user:${user}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: user, password: `pw-${Math.random().toString(36).slice(2)}`, type: 'user', roles: [] }),
    });
    const body = (await response.json()) as { token?: string; error?: string };
    if (!response.ok || !body.token) throw new Error(`verdaccio refused to make user ${user}: ${response.status} ${JSON.stringify(body)}`);
    const npmrcKey = `//127.0.0.1:${port}/`;
    const token = body.token;
    return {
      url,
      npmrcKey,
      token,
      npmrc: () => `@ibft-lab:registry=${url}\n${npmrcKey}:_authToken=${token}\n`,
      log: () => output,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
