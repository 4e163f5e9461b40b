// Live processes as tests look for what a run left behind.
import { spawnSync } from 'node:child_process';

/** Command lines of live processes that mention `needle` (pgrep itself left out). */
export function processesMentioning(needle: string): string[] {
  return spawnSync('pgrep', ['-af', '--', needle], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((line) => line.trim() && !/^\d+ pgrep /.test(line));
}
