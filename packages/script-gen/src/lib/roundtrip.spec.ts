// Property: for any valid model, parse(render(model)) gives back the model
// (in canonical form: a prefix comes back as the netmask iPXE was given).
import fc from 'fast-check';
import { canonicalLabScript, labScriptSchema, prefixToNetmask, type LabScriptInput } from './lab-script';
import { parseScript } from './parse';
import { renderScript } from './render';

const byte = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(byte, byte, byte, byte).map((b) => b.join('.'));
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const dnsName = fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.')).filter((n) => !/^[\d.]+$/.test(n));
const ipv6 = fc.ipV6().filter((a) => !a.includes('.')); // dotted-quad tails are valid but keep it simple
const iqn = fc
  .tuple(fc.integer({ min: 1990, max: 2030 }), fc.integer({ min: 1, max: 12 }), label, label, fc.option(fc.stringMatching(/^[a-z0-9.:-]{1,30}$/), { nil: undefined }))
  .map(([y, m, a, b, suffix]) => `iqn.${y}-${String(m).padStart(2, '0')}.${a}.${b}${suffix ? `:${suffix}` : ''}`)
  .filter((n) => !n.endsWith(':'));
const eui = fc.stringMatching(/^[0-9a-f]{16}$/).map((h) => `eui.${h}`);
const iscsiName = fc.oneof(iqn, eui);
const secret = fc.stringMatching(/^[A-Za-z0-9._~+-]{12,16}$/);
const user = fc.stringMatching(/^[A-Za-z0-9._:@-]{1,20}$/);
const word = fc.stringMatching(/^[A-Za-z0-9=.,:\/()!-]{1,10}$/);
const text = fc.array(word, { minLength: 1, maxLength: 5 }).map((w) => w.join(' '));
const url = fc.tuple(fc.constantFrom('http', 'tftp'), ipv4, label).map(([s, h, p]) => `${s}://${h}/${p}`);

const target = fc.record(
  {
    server: fc.oneof(ipv4, ipv6, dnsName),
    protocol: fc.constant(6 as const),
    port: fc.integer({ min: 1, max: 65535 }),
    lun: fc.oneof(
      fc.integer({ min: 0, max: 0xffff }),
      fc.array(fc.stringMatching(/^[0-9a-f]{1,4}$/), { minLength: 2, maxLength: 4 }).map((w) => w.join('-')),
    ),
    targetIqn: iscsiName,
  },
  { requiredKeys: ['server', 'targetIqn'] },
);

const chap = fc
  .record({ username: user, password: secret, mutual: fc.record({ username: user, password: secret }) }, { requiredKeys: ['username', 'password'] })
  .filter((c) => c.mutual?.password !== c.password);

const network = fc.oneof(
  fc.record({ mode: fc.constant('dhcp' as const), keepFirmwareLease: fc.boolean() }, { requiredKeys: ['mode'] }),
  fc.record(
    {
      mode: fc.constant('static' as const),
      ip: ipv4,
      mask: fc.oneof(
        fc.integer({ min: 0, max: 32 }).map((p) => ({ prefix: p })),
        fc.integer({ min: 0, max: 32 }).map((p) => ({ netmask: prefixToNetmask(p) })),
      ),
      gateway: ipv4,
      dns: fc.array(ipv4, { maxLength: 3 }),
      hostname: dnsName,
    },
    { requiredKeys: ['mode', 'ip', 'mask', 'dns'] },
  ).map(({ mask, ...rest }) => ({ ...rest, ...mask })),
);

// More NICs, some on a VLAN device (vcreate), each by DHCP or static; the settings cleared after them.
const netdevName = fc.integer({ min: 1, max: 9 }).map((n) => `net${n}`);
const iface = fc.record({ netdev: netdevName, vlan: fc.integer({ min: 1, max: 4094 }), network }, { requiredKeys: ['netdev', 'network'] });
const clearSetting = fc.tuple(fc.integer({ min: 0, max: 9 }), fc.boolean(), fc.constantFrom('dns', 'gateway', 'hostname')).map(([n, dhcp, name]) => `net${n}${dhcp ? '.dhcp' : ''}/${name}`);
const settingUri = fc.oneof(fc.constant('root-path'), netdevName.map((n) => `${n}/root-path`));

const next = fc.oneof(
  fc.constant({ action: 'exit' as const }),
  fc.constant({ action: 'shell' as const }),
  fc.record({ action: fc.constant('chain' as const), url, keepGoing: fc.boolean() }),
  fc.record(
    { action: fc.constant('sanboot' as const), drive: fc.integer({ min: 0, max: 255 }), noDescribe: fc.boolean(), keepGoing: fc.boolean() },
    { requiredKeys: ['action'] },
  ),
  fc.record(
    { action: fc.constant('kernel' as const), kernelUrl: url, initrdUrls: fc.array(url, { maxLength: 2 }), cmdline: text },
    { requiredKeys: ['action', 'kernelUrl'] },
  ),
);

const labScript: fc.Arbitrary<LabScriptInput> = fc.record(
  {
    network,
    interfaces: fc.array(iface, { maxLength: 3 }),
    clearSettings: fc.array(clearSetting, { maxLength: 2 }),
    initiatorIqn: iscsiName,
    sanhooks: fc.array(
      fc.record(
        {
          targets: fc.array(target, { minLength: 1, maxLength: 3 }),
          settingUris: fc.array(settingUri, { maxLength: 2 }),
          drive: fc.integer({ min: 0, max: 255 }),
          noDescribe: fc.boolean(),
          keepGoing: fc.boolean(),
          chap,
        },
        { requiredKeys: ['targets'] },
      ),
      { maxLength: 3 },
    ),
    diagnostics: fc.record({ show: fc.array(fc.constantFrom('initiator-iqn', 'net0/ip', 'root-path'), { maxLength: 3 }), route: fc.boolean() }),
    marker: text,
    prompt: fc.record({ key: fc.integer({ min: 1, max: 0xffff }), timeoutMs: fc.integer({ min: 0, max: 60000 }), text }),
    next,
  },
  { requiredKeys: [] },
);

describe('render → parse', () => {
  it('generates varied models (sanity of the generator)', () => {
    const samples = fc.sample(labScript, 200).map((m) => renderScript(m)).join('\n');
    for (const expected of ['set reverse-password', 'clear username', 'iscsi:[', 'set net0/dns:hex', 'kernel ', 'sanboot', '--no-describe', 'vcreate --tag', 'dhcp net0', 'ifopen net', '${net', '.dhcp/']) {
      expect(samples).toContain(expected);
    }
  });

  it('gives back the same model (property, 500 runs)', () => {
    fc.assert(
      fc.property(labScript, (input) => {
        const model = labScriptSchema.parse(input);
        const text = renderScript(model);
        const { model: parsed, diagnostics } = parseScript(text);
        expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        expect(parsed).toEqual(canonicalLabScript(model));
      }),
      { numRuns: 500 },
    );
  });
});
