// Live processes as tests look for what a run left behind.
import { spawnSync } from 'node:child_process';

/** Command lines of live processes that mention `needle` (pgrep itself left out). */
export function processesMentioning(needle: string): string[] {
  return spawnSync('pgrep', ['-af', '--', needle], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((line) => line.trim() && !/^\d+ pgrep /.test(line));
}

/**
 * Pid and command line of each process of group `pgid` that still runs. A
 * zombie ("[sh] <defunct>") has already exited: it waits only for its parent,
 * or for pid 1 once orphaned, to collect its status, which this machine's init
 * does in its own time; it holds nothing the run could leak.
 */
export function processesInGroup(pgid: number): string[] {
  return spawnSync('pgrep', ['-ag', String(pgid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((line) => line.trim() && !/^\d+ \[.*\] <defunct>$/.test(line));
}
