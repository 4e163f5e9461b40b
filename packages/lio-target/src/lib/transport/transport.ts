// How lio-target reaches the machine that runs LIO: a command runner with
// argv semantics. Both transports run commands as root (`sudo -n` otherwise),
// in the C locale with a dumb terminal so targetcli prints no colours.
import type { Duplex, Readable } from 'node:stream';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /**
   * Bytes for the command's stdin (targetcli scripts go here, never in argv),
   * or a stream piped to it (a file upload: `cat > tmp`), ended when the stream ends.
   */
  stdin?: string | Readable;
}

export interface Transport {
  /** e.g. "ssh root@127.0.0.1:2222" or "local"; never holds secrets. */
  readonly description: string;
  run(argv: string[], options?: RunOptions): Promise<CommandResult>;
  /** The file's text, or undefined when it does not exist. */
  readFile(path: string): Promise<string | undefined>;
  writeFile(path: string, content: string): Promise<void>;
  /** A TCP connection to `port` on the machine's own loopback, through this transport (SSH: a direct-tcpip channel). */
  connectLoopback?(port: number): Promise<Duplex>;
  /**
   * The machine runs ibft-lab's LIO agent on this loopback port (the appliance
   * does: lio-agent.ts); reads and targetcli scripts go to it. Set by whoever
   * knows the machine (withLioAgent), never guessed: another machine's port may be anything.
   */
  readonly lioAgentPort?: number;
  close(): Promise<void>;
}

/** `transport`, saying that the machine runs ibft-lab's LIO agent on `port` (its loopback). */
export function withLioAgent(transport: Transport, port: number): Transport {
  if (!transport.connectLoopback) throw new Error(`${transport.description}: this transport cannot reach the machine's loopback, so not its LIO agent`);
  return { ...transport, lioAgentPort: port };
}

/** The environment every remote or local command runs with. */
export const COMMAND_ENV = { LC_ALL: 'C', TERM: 'dumb' } as const;

const PLAIN_TOKEN = /^[A-Za-z0-9_./:=@%+,-]+$/;

/** POSIX single-quote quoting: the token reaches the command unchanged, whatever it holds. */
export function shellQuote(token: string): string {
  if (token !== '' && PLAIN_TOKEN.test(token)) return token;
  return `'${token.replace(/'/g, `'\\''`)}'`;
}

/** argv → one shell command line with the fixed environment and `sudo -n` when not root. */
export function commandLine(argv: string[], asRoot: boolean): string {
  if (argv.length === 0) throw new Error('empty command');
  const env = Object.entries(COMMAND_ENV).map(([k, v]) => `${k}=${v}`);
  const prefix = asRoot ? ['env', ...env] : ['sudo', '-n', 'env', ...env];
  return [...prefix, ...argv].map(shellQuote).join(' ');
}

/** readFile via `cat`: a missing file is undefined, any other failure throws. */
export async function readFileVia(transport: Pick<Transport, 'run' | 'description'>, path: string): Promise<string | undefined> {
  const result = await transport.run(['cat', '--', path]);
  if (result.code === 0) return result.stdout;
  if (/No such file/i.test(result.stderr)) return undefined;
  throw new Error(`${transport.description}: cat ${path} failed (exit ${result.code}): ${result.stderr.trim()}`);
}

/** Writes through a temporary file and a rename, so a dropped connection never leaves a cut-off file. */
export async function writeFileVia(transport: Pick<Transport, 'run' | 'description'>, path: string, content: string): Promise<void> {
  const result = await transport.run(['sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1.partial.$$" && mv -f "$1.partial.$$" "$1"', 'sh', path], {
    stdin: content,
  });
  if (result.code !== 0) throw new Error(`${transport.description}: writing ${path} failed (exit ${result.code}): ${result.stderr.trim()}`);
}
