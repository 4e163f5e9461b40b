// An image declared by path alone gets its sha256 when the task runs: hashed
// once while the file is unchanged, again after any write.
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageDigest, withImageDigests } from './image-digest';
import { emptyLedger } from './ownership';
import { parseDesiredState } from './model';
import { plan } from './plan';

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('imageDigest', () => {
  let dir: string;
  let cacheDir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ibft-lab-digest-'));
    cacheDir = join(dir, 'cache');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hashes an unchanged file once, and again after a write to it', async () => {
    const path = join(dir, 'disk.img');
    const bytes = Buffer.alloc(3 * 2 ** 20, 7);
    writeFileSync(path, bytes);
    const built: string[] = [];
    const log = (line: string) => built.push(line);
    expect(await imageDigest(path, { cacheDir, log })).toBe(sha(bytes));
    expect(await imageDigest(path, { cacheDir, log })).toBe(sha(bytes));
    expect(built.filter((l) => l.startsWith('building the sha256 of'))).toHaveLength(1);

    // Same size, one byte changed in place: mtime and ctime move, so it is hashed again.
    await new Promise((r) => setTimeout(r, 20));
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from([8]), 0, 1, 4096);
    closeSync(fd);
    const changed = readFileSync(path);
    expect(await imageDigest(path, { cacheDir, log })).toBe(sha(changed));
    expect(built.filter((l) => l.startsWith('building the sha256 of'))).toHaveLength(2);
    // Only digests in the cache: no copy of the image, no staging folder left.
    for (const entry of readdirSync(join(cacheDir, 'image-digests')).filter((n) => !n.endsWith('.lock'))) {
      expect(readdirSync(join(cacheDir, 'image-digests', entry))).toEqual(['sha256']);
    }
  });

  it('a missing file names image.path', async () => {
    await expect(imageDigest(join(dir, 'nope.img'), { cacheDir })).rejects.toThrow(/image .*nope\.img: cannot read it \(ENOENT\); fix image\.path/);
  });

  it('withImageDigests resolves a relative path from the workspace, keeps a declared sha256, and says which it took from the file', async () => {
    writeFileSync(join(dir, 'a.img'), Buffer.alloc(4096, 1));
    writeFileSync(join(dir, 'b.img'), Buffer.alloc(4096, 2));
    const declared = 'f'.repeat(64);
    const desired = parseDesiredState({
      lab: 'digests',
      backstores: [
        { kind: 'fileio', name: 'a', path: '/var/tmp/a.img', image: { path: 'a.img' } },
        { kind: 'fileio', name: 'b', path: '/var/tmp/b.img', image: { path: join(dir, 'b.img'), sha256: declared } },
        { kind: 'ramdisk', name: 'r', sizeMiB: 1 },
      ],
    });
    // Unresolved, the plan refuses it: an image known by no sha256 would never be copied again.
    expect(() => plan(desired, { storage_objects: [], targets: [], fabric_modules: [] }, emptyLedger('digests'))).toThrow(/backstore a: its image's sha256 is not known yet/);
    const { desired: resolved, fromFile } = await withImageDigests(desired, { cacheDir, workspaceRoot: dir });
    expect(resolved.backstores.map((b) => (b.kind === 'fileio' ? b.image : b.kind))).toEqual([
      { path: join(dir, 'a.img'), sha256: sha(Buffer.alloc(4096, 1)) },
      { path: join(dir, 'b.img'), sha256: declared },
      'ramdisk',
    ]);
    expect([...fromFile]).toEqual(['a']);
    expect(plan(resolved, { storage_objects: [], targets: [], fabric_modules: [] }, emptyLedger('digests')).copiesImages.map((b) => b.name)).toEqual(['a', 'b']);
  });
});
