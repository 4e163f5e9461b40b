// `npm run bench`: runs every bench in bench/*/run.ts, one after another (they
// share 2 cores), and writes their figures to bench/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

const benchDir = __dirname;
const root = join(benchDir, '..');

/** What each bench measures, and what it needs to run. */
const ABOUT: Record<string, string> = {
  'boot-vm':
    'The warm main job, `npx nx run lab:boot-vm` (stock ROM), phase by phase from its streamed consoles (down to each consumer in the probe guest) and Nx\'s project graph alone (`nx show projects`), then with a kept target (`nx run lab:target-vm` left running), each against the floor measured in the same run: raw QEMU with the same stock ROM fetching a script over TFTP that configures the network as the lab does and echoes the marker (goal: warm ≤ 15 s, kept target ≤ 8 s).',
  'consumer-probe': 'The consumer probe (open-iscsi, dracut, NetworkManager beside the kernel) against the kernel-only probe: initramfs size, and marker → probe end booted by stock iPXE and replayed with -acpitable. Needs tgt (root).',
  'build-rom': 'iPXE ROM builds: cold, script-only rebuild and Nx cache hit, each against the raw `make` in the same run. Needs an iPXE tree in IPXE_SRC.',
  'ibft-locate':
    'locateIbft on a crafted 16 MiB dump with an iBFT signature on every 16-byte boundary (goal: under 2 s and 300 MiB), and on a plain 16 MiB dump, each against a plain Buffer.indexOf scan of the same dump in the same run. Needs nothing but Node.',
  'lio-target': 'targetcli starts and seconds for a cold apply, a no-op re-apply and a teardown on the LIO appliance: through its LIO agent (warm targetcli) and over plain SSH (a piped targetcli), same appliance, same run.',
  'debian-iscsi-root':
    'labs/debian-iscsi-root as a user runs it (`nx run debian-iscsi-root:boot-vm`: the appliance serves the OS image copy-on-write as a block backstore, stock pxe-virtio.rom sanboots it, the OS\'s initramfs logs in from the iBFT): the cold image build, then per warm run its phases from the streamed console, against the raw floor (plain QEMU, a sanboot script, an appliance started directly) in the same run (goal: warm run ≤ 60 s). Needs root and the image tools.',
  networks:
    'Warm wall time of each lab on private segments (vlan, two-nics, multipath, dhcp-root-path) through `nx run <lab>:boot-vm`, then all at once with --parallel (every lab passes, every segment its own loopback port), with the raw floor (stock ROM, dhcp + marker) in the same run. labs/vlan needs IPXE_SRC.',
  labs: 'Every lab under labs/ through `nx run-many -t boot-vm`, one at a time and all at once: labs per minute.',
};

const names = readdirSync(benchDir).filter((name) => existsSync(join(benchDir, name, 'run.ts'))).sort();
const sections: string[] = [];
for (const name of names) {
  console.log(`== bench/${name}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, ['-r', join(root, 'tools', 'register-ts.js'), join(benchDir, name, 'run.ts')], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = `${run.stdout}${run.status === 0 ? '' : run.stderr}`.trim();
  console.log(out);
  const status = run.status === 0 ? '' : `\n(exit ${run.status}: not measured this time; see its message above)`;
  sections.push(
    [`## ${name}`, '', ABOUT[name] ?? '', '', `\`node -r ./tools/register-ts.js bench/${name}/run.ts\` (${((Date.now() - started) / 1000).toFixed(0)} s)`, '', '```', out.split('\n').slice(-40).join('\n') + status, '```', ''].join('\n'),
  );
}

const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
writeFileSync(
  join(benchDir, 'README.md'),
  [
    '# Benchmarks',
    '',
    'Run on demand, never by the tests. `npm run bench` runs them all one after another and rewrites this file;',
    'each can also run alone (command under its heading). Figures below: the last `npm run bench`,',
    `${new Date().toISOString().slice(0, 10)}, on ${machine}, QEMU under TCG,`,
    process.env.IPXE_SRC ? 'with IPXE_SRC set (labs boot ROMs built from that iPXE tree).' : 'without IPXE_SRC (labs boot the stock ROMs; build-rom is not measured).',
    '',
    ...sections,
  ].join('\n'),
);
console.log('wrote bench/README.md');
