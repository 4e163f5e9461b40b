// End to end, the way a user embeds ibft-lab (docs/embedding.md), from a real npm registry: starts
// verdaccio on loopback (tools/testing/verdaccio.ts: no uplink, a throwaway user), builds every
// package into dist/packages (tools/pack/build-package.ts, what `npm run pack` does) and publishes
// all seven with `nx release publish --registry <loopback>` from this repository (nx.json's
// release group, @nx/js's release-publish executor, a per-test .npmrc holding the token). Then, in
// a fresh Nx workspace outside the repo whose .npmrc names the loopback registry for @ibft-lab,
// with only nx installed: `nx add @ibft-lab/lab` (npm installs it and its six siblings from the
// loopback registry, Nx runs its init generator), `nx g @ibft-lab/lab:lab e2e-lab` (LIO
// appliance, rtl8139, BIOS, DHCP, build-rom falling back to the stock ROM) and
// `nx run e2e-lab:boot-vm` twice: real nx, real QEMU, real appliance. The second run must take
// gen-script and build-rom from Nx's cache.
//
// Guest kernels and the appliance image come from this repo's cache (IBFT_LAB_CACHE, read by
// qemu-runner and lio-target) so the test does not rebuild them; a cold cache builds them there.
// Needs the npm registry (nx, zod, ...) and qemu-system-x86_64; skips, saying why, without them.
import { spawnSync } from 'node:child_process';
import { get } from 'node:http';
import { stripVTControlCharacters } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qemuStartedWith } from '../testing/qemu-processes';
import { startLoopbackRegistry, type LoopbackRegistry } from '../testing/verdaccio';
import { buildPackages, WORKSPACE_ROOT } from './build-package';
import { createForeignWorkspace, foreignEnv, npmRegistryProblem, NX_VERSION, type ForeignWorkspace, type RunResult } from './foreign-workspace';

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
// nx add, nx g, nx show and npm are synchronous and take seconds on 2 shared cores.
jest.setTimeout(180_000);

/**
 * GET on a connection of its own: fetch's pooled keep-alive socket from minutes before (the user
 * made at the start) may have been closed by verdaccio meanwhile, and writing to it fails (EPIPE).
 */
function getFrom(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** What a failed nx run printed last, for the failure message. */
const tail = (run: RunResult) => `${run.timedOut ? 'deadline reached; ' : ''}exit ${run.status ?? run.signal}\n${(run.stdout + run.stderr).slice(-6000)}`;

describe('the plugins published to a loopback registry with nx release, added to a fresh Nx workspace with nx add', () => {
  let tmp: string;
  let registry: LoopbackRegistry;
  let publish: ReturnType<typeof spawnSync>;
  let workspace: ForeignWorkspace;
  let marker: string;

  beforeAll(async () => {
    if (skip) return;
    tmp = mkdtempSync(join(tmpdir(), 'ibft-lab-embed-'));
    marker = `IBFT_LAB_EMBED_TEST=${tmp}`;
    registry = await startLoopbackRegistry(join(tmp, 'registry'));
    // nx.json's nx-release-publish packageRoot: dist/{projectRoot}, i.e. dist/packages/<name>.
    buildPackages(PACKAGES, { log: () => undefined });
    // The token lives in this test's own .npmrc only; --registry sends every package to loopback.
    const npmrc = join(tmp, 'publish.npmrc');
    writeFileSync(npmrc, registry.npmrc());
    publish = spawnSync(process.execPath, [require.resolve('nx/bin/nx'), 'release', 'publish', '--registry', registry.url], {
      cwd: WORKSPACE_ROOT,
      encoding: 'utf8',
      timeout: 300_000,
      env: foreignEnv({ NPM_CONFIG_USERCONFIG: npmrc }),
    });

    const env = foreignEnv({
      IBFT_LAB_CACHE: process.env.IBFT_LAB_CACHE || join(WORKSPACE_ROOT, '.cache', 'ibft-lab'),
      // Tags every process the runs start, so the end can tell its QEMUs from anyone else's.
      IBFT_LAB_EMBED_TEST: tmp,
    });
    // The lab's default is "build from source, else the stock ROM": a source from the caller's
    // environment would turn this into a 45 s iPXE build.
    delete env.IPXE_SRC;
    // What a team's workspace says once: where the @ibft-lab scope comes from. No token: reading
    // needs none. Everything else (nx, zod, ssh2, ...) comes from npm's usual registry.
    workspace = createForeignWorkspace(join(tmp, 'workspace'), [`nx@${NX_VERSION}`], env, {
      '.npmrc': `@ibft-lab:registry=${registry.url}\n`,
    });
  }, 600_000);

  afterAll(async () => {
    if (!tmp) return;
    await workspace?.stopAll();
    for (const pid of qemuStartedWith(marker)) process.kill(pid, 'SIGKILL');
    await registry?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  itRuns('nx release publish puts all seven packages on the loopback registry, packed from dist/packages', async () => {
    if (publish.status !== 0) throw new Error(`nx release publish failed (${publish.status}):\n${String(publish.stdout).slice(-4000)}\n${String(publish.stderr).slice(-4000)}`);
    expect(stripVTControlCharacters(String(publish.stdout))).toContain(`Successfully ran target nx-release-publish for ${PACKAGES.length} projects`);
    for (const name of PACKAGES) {
      const response = await getFrom(`${registry.url}@ibft-lab%2f${name}`);
      expect([name, response.status]).toEqual([name, 200]);
      const doc = JSON.parse(response.body) as { 'dist-tags': Record<string, string>; versions: Record<string, { main: string; dist: { tarball: string } }> };
      const built = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'dist', 'packages', name, 'package.json'), 'utf8'));
      expect(doc['dist-tags'].latest).toBe(built.version);
      expect(doc.versions[built.version].main).toBe('./src/index.js');
      expect(doc.versions[built.version].dist.tarball.startsWith(registry.url)).toBe(true);
    }
  });

  itRuns('nx add @ibft-lab/lab installs it and its six siblings from the loopback registry and runs its init generator', () => {
    const add = workspace.nx('add', '@ibft-lab/lab');
    if (add.status !== 0) throw new Error(`nx add failed (${add.status}):\n${add.stdout}\n${add.stderr}`);
    const output = stripVTControlCharacters(add.stdout);
    expect(output).toContain('Generating @ibft-lab/lab:init');
    expect(output).toContain('Package @ibft-lab/lab added successfully.');

    const manifest = JSON.parse(readFileSync(join(workspace.root, 'package.json'), 'utf8'));
    expect(manifest.devDependencies['@ibft-lab/lab']).toBe('^0.1.0');
    for (const name of PACKAGES) {
      // What was installed is what nx release published: the built manifest, compiled entry points.
      const installed = readFileSync(join(workspace.root, 'node_modules', '@ibft-lab', name, 'package.json'), 'utf8');
      expect([name, installed]).toEqual([name, readFileSync(join(WORKSPACE_ROOT, 'dist', 'packages', name, 'package.json'), 'utf8')]);
    }
    // @nx/devkit is a peer of the plugins: npm installs the workspace one a version in range.
    expect(JSON.parse(readFileSync(join(workspace.root, 'node_modules', '@nx', 'devkit', 'package.json'), 'utf8')).version).toMatch(/^24\./);

    const plugin = workspace.run(process.execPath, ['-e', "const p = require('@ibft-lab/lab/plugin'); if (!p.createNodes || p.createNodesV2 !== p.createNodes) process.exit(3);"]);
    expect(plugin.stderr).toBe('');
    expect(plugin.status).toBe(0);
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
