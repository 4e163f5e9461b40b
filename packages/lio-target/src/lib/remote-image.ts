// A local disk image on the target machine, uploaded once and reused while it
// is unchanged. The upload goes to a temporary name beside the final one, is
// hashed on the machine itself, and only a whole, matching file is renamed to
// the final name; a record beside it (<name>.sha256) says which bytes it
// holds, so a later run reuses it without sending anything. An interrupted
// upload leaves at most a temporary file, which the next call removes.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { parseOrExplain } from './zod-errors';
import { safePath } from './model/names';
import type { Transport } from './transport';

export const SHA256_HEX = /^[0-9a-f]{64}$/;

const REMOTE_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

export const remoteImageOptionsSchema = z.object({
  localPath: z.string().min(1).describe('The image file on this machine (read only, never written)'),
  sha256: z.string().regex(SHA256_HEX, 'must be 64 lowercase hex digits (sha256sum of the image)').describe('sha256 of the image'),
  remoteDir: safePath.describe('Folder on the target machine (created when missing)'),
  name: z
    .string()
    .regex(REMOTE_FILE_NAME, "must be a plain file name of A-Z a-z 0-9 . _ + - (no '/', not starting with '.')")
    .describe('File name of the image in remoteDir'),
});

export type RemoteImageOptions = z.input<typeof remoteImageOptionsSchema> & {
  log?: (line: string) => void;
  /** Called as bytes go out (total so far); a test interrupts an upload from here. */
  onProgress?: (bytesSent: number) => void;
  /**
   * sha256 was just taken from the file itself (imageDigest): it is not hashed again first. What an upload
   * sends is hashed as it goes either way, so a file that changes meanwhile is still refused.
   */
  digestFromFile?: boolean;
};

export interface RemoteImage {
  /** The image's path on the machine. */
  path: string;
  /** The record of its sha256 beside it. */
  recordPath: string;
  sha256: string;
  sizeBytes: number;
  /** False when the machine already held these bytes under this name: nothing was sent. */
  uploaded: boolean;
  seconds: number;
}

export class ImageChanged extends Error {}

/** sha256 of a local file, streamed. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The record beside an uploaded image: "<sha256> <size>", as the machine's own hash of it said. */
function recordText(sha256: string, sizeBytes: number): string {
  return `${sha256} ${sizeBytes}\n`;
}

async function run(transport: Transport, argv: string[], what: string): Promise<string> {
  const result = await transport.run(argv);
  if (result.code !== 0) throw new Error(`${transport.description}: ${what} failed (exit ${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/**
 * Makes `remoteDir/name` on the machine hold exactly the local image, and
 * returns its path. The local file is hashed first and must match `sha256`
 * (the declared bytes are what is served, or nothing is).
 */
export async function ensureRemoteImage(transport: Transport, options: RemoteImageOptions): Promise<RemoteImage> {
  const started = Date.now();
  const { localPath, sha256, remoteDir, name } = parseOrExplain(remoteImageOptionsSchema, options, 'remote image');
  const log = options.log ?? (() => undefined);
  let sizeBytes: number;
  try {
    sizeBytes = statSync(localPath).size;
  } catch (error) {
    throw new Error(`image ${localPath}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); fix image.path`);
  }
  const changed = (actual: string) =>
    new ImageChanged(`image ${localPath} has sha256 ${actual}, not the declared ${sha256}: it changed since the lab was read; run again (the lab is re-read then)`);
  if (!options.digestFromFile) {
    const localSha = await sha256OfFile(localPath);
    if (localSha !== sha256) throw changed(localSha);
  }
  const path = `${remoteDir}/${name}`;
  const recordPath = `${path}.sha256`;
  const done = (uploaded: boolean): RemoteImage => ({ path, recordPath, sha256, sizeBytes, uploaded, seconds: (Date.now() - started) / 1000 });

  // What the machine holds now: the record and the file's size (one round trip). The record is what the
  // machine's own hash said when the bytes arrived; the file is only ever copied from, never served.
  const held = await transport.run(['sh', '-c', 'cat -- "$1.sha256" 2>/dev/null || echo none; stat -c %s -- "$1" 2>/dev/null || echo none', 'sh', path]);
  const [record, size] = held.stdout.split('\n');
  if (record === recordText(sha256, sizeBytes).trim() && Number(size) === sizeBytes) {
    log(`image ${name}: already on ${transport.description} (sha256 ${sha256.slice(0, 12)}…), not sent again`);
    return done(false);
  }

  // Leftovers of uploads of this name that never finished (a run that died or lost its connection).
  await run(transport, ['sh', '-c', 'mkdir -p -- "$1" && rm -f -- "$1"/."$2".partial-*', 'sh', remoteDir, name], `preparing ${remoteDir}`);
  const partial = `${remoteDir}/.${name}.partial-${randomBytes(6).toString('hex')}`;
  log(`image ${name}: sending ${(sizeBytes / 2 ** 20).toFixed(1)} MiB to ${transport.description}`);
  let sent = 0;
  const sending = createHash('sha256');
  // Counts in transform(), not with a 'data' listener: that would start the flow before the transport
  // pipes the stream to the machine, and the first bytes would go nowhere.
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      sending.update(chunk);
      options.onProgress?.(sent);
      callback(null, chunk);
    },
  });
  const source = createReadStream(localPath, { highWaterMark: 1024 * 1024 });
  const feeding = pipeline(source, counter).catch((error: Error) => counter.destroy(error));
  try {
    const upload = await transport.run(['sh', '-c', 'cat > "$1"', 'sh', partial], { stdin: counter });
    await feeding;
    if (upload.code !== 0) throw new Error(`${transport.description}: writing ${partial} failed (exit ${upload.code}): ${upload.stderr.trim()}`);
    const sentSha = sending.digest('hex');
    if (sent >= sizeBytes && sentSha !== sha256) throw changed(sentSha);
    // The machine's own hash of what arrived: a cut or damaged transfer never gets the final name.
    const remoteSha = (await run(transport, ['sha256sum', '--', partial], `hashing ${partial}`)).trim().split(/\s+/)[0];
    if (remoteSha !== sha256) throw new Error(`${transport.description}: the uploaded ${name} has sha256 ${remoteSha}, not ${sha256} (${sent} of ${sizeBytes} bytes sent); run again`);
    // The old record goes first, so no moment pairs new bytes with an old record; the new record comes last.
    await run(
      transport,
      ['sh', '-c', 'printf "%s" "$3" > "$1.sha256.partial" && rm -f -- "$2.sha256" && mv -f -- "$1" "$2" && mv -f -- "$1.sha256.partial" "$2.sha256"', 'sh', partial, path, recordText(sha256, sizeBytes)],
      `renaming ${partial} to ${path}`,
    );
  } catch (error) {
    source.destroy();
    await transport.run(['rm', '-f', '--', partial, `${partial}.sha256.partial`]).catch(() => undefined);
    throw error;
  }
  log(`image ${name}: sent and verified on ${transport.description} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return done(true);
}
