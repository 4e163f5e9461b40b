// Unpacks .deb files into a guest root without installing them (dpkg -x runs
// no maintainer scripts and needs no root). Debian bookworm is merged-usr:
// /bin, /sbin, /lib, /lib64 are links into /usr, but packages still ship files
// under /bin etc., and dpkg -x makes those real folders. We put the links back
// (facts.md: the appliance does not boot otherwise).
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { runHostCommand } from './run-command';

const MERGED_USR_LINKS = ['bin', 'sbin', 'lib', 'lib64'];

export async function extractDebs(debs: string[], rootDir: string): Promise<void> {
  mkdirSync(rootDir, { recursive: true });
  for (const deb of debs) {
    await runHostCommand('dpkg', ['-x', deb, rootDir]);
  }
  restoreMergedUsr(rootDir);
}

/** Moves /bin, /sbin, /lib, /lib64 contents into /usr and links them; /var/run → /run. */
export function restoreMergedUsr(rootDir: string): void {
  for (const name of MERGED_USR_LINKS) {
    const top = join(rootDir, name);
    const underUsr = join(rootDir, 'usr', name);
    mkdirSync(underUsr, { recursive: true });
    if (existsSync(top) && !lstatSync(top).isSymbolicLink()) {
      for (const entry of readdirSync(top)) {
        cpSync(join(top, entry), join(underUsr, entry), { recursive: true, force: true, verbatimSymlinks: true });
      }
      rmSync(top, { recursive: true, force: true });
    }
    if (!existsSync(top) && !isLink(top)) symlinkSync(`usr/${name}`, top);
  }
  const varRun = join(rootDir, 'var', 'run');
  mkdirSync(join(rootDir, 'run'), { recursive: true });
  mkdirSync(join(rootDir, 'var'), { recursive: true });
  if (existsSync(varRun) && !isLink(varRun)) rmSync(varRun, { recursive: true, force: true });
  if (!isLink(varRun)) symlinkSync('../run', varRun);
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
