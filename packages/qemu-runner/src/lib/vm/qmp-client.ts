// A small QMP client (QEMU Machine Protocol: JSON lines over a unix socket).
// The npm QMP clients are unmaintained; this covers what ibft-lab needs and is
// tested against a real QEMU (test/vm.spec.ts).
import { connect, type Socket } from 'node:net';

export interface QmpEvent {
  event: string;
  data?: unknown;
  timestamp?: { seconds: number; microseconds: number };
}

export class QmpError extends Error {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    desc: string,
  ) {
    super(`QMP ${command} failed: ${errorClass}: ${desc}`);
    this.name = 'QmpError';
  }
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class QmpClient {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private closedError: Error | undefined;
  readonly events: QmpEvent[] = [];
  private eventListeners: Array<(event: QmpEvent) => void> = [];

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('close', () => this.failAll(new Error('QMP connection closed')));
    socket.on('error', (error) => this.failAll(error));
  }

  /**
   * Connects to QEMU's QMP socket, retrying until it exists (QEMU creates it
   * shortly after start), reads the greeting and enters command mode.
   */
  static async connect(
    path: string,
    { timeoutMs = 10_000, isAlive = () => true }: { timeoutMs?: number; isAlive?: () => boolean } = {},
  ): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await openSocket(path);
        const client = new QmpClient(socket);
        await client.handshake(Math.max(1000, deadline - Date.now()));
        return client;
      } catch (error) {
        if (!isAlive()) throw new Error(`QEMU exited before its QMP socket answered (${path})`);
        if (Date.now() > deadline) throw new Error(`QMP socket ${path} did not answer within ${timeoutMs} ms: ${String(error)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private greeting: ((value: unknown) => void) | undefined;

  private async handshake(timeoutMs: number): Promise<void> {
    await withTimeout(
      new Promise((resolve, reject) => {
        this.greeting = resolve;
        this.socket.once('close', () => reject(new Error('QMP closed before its greeting')));
      }),
      timeoutMs,
      'QMP greeting',
    );
    await this.execute('qmp_capabilities');
  }

  onEvent(listener: (event: QmpEvent) => void): void {
    this.eventListeners.push(listener);
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closedError) return Promise.reject(new Error(`QMP ${command}: ${this.closedError.message}`));
    const id = String(this.nextId++);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  }

  queryStatus(): Promise<{ status: string; running: boolean }> {
    return this.execute('query-status');
  }

  /** Writes guest physical memory [address, address+size) to `file` (a path QEMU can write, absolute). */
  async pmemsave(address: number, size: number, file: string): Promise<void> {
    await this.execute('pmemsave', { val: address, size, filename: file });
  }

  /** Asks QEMU to exit; resolves when QEMU acknowledged or closed the connection. */
  async quit(): Promise<void> {
    try {
      await this.execute('quit');
    } catch (error) {
      // QEMU may close the socket before the reply reaches us: that is success too.
      if (!this.closedError) throw error;
    }
  }

  async systemReset(): Promise<void> {
    await this.execute('system_reset');
  }

  /** Presses keys together, e.g. ['ctrl', 'b'] for iPXE's prompt (QKeyCode names). */
  async sendKey(keys: string[], holdTimeMs?: number): Promise<void> {
    await this.execute('send-key', {
      keys: keys.map((key) => ({ type: 'qcode', data: key })),
      ...(holdTimeMs ? { 'hold-time': holdTimeMs } : {}),
    });
  }

  close(): void {
    this.socket.destroy();
    this.failAll(new Error('QMP connection closed'));
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (!line) continue;
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(line);
      } catch {
        continue; // QMP only sends JSON objects; anything else is not ours to interpret.
      }
      this.onMessage(message);
    }
  }

  private onMessage(message: Record<string, unknown>): void {
    if ('QMP' in message) {
      this.greeting?.(message);
      this.greeting = undefined;
      return;
    }
    if ('event' in message) {
      const event = message as unknown as QmpEvent;
      this.events.push(event);
      for (const listener of this.eventListeners) listener(event);
      return;
    }
    const id = typeof message.id === 'string' ? message.id : undefined;
    const pending = id ? this.pending.get(id) : undefined;
    if (!pending || !id) return;
    this.pending.delete(id);
    if ('error' in message) {
      const error = message.error as { class?: string; desc?: string };
      pending.reject(new QmpError(pending.command, error.class ?? 'GenericError', error.desc ?? ''));
    } else {
      pending.resolve(message.return);
    }
  }

  private failAll(error: Error): void {
    this.closedError ??= error;
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.reject(new Error(`QMP ${pending.command}: ${error.message}`));
    }
  }
}

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
