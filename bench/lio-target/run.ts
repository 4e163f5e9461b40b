// On demand: `node -r ./tools/register-ts.js bench/lio-target/run.ts`.
// Boots the LIO appliance once, then measures targetcli starts and seconds for
// a cold apply (empty → lab), a no-op re-apply, and a teardown.
import { applyDesiredState, startAppliance, teardownLab, type DesiredStateInput } from '@ibft-lab/lio-target';

const desired: DesiredStateInput = {
  lab: 'bench',
  backstores: [
    { kind: 'fileio', name: 'disk', path: '/var/tmp/ibft-lab-bench-disk.img', sizeMiB: 64 },
    { kind: 'ramdisk', name: 'scratch', sizeMiB: 8 },
  ],
  targets: [
    {
      tpgs: [
        {
          attributes: { authentication: true },
          luns: [
            { index: 0, backstore: 'disk' },
            { index: 1, backstore: 'scratch' },
          ],
          acls: [
            {
              initiatorIqn: 'iqn.2010-04.org.ipxe:bench',
              mappedLuns: [{ index: 0, tpgLun: 0 }, { index: 1, tpgLun: 1 }],
              chap: { userid: 'bench', password: 'bench-secret-01' },
              mutualChap: { userid: 'bench-target', password: 'bench-mutual-02' },
            },
          ],
        },
      ],
    },
  ],
};

async function main(): Promise<void> {
  const bootStarted = Date.now();
  const appliance = await startAppliance();
  console.log(`appliance ready in ${((Date.now() - bootStarted) / 1000).toFixed(1)} s`);
  try {
    const transport = await appliance.connect();
    const rows: Array<[string, number, number, number]> = [];
    const cold = await applyDesiredState(transport, desired);
    rows.push(['cold apply', cold.commandsRun, cold.targetcliStarts, cold.seconds]);
    const noop = await applyDesiredState(transport, desired);
    rows.push(['no-op re-apply', noop.commandsRun, noop.targetcliStarts, noop.seconds]);
    const down = await teardownLab(transport, 'bench');
    rows.push(['teardown', down.commandsRun, down.targetcliStarts, down.seconds]);
    console.log('case              commands  targetcli starts  seconds');
    for (const [name, commands, starts, seconds] of rows) {
      console.log(`${name.padEnd(18)}${String(commands).padStart(8)}${String(starts).padStart(18)}${seconds.toFixed(1).padStart(9)}`);
    }
  } finally {
    await appliance.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
