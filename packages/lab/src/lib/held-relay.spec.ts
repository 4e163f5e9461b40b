// Real loopback sockets: a client of the relay and an echo server behind it.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { startHeldRelay, type HeldRelay } from './held-relay';

function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.pipe(socket));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

function client(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve) => {
    let data = '';
    const socket = connect(port, '127.0.0.1', () => resolve({ socket, received: () => data, closed }));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('error', () => undefined);
  });
}

const settle = (ms = 100) => new Promise((r) => setTimeout(r, ms));

describe('startHeldRelay', () => {
  let relay: HeldRelay;
  let echo: { server: Server; port: number };
  beforeEach(async () => {
    relay = await startHeldRelay();
    echo = await echoServer();
  });
  afterEach(async () => {
    await relay.close();
    await new Promise((r) => echo.server.close(r));
  });

  it('holds what a connection sends until it is opened, then relays both ways, bytes in order', async () => {
    const c = await client(relay.port);
    c.socket.write('login ');
    await settle();
    expect(c.received()).toBe('');
    relay.open(echo.port);
    c.socket.write('request');
    for (const until = Date.now() + 5000; c.received() !== 'login request' && Date.now() < until; ) await settle(20);
    expect(c.received()).toBe('login request');
    // A connection made after opening goes straight through.
    const d = await client(relay.port);
    d.socket.write('again');
    for (const until = Date.now() + 5000; d.received() !== 'again' && Date.now() < until; ) await settle(20);
    expect(d.received()).toBe('again');
    c.socket.destroy();
    d.socket.destroy();
  });

  it('refused: held and later connections are closed, nothing relayed', async () => {
    const c = await client(relay.port);
    relay.refuse();
    await c.closed;
    relay.open(echo.port); // too late: refused stays refused
    const d = await client(relay.port).catch(() => undefined);
    if (d) await d.closed;
    expect(c.received()).toBe('');
  });

  it('closed: every connection ends and the port no longer listens', async () => {
    relay.open(echo.port);
    const c = await client(relay.port);
    await relay.close();
    await c.closed;
    await expect(
      new Promise((resolve, reject) => connect(relay.port, '127.0.0.1', () => resolve('connected')).once('error', reject)),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});
