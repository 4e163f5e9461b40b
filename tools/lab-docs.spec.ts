import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLab } from '@ibft-lab/lab';
import { EXAMPLE_LABS, fieldSections, labJsonSchema, listLabFiles, renderLabDocs, typeText, WORKSPACE_ROOT } from './lab-docs';

describe('generated lab docs', () => {
  it.each(renderLabDocs().map((file) => [file.path, file.content]))('%s matches its generator (run `npm run docs`)', (path, content) => {
    const committed = join(WORKSPACE_ROOT, path);
    expect(existsSync(committed) ? readFileSync(committed, 'utf8') : `(${path} is missing)`).toBe(content);
  });

  it('documents every property of the JSON schema, each exactly once per form', () => {
    const rows = fieldSections().flatMap((section) => section.rows.map((row) => row.path));
    for (const path of ['initiator.iqn', 'firmware.nic', 'firmware.source.git.url', 'target.ssh.hostKeyFingerprint', 'luns[].sizeMiB', 'chap.mutual.password', 'network.prefix']) {
      expect(rows).toContain(path);
    }
    for (const section of fieldSections()) {
      const paths = section.rows.map((row) => row.path);
      expect(new Set(paths).size).toBe(paths.length);
    }
  });

  it('renders types, allowed values and ranges', () => {
    expect(typeText({ type: 'integer', minimum: 1, maximum: 65535 })).toBe('integer, 1–65535');
    expect(typeText({ type: 'string', enum: ['tcg', 'kvm'] })).toBe('one of `"tcg"`, `"kvm"`');
    expect(typeText({ type: 'string', minLength: 12, maxLength: 16 })).toBe('string, 12–16 characters');
    expect(typeText({ anyOf: [{ type: 'boolean' }, { type: 'string' }] })).toBe('boolean or string');
  });

  it('fails loudly on a JSON schema construct it cannot render', () => {
    const schema = { ...labJsonSchema(), properties: { odd: { allOf: [{ type: 'string' }] } } };
    expect(() => fieldSections(schema)).toThrow(/allOf/);
  });
});

describe('labs/*/lab.json', () => {
  const files = listLabFiles();

  it('has the documented example labs', () => {
    for (const name of Object.keys(EXAMPLE_LABS)) expect(files).toContain(`labs/${name}/lab.json`);
  });

  it.each(files)('%s parses with parseLab and points at docs/lab.schema.json', (file) => {
    const json = JSON.parse(readFileSync(join(WORKSPACE_ROOT, file), 'utf8')) as Record<string, unknown>;
    const name = file.split('/')[1];
    expect(() => parseLab(json, name, file)).not.toThrow();
    if (json.$schema !== undefined) expect(json.$schema).toBe('../../docs/lab.schema.json');
  });
});
