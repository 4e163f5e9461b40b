import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSecretRefs, SecretRefError } from './secret-ref';

describe('resolveSecretRefs', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ibft-lab-secret-ref-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces env and file references at secret keys, anywhere in the options, and leaves the rest alone', () => {
    writeFileSync(join(dir, 'mutual.txt'), 'target-secret-02\n');
    const options = {
      script: { sanhooks: [{ chap: { username: 'u', password: { env: 'CHAP_A', field: 'chap.password' }, mutual: { username: 'm', password: { file: 'mutual.txt' } } } }] },
      expectations: { targets: [{ chapSecret: { env: 'CHAP_A' } }] },
      other: { env: 'NOT_A_SECRET_KEY' },
    };
    expect(resolveSecretRefs(options, { baseDir: dir, env: { CHAP_A: 'initiator-0001' } })).toEqual({
      script: { sanhooks: [{ chap: { username: 'u', password: 'initiator-0001', mutual: { username: 'm', password: 'target-secret-02' } } }] },
      expectations: { targets: [{ chapSecret: 'initiator-0001' }] },
      other: { env: 'NOT_A_SECRET_KEY' },
    });
  });

  it('names the lab field, the option path and the variable or file when one is missing', () => {
    const missingEnv = () => resolveSecretRefs({ a: { password: { env: 'NOPE', field: 'chap.password' } } }, { baseDir: dir, env: {} });
    expect(missingEnv).toThrow(SecretRefError);
    expect(missingEnv).toThrow('chap.password (a.password): environment variable NOPE is not set; export NOPE=<the secret> before running');
    expect(() => resolveSecretRefs({ password: { file: 'gone.txt' } }, { baseDir: dir })).toThrow(
      `password: the secret file ${join(dir, 'gone.txt')} cannot be read (ENOENT); create it or fix the path`,
    );
  });

  it('warns once, without the value, when a secret is written inline', () => {
    const warnings: string[] = [];
    resolveSecretRefs({ chap: { password: 'inline-secret-1', mutual: { password: 'inline-secret-2' } } }, { baseDir: dir, warn: (l) => warnings.push(l) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/chap\.password is a secret written inline: it is in Nx's project graph/);
    expect(warnings.join('')).not.toContain('inline-secret');
  });
});
