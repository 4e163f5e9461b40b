// The ssh transport: one ssh2 connection, one exec channel per command.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { Client, type ConnectConfig } from 'ssh2';
import { z } from 'zod';
import { parseOrExplain } from '../zod-errors';
import { hostKeyMatches, sha256Fingerprint, type HostKeyPolicy } from './host-key';
import { commandLine, readFileVia, writeFileVia, type CommandResult, type RunOptions, type Transport } from './transport';

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** A DNS name or an IP address; digits and dots alone must be a whole IPv4 address (no 1.2.3). */
function isHostNameOrAddress(host: string): boolean {
  return isIP(host) !== 0 || (HOST_NAME.test(host) && !/^[\d.]+$/.test(host));
}

export const sshTransportOptionsSchema = z
  .object({
    // Was any non-empty string: "10.0.2.2; rm -rf /" got as far as a DNS lookup before failing.
    host: z
      .string()
      .min(1)
      .refine(isHostNameOrAddress, 'must be a DNS host name or an IPv4/IPv6 address')
      .describe('Host name or address of the target machine'),
    port: z.number().int().min(1).max(65535).default(22).describe('SSH port'),
    user: z.string().min(1).default('root').describe('SSH user; commands run through `sudo -n` when it is not root'),
    privateKeyPath: z.string().optional().describe('Private key file for public-key authentication'),
    useAgent: z.boolean().default(false).describe('Authenticate with the agent at $SSH_AUTH_SOCK'),
    password: z.string().optional().describe('Password authentication (prefer keys); never logged'),
    hostKeyFingerprint: z
      .string()
      .regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'must look like SHA256:<43 base64 characters>, as `ssh-keygen -lf` prints')
      .optional()
      .describe('Pinned host key fingerprint'),
    knownHosts: z.string().optional().describe('known_hosts line(s) holding the host key'),
    insecureAcceptAnyHostKey: z.boolean().default(false).describe('Skip host key verification (write it explicitly; never the default)'),
    readyTimeoutMs: z.number().int().positive().default(20_000).describe('Deadline for the SSH handshake'),
  })
  .superRefine((o, ctx) => {
    if (!o.hostKeyFingerprint && !o.knownHosts && !o.insecureAcceptAnyHostKey) {
      ctx.addIssue({
        code: 'custom',
        path: ['hostKeyFingerprint'],
        message: 'is required (or knownHosts): the host key must be verified; set insecureAcceptAnyHostKey: true only for throwaway machines',
      });
    }
    if (!o.privateKeyPath && !o.useAgent && o.password === undefined) {
      ctx.addIssue({ code: 'custom', path: ['privateKeyPath'], message: 'is required unless useAgent or password is given' });
    }
  });

export type SshTransportOptions = z.input<typeof sshTransportOptionsSchema>;

/** The machine answered and said no (authentication, host key, our key file): waiting will not change that. */
export class SshRefused extends Error {}
export class HostKeyRejected extends SshRefused {}

function readPrivateKey(path: string, description: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new SshRefused(`${description}: cannot read the private key ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

export async function connectSsh(input: SshTransportOptions): Promise<Transport> {
  const options = parseOrExplain(sshTransportOptionsSchema, input, 'ssh transport options');
  const policy: HostKeyPolicy = options.hostKeyFingerprint
    ? { kind: 'fingerprint', fingerprint: options.hostKeyFingerprint }
    : options.knownHosts
      ? { kind: 'known-hosts', lines: options.knownHosts }
      : { kind: 'accept-any' };
  const description = `ssh ${options.user}@${options.host}:${options.port}`;
  const client = new Client();
  let presentedFingerprint = '';
  const config: ConnectConfig = {
    host: options.host,
    port: options.port,
    username: options.user,
    readyTimeout: options.readyTimeoutMs,
    privateKey: options.privateKeyPath ? readPrivateKey(options.privateKeyPath, description) : undefined,
    agent: options.useAgent ? process.env.SSH_AUTH_SOCK : undefined,
    password: options.password,
    hostVerifier: (key: Buffer) => {
      presentedFingerprint = sha256Fingerprint(key);
      return hostKeyMatches(policy, key);
    },
  };
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', (error: Error & { level?: string }) => {
      if (/host key|verification/i.test(error.message) || (presentedFingerprint && !hostKeyMatchesSafe(policy, presentedFingerprint))) {
        reject(new HostKeyRejected(`${description}: host key ${presentedFingerprint || '(none)'} does not match the pinned key; refusing to connect`));
      } else if (error.level === 'client-authentication') {
        const key = options.privateKeyPath ? `the key ${options.privateKeyPath}` : options.useAgent ? "the agent's keys" : 'the password';
        reject(new SshRefused(`${description}: ${error.message}: the machine does not accept ${key}`));
      } else {
        reject(new Error(`${description}: ${error.message}`));
      }
    });
    client.connect(config);
  });
  const asRoot = options.user === 'root';
  // Once the connection is gone, say so (ssh2 itself only says "Not connected").
  let lostReason: string | undefined;
  client.on('error', (error: Error) => void (lostReason ??= error.message));
  client.on('close', () => void (lostReason ??= 'the connection closed'));
  const lost = (reason: string | undefined, argv: string[]) =>
    new Error(`${description}: the SSH connection was lost (${reason ?? 'no reason given'}) during \`${argv[0]}\`; run again: it re-reads the machine and plans from there`);

  const transport: Transport = {
    description,
    run(argv: string[], runOptions: RunOptions = {}): Promise<CommandResult> {
      const line = commandLine(argv, asRoot);
      return new Promise((resolve, reject) => {
        if (lostReason) return reject(lost(lostReason, argv));
        client.exec(line, (error, stream) => {
          if (error) return reject(lostReason || /not connected/i.test(error.message) ? lost(lostReason ?? error.message, argv) : new Error(`${description}: ${error.message}`));
          const out: Buffer[] = [];
          const err: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => out.push(chunk));
          stream.stderr.on('data', (chunk: Buffer) => err.push(chunk));
          stream.on('close', (code: number | null, signal?: string) => {
            // No exit status and a dead connection: the command's fate is unknown, not a failure code.
            if ((code === null || code === undefined) && !signal) {
              setImmediate(() => (lostReason ? reject(lost(lostReason, argv)) : resolve({ code: 255, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') })));
              return;
            }
            resolve({
              code: code ?? (signal ? 128 : 255),
              stdout: Buffer.concat(out).toString('utf8'),
              stderr: Buffer.concat(err).toString('utf8'),
            });
          });
          const stdin = runOptions.stdin;
          if (typeof stdin === 'string') stream.end(stdin);
          else if (stdin) {
            // A source that fails mid-way must not look like a short, complete input: close the
            // channel without EOF so the command sees no clean end (and the caller gets the error).
            stdin.once('error', (failure) => {
              stream.destroy();
              reject(new Error(`${description}: the stream piped to \`${argv[0]}\` failed: ${failure.message}`));
            });
            stdin.pipe(stream);
          } else stream.end();
        });
      });
    },
    readFile: (path) => readFileVia(transport, path),
    writeFile: (path, content) => writeFileVia(transport, path, content),
    connectLoopback(port: number): Promise<Duplex> {
      return new Promise((resolve, reject) => {
        if (lostReason) return reject(new Error(`${description}: the SSH connection was lost (${lostReason})`));
        client.forwardOut('127.0.0.1', 0, '127.0.0.1', port, (error, channel) =>
          error ? reject(new Error(`${description}: no connection to port ${port} on the machine's loopback: ${error.message}`)) : resolve(channel),
        );
      });
    },
    async close() {
      client.end();
    },
  };
  return transport;
}

function hostKeyMatchesSafe(policy: HostKeyPolicy, fingerprint: string): boolean {
  return policy.kind === 'accept-any' || (policy.kind === 'fingerprint' && policy.fingerprint.replace(/=+$/, '') === fingerprint);
}
