// A loopback TCP relay whose connections wait until it learns where to go.
// The initiator VM boots while its target is still being set up: QEMU's
// guestfwd relays the portal here, and iPXE's login waits in this relay (its
// bytes held, unread) until the target is ready, instead of failing. Closing
// the relay (or refusing) ends every connection, so nothing outlives it.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface HeldRelay {
  /** The loopback port the relay listens on. */
  port: number;
  /** From now on every connection, held or new, is relayed to 127.0.0.1:`hostPort`. */
  open(hostPort: number): void;
  /** The target will not come: held and new connections are closed. */
  refuse(): void;
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
}

export async function startHeldRelay(): Promise<HeldRelay> {
  let state: { kind: 'holding' } | { kind: 'open'; hostPort: number } | { kind: 'refused' } = { kind: 'holding' };
  const held: Socket[] = [];
  const live = new Set<Socket>();
  const track = (socket: Socket) => {
    live.add(socket);
    socket.once('close', () => live.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const relay = (guest: Socket, hostPort: number) => {
    const host = connect(hostPort, '127.0.0.1');
    track(host);
    host.once('close', () => guest.destroy());
    guest.once('close', () => host.destroy());
    guest.pipe(host);
    host.pipe(guest);
  };
  const server: Server = createServer({ pauseOnConnect: true }, (guest) => {
    track(guest);
    if (state.kind === 'open') relay(guest, state.hostPort);
    else if (state.kind === 'refused') guest.destroy();
    else held.push(guest);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the held relay did not get a loopback port');
  return {
    port: address.port,
    open(hostPort) {
      if (state.kind !== 'holding') return;
      state = { kind: 'open', hostPort };
      for (const guest of held.splice(0)) if (!guest.destroyed) relay(guest, hostPort);
    },
    refuse() {
      if (state.kind !== 'holding') return;
      state = { kind: 'refused' };
      for (const guest of held.splice(0)) guest.destroy();
    },
    async close() {
      state = { kind: 'refused' };
      held.length = 0;
      for (const socket of live) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
