// The appliance's endpoint file: what setup-target, boot-vm and tests need to
// reach a running appliance. No secrets: the key is referenced by path.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { processAlive } from '@ibft-lab/cache';

export const endpointSchema = z.object({
  host: z.string(),
  sshPort: z.number().int(),
  iscsiPort: z.number().int(),
  user: z.string(),
  privateKeyPath: z.string(),
  hostKeyFingerprint: z.string(),
  /** The portal as a QEMU guest on user networking sees it. */
  guestPortal: z.object({ ip: z.string(), port: z.number().int() }),
  /** ibft-lab's LIO agent on the appliance's own loopback (reached through SSH); absent: start targetcli. */
  lioAgentPort: z.number().int().optional(),
  pid: z.number().int(),
  startedAt: z.string(),
  /** Private L2 segments: the initiator's NIC connects a QEMU socket netdev to `connect`; `ip` is the appliance on it. */
  segments: z.array(z.object({ name: z.string(), ip: z.string(), connect: z.string() })).optional(),
});

export type ApplianceEndpoint = z.output<typeof endpointSchema>;

/** dist/labs/<project>/target/endpoint.json under the workspace root. */
/** How to reach the appliance over SSH (connectSsh's options): its published port, pinned host key and client key. */
export function endpointSshOptions(endpoint: ApplianceEndpoint): { host: string; port: number; user: string; privateKeyPath: string; hostKeyFingerprint: string } {
  return { host: endpoint.host, port: endpoint.sshPort, user: endpoint.user, privateKeyPath: endpoint.privateKeyPath, hostKeyFingerprint: endpoint.hostKeyFingerprint };
}

export function endpointPath(workspaceRoot: string, project: string): string {
  return join(workspaceRoot, 'dist', 'labs', project, 'target', 'endpoint.json');
}

export function writeEndpoint(path: string, endpoint: ApplianceEndpoint): void {
  mkdirSync(dirname(path), { recursive: true });
  const partial = `${path}.partial-${process.pid}`;
  writeFileSync(partial, `${JSON.stringify(endpoint, null, 2)}\n`);
  renameSync(partial, path);
}

export function readEndpoint(path: string): ApplianceEndpoint | undefined {
  if (!existsSync(path)) return undefined;
  return endpointSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

export function removeEndpoint(path: string): void {
  rmSync(path, { force: true });
  rmSync(endpointFailurePath(path), { force: true });
  rmSync(endpointRestoringPath(path), { force: true });
}

/** Is the process that wrote the endpoint still alive? */
export function endpointAlive(endpoint: ApplianceEndpoint): boolean {
  return processAlive(endpoint.pid);
}

/**
 * Why target-vm could not start the appliance, beside the endpoint file: Nx does
 * not stop a continuous task's dependents when it fails, so setup-target reads
 * this instead of waiting out its deadline for an endpoint that will not come.
 */
export function endpointFailurePath(endpointFile: string): string {
  return `${endpointFile}.failed`;
}

export function writeEndpointFailure(endpointFile: string, message: string): void {
  mkdirSync(dirname(endpointFile), { recursive: true });
  // The Nx process that ran us: setup-target, run by the same one, knows the failure is this run's.
  writeFileSync(endpointFailurePath(endpointFile), `${JSON.stringify({ runner: process.ppid, message })}\n`);
}

/** The failure target-vm wrote in this run (the same parent process, or since `since`), if any; another is a past run's. */
export function readEndpointFailure(endpointFile: string, since: number): string | undefined {
  const file = endpointFailurePath(endpointFile);
  try {
    const failure = JSON.parse(readFileSync(file, 'utf8')) as { runner?: number; message?: string };
    if (failure.runner !== process.ppid && statSync(file).mtimeMs < since - 2000) return undefined;
    return failure.message;
  } catch {
    return undefined;
  }
}

/**
 * Beside the endpoint file while target-vm restores the appliance from its saved state: it answers within
 * seconds, so an initiator whose login waits for it (the lab's boot-vm) may start now rather than once the
 * endpoint is published. A cold boot (10 to 30 s, or an OS image built first) is not announced.
 */
export function endpointRestoringPath(endpointFile: string): string {
  return `${endpointFile}.restoring`;
}

export function writeEndpointRestoring(endpointFile: string): void {
  mkdirSync(dirname(endpointFile), { recursive: true });
  writeFileSync(endpointRestoringPath(endpointFile), `${JSON.stringify({ pid: process.pid })}\n`);
}

export function removeEndpointRestoring(endpointFile: string): void {
  rmSync(endpointRestoringPath(endpointFile), { force: true });
}

/** Does a live target-vm announce a restore? A dead one's announcement is stale. */
export function endpointRestoring(endpointFile: string): boolean {
  try {
    const { pid } = JSON.parse(readFileSync(endpointRestoringPath(endpointFile), 'utf8')) as { pid?: number };
    return typeof pid === 'number' && processAlive(pid);
  } catch {
    return false;
  }
}
