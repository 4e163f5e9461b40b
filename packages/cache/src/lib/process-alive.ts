// Is the process that wrote a lock still the one running under its pid?
// A pid alone is not enough after kill -9: the kernel hands pids out again,
// so a lock also records its owner's start time (field 22 of /proc/<pid>/stat).
import { readFileSync } from 'node:fs';

/** Is a process with this pid alive on this machine? (signal 0 probes without signalling) */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's start time in clock ticks since boot, or undefined where /proc does not tell. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Alive and, when a start time was recorded, still the same process. */
export function sameProcessAlive(pid: number, startTime?: string): boolean {
  if (!processAlive(pid)) return false;
  if (!startTime) return true;
  const now = processStartTime(pid);
  return now === undefined || now === startTime;
}
