// The QEMU processes a test started, told apart from any other on the machine
// (a developer's own runs, other workspaces) by an environment entry the test
// gave its child processes, which QEMU inherits.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Pids of qemu-system processes whose environment holds `entry` (e.g. "IBFT_LAB_CACHE=/tmp/x"). */
export function qemuStartedWith(entry: string): number[] {
  const pgrep = spawnSync('pgrep', ['-f', 'qemu-system'], { encoding: 'utf8' });
  return pgrep.stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(entry);
      } catch {
        return false; // gone, or not ours to read
      }
    });
}
