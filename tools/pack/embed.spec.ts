// End to end, the way a user embeds ibft-lab (docs/embedding.md): packs every plugin (tools/pack),
// installs the tarballs with nx and @nx/devkit into a fresh Nx workspace outside the repo, registers
// the lab plugin with `nx g @ibft-lab/lab:init`, scaffolds a lab with
// `nx g @ibft-lab/lab:lab e2e-lab` (LIO appliance, rtl8139, BIOS, DHCP, build-rom falling
// back to the stock ROM) and runs `nx run e2e-lab:boot-vm` twice: real nx, real QEMU, real appliance.
// The second run must take gen-script and build-rom from Nx's cache.
//
// Guest kernels and the appliance image come from this repo's cache (IBFT_LAB_CACHE, read by
// qemu-runner and lio-target) so the test does not rebuild them; a cold cache builds them there.
// Needs the npm registry (nx, zod, ...) and qemu-system-x86_64; skips, saying why, without them.
import { spawnSync } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from './build-package';
import { createForeignWorkspace, foreignEnv, npmRegistryProblem, NX_DEVKIT_VERSION, NX_VERSION, type ForeignWorkspace, type RunResult } from './foreign-workspace';
import { packAll } from './pack-all';

const PACKAGES = ['cache', 'ibft', 'script-gen', 'ipxe-builder', 'lio-target', 'qemu-runner', 'lab'];
const LAB = 'e2e-lab';
/** One boot-vm run: appliance start + targetcli + boot + probe is about 40 s here; TCG on 2 shared cores can take far longer. */
const BOOT_DEADLINE_MS = 300_000;

function skipReason(): string | undefined {
  const registry = npmRegistryProblem();
  if (registry) return `npm cannot reach its registry (${registry})`;
  const qemu = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' });
  if (qemu.status !== 0) return 'qemu-system-x86_64 is missing (tools/setup installs qemu-system-x86)';
  return undefined;
}
const skip = skipReason();
if (skip) console.log(`embed test skipped: ${skip}`);
const itRuns = skip ? it.skip : it;
// nx g, nx show and npm are synchronous and take seconds on 2 shared cores.
jest.setTimeout(120_000);

/** Pids of qemu-system processes whose environment carries `marker` (what this test started). */
function qemuStartedWith(marker: string): number[] {
  const pgrep = spawnSync('pgrep', ['-f', 'qemu-system'], { encoding: 'utf8' });
  return pgrep.stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker);
      } catch {
        return false; // gone, or not ours to read
      }
    });
}

/** What a failed nx run printed last, for the failure message. */
const tail = (run: RunResult) => `${run.timedOut ? 'deadline reached; ' : ''}exit ${run.status ?? run.signal}\n${(run.stdout + run.stderr).slice(-6000)}`;

describe('the packed plugins embedded in a fresh Nx workspace outside the repo', () => {
  let tmp: string;
  let workspace: ForeignWorkspace;
  let marker: string;

  beforeAll(() => {
    if (skip) return;
    tmp = mkdtempSync(join(tmpdir(), 'ibft-lab-embed-'));
    marker = `IBFT_LAB_EMBED_TEST=${tmp}`;
    const packed = packAll({ names: PACKAGES, outRoot: join(tmp, 'packages'), tarballDir: join(tmp, 'tarballs'), log: () => undefined });
    const env = foreignEnv({
      IBFT_LAB_CACHE: process.env.IBFT_LAB_CACHE || join(WORKSPACE_ROOT, '.cache', 'ibft-lab'),
      // Tags every process the runs start, so the end can tell its QEMUs from anyone else's.
      IBFT_LAB_EMBED_TEST: tmp,
    });
    // The lab's default is "build from source, else the stock ROM": a source from the caller's
    // environment would turn this into a 45 s iPXE build.
    delete env.IPXE_SRC;
    workspace = createForeignWorkspace(
      join(tmp, 'workspace'),
      [`nx@${NX_VERSION}`, `@nx/devkit@${NX_DEVKIT_VERSION}`, ...packed.map((pkg) => pkg.tarball)],
      env,
    );
  }, 300_000);

  afterAll(async () => {
    if (!tmp) return;
    await workspace?.stopAll();
    for (const pid of qemuStartedWith(marker)) process.kill(pid, 'SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  itRuns('nx g @ibft-lab/lab:init registers the installed lab plugin', () => {
    const plugin = workspace.run(process.execPath, ['-e', "const p = require('@ibft-lab/lab/plugin'); if (!p.createNodes || p.createNodesV2 !== p.createNodes) process.exit(3);"]);
    expect(plugin.stderr).toBe('');
    expect(plugin.status).toBe(0);

    const init = workspace.nx('g', '@ibft-lab/lab:init', '--no-interactive');
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    const nxJson = JSON.parse(readFileSync(join(workspace.root, 'nx.json'), 'utf8'));
    expect(nxJson.plugins).toEqual([{ plugin: '@ibft-lab/lab/plugin' }]);
    expect(nxJson.targetDefaults['boot-vm']).toEqual({ cache: false });
  });

  itRuns(`nx g @ibft-lab/lab:lab ${LAB} scaffolds a lab whose targets the plugin infers`, () => {
    const lab = workspace.nx('g', '@ibft-lab/lab:lab', LAB, '--no-interactive');
    expect(lab.stderr).toBe('');
    expect(lab.status).toBe(0);
    expect(JSON.parse(readFileSync(join(workspace.root, 'labs', LAB, 'lab.json'), 'utf8'))).toMatchObject({
      name: LAB,
      firmware: { nic: 'rtl8139', platform: 'bios', rom: 'build' },
      target: { kind: 'appliance' },
      network: { mode: 'dhcp' },
    });

    const shown = workspace.nx('show', 'project', LAB, '--json');
    expect(shown.status).toBe(0);
    const targets = JSON.parse(shown.stdout).targets;
    expect(Object.keys(targets)).toEqual(expect.arrayContaining(['gen-script', 'build-rom', 'target-vm', 'setup-target', 'boot-vm']));
    // build-rom's runtime input runs the installed identity script, not the monorepo's path.
    const runtime = targets['build-rom'].inputs.find((input: { runtime?: string }) => input.runtime)?.runtime as string;
    expect(runtime).toBe('node node_modules/@ibft-lab/ipxe-builder/bin/source-identity.js --nic rtl8139 --platform bios');
    const identity = workspace.run('sh', ['-c', runtime]);
    expect(identity.stderr).toBe('');
    expect(identity.stdout).toMatch(/^ipxe-source none; stock rtl8139\/bios sha256:[0-9a-f]{64}\n$/);
  });

  itRuns(`nx run ${LAB}:boot-vm boots the lab and its report says pass, the Linux probe agreeing`, async () => {
    const run = await workspace.nxLong(['run', `${LAB}:boot-vm`], BOOT_DEADLINE_MS);
    if (run.status !== 0) throw new Error(`nx run ${LAB}:boot-vm failed: ${tail(run)}`);
    const reportFile = join(workspace.root, 'dist', 'labs', LAB, 'boot-vm', 'report.json');
    expect(existsSync(reportFile)).toBe(true);
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    expect(report.verdict).toBe('pass');
    expect(report.probe?.agrees).toBe(true);
  }, BOOT_DEADLINE_MS + 30_000);

  itRuns(`a second nx run ${LAB}:boot-vm takes gen-script and build-rom from Nx's cache`, async () => {
    const run = await workspace.nxLong(['run', `${LAB}:boot-vm`], BOOT_DEADLINE_MS);
    if (run.status !== 0) throw new Error(`second nx run ${LAB}:boot-vm failed: ${tail(run)}`);
    for (const target of ['gen-script', 'build-rom']) {
      // Nx colours its output when CI=true, whatever the terminal.
      expect(stripVTControlCharacters(run.stdout)).toMatch(new RegExp(`nx run ${LAB}:${target}\\s+\\[(local cache|existing outputs match the cache, left as is)\\]`));
    }
    expect(JSON.parse(readFileSync(join(workspace.root, 'dist', 'labs', LAB, 'boot-vm', 'report.json'), 'utf8')).verdict).toBe('pass');
  }, BOOT_DEADLINE_MS + 30_000);

  itRuns('no QEMU it started is still running', () => {
    const left = qemuStartedWith(marker).map((pid) => `${pid} (cwd ${readlinkSafe(`/proc/${pid}/cwd`)})`);
    expect(left).toEqual([]);
  });
});

function readlinkSafe(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '?';
  }
}
