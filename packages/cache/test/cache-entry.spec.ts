// Real processes racing for one cache entry, and a builder killed with
// SIGKILL mid-way: the entry is built once, and a half-built one is never used.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureCacheEntry, LockTimeoutError, processStartTime, withFileLock } from '../src';

jest.setTimeout(60_000);

const WORKSPACE = resolve(__dirname, '..', '..', '..');
const CHILD = join(__dirname, 'support', 'entry-child.ts');

interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startChild(path: string, buildLog: string, mode: 'quick' | 'hang'): Child {
  const child = spawn(process.execPath, ['-r', join(WORKSPACE, 'tools', 'register-ts.js'), CHILD, path, buildLog, mode], {
    cwd: WORKSPACE,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { process: child, output: () => output, exited };
}

async function until(condition: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ensureCacheEntry across processes', () => {
  let work: string;
  beforeEach(() => (work = mkdtempSync(join(tmpdir(), 'ibft-lab-cache-test-'))));
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('four processes needing one entry at once: one builds it, three wait (saying for whom) and reuse it', async () => {
    const path = join(work, 'entry');
    const buildLog = join(work, 'builds.log');
    writeFileSync(buildLog, '');
    const children = [0, 1, 2, 3].map(() => startChild(path, buildLog, 'quick'));
    const codes = await Promise.all(children.map((c) => c.exited));
    expect(codes).toEqual([0, 0, 0, 0]);
    const builders = readFileSync(buildLog, 'utf8').trim().split('\n');
    expect(builders).toHaveLength(1);
    const outputs = children.map((c) => c.output());
    expect(outputs.filter((o) => o.includes('ENTRY built'))).toHaveLength(1);
    expect(outputs.filter((o) => o.includes('ENTRY reused'))).toHaveLength(3);
    // Those that waited named the builder's pid.
    const waited = outputs.filter((o) => o.includes('waiting for pid'));
    expect(waited.length).toBeGreaterThan(0);
    for (const o of waited) expect(o).toContain(`waiting for pid ${builders[0]} `);
    expect(readFileSync(join(path, 'whole'), 'utf8').trim()).toBe(builders[0]);
    expect(readdirSync(work).sort()).toEqual(['builds.log', 'entry']);
  });

  it('a build killed with SIGKILL half-way leaves no entry; the next run takes the lock over, discards the half and builds', async () => {
    const path = join(work, 'entry');
    const buildLog = join(work, 'builds.log');
    writeFileSync(buildLog, '');
    const hung = startChild(path, buildLog, 'hang');
    await until(() => hung.output().includes('HALF-BUILT'), 'the half-built marker');
    hung.process.kill('SIGKILL');
    await hung.exited;
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.lock`)).toBe(true);
    expect(readdirSync(work).filter((n) => n.startsWith('entry.staging-'))).toHaveLength(1);

    const lines: string[] = [];
    const entry = await ensureCacheEntry({
      path,
      what: 'test entry',
      log: (line) => lines.push(line),
      async build(staging) {
        expect(readdirSync(staging)).toEqual([]);
        writeFileSync(join(staging, 'whole'), 'second\n');
      },
    });
    expect(entry).toEqual({ path, built: true });
    expect(lines.join('\n')).toMatch(new RegExp(`taking over .*entry\\.lock from pid ${hung.process.pid} .*which is gone`));
    expect(readdirSync(path)).toEqual(['whole']);
    expect(readdirSync(work).sort()).toEqual(['builds.log', 'entry']);
  });

  it("a dead build's orphan still writing in its staging folder (an extractor outliving its killed builder) is stopped, and the folder goes", async () => {
    const path = join(work, 'entry');
    const leftover = `${path}.staging-1-deadbeef`;
    mkdirSync(join(leftover, 'root'), { recursive: true });
    // Works inside the folder by its working directory alone, as tar under dpkg -x does; it never stops by itself.
    const writer = spawn('sh', ['-c', 'i=0; while :; do i=$((i+1)); mkdir -p d$i && echo x > d$i/f; done'], { cwd: join(leftover, 'root'), detached: true, stdio: 'ignore' });
    await until(() => readdirSync(join(leftover, 'root')).length > 20, 'the orphan writing');
    try {
      const entry = await ensureCacheEntry({ path, what: 'test entry', build: async (staging) => writeFileSync(join(staging, 'whole'), 'built\n') });
      expect(entry).toEqual({ path, built: true });
      expect(existsSync(leftover)).toBe(false);
      const ended = writer.exitCode !== null || writer.signalCode !== null ? writer.signalCode : await new Promise((r) => writer.once('exit', (_code, signal) => r(signal)));
      expect(ended).toBe('SIGKILL');
      expect(readdirSync(work).sort()).toEqual(['entry']);
    } finally {
      try {
        process.kill(-(writer.pid as number), 'SIGKILL');
      } catch {
        // stopped by the cleanup
      }
    }
  });

  it('a failed build publishes nothing and leaves no staging folder or lock', async () => {
    const path = join(work, 'entry');
    await expect(
      ensureCacheEntry({ path, what: 'failing entry', build: async () => Promise.reject(new Error('dpkg -x failed')) }),
    ).rejects.toThrow('dpkg -x failed');
    expect(readdirSync(work)).toEqual([]);
  });
});

describe('withFileLock owners', () => {
  let work: string;
  beforeEach(() => (work = mkdtempSync(join(tmpdir(), 'ibft-lab-lock-test-'))));
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('a lock whose pid now belongs to another process (pid reuse after kill -9) is taken over', async () => {
    const file = join(work, 'x.lock');
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    writeFileSync(file, JSON.stringify({ pid: process.pid, startTime: '1', host: require('node:os').hostname(), what: 'building x', since: 'earlier' }));
    const lines: string[] = [];
    await expect(withFileLock(file, async () => 'ran', { what: 'building x', log: (l) => lines.push(l) })).resolves.toBe('ran');
    expect(lines[0]).toMatch(/taking over/);
    expect(existsSync(file)).toBe(false);
  });

  it("a live holder's lock is waited for, naming the holder, until the deadline", async () => {
    const file = join(work, 'x.lock');
    writeFileSync(file, JSON.stringify({ pid: 1, host: 'build-agent-7', what: 'building LIO appliance 0123', since: 'earlier' }));
    const lines: string[] = [];
    const ran = jest.fn();
    await expect(withFileLock(file, ran, { what: 'building x', log: (l) => lines.push(l), timeoutMs: 600, pollMs: 50 })).rejects.toThrow(LockTimeoutError);
    expect(ran).not.toHaveBeenCalled();
    expect(lines).toEqual(['waiting for pid 1 on build-agent-7 (since earlier), which is building LIO appliance 0123']);
    expect(existsSync(file)).toBe(true);
  });
});
