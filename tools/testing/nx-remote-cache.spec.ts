// The test remote cache speaks Nx's self-hosted cache protocol (tools/testing/nx-remote-cache.ts):
// every status code of the OpenAPI specification, over real HTTP on loopback. Nx itself talks to
// it in tools/pack/remote-cache.spec.ts.
import { request } from 'node:http';
import { startRemoteCache, type RemoteCacheServer } from './nx-remote-cache';

let cache: RemoteCacheServer;
beforeAll(async () => {
  cache = await startRemoteCache({ token: 'rw-token', readOnlyToken: 'ro-token' });
});
afterAll(() => cache.stop());

const at = (hash: string) => `${cache.url}/v1/cache/${hash}`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A PUT whose Content-Length says one thing and whose body is another (fetch will not send one). */
function rawPut(hash: string, headers: Record<string, string | number>, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(at(hash), { method: 'PUT', headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('self-hosted Nx remote cache (test server)', () => {
  it('stores an upload and serves the same bytes back', async () => {
    const body = Buffer.from([0x1f, 0x8b, 0, 1, 2, 3, 255]);
    const put = await fetch(at('1234567890'), { method: 'PUT', headers: { ...bearer('rw-token'), 'content-type': 'application/octet-stream' }, body });
    expect(put.status).toBe(200);
    const get = await fetch(at('1234567890'), { headers: bearer('rw-token') });
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await get.arrayBuffer())).toEqual(body);
    expect(cache.entries.get('1234567890')).toEqual(body);
  });

  it('answers 404 for a hash it has not got', async () => {
    expect((await fetch(at('404404'), { headers: bearer('rw-token') })).status).toBe(404);
  });

  it('never overwrites an entry: a second PUT of a hash is 409 and the first bytes stay', async () => {
    await fetch(at('409'), { method: 'PUT', headers: bearer('rw-token'), body: Buffer.from('first') });
    const again = await fetch(at('409'), { method: 'PUT', headers: bearer('rw-token'), body: Buffer.from('second') });
    expect(again.status).toBe(409);
    expect(cache.entries.get('409')?.toString()).toBe('first');
  });

  it('refuses requests without the bearer token (401), or with a wrong one', async () => {
    expect((await fetch(at('1234567890'))).status).toBe(401);
    expect((await fetch(at('1234567890'), { headers: bearer('nope') })).status).toBe(401);
    const put = await fetch(at('401'), { method: 'PUT', headers: bearer('nope'), body: Buffer.from('x') });
    expect(put.status).toBe(401);
    expect(await put.text()).toMatch(/token/);
    expect(cache.entries.has('401')).toBe(false);
  });

  it('lets a read-only token read, and answers its PUT with 403', async () => {
    expect((await fetch(at('1234567890'), { headers: bearer('ro-token') })).status).toBe(200);
    expect((await fetch(at('403'), { method: 'PUT', headers: bearer('ro-token'), body: Buffer.from('x') })).status).toBe(403);
    expect(cache.entries.has('403')).toBe(false);
  });

  it('needs Content-Length on a PUT (400), and a body of that length', async () => {
    expect(await rawPut('400a', { ...bearer('rw-token'), 'transfer-encoding': 'chunked' }, Buffer.from('abc'))).toBe(400);
    expect(await rawPut('400b', { ...bearer('rw-token'), 'content-length': 'ten' }, Buffer.alloc(0))).toBe(400);
    expect(cache.entries.has('400a') || cache.entries.has('400b')).toBe(false);
  });

  it('serves only /v1/cache/{hash} and only GET and PUT on it', async () => {
    expect((await fetch(`${cache.url}/`, { headers: bearer('rw-token') })).status).toBe(404);
    expect((await fetch(`${cache.url}/v1/cache/../../etc/passwd`, { headers: bearer('rw-token') })).status).toBe(404);
    expect((await fetch(at('1234567890'), { method: 'DELETE', headers: bearer('rw-token') })).status).toBe(405);
  });

  it('logs every request with its status and size', () => {
    expect(cache.requests[0]).toEqual({ method: 'PUT', hash: '1234567890', status: 200, bytes: 7 });
    expect(cache.requests.filter((r) => r.status === 409)).toEqual([{ method: 'PUT', hash: '409', status: 409, bytes: 0 }]);
  });
});
