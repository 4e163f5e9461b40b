// The consumer probe against the kernel-only probe: initramfs sizes, and the
// seconds from the script's marker to the probe's last line, booted by stock
// iPXE over TFTP (a real tgt target, DHCP) and replayed with -kernel/-initrd
// and -acpitable. Alternating rounds; medians. Needs QEMU, the stock ROMs and tgt (root).
import { bootLab, ensureProbeGuest, replayTable, workspaceCacheDir } from '../../packages/qemu-runner/src';
import { INITIATOR_IQN, realBootSkipReason, startLabFixture, TARGET_IQN } from '../../packages/qemu-runner/test/support/lab';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

(async () => {
  const skip = realBootSkipReason();
  if (skip) throw new Error(`bench/consumer-probe: ${skip}`);
  const rounds = Number(process.argv[2] ?? 3);
  const cache = workspaceCacheDir();
  const kernelOnly = await ensureProbeGuest(cache, {});
  const consumers = await ensureProbeGuest(cache, { consumers: true });
  console.log(`initramfs: kernel-only ${(kernelOnly.initrdBytes / 1e6).toFixed(1)} MB, consumer probe ${(consumers.initrdBytes / 1e6).toFixed(1)} MB (gzip)`);
  const fixture = await startLabFixture();
  const table = `${__dirname}/../../packages/ibft/test/fixtures/stock-ipxe-tgt/ibft.bin`;
  const runs: Record<string, number[]> = { 'iPXE, kernel only': [], 'iPXE, consumers': [], 'replayed, kernel only': [], 'replayed, consumers': [] };
  try {
    const scriptPath = fixture.writeScript({ initiatorIqn: INITIATOR_IQN, sanhooks: [{ targets: [{ server: '10.0.2.2', port: fixture.target.port, lun: 1, targetIqn: TARGET_IQN }] }] });
    const only = { consumers: ['kernel'], otherConsumers: 'skip' } as const;
    for (let i = 0; i < rounds; i++) {
      const reports = [
        await bootLab({ scriptPath, probe: true, ...only, deadlineSeconds: 240 }),
        await bootLab({ scriptPath, probe: true, deadlineSeconds: 240 }),
        await replayTable({ tablePath: table, ...only, deadlineSeconds: 240 }),
        await replayTable({ tablePath: table, deadlineSeconds: 240 }),
      ];
      for (const [j, key] of Object.keys(runs).entries()) {
        if (reports[j].verdict !== 'pass') throw new Error(`${key}: ${reports[j].failure}`);
        runs[key].push(reports[j].timings.markerToProbeEndMs ?? NaN);
      }
    }
  } finally {
    await fixture.close();
  }
  console.log(`marker → probe end (replayed: QEMU start → probe end), median of ${rounds}:`);
  for (const [key, values] of Object.entries(runs)) console.log(`  ${key.padEnd(22)} ${s(median(values))}  (${values.map(s).join(', ')})`);
})().catch((error) => {
  console.error((error as Error).message);
  process.exit(1);
});
