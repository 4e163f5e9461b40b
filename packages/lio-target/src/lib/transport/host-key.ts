// Host key checks for the ssh transport: a pinned OpenSSH-style fingerprint
// (SHA256:<base64, no padding>) or a known_hosts line. Anything else is refused
// unless the caller wrote insecureAcceptAnyHostKey: true.
import { createHash } from 'node:crypto';

/** OpenSSH's SHA256 fingerprint of a raw host key blob. */
export function sha256Fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key blobs (base64) in known_hosts-style lines (`hosts keytype base64 [comment]`); markers and hashes aside. */
export function keysOfKnownHostsLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(/\s+/))
    .map((fields) => (fields[0].startsWith('@') ? fields.slice(1) : fields))
    .map((fields) => (fields.length >= 3 ? fields[2] : fields.length === 2 ? fields[1] : ''))
    .filter(Boolean);
}

export type HostKeyPolicy =
  | { kind: 'fingerprint'; fingerprint: string }
  | { kind: 'known-hosts'; lines: string }
  | { kind: 'accept-any' };

export function hostKeyMatches(policy: HostKeyPolicy, keyBlob: Buffer): boolean {
  switch (policy.kind) {
    case 'accept-any':
      return true;
    case 'fingerprint':
      return sha256Fingerprint(keyBlob) === policy.fingerprint.replace(/=+$/, '');
    case 'known-hosts':
      return keysOfKnownHostsLines(policy.lines).includes(keyBlob.toString('base64'));
  }
}
