// The labs under labs/ as users run them: real Nx, real QEMU, real LIO in
// appliance VMs, all labs at once. And the seed's case: a LIO machine reached
// over SSH (the appliance, addressed as if it were remote), driven by the
// executors the lab plugin would run.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { ensureCacheEntry } from '@ibft-lab/cache';
import {
  endpointPath,
  freeLoopbackPort,
  readLiveState,
  resolveApplianceDisks,
  runTargetcliScript,
  startAppliance,
  targetcliSession,
  writeEndpoint,
  type NamedDiskSource,
  type RunningAppliance,
} from '@ibft-lab/lio-target';
import { isTableLab, labTargets, parseLabSpec, readLab, type AnyLabSpec } from '@ibft-lab/lab';
import { ensureOsImage, osImageBuildUnavailable, sha256File, workspaceCacheDir, type OsImage } from '@ibft-lab/qemu-runner';
import { resolveSecretRefs } from '@ibft-lab/script-gen';
import { EXAMPLE_SECRET_ENV, provideExampleSecrets } from '../../tools/testing/example-secrets';
import { qemuStartedWith } from '../../tools/testing/qemu-processes';
import genScript from '../../packages/script-gen/src/executors/gen-script/executor';
import setupTarget from '../../packages/lio-target/src/executors/setup-target/executor';
import teardownTarget from '../../packages/lio-target/src/executors/teardown-target/executor';
import bootVm from '../../packages/qemu-runner/src/executors/boot-vm/executor';
import labBootVm from '../../packages/lab/src/executors/boot-vm/executor';

const root = join(__dirname, '..', '..');
const allLabNames = readdirSync(join(root, 'labs')).filter((name) => existsSync(join(root, 'labs', name, 'lab.json')));
/** Labs whose LUN holds an OS image ({"os": recipe}): they need it built (root, mmdebstrap) or cached. */
const osImageLabs = allLabNames.filter((name) => {
  const lab = readLab(join(root, 'labs', name, 'lab.json'));
  return !isTableLab(lab) && lab.luns.some((lun) => typeof lun.image === 'object');
});
const osImageSkip = osImageBuildUnavailable();
const osImageCached = existsSync(join(workspaceCacheDir(), 'os-images')) && readdirSync(join(workspaceCacheDir(), 'os-images')).some((name) => existsSync(join(workspaceCacheDir(), 'os-images', name, 'manifest.json')));
const runOsImageLabs = !osImageSkip || osImageCached;
if (!runOsImageLabs) console.log(`labs e2e: ${osImageLabs.join(', ')} left out: no OS image is cached and none can be built here (${osImageSkip})`);
// A lab that must build its ROM (fallback none: e.g. labs/vlan, whose vcreate the stock ROM lacks) needs an iPXE source.
const needsSource = (name: string) => {
  const lab = readLab(join(root, 'labs', name, 'lab.json'));
  return !isTableLab(lab) && lab.firmware.rom === 'build' && lab.firmware.fallback === 'none' && !lab.firmware.source && !process.env.IPXE_SRC;
};
const withoutSource = allLabNames.filter(needsSource);
if (withoutSource.length) console.log(`labs e2e: ${withoutSource.join(', ')} left out: they build their iPXE ROM and IPXE_SRC is not set (IPXE_SRC=/path/to/ipxe enables them)`);
const labNames = allLabNames.filter((name) => !needsSource(name) && (runOsImageLabs || !osImageLabs.includes(name)));
/** The OS recipes the labs that run name (each built or taken from the workspace cache once). */
const osImageRecipes = [
  ...new Set(
    labNames
      .filter((name) => osImageLabs.includes(name))
      .flatMap((name) => {
        const lab = readLab(join(root, 'labs', name, 'lab.json'));
        return isTableLab(lab) ? [] : lab.luns.flatMap((lun) => (lun.image && typeof lun.image === 'object' ? [lun.image.os] : []));
      }),
  ),
];

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

function secretsOf(lab: AnyLabSpec): string[] {
  if (isTableLab(lab)) return [];
  const resolved = resolveSecretRefs(lab.chap ?? {}, { baseDir: join(root, 'labs', lab.name), env: SECRET_ENV }) as { password?: string; mutual?: { password?: string } };
  return [resolved.password, resolved.mutual?.password].filter((s): s is string => Boolean(s));
}

/** Hard-links an OS image's cache entry (its folder and the apt resolution it was keyed by) into another cache. */
function linkOsImage(image: OsImage, cacheDir: string): void {
  const from = join(image.path, '..', '..');
  mkdirSync(join(cacheDir, 'os-images'), { recursive: true });
  for (const entry of [image.key, '.resolved']) {
    const copy = spawnSync('cp', ['-al', join(from, entry), join(cacheDir, 'os-images', entry)], { encoding: 'utf8' });
    if (copy.status !== 0) throw new Error(`cp -al ${entry}: ${copy.stderr}`);
  }
}

/**
 * What the run-many built in its empty cache and the workspace cache lacks, hard-linked into it, each entry
 * published as the cache publishes its own (ensureCacheEntry; a file by one link): the suite's later tests restore
 * this appliance instead of building and booting another (a cold appliance, probe guest and kernel: about 45 s on a
 * quiet machine).
 */
async function seedWorkspaceCache(from: string, to: string): Promise<void> {
  for (const folder of readdirSync(from).filter((name) => name !== 'os-images')) {
    mkdirSync(join(to, folder), { recursive: true });
    for (const entry of readdirSync(join(from, folder))) {
      const source = join(from, folder, entry);
      const target = join(to, folder, entry);
      if (entry.endsWith('.lock') || entry.includes('.staging-') || existsSync(target)) continue;
      if (statSync(source).isDirectory()) {
        await ensureCacheEntry({
          path: target,
          what: `${folder}/${entry} (linked from the labs e2e's cache)`,
          build: async (staging) => {
            const copy = spawnSync('cp', ['-al', `${source}/.`, staging], { encoding: 'utf8' });
            if (copy.status !== 0) throw new Error(`cp -al ${source}: ${copy.stderr}`);
          },
        });
        continue;
      }
      try {
        linkSync(source, target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
  }
}

function nx(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [require.resolve('nx/bin/nx', { paths: [root] }), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', ...env },
    // Eleven labs, two of them whole Debian boots and one a dracut boot, four at a time on 2 cores.
    timeout: 1_800_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

const reason = skipReason();
if (reason) console.log(`labs e2e skipped: ${reason}`);
const maybe = reason ? describe.skip : describe;

maybe('nx run-many -t boot-vm over every lab in labs/', () => {
  jest.setTimeout(1_900_000);

  // A fresh clone's first run-many: an empty image cache that every lab needs at once.
  let cache: string;
  // Nx 24 keeps its task cache outside the workspace (~/.nx/<id>/cache): give it a folder of this test's to grep.
  let nxCache: string;
  let removeSecrets = () => undefined as void;
  beforeAll(async () => {
    // Made here, not when the file is collected: a run filtered to other tests (-t) runs no afterAll to remove them.
    cache = mkdtempSync(join(tmpdir(), 'ibft-lab-empty-cache-'));
    nxCache = mkdtempSync(join(tmpdir(), 'ibft-lab-nx-cache-'));
    removeSecrets = provideExampleSecrets();
    // The OS image (a Debian root, 1-2 minutes of mmdebstrap) is the one entry this test does not build in the
    // empty cache: its build has tests of its own (qemu-runner's os-image.spec). It is built in
    // (or taken from) the workspace cache and hard-linked in: the appliance opens it copy-on-write, never writing it.
    // Built side by side: mmdebstrap waits on downloads and dpkg as much as on a core (both: 192 s, one after the other: 229 s).
    const images = await Promise.all(osImageRecipes.map((recipe) => ensureOsImage({ cacheDir: workspaceCacheDir(), recipe, log: (line) => console.log(line) })));
    for (const image of images) linkOsImage(image, cache);
  }, 1_200_000);
  afterAll(async () => {
    try {
      if (cache) await seedWorkspaceCache(cache, workspaceCacheDir());
    } catch (error) {
      // Only time is lost (e.g. the caches on two file systems: no hard links between them).
      console.log(`labs e2e: the workspace cache was not seeded from this run's: ${(error as Error).message}`);
    }
    for (const dir of [cache, nxCache]) if (dir) rmSync(dir, { recursive: true, force: true });
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
    const left = allLabNames.filter((name) => !labNames.includes(name));
    const run = nx(['run-many', '-t', 'boot-vm', '--parallel=4', '--outputStyle=stream', ...(left.length ? [`--exclude=${left.join(',')}`] : [])], {
      ...SECRET_ENV,
      IBFT_LAB_CACHE: cache,
      NX_CACHE_DIRECTORY: nxCache,
    });
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
      const lab = readLab(join(root, 'labs', name, 'lab.json'));
      // The probe proves the table in the probe (and table) labs; a system under test by its own expectations (the Debian labs: root from the LUN).
      const probed = isTableLab(lab) || lab.boot.kind === 'probe';
      const proof = probed ? { agrees: report.probe?.agrees } : { boot: report.boot?.verdict, unmatched: report.boot?.expectations.filter((e: { matched: boolean }) => !e.matched) };
      expect({ name, verdict: report.verdict, mismatches: report.mismatches, ...proof }).toEqual({
        name,
        verdict: 'pass',
        mismatches: [],
        ...(probed ? { agrees: true } : { boot: 'pass', unmatched: [] }),
      });
      // target-vm removes its endpoint when Nx stops it: no appliance outlived the run.
      expect(existsSync(join(root, 'dist', 'labs', name, 'target', 'endpoint.json'))).toBe(false);
    }
    expect(qemuStartedWith(`IBFT_LAB_CACHE=${cache}`)).toEqual([]);

    // Calm by default: one line per console phase; the consoles themselves are in files.
    expect(output).not.toMatch(/\[(lio-appliance|lab)\] \[ *\d+\.\d+\] /); // no kernel log lines
    expect(output).toMatch(/\[lio-appliance\] (restored from its saved state, )?ready \(\d+\.\d s\)/);
    expect(output).toMatch(/\[lab\] Registered SAN device 0x80 \(\d+\.\d s\)/);
    // The last lab to finish prints one table over the run.
    expect(output.match(/all labs of this run: (\d+) of (\d+) passed/g)).toEqual([`all labs of this run: ${labNames.length} of ${labNames.length} passed`]);
    // A table lab (labs/replay-edk2) boots no appliance: its table went to the probe guest as an ACPI table.
    const tableLabs = labNames.filter((name) => isTableLab(readLab(join(root, 'labs', name, 'lab.json'))));
    expect(tableLabs).toContain('replay-edk2');
    for (const name of labNames.filter((n) => !tableLabs.includes(n))) {
      // A lab that started after another saved the appliance restores it instead of booting.
      expect(readFileSync(join(root, 'dist', 'labs', name, 'target', 'appliance-serial.log'), 'utf8')).toMatch(/Linux version|ibft-lab appliance: restored/);
    }
    for (const name of tableLabs) {
      expect(existsSync(join(root, 'dist', 'labs', name, 'target'))).toBe(false);
      const report = JSON.parse(readFileSync(join(root, 'dist', 'labs', name, 'boot-vm', 'report.json'), 'utf8'));
      expect(report.qemu).toEqual(expect.arrayContaining(['-acpitable', '-nic', 'none']));
    }

    for (const name of labNames) {
      const lab = readLab(join(root, 'labs', name, 'lab.json'));
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

  it('setup-target configures it over ssh2 and uploads its LUN image once (sha256 checked, reused after), boot-vm proves the iBFT through 10.0.2.2 and the port forward, teardown leaves nothing', async () => {
    const endpoint = appliance!.endpoint;
    // The LUN's image, named by path in the lab: 8 MiB of a known pattern, the user's file (never written).
    const labDir = join(workspace, 'labs', 'ssh-remote');
    mkdirSync(labDir, { recursive: true });
    const imagePath = join(labDir, 'pattern.img');
    const pattern = Buffer.alloc(8 * 2 ** 20);
    for (let i = 0; i < pattern.length; i += 4) pattern.writeUInt32LE((i * 2654435761) >>> 0, i);
    writeFileSync(imagePath, pattern);
    const imageSha = createHash('sha256').update(pattern).digest('hex');
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
        luns: [{ image: 'pattern.img' }],
      },
      'ssh-remote',
    );
    const targets = labTargets(lab);
    expect(targets['target-vm']).toBeUndefined();
    // Named by its path alone: the project graph holds no hash of it (setup-target takes it when it runs).
    const backing = '/var/tmp/ibft-lab-ssh-remote-lun0.img';
    expect((targets['setup-target'].options as { config: { backstores: unknown[] } }).config.backstores).toEqual([
      { kind: 'fileio', name: 'lun0', path: backing, sparse: true, image: { path: 'labs/ssh-remote/pattern.img' } },
    ]);
    const context = { root: workspace, projectName: lab.name, cwd: workspace, isVerbose: false } as unknown as ExecutorContext;
    const options = (name: string) => targets[name].options;
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((...args) => void lines.push(args.join(' ')));
    const error = jest.spyOn(console, 'error').mockImplementation((...args) => void lines.push(args.join(' ')));
    try {
      expect(await genScript(options('gen-script'), context)).toEqual({ success: true });
      expect(await setupTarget(options('setup-target'), context)).toEqual({ success: true });
      const first = lines.splice(0).join('\n');
      expect(first).toMatch(/image ibft-lab-ssh-remote-lun0\.img\.source: sending 8\.0 MiB to /);
      expect(first).toMatch(/image ibft-lab-ssh-remote-lun0\.img\.source: sent and verified on /);
      expect(first).toMatch(/building the sha256 of .*pattern\.img/);
      // Again, unchanged: its digest is remembered (not hashed again), nothing is sent, nothing is run.
      expect(await setupTarget(options('setup-target'), context)).toEqual({ success: true });
      const second = lines.splice(0).join('\n');
      expect(second).toMatch(/image ibft-lab-ssh-remote-lun0\.img\.source: already on .*\(sha256 [0-9a-f]{12}…\), not sent again/);
      expect(second).not.toMatch(/building the sha256|sending/);
      expect(second).toMatch(/setup-target: 0 command\(s\)/);
      lines.push(first, second);
      // What LIO serves on LUN 0: a fileio copy of exactly those bytes, beside the uploaded image and its record.
      const held = await appliance!.connect();
      expect((await held.run(['sha256sum', backing, `${backing}.source`])).stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0])).toEqual([imageSha, imageSha]);
      expect((await held.run(['cat', `${backing}.source.sha256`])).stdout.trim()).toBe(`${imageSha} ${pattern.length}`);
      const served = await readLiveState(targetcliSession(held));
      expect(served.storage_objects.find((o) => o.name === 'ibftlab_ssh-remote_lun0')).toMatchObject({ plugin: 'fileio', dev: backing, size: pattern.length });
      expect(served.targets.find((t) => t.wwn === 'iqn.2024-01.org.ibft-lab:ssh-remote')?.tpgs[0].luns.find((l) => l.index === 0)?.storage_object).toBe('/backstores/fileio/ibftlab_ssh-remote_lun0');
      await held.close();
      expect(JSON.parse(readFileSync(join(workspace, 'dist/labs/ssh-remote/target/initiator.json'), 'utf8'))).toMatchObject({
        portal: { ip: '10.0.2.2', port: endpoint.iscsiPort },
        targetIqn: 'iqn.2024-01.org.ibft-lab:ssh-remote',
      });
      // The lab's boot-vm sets the target up itself (unchanged: nothing run), then boots.
      const booting = lines.length;
      expect(await labBootVm(options('boot-vm'), context)).toEqual({ success: true });
      expect(lines.slice(booting).join('\n')).toMatch(/setup-target: 0 command\(s\)[\s\S]*ssh-remote:boot-vm: PASS/);
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
    // Teardown removed the copy, the uploaded image and its record; the user's file is byte-identical.
    expect((await transport.run(['sh', '-c', 'ls -a /var/tmp | grep ssh-remote || true'])).stdout.trim()).toBe('');
    expect(createHash('sha256').update(readFileSync(imagePath)).digest('hex')).toBe(imageSha);
  });

  it("the lab's boot-vm on the appliance boots the initiator beside the apply (its login held until the target is ready); a failed apply stops that boot at once, names why, and leaves no QEMU", async () => {
    const owner = parseLabSpec({ initiator: { iqn: 'iqn.2010-04.org.ipxe:owner-lab' }, firmware: { rom: 'stock' } }, 'owner-lab');
    // The owner's target IQN, which this lab did not create: its plan is refused (OwnershipError) once read.
    const intruderMac = '52:54:00:12:34:99';
    const intruder = parseLabSpec(
      { initiator: { iqn: 'iqn.2010-04.org.ipxe:intruder-lab', mac: intruderMac }, firmware: { rom: 'stock' }, targetIqn: 'iqn.2024-01.org.ibft-lab:owner-lab' },
      'intruder-lab',
    );
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((...args) => void lines.push(args.join(' ')));
    const error = jest.spyOn(console, 'error').mockImplementation((...args) => void lines.push(args.join(' ')));
    const intruderQemus = () => spawnSync('pgrep', ['-af', 'qemu-system'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(intruderMac));
    let failedAfterMs: number;
    try {
      for (const lab of [owner, intruder]) {
        writeEndpoint(endpointPath(workspace, lab.name), appliance!.endpoint);
        const context = { root: workspace, projectName: lab.name, cwd: workspace, isVerbose: false } as unknown as ExecutorContext;
        const targets = labTargets(lab);
        expect(targets['boot-vm'].executor).toBe('@ibft-lab/lab:boot-vm');
        expect(await genScript(targets['gen-script'].options, context)).toEqual({ success: true });
        if (lab === owner) {
          expect(await labBootVm(targets['boot-vm'].options, context)).toEqual({ success: true });
          continue;
        }
        const started = Date.now();
        expect(await labBootVm(targets['boot-vm'].options, context)).toEqual({ success: false });
        failedAfterMs = Date.now() - started;
      }
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
    const output = lines.join('\n');
    // The owner: the plan applied while its initiator booted, and the held login went through to a proven table.
    expect(output).toMatch(/\[owner-lab\] iPXE [\s\S]*setup-target: wrote [\s\S]*\[owner-lab\] Registered SAN device[\s\S]*owner-lab:boot-vm: PASS/);
    expect(JSON.parse(readFileSync(join(workspace, 'dist/labs/owner-lab/boot-vm/report.json'), 'utf8')).probe.agrees).toBe(true);
    // The intruder: refused by name, well before any boot deadline, its initiator stopped.
    expect(output).toMatch(/boot-vm: setup-target: target iqn\.2024-01\.org\.ibft-lab:owner-lab already exists on the machine and lab intruder-lab did not create it/);
    expect(failedAfterMs!).toBeLessThan(60_000);
    expect(output).not.toMatch(/intruder-lab\] Registered SAN device/);
    expect(intruderQemus()).toEqual([]);
    const context = { root: workspace, projectName: owner.name, cwd: workspace, isVerbose: false } as unknown as ExecutorContext;
    expect(await teardownTarget(labTargets(owner)['teardown-target'].options, context)).toEqual({ success: true });
  });
});

// Negative proof: the same OS image, the lab's own script and iBFT, and credentials rotated between firmware and OS:
// iPXE logs in with the lab's secret (LIO checks CHAP only at login, so its session stays up and GRUB reads the
// kernel through it); once iPXE hands over, the ACL's secret changes on the appliance, and the OS's own initramfs
// (`iscsistart -b`, from the iBFT) is refused. A second initiator boot, against the rotated target, is refused at
// iPXE's own login: both refusals with one appliance and one OS boot.
(reason || !runOsImageLabs ? describe.skip : describe)('labs/debian-iscsi-root with its CHAP secret rotated on the target between firmware and OS', () => {
  jest.setTimeout(600_000);
  let appliance: RunningAppliance | undefined;
  let workspace: string;
  let image: OsImage;
  let shaBefore: string;
  const savedSecret = process.env.IBFT_LAB_CHAP_SECRET;
  const ROTATED = 'rotated-sec-0001';

  beforeAll(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'ibft-lab-wrong-chap-'));
    process.env.IBFT_LAB_CHAP_SECRET = SECRET_ENV.IBFT_LAB_CHAP_SECRET;
    image = await ensureOsImage({ cacheDir: workspaceCacheDir(), recipe: 'debian-iscsi-root', log: () => undefined });
    shaBefore = await sha256File(image.path);
  }, 600_000);
  afterAll(async () => {
    await appliance?.stop();
    if (savedSecret === undefined) delete process.env.IBFT_LAB_CHAP_SECRET;
    else process.env.IBFT_LAB_CHAP_SECRET = savedSecret;
    rmSync(workspace, { recursive: true, force: true });
  });

  it("fails at the OS's own login, promptly: the summary shows the expectation that did not match and iscsistart's refusal; then iPXE's own login is refused; the appliance serves the image whole and copy-on-write, and it stays byte-identical", async () => {
    // The lab as written, on a port of this test's (target.hostPort), so a run of the real lab elsewhere on this
    // machine cannot collide; its expectations name this lab's target and port instead of the real lab's.
    const name = 'wrong-chap-root';
    const port = await freeLoopbackPort();
    const json = JSON.parse(readFileSync(join(root, 'labs', 'debian-iscsi-root', 'lab.json'), 'utf8'));
    const ours = (pattern: string) => pattern.replace('ibft-lab:debian-iscsi-root', `ibft-lab:${name}`).replace('10\\.0\\.2\\.2:26998', `10\\.0\\.2\\.2:${port}`);
    const boot = { ...json.boot, expect: json.boot.expect.map((e: { pattern: string }) => ({ ...e, pattern: ours(e.pattern) })) };
    const lab = parseLabSpec({ ...json, name, target: { kind: 'appliance', hostPort: port }, boot }, name);
    const targetIqn = `iqn.2024-01.org.ibft-lab:${name}`;
    const targets = labTargets(lab, { labRoot: 'labs/debian-iscsi-root' });
    const vmOptions = targets['target-vm'].options as { disks: NamedDiskSource[]; iscsiHostPort: number };
    const disks = await resolveApplianceDisks(vmOptions.disks, { workspaceRoot: root, cacheDir: workspaceCacheDir() });
    expect(disks.map((d) => d.path)).toEqual([image.path]);
    appliance = await startAppliance({ disks, iscsiPort: vmOptions.iscsiHostPort, readyDeadlineMs: 300_000 });
    writeEndpoint(endpointPath(workspace, lab.name), appliance.endpoint);
    // Connected before the boot, so the rotation is one request to the appliance's LIO agent when its moment comes.
    const transport = await appliance.connect();
    const session = targetcliSession(transport);

    // The stock ROM (no build-rom here), the script over TFTP. qemu-runner's boot-vm alone: set up once above,
    // the target must not be set up again between the rotation and the second boot.
    const { rom: _rom, target: _target, ...bootOptions } = targets['boot-vm'].options as Record<string, unknown>;
    const context = { root: workspace, projectName: lab.name, cwd: workspace, isVerbose: false } as unknown as ExecutorContext;
    const lines: string[] = [];
    // boot-vm prints each console phase the moment the console passes it: the cue to rotate, and the OS's login.
    let rotation: Promise<number> | undefined;
    let loginSeenAt: number | undefined;
    const rotate = async () => {
      await runTargetcliScript(session, [`/iscsi/${targetIqn}/tpg1/acls/${lab.initiator.iqn} set auth password=${ROTATED}`]);
      return Date.now();
    };
    const watch = (line: string) => {
      lines.push(line);
      if (!rotation && /\] (sanboot 0x80 \(|Booting from SAN device 0x80)/.test(line)) rotation = rotate();
      if (loginSeenAt === undefined && /\] (initramfs: iscsistart logs in|iscsistart: Logging into)/.test(line)) loginSeenAt = Date.now();
    };
    const log = jest.spyOn(console, 'log').mockImplementation((...args) => watch(args.join(' ')));
    const error = jest.spyOn(console, 'error').mockImplementation((...args) => watch(args.join(' ')));
    let booted: { success: boolean };
    let refused: { success: boolean };
    let osSeconds: number;
    let ipxeSeconds: number;
    let rotatedAt: number | undefined;
    try {
      expect(await genScript(targets['gen-script'].options, context)).toEqual({ success: true });
      expect(await setupTarget(targets['setup-target'].options, context)).toEqual({ success: true });
      let started = Date.now();
      booted = await bootVm(bootOptions, context);
      osSeconds = (Date.now() - started) / 1000;
      rotatedAt = await rotation;
      // The rotated target again, from the firmware's side: iPXE's own sanhook login is refused.
      started = Date.now();
      refused = await bootVm({ ...bootOptions, outputPath: join('dist', 'labs', lab.name, 'ipxe-refused') }, context);
      ipxeSeconds = (Date.now() - started) / 1000;
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
    const output = lines.join('\n');
    console.log(
      `${output.split('\n').filter((l) => !l.startsWith('[lio-appliance]') && !/^\s*[✓✗] (initiator|nic|target)/.test(l)).slice(-40).join('\n')}\n` +
        `rotated CHAP: OS boot (refused by the target at the OS's login) ${osSeconds.toFixed(1)} s, iPXE boot (refused at iPXE's login) ${ipxeSeconds.toFixed(1)} s`,
    );
    expect(output).not.toContain(SECRET_ENV.IBFT_LAB_CHAP_SECRET);
    expect(output).not.toContain(ROTATED);
    // The secret changed on the target after iPXE handed over and before the OS logged in (else this proves nothing).
    expect(rotatedAt).toBeDefined();
    expect(loginSeenAt).toBeDefined();
    expect(rotatedAt!).toBeLessThan(loginSeenAt!);
    const acl = (await readLiveState(session)).targets.find((t) => t.wwn === targetIqn)?.tpgs[0].node_acls.find((a) => a.node_wwn === lab.initiator.iqn);
    expect(acl?.chap_password === ROTATED).toBe(true);

    // The OS boot: iPXE logged in and handed over, the OS logged in from the iBFT and was refused; the run ended on its line.
    expect(booted.success).toBe(false);
    const report = JSON.parse(readFileSync(join(workspace, 'dist', 'labs', lab.name, 'boot-vm', 'report.json'), 'utf8'));
    expect(report.verdict).toBe('fail');
    expect(report.mismatches).toEqual([]);
    expect(report.boot).toMatchObject({ kind: 'sanboot', verdict: 'fail' });
    expect(report.boot.expectations.map((e: { matched: boolean }) => e.matched)).toEqual([true, true, false, false, false, false]);
    expect(report.boot.failedOn).toMatch(/^iscsistart: .*(authorization failure|authenticat)/);
    expect(output).toMatch(/✗ \/ibft-lab-proof: root=.*\/ not within 240 s/);
    expect(output).toMatch(/failed on: iscsistart: .*(authorization failure|authenticat)/);
    const serial = readFileSync(join(workspace, 'dist', 'labs', lab.name, 'boot-vm', 'serial.log'), 'latin1');
    expect(serial).toMatch(/Linux version/);
    // Ended on that line, not by initramfs-tools' root delay (then "Gave up waiting for root", minutes later).
    expect(serial).not.toMatch(/Gave up waiting/);
    const loginAt = report.boot.expectations[1].atSeconds as number;
    expect(report.timings.totalMs / 1000 - loginAt).toBeLessThan(60);

    // The firmware's side, against the rotated target: iPXE's sanhook is refused, in seconds, and no OS starts.
    expect(refused.success).toBe(false);
    expect(output).toMatch(/✗ \/Booting from SAN device 0x80\/ not within 60 s/);
    expect(output).toMatch(/failed on: .*Could not open SAN device: Operation not permitted/);
    const refusal = JSON.parse(readFileSync(join(workspace, 'dist', 'labs', lab.name, 'ipxe-refused', 'report.json'), 'utf8'));
    expect(refusal.boot.expectations.every((e: { matched: boolean }) => !e.matched)).toBe(true);
    expect(refusal.boot.failedOn).toMatch(/Operation not permitted/);
    expect(refusal.ipxeErrorUrl).toMatch(/ipxe\.org\/410d613c/);
    expect(ipxeSeconds).toBeLessThan(120);
    expect(readFileSync(join(workspace, 'dist', 'labs', lab.name, 'ipxe-refused', 'serial.log'), 'latin1')).not.toMatch(/Linux version/);

    // The appliance's side (the same VM: no second boot): the image whole on /dev/vda, copy-on-write, a block backstore on LUN 0.
    expect(appliance.vm.argv.join(' ')).toContain(`file=${image.path},if=virtio,format=raw,snapshot=on`);
    expect((await transport.run(['blockdev', '--getsize64', '/dev/vda'])).stdout.trim()).toBe(String(image.sizeBytes));
    const live = await readLiveState(session);
    expect(live.storage_objects.find((o) => o.name === `ibftlab_${lab.name}_lun0`)).toMatchObject({ plugin: 'block', dev: '/dev/vda' });
    expect(live.targets.find((t) => t.wwn === targetIqn)?.tpgs[0].luns.find((l) => l.index === 0)?.storage_object).toBe(`/backstores/block/ibftlab_${lab.name}_lun0`);
    // A write lands in the overlay (4 KiB at 700 MiB, inside the root partition; an initiator's writes take the same path).
    const write = await transport.run(['sh', '-c', 'echo ibft-lab-overlay-write | dd of=/dev/vda bs=4096 seek=179200 conv=sync 2>&1 && sync && dd if=/dev/vda bs=4096 skip=179200 count=1 2>/dev/null | head -c 23']);
    expect(write.stdout).toContain('ibft-lab-overlay-write');

    await appliance.stop();
    appliance = undefined;
    // Served copy-on-write: not one byte of the image changed.
    expect(await sha256File(image.path)).toBe(shaBefore);
  });
});
