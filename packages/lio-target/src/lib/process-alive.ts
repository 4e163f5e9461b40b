/** Is a process with this pid alive on this machine? (signal 0 probes without signalling) */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
