// On demand: `node -r ./tools/register-ts.js bench/lio-target/run.ts`.
// Boots the LIO appliance once, then measures targetcli starts and seconds for
// a cold apply (empty → lab), a no-op re-apply, and a teardown: through the
// appliance's LIO agent (its warm targetcli), and over plain SSH (a piped
// targetcli, what a machine of yours gets), on the same appliance in the same run.
import { applyDesiredState, connectSsh, endpointSshOptions, startAppliance, teardownLab, type DesiredStateInput, type Transport } from '@ibft-lab/lio-target';

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
    const rows: Array<[string, string, number, number, number, number]> = [];
    const measure = async (via: string, transport: Transport) => {
      const cold = await applyDesiredState(transport, desired);
      rows.push([via, 'cold apply', cold.commandsRun, cold.targetcliStarts, cold.agentRequests, cold.seconds]);
      const noop = await applyDesiredState(transport, desired);
      rows.push([via, 'no-op re-apply', noop.commandsRun, noop.targetcliStarts, noop.agentRequests, noop.seconds]);
      const down = await teardownLab(transport, 'bench');
      rows.push([via, 'teardown', down.commandsRun, down.targetcliStarts, down.agentRequests, down.seconds]);
    };
    await measure('LIO agent', await appliance.connect());
    const plain = await connectSsh(endpointSshOptions(appliance.endpoint));
    try {
      await measure('plain SSH', plain);
    } finally {
      await plain.close();
    }
    console.log('via        case              commands  targetcli starts  agent requests  seconds');
    for (const [via, name, commands, starts, agent, seconds] of rows) {
      console.log(`${via.padEnd(11)}${name.padEnd(18)}${String(commands).padStart(8)}${String(starts).padStart(18)}${String(agent).padStart(16)}${seconds.toFixed(1).padStart(9)}`);
    }
  } finally {
    await appliance.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
