// Opens the transport an Nx target or script asked for: the lab's appliance
// (found through its endpoint file, waited for with a deadline), a machine
// over SSH, or this machine.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { resolveSecretRefs } from '@ibft-lab/script-gen';
import { z } from 'zod';
import { endpointAlive, endpointRestoring, endpointSshOptions, readEndpoint, readEndpointFailure, type ApplianceEndpoint } from './appliance/endpoint';
import { refusedByAppliance } from './appliance/start-appliance';
import { connectSsh, localTransport, SshRefused, sshTransportOptionsSchema, withLioAgent, type Transport } from './transport';

export const targetConnectionSchema = z.object({
  transport: z
    .enum(['appliance', 'ssh', 'local'])
    .default('appliance')
    .describe("Where LIO runs: 'appliance' (the lab's target-vm), 'ssh' (a machine you name) or 'local' (this machine)"),
  ssh: sshTransportOptionsSchema.optional().describe("SSH connection when transport is 'ssh'"),
  endpointFile: z.string().optional().describe('Appliance endpoint file (default dist/labs/<project>/target/endpoint.json)'),
  waitTimeoutSeconds: z.number().int().positive().default(300).describe('How long to wait for the appliance to be reachable'),
});

export type TargetConnection = z.output<typeof targetConnectionSchema>;

export interface OpenedTarget {
  transport: Transport;
  endpoint?: ApplianceEndpoint;
}

export async function waitForEndpoint(
  path: string,
  deadline: number,
  log: (line: string) => void,
  signal?: AbortSignal,
  /** Called once if target-vm announces that it restores the appliance from its saved state (ready within seconds). */
  onRestoring?: () => void,
): Promise<ApplianceEndpoint> {
  let said = false;
  const since = Date.now();
  for (;;) {
    if (signal?.aborted) throw new Error('stopped while waiting for the LIO appliance');
    const endpoint = readEndpoint(path);
    if (endpoint && endpointAlive(endpoint)) return endpoint;
    const failure = readEndpointFailure(path, since);
    if (failure) throw new Error(`the LIO appliance did not start: target-vm: ${failure}`);
    if (Date.now() > deadline) {
      throw new Error(`no running LIO appliance: ${path} ${endpoint ? 'names a process that is gone' : 'does not exist'}; start the target-vm target first`);
    }
    if (onRestoring && endpointRestoring(path)) {
      onRestoring();
      onRestoring = undefined;
    }
    if (!said) log(`waiting for the LIO appliance (${path})`);
    said = true;
    // A restored appliance publishes within a second or two: a long poll would be a large part of the wait.
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function openTarget(
  connection: TargetConnection,
  defaultEndpointFile: string,
  log: (line: string) => void = () => undefined,
  /** A relative ssh.privateKeyPath is read from here (Nx may run executors in another folder). */
  workspaceRoot?: string,
  /** Ends the wait for the appliance (the caller's parent is gone). */
  signal?: AbortSignal,
): Promise<OpenedTarget> {
  if (connection.transport === 'local') return { transport: localTransport() };
  if (connection.transport === 'ssh') {
    if (!connection.ssh) throw new Error("ssh: is required when transport is 'ssh' (host, port, user, privateKeyPath, hostKeyFingerprint)");
    const key = connection.ssh.privateKeyPath;
    const privateKeyPath = key && workspaceRoot && !isAbsolute(key) ? join(workspaceRoot, key) : key;
    return { transport: await connectSsh({ ...connection.ssh, ...(privateKeyPath ? { privateKeyPath } : {}) }) };
  }
  const deadline = Date.now() + connection.waitTimeoutSeconds * 1000;
  const endpoint = await waitForEndpoint(connection.endpointFile ?? defaultEndpointFile, deadline, log, signal);
  return openAppliance(endpoint, deadline, signal);
}

/** SSH (and the LIO agent) to an appliance whose endpoint is known, retried until `deadline` while it is not listening yet. */
export async function openAppliance(endpoint: ApplianceEndpoint, deadline: number, signal?: AbortSignal): Promise<OpenedTarget> {
  let last: unknown;
  while (Date.now() < deadline && !signal?.aborted) {
    try {
      const ssh = await connectSsh(endpointSshOptions(endpoint));
      return { transport: endpoint.lioAgentPort ? withLioAgent(ssh, endpoint.lioAgentPort) : ssh, endpoint };
    } catch (error) {
      // Only "not listening yet" heals by waiting; a refusal names its cause now.
      if (error instanceof SshRefused) throw refusedByAppliance(error, dirname(endpoint.privateKeyPath));
      last = error;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  throw new Error(`the LIO appliance did not accept SSH in time: ${(last as Error)?.message ?? 'no attempt'}`);
}

/** The desired state from an inline object or a JSON file (relative to the workspace root). */
export function loadDesiredInput(options: { config?: unknown; configFile?: string }, workspaceRoot: string): unknown {
  if (options.config !== undefined) return options.config;
  if (!options.configFile) throw new Error('config or configFile: one is required (the LIO desired state)');
  const path = isAbsolute(options.configFile) ? options.configFile : join(workspaceRoot, options.configFile);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`configFile ${path}: ${(error as Error).message}`);
  }
  return resolveSecretRefs(json, { baseDir: workspaceRoot });
}
