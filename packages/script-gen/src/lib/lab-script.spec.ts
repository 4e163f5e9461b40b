import { canonicalLabScript, formatIssues, labScriptSchema, prefixToNetmask, isContiguousNetmask } from './lab-script';

function issues(input: unknown): string {
  const r = labScriptSchema.safeParse(input);
  if (r.success) throw new Error('expected a validation error');
  return formatIssues(r.error);
}

describe('labScriptSchema', () => {
  it('fills defaults: dhcp, marker, keepGoing sanhooks', () => {
    const model = labScriptSchema.parse({ sanhooks: [{ targets: [{ server: '10.0.2.2', targetIqn: 'iqn.2003-01.org.ibft-lab:lab' }] }] });
    expect(model.network).toEqual({ mode: 'dhcp', keepFirmwareLease: false });
    expect(model.marker).toBe('== config done ==');
    expect(model.sanhooks[0]).toMatchObject({ keepGoing: true, noDescribe: false });
    expect(model.diagnostics).toEqual({ show: [], route: false });
  });

  it('names the field of a bad initiator IQN', () => {
    expect(issues({ initiatorIqn: 'iqn.2010-04.org.ipxe:bad name' })).toMatch(/^initiatorIqn: iSCSI name contains a space/);
  });

  it('names the field of a bad server, LUN and target IQN', () => {
    const text = issues({
      sanhooks: [{ targets: [{ server: '10.0.0.300', lun: -1, targetIqn: 'iqn.2010-04.org.x:ok' }, { server: 'ok', targetIqn: 'nope' }] }],
    });
    expect(text).toMatch(/sanhooks\.0\.targets\.0\.server: server "10\.0\.0\.300"/);
    expect(text).toMatch(/sanhooks\.0\.targets\.0\.lun:/);
    expect(text).toMatch(/sanhooks\.0\.targets\.1\.targetIqn: iSCSI name does not start/);
  });

  it('names the field of a secret iPXE/targetcli cannot carry, without echoing it', () => {
    const text = issues({
      sanhooks: [{ targets: [{ server: 'h', targetIqn: 'iqn.2010-04.org.x:y' }], chap: { username: 'u', password: 'pass word 1234' } }],
    });
    expect(text).toMatch(/sanhooks\.0\.chap\.password: CHAP secret may contain only/);
    expect(text).not.toContain('pass word');
  });

  it('requires mutual CHAP to use a different secret', () => {
    expect(
      issues({
        sanhooks: [
          {
            targets: [{ server: 'h', targetIqn: 'iqn.2010-04.org.x:y' }],
            chap: { username: 'u', password: 'abcdefghijkl', mutual: { username: 't', password: 'abcdefghijkl' } },
          },
        ],
      }),
    ).toMatch(/sanhooks\.0\.chap\.mutual\.password: mutual CHAP secret must differ/);
  });

  it('static network needs netmask or prefix, not both; checks addresses', () => {
    expect(issues({ network: { mode: 'static', ip: '10.0.2.15' } })).toMatch(/network\.netmask: a static network needs/);
    expect(issues({ network: { mode: 'static', ip: '10.0.2.15', netmask: '255.255.255.0', prefix: 24 } })).toMatch(/network\.prefix/);
    expect(issues({ network: { mode: 'static', ip: '10.0.2', prefix: 24 } })).toMatch(/network\.ip: must be a dotted IPv4/);
    expect(issues({ network: { mode: 'static', ip: '10.0.2.15', netmask: '255.0.255.0' } })).toMatch(/network\.netmask: must be a contiguous/);
    expect(issues({ network: { mode: 'dhcp', ip: '1.2.3.4' } })).toMatch(/network/);
  });

  it('rejects a marker iPXE would cut or expand, and unknown fields', () => {
    expect(issues({ marker: 'done ${x}' })).toMatch(/^marker:/);
    expect(issues({ marker: 'a  b' })).toMatch(/^marker:/);
    expect(issues({ marker: 'a # b' })).toMatch(/^marker:/);
    expect(issues({ initiatorIQN: 'x' })).toMatch(/initiatorIQN|Unrecognized/);
  });

  it('netmask helpers', () => {
    expect(prefixToNetmask(24)).toBe('255.255.255.0');
    expect(prefixToNetmask(0)).toBe('0.0.0.0');
    expect(prefixToNetmask(32)).toBe('255.255.255.255');
    expect(isContiguousNetmask('255.255.128.0')).toBe(true);
    expect(isContiguousNetmask('255.0.255.0')).toBe(false);
  });

  it('canonical form writes a prefix as a netmask', () => {
    const model = labScriptSchema.parse({ network: { mode: 'static', ip: '10.0.2.15', prefix: 24 } });
    expect(canonicalLabScript(model).network).toEqual({ mode: 'static', ip: '10.0.2.15', netmask: '255.255.255.0', dns: [] });
  });

  it('every field carries a description (the executor schema documents itself)', () => {
    const json = JSON.stringify(require('zod').z.toJSONSchema(labScriptSchema, { io: 'input', unrepresentable: 'any' }));
    for (const field of ['initiatorIqn', 'sanhooks', 'targets', 'targetIqn', 'noDescribe', 'keepGoing', 'marker', 'timeoutMs', 'kernelUrl']) {
      expect(json).toContain(`"${field}"`);
    }
    const undocumented: string[] = [];
    const walk = (node: any, path: string) => {
      if (!node || typeof node !== 'object') return;
      if (node.properties) {
        for (const [k, v] of Object.entries<any>(node.properties)) {
          if (!v.description && !v.anyOf && !v.oneOf) undocumented.push(`${path}.${k}`);
          walk(v, `${path}.${k}`);
        }
      }
      for (const key of ['items', 'anyOf', 'oneOf', 'allOf']) {
        const child = node[key];
        if (Array.isArray(child)) child.forEach((c: any) => walk(c, path));
        else if (child) walk(child, path);
      }
    };
    walk(require('zod').z.toJSONSchema(labScriptSchema, { io: 'input', unrepresentable: 'any' }), '');
    expect(undocumented).toEqual([]);
  });
});
