import { readFileSync } from 'node:fs';
import { applyDesiredState, parseDesiredState, startAppliance } from '../src';
jest.setTimeout(600_000);
it('scratch: appliance segments + portals', async () => {
  const graph = JSON.parse(readFileSync('/tmp/nw-graph.json', 'utf8'));
  const a = await startAppliance({ cacheDir: '/work/cache', log: (l) => { if (!l.startsWith('[lio-appliance]')) console.log(l); }, segments: graph.targets['target-vm'].options.segments });
  try {
    const t = await a.connect();
    await applyDesiredState(t, parseDesiredState(graph.targets['setup-target'].options.config), { log: console.log, logPlanSteps: true });
    const r = await t.run(['sh', '-c', 'targetcli ls /iscsi; netstat -ltn; ip addr show eth1; ip addr show eth2']);
    console.log(r.stdout, r.stderr);
  } finally {
    await a.stop();
  }
});
