// Copies chosen kernel modules and everything they depend on (modules.dep)
// into a guest root, then lets depmod write the index modprobe reads.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CloudKernel } from './cloud-kernel';
import { runHostCommand } from './run-command';

/** modprobe treats '-' and '_' alike in module names. */
function moduleKey(name: string): string {
  return name.replace(/-/g, '_');
}

function moduleNameOfPath(path: string): string {
  return moduleKey(path.split('/').pop()!.replace(/\.ko(\.(xz|zst|gz))?$/, ''));
}

/** Relative module paths (as in modules.dep) for `names` plus their dependencies. */
export function resolveModuleClosure(modulesDep: string, names: string[], builtin: string[] = []): string[] {
  const depsOf = new Map<string, string[]>();
  const pathOf = new Map<string, string>();
  for (const line of modulesDep.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const path = line.slice(0, colon).trim();
    const deps = line.slice(colon + 1).trim().split(/\s+/).filter(Boolean);
    depsOf.set(path, deps);
    pathOf.set(moduleNameOfPath(path), path);
  }
  const builtinNames = new Set(builtin.map(moduleNameOfPath));
  const result = new Set<string>();
  const visit = (path: string) => {
    if (result.has(path)) return;
    result.add(path);
    for (const dep of depsOf.get(path) ?? []) visit(dep);
  };
  for (const name of names) {
    const path = pathOf.get(moduleKey(name));
    if (path) visit(path);
    else if (!builtinNames.has(moduleKey(name))) {
      throw new Error(`kernel module ${name} is neither a module nor built in to this kernel (modules.dep, modules.builtin)`);
    }
  }
  return [...result].sort();
}

export async function addKernelModules(kernel: CloudKernel, moduleNames: string[], rootDir: string): Promise<string[]> {
  const modulesDep = readFileSync(join(kernel.modulesRoot, 'modules.dep'), 'utf8');
  const builtinFile = join(kernel.modulesRoot, 'modules.builtin');
  const builtin = existsSync(builtinFile) ? readFileSync(builtinFile, 'utf8').split('\n').filter(Boolean) : [];
  const paths = resolveModuleClosure(modulesDep, moduleNames, builtin);
  // Under merged-usr, <root>/lib is a link to usr/lib; writing under usr/lib works either way.
  const target = join(rootDir, 'usr', 'lib', 'modules', kernel.version);
  for (const relative of paths) {
    mkdirSync(dirname(join(target, relative)), { recursive: true });
    copyFileSync(join(kernel.modulesRoot, relative), join(target, relative));
  }
  for (const index of ['modules.builtin', 'modules.builtin.modinfo', 'modules.order']) {
    if (existsSync(join(kernel.modulesRoot, index))) copyFileSync(join(kernel.modulesRoot, index), join(target, index));
  }
  await runHostCommand('depmod', ['-b', rootDir, kernel.version]);
  return paths;
}
