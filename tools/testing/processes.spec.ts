// Real processes: a group holding a running sleep and a zombie (a child that
// exited under a parent that never waits for it).
import { spawn, spawnSync } from 'node:child_process';
import { processesInGroup } from './processes';

describe('processesInGroup', () => {
  it('lists the running members of a process group and leaves out its zombies', async () => {
    // The inner sh exits at once; its parent then becomes sleep (exec), which never reaps it.
    const leader = spawn('sh', ['-c', 'sh -c "exit 0" & exec sleep 30'], { detached: true, stdio: 'ignore' });
    const pgid = leader.pid as number;
    try {
      const zombie = () => spawnSync('ps', ['-o', 'stat=,args=', '-g', String(pgid)], { encoding: 'utf8' }).stdout;
      for (const until = Date.now() + 10_000; !/^Z/m.test(zombie()) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
      expect(zombie()).toMatch(/^Z\S*\s+\[sh\] <defunct>$/m);
      expect(processesInGroup(pgid)).toEqual([`${pgid} sleep 30`]);
    } finally {
      process.kill(-pgid, 'SIGKILL');
    }
  });
});
