// A build killed with SIGKILL leaves its children running: an extracting
// `dpkg -x` (and the tar under it, working inside the folder) goes on writing
// into the dead build's staging folder, and under load for longer than any
// retried rm waits. Before a leftover folder is removed, the processes still
// working in it are found (Linux /proc: a working folder inside it, or its
// path on their command line) and killed.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { sep } from 'node:path';

/** Pids of the processes (not this one) whose working folder is inside `folder` or whose command line names a path in it. */
export function processesWorkingIn(folder: string): number[] {
  const inside = (path: string) => path === folder || path.startsWith(folder + sep);
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (inside(cwd) || args.some(inside)) found.push(Number(name));
    } catch {
      // gone, or not ours to read (then it cannot be writing in our cache either)
    }
  }
  return found;
}

/** Kills what still works in `folder` and waits (up to `waitMs`) until it has gone. */
export async function stopProcessesWorkingIn(folder: string, waitMs = 10_000): Promise<void> {
  const until = Date.now() + waitMs;
  for (let pids = processesWorkingIn(folder); pids.length && Date.now() < until; pids = processesWorkingIn(folder)) {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
