// Captures `targetcli saveconfig` JSON from the real appliance after applying
// a lab, for the unit-test fixtures: `node -r ./tools/register-ts.js
// packages/lio-target/test/support/capture-fixture.ts <desired.json> <out.json> [foreign-sh]`.
// CAPTURE_DISK=<raw image> attaches it to the appliance (its /dev/vda, for block backstores).
import { readFileSync, writeFileSync } from 'node:fs';
import { applyDesiredState, readLiveState, startAppliance, targetcliSession } from '../../src';

(async () => {
  const [desiredFile, outFile, foreign] = process.argv.slice(2);
  const disk = process.env.CAPTURE_DISK;
  const appliance = await startAppliance({ disks: disk ? [{ path: disk, format: 'raw' }] : [] });
  try {
    const transport = await appliance.connect();
    if (foreign) await transport.run(['sh', '-c', foreign]);
    await applyDesiredState(transport, JSON.parse(readFileSync(desiredFile, 'utf8'))).catch((e) => console.error(String(e.message)));
    const live = await readLiveState(targetcliSession(transport));
    writeFileSync(outFile, `${JSON.stringify(live, null, 2)}\n`);
    console.log(`wrote ${outFile}`);
  } finally {
    await appliance.stop();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
