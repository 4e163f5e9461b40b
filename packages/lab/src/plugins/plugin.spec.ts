import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateNodesContext } from '@nx/devkit';
import { createNodes, createNodesV2 } from './plugin';

describe('lab plugin (createNodes)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ibft-lab-plugin-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const write = (file: string, content: unknown) => {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), typeof content === 'string' ? content : JSON.stringify(content));
  };
  const run = (files: string[], options?: { targetPrefix?: string }) =>
    createNodes[1](files, options, { workspaceRoot: root, nxJsonConfiguration: {} } as CreateNodesContext);

  it('matches lab.json files anywhere', () => {
    expect(createNodes[0]).toBe('**/lab.json');
  });

  it('exports createNodesV2 as the same plugin, for older Nx', () => {
    expect(createNodesV2).toBe(createNodes);
  });

  it('turns each lab.json into a project named after its folder (or its name) with the lab targets', async () => {
    write('labs/alpha/lab.json', { initiator: { iqn: 'iqn.2010-04.org.ipxe:a' } });
    write('labs/b/lab.json', { name: 'beta', initiator: { iqn: 'iqn.2010-04.org.ipxe:b' }, firmware: { rom: 'stock' } });
    const results = await run(['labs/alpha/lab.json', 'labs/b/lab.json']);
    const alpha = results[0][1].projects?.['labs/alpha'];
    const beta = results[1][1].projects?.['labs/b'];
    expect(alpha?.name).toBe('alpha');
    expect(Object.keys(alpha?.targets ?? {}).sort()).toEqual(
      ['boot-vm', 'build-rom', 'gen-script', 'lint-script', 'setup-target', 'target-status', 'target-vm', 'teardown-target'].sort(),
    );
    expect(beta?.name).toBe('beta');
    expect(beta?.targets?.['build-rom']).toBeUndefined();
  });

  it('prefixes target names and their dependencies when asked', async () => {
    write('labs/p/lab.json', { initiator: { iqn: 'iqn.2010-04.org.ipxe:p' } });
    const [[, result]] = await run(['labs/p/lab.json'], { targetPrefix: 'lab-' });
    expect(result.projects?.['labs/p'].targets?.['lab-boot-vm']?.dependsOn).toEqual(['lab-gen-script', 'lab-build-rom', 'lab-target-vm']);
  });

  it('a table lab is a project with boot-vm alone; a table lab whose table file is missing stops the graph naming the field', async () => {
    write('labs/replay/lab.json', { firmware: { kind: 'table', spec: { initiator: { name: 'iqn.2010-04.org.example:r' } } } });
    write('labs/lost/lab.json', { firmware: { kind: 'table', table: 'gone.bin' } });
    const [[, result]] = await run(['labs/replay/lab.json']);
    expect(Object.keys(result.projects?.['labs/replay'].targets ?? {})).toEqual(['boot-vm']);
    const failure = (await Promise.resolve(run(['labs/lost/lab.json'])).catch((e: unknown) => e)) as { errors: Array<[string, Error]> };
    expect(failure.errors[0][1].message).toMatch(/labs\/lost\/lab.json: firmware.table: gone.bin cannot be read \(ENOENT\)/);
  });

  it('an invalid lab.json fails naming the file and the field', async () => {
    write('labs/bad/lab.json', { initiator: { iqn: 'nope' }, target: { kind: 'tape' } });
    write('labs/broken/lab.json', '{ not json');
    // Nx gathers each file's error (AggregateCreateNodesError) and prints them with the file name.
    const failure = (await Promise.resolve(run(['labs/bad/lab.json', 'labs/broken/lab.json'])).catch((e: unknown) => e)) as { errors: Array<[string, Error]> };
    expect(failure.errors.map(([file]) => file)).toEqual(['labs/bad/lab.json', 'labs/broken/lab.json']);
    expect(failure.errors[0][1].message).toMatch(/labs\/bad\/lab.json: initiator.iqn: [\s\S]*labs\/bad\/lab.json: target.kind/);
    expect(failure.errors[1][1].message).toMatch(/labs\/broken\/lab.json: .*fix the JSON/);
  });
});
