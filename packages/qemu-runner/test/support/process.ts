// Test helpers that look at the host, not at our code: is a pid alive, which QEMUs run.
import { execFileSync } from 'node:child_process';

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Command lines of running qemu-system-x86_64 processes that mention `needle`. */
export function qemuProcessesMentioning(needle: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', 'qemu-system-x86_64'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes(needle) && !line.includes('pgrep'));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}
