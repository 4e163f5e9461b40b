// A self-hosted Nx remote cache for tests: the HTTP protocol Nx 20.8+ speaks when
// NX_SELF_HOSTED_REMOTE_CACHE_SERVER is set (nx.dev, "Self-hosted caching", its OpenAPI
// specification), on a free 127.0.0.1 port, entries kept in memory so a test can read every
// artefact Nx uploaded. No npm package serves this protocol (the nx-remotecache-* packages are
// client-side runners for Nx < 20; the official adapters are bucket clients needing a key).
//
//   PUT /v1/cache/{hash}  body: the task's tar archive, Content-Length required
//       200 stored · 400 no/bad Content-Length (or a body of another length) · 401 no/bad token
//       403 read-only token · 409 an entry exists (never overwritten)
//   GET /v1/cache/{hash}  200 application/octet-stream · 401 · 403 · 404 no entry
//   Authorization: Bearer <token> (NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN on Nx's side)
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CacheRequest {
  method: string;
  hash: string;
  status: number;
  /** Bytes sent (GET 200) or received (PUT). */
  bytes: number;
}

export interface RemoteCacheServer {
  /** http://127.0.0.1:<port>: the value of NX_SELF_HOSTED_REMOTE_CACHE_SERVER. */
  url: string;
  /** Reads and writes. */
  token: string;
  /** Reads only (a PUT with it gets 403). */
  readOnlyToken: string;
  /** Every request to /v1/cache/*, in order. */
  requests: CacheRequest[];
  /** The stored archives by task hash. */
  entries: Map<string, Buffer>;
  stop(): Promise<void>;
}

export interface RemoteCacheOptions {
  token?: string;
  readOnlyToken?: string;
  /** Largest archive accepted (413 above it); default 512 MiB. */
  maxBytes?: number;
}

const HASH = /^\/v1\/cache\/([A-Za-z0-9._-]{1,256})$/;

function send(res: ServerResponse, status: number, text?: string): void {
  if (text === undefined) {
    res.writeHead(status, { 'content-length': 0 });
    res.end();
    return;
  }
  const body = Buffer.from(`${text}\n`);
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length });
  res.end(body);
}

export async function startRemoteCache(options: RemoteCacheOptions = {}): Promise<RemoteCacheServer> {
  const token = options.token ?? randomBytes(24).toString('hex');
  const readOnlyToken = options.readOnlyToken ?? randomBytes(24).toString('hex');
  const maxBytes = options.maxBytes ?? 512 * 1024 * 1024;
  const entries = new Map<string, Buffer>();
  const requests: CacheRequest[] = [];

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const match = HASH.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (!match) return send(res, 404, 'not found: the cache lives under /v1/cache/{hash}');
    const hash = match[1];
    const method = req.method ?? '';
    const done = (status: number, bytes = 0, text?: string) => {
      requests.push({ method, hash, status, bytes });
      send(res, status, text);
    };
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const access = auth === token ? 'write' : auth === readOnlyToken ? 'read' : undefined;

    if (method === 'GET') {
      req.resume();
      if (!access) return done(401, 0, 'missing or invalid bearer token');
      const entry = entries.get(hash);
      if (!entry) return done(404);
      requests.push({ method, hash, status: 200, bytes: entry.length });
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': entry.length });
      res.end(entry);
      return;
    }
    if (method !== 'PUT') {
      req.resume();
      res.setHeader('allow', 'GET, PUT');
      return done(405, 0, `${method} is not part of the protocol`);
    }
    const declared = req.headers['content-length'];
    const length = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : NaN;
    // Refuse before reading the body: the client learns at once, and nothing is stored.
    const refusal: [number, string?] | undefined = !access
      ? [401, 'missing or invalid bearer token']
      : access === 'read'
        ? [403, 'this token may only read']
        : Number.isNaN(length)
          ? [400, 'Content-Length is required']
          : length > maxBytes
            ? [413, `entries are limited to ${maxBytes} bytes`]
            : entries.has(hash)
              ? [409]
              : undefined;
    if (refusal) {
      req.resume();
      return done(refusal[0], 0, refusal[1]);
    }
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received <= length) chunks.push(chunk);
    });
    req.on('end', () => {
      if (received !== length) return done(400, received, `received ${received} bytes, Content-Length said ${length}`);
      // Two uploads of one hash at once: the first to finish wins, the second is told so.
      if (entries.has(hash)) return done(409, received);
      entries.set(hash, Buffer.concat(chunks));
      done(200, received);
    });
    req.on('error', () => done(400, received, 'upload cut off'));
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    readOnlyToken,
    requests,
    entries,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
