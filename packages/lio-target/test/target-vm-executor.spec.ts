// The continuous target-vm executor in a real Node child process (as Nx runs
// it): boots the appliance, writes the endpoint, prints ready, and on SIGTERM
// stops QEMU and removes the endpoint file.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

jest.setTimeout(420_000);

const qemuMissing = !existsSync('/usr/bin/qemu-system-x86_64') ? 'qemu-system-x86_64 is missing' : undefined;
if (qemuMissing) console.log(`target-vm executor test skipped: ${qemuMissing}`);
(qemuMissing ? it.skip : it)('target-vm serves until SIGTERM, then stops QEMU and removes its endpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-target-vm-'));
  const endpointFile = join(dir, 'endpoint.json');
  const root = join(__dirname, '..', '..', '..');
  const script = `
    const run = require('./packages/lio-target/src/executors/target-vm/executor').default;
    run({ endpointFile: process.argv[1], readyTimeoutSeconds: 300 }, { root: process.cwd(), projectName: 'vm-test' })
      .then((r) => { console.log('result ' + JSON.stringify(r)); process.exit(r.success ? 0 : 1); });`;
  const child = spawn(process.execPath, ['-r', './tools/register-ts.js', '-e', script, endpointFile], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 360_000;
    while (!/^ready$/m.test(out)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`target-vm did not print ready:\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const endpoint = JSON.parse(readFileSync(endpointFile, 'utf8'));
    expect(endpoint).toMatchObject({ host: '127.0.0.1', user: 'root', guestPortal: { ip: '10.0.2.2' } });
    expect(endpoint.hostKeyFingerprint).toMatch(/^SHA256:/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('LIO appliance stopped');
    expect(existsSync(endpointFile)).toBe(false);
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
