// The appliance's endpoint file: what setup-target, boot-vm and tests need to
// reach a running appliance. No secrets: the key is referenced by path.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
  pid: z.number().int(),
  startedAt: z.string(),
  /** Private L2 segments: the initiator's NIC connects a QEMU socket netdev to `connect`; `ip` is the appliance on it. */
  segments: z.array(z.object({ name: z.string(), ip: z.string(), connect: z.string() })).optional(),
});

export type ApplianceEndpoint = z.output<typeof endpointSchema>;

/** dist/labs/<project>/target/endpoint.json under the workspace root. */
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
}

/** Is the process that wrote the endpoint still alive? */
export function endpointAlive(endpoint: ApplianceEndpoint): boolean {
  return processAlive(endpoint.pid);
}
