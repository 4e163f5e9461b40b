// The labs under labs/ as users run them: real Nx, real QEMU, real LIO in
// appliance VMs, all labs at once. And the seed's case: a LIO machine reached
// over SSH (the appliance, addressed as if it were remote), driven by the
// executors the lab plugin would run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { startAppliance, type RunningAppliance } from '@ibft-lab/lio-target';
import { labTargets, parseLabSpec, readLabSpec, type LabSpec } from '@ibft-lab/lab';
import { resolveSecretRefs } from '@ibft-lab/script-gen';
import { EXAMPLE_SECRET_ENV, provideExampleSecrets } from '../../tools/testing/example-secrets';
import { qemuStartedWith } from '../../tools/testing/qemu-processes';
import genScript from '../../packages/script-gen/src/executors/gen-script/executor';
import setupTarget from '../../packages/lio-target/src/executors/setup-target/executor';
import teardownTarget from '../../packages/lio-target/src/executors/teardown-target/executor';
import bootVm from '../../packages/qemu-runner/src/executors/boot-vm/executor';

const root = join(__dirname, '..', '..');
const allLabNames = readdirSync(join(root, 'labs')).filter((name) => existsSync(join(root, 'labs', name, 'lab.json')));
// A lab that must build its ROM (fallback none: e.g. labs/vlan, whose vcreate the stock ROM lacks) needs an iPXE source.
const needsSource = (name: string) => {
  const lab = readLabSpec(join(root, 'labs', name, 'lab.json'));
  return lab.firmware.rom === 'build' && lab.firmware.fallback === 'none' && !lab.firmware.source && !process.env.IPXE_SRC;
};
const labNames = allLabNames.filter((name) => !needsSource(name));
const withoutSource = allLabNames.filter(needsSource);
if (withoutSource.length) console.log(`labs e2e: ${withoutSource.join(', ')} left out: they build their iPXE ROM and IPXE_SRC is not set (IPXE_SRC=/path/to/ipxe enables them)`);

function skipReason(): string | undefined {
  if (!existsSync('/usr/bin/qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed (bash tools/setup)';
  if (!existsSync('/usr/lib/ipxe/qemu/pxe-rtl8139.rom')) return 'ipxe-qemu stock ROMs are missing (bash tools/setup)';
  return undefined;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

// The CHAP example names its secrets by reference (labs/static-mutual-chap/lab.json); the suite provides them.
const SECRET_ENV = EXAMPLE_SECRET_ENV;

function secretsOf(lab: LabSpec): string[] {
  const resolved = resolveSecretRefs(lab.chap ?? {}, { baseDir: join(root, 'labs', lab.name), env: SECRET_ENV }) as { password?: string; mutual?: { password?: string } };
  return [resolved.password, resolved.mutual?.password].filter((s): s is string => Boolean(s));
}

function nx(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [require.resolve('nx/bin/nx', { paths: [root] }), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', ...env },
    timeout: 840_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

const reason = skipReason();
if (reason) console.log(`labs e2e skipped: ${reason}`);
const maybe = reason ? describe.skip : describe;

maybe('nx run-many -t boot-vm over every lab in labs/', () => {
  jest.setTimeout(900_000);

  // A fresh clone's first run-many: an empty image cache that every lab needs at once.
  const cache = mkdtempSync(join(tmpdir(), 'ibft-lab-empty-cache-'));
  // Nx 24 keeps its task cache outside the workspace (~/.nx/<id>/cache): give it a folder of this test's to grep.
  const nxCache = mkdtempSync(join(tmpdir(), 'ibft-lab-nx-cache-'));
  let removeSecrets = () => undefined as void;
  beforeAll(() => (removeSecrets = provideExampleSecrets()));
  afterAll(() => {
    rmSync(cache, { recursive: true, force: true });
    rmSync(nxCache, { recursive: true, force: true });
    removeSecrets();
  });

  it('a CHAP lab whose secret variable is not set fails in gen-script, naming the lab field and the variable, before any VM starts', () => {
    const marker = `IBFT_LAB_TEST_RUN=missing-secret-${process.pid}`;
    const run = nx(['run', 'static-mutual-chap:boot-vm', '--outputStyle=stream'], { IBFT_LAB_CHAP_SECRET: '', IBFT_LAB_TEST_RUN: marker.split('=')[1], NX_CACHE_DIRECTORY: nxCache });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status).not.toBe(0);
    expect(output).toMatch(/gen-script: chap\.password \(script\.sanhooks\.0\.chap\.password\): environment variable IBFT_LAB_CHAP_SECRET is not set; export IBFT_LAB_CHAP_SECRET=<the secret>/);
    expect(output).not.toMatch(/LIO appliance: ssh|\[lio-appliance\]/);
    expect(qemuStartedWith(marker)).toEqual([]);
  });

  it('boots every lab in parallel on an empty cache, each entry built once, each proves its iBFT (host decode and Linux probe), nothing is left running, no secret is shown', () => {
    expect(labNames.length).toBeGreaterThanOrEqual(4);
    for (const name of labNames) rmSync(join(root, 'dist', 'labs', name), { recursive: true, force: true });
    const run = nx(['run-many', '-t', 'boot-vm', '--parallel=4', '--outputStyle=stream', ...(withoutSource.length ? [`--exclude=${withoutSource.join(',')}`] : [])], { ...SECRET_ENV, IBFT_LAB_CACHE: cache, NX_CACHE_DIRECTORY: nxCache });
    const output = `${run.stdout}\n${run.stderr}`;
    if (run.status !== 0) console.log(output.split('\n').filter((l) => !l.startsWith('[lio-appliance]')).slice(-120).join('\n'));
    expect(run.status).toBe(0);

    // Nx prefixes each line with its task; what follows is the builder's own line.
    const lines = output
      .split('\n')
      .map((line) => line.replace(/\x1b\[[0-9;]*m/g, ''))
      .filter((line) => !/waiting for pid|taking over/.test(line)) // these name the build they wait for
      .map((line) => line.replace(/^.*?(building |downloading )/, '$1'));
    const builds = lines.filter((line) => /^building (LIO appliance|Linux probe guest|kernel) /.test(line));
    expect(builds.filter((line) => line.startsWith('building LIO appliance'))).toHaveLength(1);
    expect(builds.filter((line) => line.startsWith('building Linux probe guest'))).toHaveLength(1);
    expect(builds.filter((line) => line.startsWith('building kernel'))).toHaveLength(1);
    const downloads = lines.filter((line) => line.startsWith('downloading '));
    expect(downloads.length).toBeGreaterThan(0);
    expect(new Set(downloads).size).toBe(downloads.length);
    // Others waited for the builder instead of building beside it.
    expect(output).toMatch(/waiting for pid \d+ .*which is building LIO appliance/);
    expect(readdirSync(join(cache, 'lio-appliance')).filter((name) => name.includes('.staging-') || name.endsWith('.lock'))).toEqual([]);

    for (const name of labNames) {
      const report = JSON.parse(readFileSync(join(root, 'dist', 'labs', name, 'boot-vm', 'report.json'), 'utf8'));
      expect({ name, verdict: report.verdict, mismatches: report.mismatches, agrees: report.probe?.agrees }).toEqual({ name, verdict: 'pass', mismatches: [], agrees: true });
      // target-vm removes its endpoint when Nx stops it: no appliance outlived the run.
      expect(existsSync(join(root, 'dist', 'labs', name, 'target', 'endpoint.json'))).toBe(false);
    }
    expect(qemuStartedWith(`IBFT_LAB_CACHE=${cache}`)).toEqual([]);

    // Calm by default: one line per console phase; the consoles themselves are in files.
    expect(output).not.toMatch(/\[(lio-appliance|lab)\] \[ *\d+\.\d+\] /); // no kernel log lines
    expect(output).toMatch(/\[lio-appliance\] ready \(\d+\.\d s\)/);
    expect(output).toMatch(/\[lab\] Registered SAN device 0x80 \(\d+\.\d s\)/);
    for (const name of labNames) {
      expect(readFileSync(join(root, 'dist', 'labs', name, 'target', 'appliance-serial.log'), 'utf8')).toMatch(/Linux version/);
    }

    for (const name of labNames) {
      const lab = readLabSpec(join(root, 'labs', name, 'lab.json'));
      // boot.ipxe and a built ROM must carry the secret (iPXE sends it); reports, logs and target files must not.
      const shown = [output, ...['boot-vm', 'target'].flatMap((d) => filesUnder(join(root, 'dist', 'labs', name, d))).map((f) => readFileSync(f, 'latin1'))];
      for (const secret of secretsOf(lab)) {
        expect(shown.filter((text) => text.includes(secret))).toEqual([]);
        // Nx's task cache and our image cache: CHAP labs run gen-script and build-rom uncached.
        const cached = spawnSync('grep', ['-rlF', '--', secret, nxCache, join(root, '.nx', 'workspace-data'), cache], { encoding: 'utf8' });
        expect(cached.stdout.trim()).toBe('');
        // Named by reference, the secret is not in Nx's project graph either.
        const graph = nx(['show', 'project', name, '--json'], SECRET_ENV);
        expect(graph.status).toBe(0);
        expect(graph.stdout).not.toContain(secret);
        // The script carries the secret (iPXE sends it): its tasks stay out of Nx's cache.
        const targets = JSON.parse(graph.stdout).targets;
        expect({ genScript: targets['gen-script'].cache, buildRom: targets['build-rom']?.cache ?? false }).toEqual({ genScript: false, buildRom: false });
      }
    }
  });
});

maybe('a lab whose LIO machine is reached over SSH (the appliance, addressed as a remote host)', () => {
  jest.setTimeout(600_000);
  let appliance: RunningAppliance | undefined;
  let workspace: string;

  beforeAll(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'ibft-lab-ssh-lab-'));
    appliance = await startAppliance({ log: () => undefined, readyDeadlineMs: 300_000 });
  });
  afterAll(async () => {
    await appliance?.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  it('setup-target configures it over ssh2, boot-vm proves the iBFT through 10.0.2.2 and the port forward, teardown leaves nothing', async () => {
    const endpoint = appliance!.endpoint;
    const lab = parseLabSpec(
      {
        initiator: { iqn: 'iqn.2010-04.org.ipxe:ssh-remote' },
        firmware: { rom: 'stock' },
        target: {
          kind: 'ssh',
          ssh: { host: endpoint.host, port: endpoint.sshPort, user: endpoint.user, privateKeyPath: endpoint.privateKeyPath, hostKeyFingerprint: endpoint.hostKeyFingerprint },
          // The seed's layout: the guest reaches the target machine's portal through the network, here QEMU's host address.
          portal: { ip: '10.0.2.2', port: endpoint.iscsiPort },
          listenPort: 3260,
        },
        chap: { username: 'ssh-initiator', password: 'ssh-secret-0001' },
      },
      'ssh-remote',
    );
    const targets = labTargets(lab);
    expect(targets['target-vm']).toBeUndefined();
    const context = { root: workspace, projectName: lab.name, cwd: workspace, isVerbose: false } as unknown as ExecutorContext;
    const options = (name: string) => targets[name].options;
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((...args) => void lines.push(args.join(' ')));
    const error = jest.spyOn(console, 'error').mockImplementation((...args) => void lines.push(args.join(' ')));
    try {
      expect(await genScript(options('gen-script'), context)).toEqual({ success: true });
      expect(await setupTarget(options('setup-target'), context)).toEqual({ success: true });
      expect(JSON.parse(readFileSync(join(workspace, 'dist/labs/ssh-remote/target/initiator.json'), 'utf8'))).toMatchObject({
        portal: { ip: '10.0.2.2', port: endpoint.iscsiPort },
        targetIqn: 'iqn.2024-01.org.ibft-lab:ssh-remote',
      });
      expect(await bootVm(options('boot-vm'), context)).toEqual({ success: true });
      expect(await teardownTarget(options('teardown-target'), context)).toEqual({ success: true });
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
    const report = JSON.parse(readFileSync(join(workspace, 'dist/labs/ssh-remote/boot-vm/report.json'), 'utf8'));
    expect(report.ibft.targets[0]).toMatchObject({ ip: { address: '10.0.2.2' }, port: endpoint.iscsiPort, chapType: 1 });
    expect(report.probe.agrees).toBe(true);
    expect(lines.join('\n')).not.toContain('ssh-secret-0001');
    const transport = await appliance!.connect();
    const saved = await transport.run(['targetcli', 'ls', '/iscsi']);
    expect(saved.stdout).not.toContain('ssh-remote');
  });
});
