// A small promise wrapper over execFile for the host tools guest assembly
// needs (apt-get, dpkg, depmod, cpio). Errors carry the command and its stderr.
import { execFile } from 'node:child_process';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

export function runHostCommand(
  file: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: { ...process.env, LC_ALL: 'C', ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const shown = [file, ...args].join(' ');
          reject(new Error(`${shown.length > 300 ? `${shown.slice(0, 300)}…` : shown} failed: ${String(stderr).trim() || error.message}`));
          return;
        }
        resolvePromise({ stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}
