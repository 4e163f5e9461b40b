import { createServer } from 'node:net';

/** A TCP port free on host loopback right now (QEMU binds it a moment later). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

export class PortInUse extends Error {
  constructor(readonly port: number) {
    super(`iscsiPort: 127.0.0.1:${port} is in use by another process; stop it, or choose another port`);
    this.name = 'PortInUse';
  }
}

/** Resolves when `port` can be bound on host loopback now; rejects with PortInUse when it cannot. */
export function checkPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? new PortInUse(port) : error));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}
