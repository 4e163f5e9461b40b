// SIGINT to a process running the boot-vm executor mid-boot: no QEMU left,
// no temp dir left (the child's TMPDIR is a folder this test watches).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pidAlive, qemuProcessesMentioning } from './support/process';

const WORKSPACE = resolve(__dirname, '..', '..', '..');
jest.setTimeout(180_000);

const canRun = existsSync('/usr/bin/qemu-system-x86_64') && existsSync('/usr/lib/ipxe/qemu/pxe-rtl8139.rom');
if (!canRun) console.warn('skipping interrupt test: needs qemu-system-x86 and ipxe-qemu (tools/setup)');

(canRun ? describe : describe.skip)('interrupting boot-vm', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'ibft-lab-interrupt-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it.each(['SIGINT', 'SIGTERM'] as const)('%s mid-boot stops QEMU and removes every temp dir', async (signal) => {
    const childTmp = mkdtempSync(join(work, 'tmp-'));
    const script = join(work, 'boot.ipxe');
    // The marker never comes: the boot is always "mid-boot" when the signal lands.
    writeFileSync(script, '#!ipxe\ndhcp\necho waiting\nsleep 120\necho == config done ==\n');
    const child = spawn(process.execPath, ['-r', './tools/register-ts.js', join(__dirname, 'support', 'boot-child.ts'), script, join(work, 'out')], {
      cwd: WORKSPACE,
      env: { ...process.env, TMPDIR: childTmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, sig) => r({ code, signal: sig })));
    try {
      const deadline = Date.now() + 120_000;
      while (!output.includes('waiting')) {
        if (Date.now() > deadline) throw new Error(`the boot never got going:\n${output}`);
        if (child.exitCode !== null) throw new Error(`child exited early:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // QEMU is running now, from the child's temp dir.
      expect(qemuProcessesMentioning(childTmp).length).toBe(1);
      expect(readdirSync(childTmp).filter((name) => name.startsWith('ibft-lab-')).length).toBeGreaterThanOrEqual(2);
      child.kill(signal);
      const result = await exited;
      expect(result.signal).toBe(signal);
      expect(output).not.toContain('executor finished');
      expect(qemuProcessesMentioning(childTmp)).toEqual([]);
      // Only our folders count (swc-node, which runs the child's TypeScript, keeps a cache there).
      expect(readdirSync(childTmp).filter((name) => name.startsWith('ibft-lab-'))).toEqual([]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      expect(pidAlive(child.pid as number)).toBe(false);
    }
  });
});
