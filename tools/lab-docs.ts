// The lab reference, generated so it cannot drift from the code:
//   docs/lab.schema.json  z.toJSONSchema(labSpecSchema), which every lab.json names in "$schema";
//   docs/labs.md          every LabSpec field, walked from that JSON schema (type, allowed values,
//                         default, the zod .describe() text), then the hand-written part below.
// `npm run docs` writes both; lab-docs.spec.ts fails when a committed file differs.
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isTableLab, LAB_FILE, labScript, labSpecSchema, readLab, readLabSpec, type LabSpec, type TableLabSpec } from '@ibft-lab/lab';
import { renderScript } from '@ibft-lab/script-gen';

export const WORKSPACE_ROOT = join(__dirname, '..');
export const LAB_SCHEMA_FILE = 'docs/lab.schema.json';
export const LAB_REFERENCE_FILE = 'docs/labs.md';

type JsonSchema = Record<string, unknown>;

/** The JSON schema of lab.json (input side: fields with defaults are optional). */
export function labJsonSchema(): JsonSchema {
  return z.toJSONSchema(labSpecSchema, { io: 'input', target: 'draft-7', unrepresentable: 'any' }) as JsonSchema;
}

export function renderLabSchemaJson(): string {
  return `${JSON.stringify(labJsonSchema(), null, 2)}\n`;
}

/** Every lab.json under labs/, workspace-relative, sorted. */
export function listLabFiles(root = WORKSPACE_ROOT): string[] {
  const dir = join(root, 'labs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, LAB_FILE)))
    .map((entry) => `labs/${entry.name}/${LAB_FILE}`)
    .sort();
}

// ---------------------------------------------------------------------------
// Walking the JSON schema

export interface FieldRow {
  path: string;
  type: string;
  default: string;
  description: string;
}

export interface FieldSection {
  /** Markdown heading text; undefined for the main table. */
  title?: string;
  intro?: string;
  rows: FieldRow[];
}

/** Keywords the renderer understands; anything else fails the generator instead of vanishing from the docs. */
const KNOWN_KEYWORDS = new Set([
  '$schema',
  'type',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'description',
  'default',
  'enum',
  'const',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'items',
  'minItems',
  'maxItems',
  'oneOf',
  'anyOf',
]);

function asSchema(value: unknown, where: string): JsonSchema {
  if (value === true) return {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`lab-docs: ${where}: expected a schema object`);
  const node = value as JsonSchema;
  for (const key of Object.keys(node)) {
    if (!KNOWN_KEYWORDS.has(key)) {
      throw new Error(`lab-docs: ${where} uses the JSON schema keyword "${key}", which tools/lab-docs.ts does not render yet; teach it`);
    }
  }
  return node;
}

function variantsOf(node: JsonSchema): JsonSchema[] | undefined {
  const variants = (node.oneOf ?? node.anyOf) as unknown[] | undefined;
  return variants?.map((v, i) => asSchema(v, `variant ${i}`));
}

function isObjectSchema(node: JsonSchema): boolean {
  return node.type === 'object' || node.properties !== undefined;
}

function propertiesOf(node: JsonSchema): Array<[string, unknown]> {
  return Object.entries((node.properties ?? {}) as Record<string, unknown>);
}

/** The property every variant pins with `const` (e.g. target.kind), if there is one. */
function discriminatorOf(variants: JsonSchema[]): string | undefined {
  const first = propertiesOf(variants[0]).map(([key]) => key);
  return first.find((key) =>
    variants.every((v) => {
      const prop = (v.properties as Record<string, JsonSchema> | undefined)?.[key];
      return prop !== undefined && prop.const !== undefined && (v.required as string[] | undefined)?.includes(key);
    }),
  );
}

function variantLabel(variant: JsonSchema, discriminator: string | undefined): string {
  if (discriminator) {
    const value = (variant.properties as Record<string, JsonSchema>)[discriminator].const;
    return `${discriminator}: ${JSON.stringify(value)}`;
  }
  return `{ ${((variant.required as string[] | undefined) ?? propertiesOf(variant).map(([k]) => k)).join(', ')} }`;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function rangeText(node: JsonSchema): string | undefined {
  const min = node.minimum as number | undefined;
  const max = node.maximum as number | undefined;
  const exMin = node.exclusiveMinimum as number | undefined;
  const exMax = node.exclusiveMaximum as number | undefined;
  const lo = min !== undefined && min > -MAX_SAFE ? min : undefined;
  const hi = max !== undefined && max < MAX_SAFE ? max : undefined;
  if (lo !== undefined && hi !== undefined) return `${lo}–${hi}`;
  const parts: string[] = [];
  if (lo !== undefined) parts.push(`≥ ${lo}`);
  if (exMin !== undefined) parts.push(`> ${exMin}`);
  if (hi !== undefined) parts.push(`≤ ${hi}`);
  if (exMax !== undefined) parts.push(`< ${exMax}`);
  return parts.length ? parts.join(', ') : undefined;
}

function countText(min: number | undefined, max: number | undefined, unit: string): string | undefined {
  if (min !== undefined && max !== undefined) return min === max ? `${min} ${unit}` : `${min}–${max} ${unit}`;
  if (min === 1 && unit === 'characters') return 'non-empty';
  if (min !== undefined) return `at least ${min} ${unit}`;
  if (max !== undefined) return `at most ${max} ${unit}`;
  return undefined;
}

const UNION_NOTE = ' (forms below)';

function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

export function typeText(node: JsonSchema): string {
  if (node.const !== undefined) return code(JSON.stringify(node.const));
  if (Array.isArray(node.enum)) return `one of ${node.enum.map((v) => code(JSON.stringify(v))).join(', ')}`;
  const variants = variantsOf(node);
  if (variants) {
    if (variants.every(isObjectSchema)) {
      const discriminator = discriminatorOf(variants);
      return `object, one of ${variants.map((v) => code(variantLabel(v, discriminator))).join(', ')}${UNION_NOTE}`;
    }
    return variants.map(typeText).join(' or ');
  }
  switch (node.type) {
    case 'string': {
      const parts = ['string'];
      const length = countText(node.minLength as number | undefined, node.maxLength as number | undefined, 'characters');
      if (length) parts.push(length);
      if (node.pattern) parts.push(`matching ${code(`/${String(node.pattern)}/`)}`);
      return parts.join(', ');
    }
    case 'integer':
    case 'number': {
      const range = rangeText(node);
      return range ? `${node.type}, ${range}` : String(node.type);
    }
    case 'boolean':
      return 'boolean';
    case 'array': {
      const items = asSchema(node.items ?? {}, 'items');
      const count = countText(node.minItems as number | undefined, node.maxItems as number | undefined, 'items');
      const of = isObjectSchema(items) && !variantsOf(items) ? 'objects' : typeText(items);
      return `array of ${of}${count ? ` (${count})` : ''}`;
    }
    case 'object': {
      const extra = node.additionalProperties;
      if (!node.properties && extra && typeof extra === 'object') {
        return `map of string → ${typeText(asSchema(extra, 'additionalProperties'))}`;
      }
      return 'object';
    }
    default:
      return 'any value';
  }
}

function defaultText(node: JsonSchema, required: boolean): string {
  if (node.default !== undefined) return code(JSON.stringify(node.default));
  return required ? 'required' : '—';
}

function addField(path: string, node: JsonSchema, required: boolean, section: FieldSection, sections: FieldSection[]): void {
  section.rows.push({ path, type: typeText(node), default: defaultText(node, required), description: String(node.description ?? '') });
  walkChildren(path, node, section, sections);
}

function walkObject(prefix: string, node: JsonSchema, section: FieldSection, sections: FieldSection[]): void {
  const required = new Set((node.required as string[] | undefined) ?? []);
  for (const [key, child] of propertiesOf(node)) {
    const path = prefix ? `${prefix}.${key}` : key;
    addField(path, asSchema(child, path), required.has(key), section, sections);
  }
}

function walkChildren(path: string, node: JsonSchema, section: FieldSection, sections: FieldSection[]): void {
  if (node.properties) walkObject(path, node, section, sections);
  if (node.type === 'array' && node.items !== undefined) {
    const items = asSchema(node.items, `${path}[]`);
    if (items.properties || variantsOf(items)) walkChildren(`${path}[]`, items, section, sections);
  }
  const extra = node.additionalProperties;
  if (extra && typeof extra === 'object' && (extra as JsonSchema).properties) {
    walkChildren(`${path}.<key>`, asSchema(extra, `${path}.<key>`), section, sections);
  }
  const variants = variantsOf(node);
  if (variants && variants.every(isObjectSchema)) {
    const discriminator = discriminatorOf(variants);
    for (const variant of variants) {
      const sub: FieldSection = {
        title: `${code(path)} with ${code(variantLabel(variant, discriminator))}`,
        intro: variant.description ? String(variant.description) : undefined,
        rows: [],
      };
      sections.push(sub);
      walkObject(path, variant, sub, sections);
    }
  }
}

/** The field tables: the main one first, then one per form of each union (target kinds, network modes, source forms). */
export function fieldSections(schema: JsonSchema = labJsonSchema()): FieldSection[] {
  const root = asSchema(schema, '(root)');
  const main: FieldSection = { rows: [] };
  const sections: FieldSection[] = [main];
  walkObject('', root, main, sections);
  return sections;
}

// ---------------------------------------------------------------------------
// Markdown

/** A table cell: no line breaks, pipes escaped, angle brackets outside code spans escaped. */
function cell(text: string): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' ').trim();
  return oneLine
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('')
    .replace(/\|/g, '\\|');
}

function table(rows: FieldRow[]): string {
  const lines = ['| Field | Type | Default | Description |', '|---|---|---|---|'];
  for (const row of rows) {
    lines.push(`| ${cell(code(row.path))} | ${cell(row.type)} | ${cell(row.default)} | ${cell(row.description || '—')} |`);
  }
  return lines.join('\n');
}

/** One line per example lab; labs/<name>/lab.json must exist for each (lab-docs.spec.ts checks it). */
export const EXAMPLE_LABS: Record<string, string> = {
  lab: 'The default lab and the one to run first: BIOS, DHCP, one disk, no CHAP.',
  'virtio-uefi': 'UEFI (OVMF) with a virtio-net NIC: boot-vm finds the iBFT through the ACPI tables OVMF keeps at the top of RAM.',
  'static-mutual-chap':
    'A static address, gateway, DNS server and host name on an e1000, with mutual CHAP: checks a manually configured NIC section and both CHAP pairs.',
  'two-luns': 'Two disks on one target: two `sanhook`s (LUN 1 on BIOS drive 0x81) and two iBFT target sections.',
  'replay-edk2':
    'A table lab: no iPXE, no target; a table laid out as EDK2\'s IScsiDxe writes it (two NIC/target pairs) is replayed to the consumer probe, dracut\'s disagreements are findings.',
};

function labFacts(lab: LabSpec): string {
  const net = lab.network.mode === 'static' ? `static ${lab.network.ip}` : 'dhcp';
  const chap = lab.chap ? (lab.chap.mutual ? 'mutual CHAP' : 'CHAP') : 'no CHAP';
  const luns = lab.luns.map((l) => `${l.sizeMiB} MiB`).join(' + ');
  return [lab.firmware.nic, lab.firmware.platform, net, chap, `${lab.luns.length} LUN${lab.luns.length > 1 ? 's' : ''} (${luns})`, `rom ${lab.firmware.rom}`, `target ${lab.target.kind}`].join(', ');
}

function tableLabFacts(lab: TableLabSpec): string {
  const source = lab.firmware.table !== undefined ? `table ${lab.firmware.table}` : `inline spec${typeof lab.firmware.spec?.layout === 'string' ? `, layout ${lab.firmware.spec.layout}` : ''}`;
  return [source, `consumers ${lab.consumers.join(', ')}`].join(', ');
}

function exampleLabs(root: string): string {
  return Object.entries(EXAMPLE_LABS)
    .map(([name, line]) => {
      const lab = readLab(join(root, 'labs', name, LAB_FILE), `labs/${name}/${LAB_FILE}`);
      const facts = isTableLab(lab) ? tableLabFacts(lab) : labFacts(lab);
      return `- [\`${name}\`](../labs/${name}/${LAB_FILE}): ${line} *(${facts})*`;
    })
    .join('\n');
}

function twoLunScript(root: string): string {
  const lab = readLabSpec(join(root, 'labs', 'two-luns', LAB_FILE), `labs/two-luns/${LAB_FILE}`);
  return renderScript(labScript(lab)).trimEnd();
}

const INTRO = `# Lab reference

<!-- Generated by tools/lab-docs.ts from labSpecSchema (packages/lab/src/lib/lab-spec.ts).
     Do not edit by hand: change the zod schema or the generator, then run \`npm run docs\`. -->

A lab is one file, \`labs/<name>/lab.json\`. The \`@ibft-lab/lab/plugin\` Nx plugin turns every
\`lab.json\` in the workspace into an Nx project with the targets listed [below](#nx-targets). The file is
validated by the zod schema \`labSpecSchema\`; its JSON form, [\`lab.schema.json\`](lab.schema.json), is what
editors use when the file starts with \`"$schema": "../../docs/lab.schema.json"\`. New to labs? Start with
[getting-started.md](getting-started.md).

The smallest lab names only the initiator; everything else has a default:

\`\`\`json
{
  "$schema": "../../docs/lab.schema.json",
  "initiator": { "iqn": "iqn.2010-04.org.ipxe:my-lab" }
}
\`\`\`
`;

function fieldsPart(schema: JsonSchema): string {
  const [main, ...variants] = fieldSections(schema);
  const out = ['## Fields', '', String(schema.description ?? ''), '', table(main.rows)];
  const unions = main.rows.filter((row) => row.type.endsWith(UNION_NOTE)).map((row) => code(row.path));
  out.push('', '"required": the field has no default and must be written; "—": optional, no default.');
  if (unions.length) out.push(`${unions.join(', ')} take one of the forms below.`);
  for (const section of variants) {
    out.push('', `### ${section.title}`, '');
    if (section.intro) out.push(section.intro, '');
    out.push(table(section.rows));
  }
  return out.join('\n');
}

function handWritten(root: string): string {
  return `## Checks the JSON schema cannot express

\`parseLab\` (what the plugin runs on every \`lab.json\`) also rejects, naming the field:

- A lab without \`initiator\`, unless it replays a table (\`firmware.kind: "table"\`).
- A table lab with \`initiator\`, \`network\`, \`target\`, \`targetIqn\`, \`luns\`, \`chap\`, \`boot\` or \`probe\`
  (the table says all of it, and nothing logs in to a target); \`firmware.table\` and \`firmware.spec\` both or
  neither; when the lab is read, a \`firmware.table\` file that is missing or no iBFT Linux would take, and a
  \`firmware.spec\` \`ibft encode\` refuses (\`firmware.spec.<field>\`). See [replay.md](replay.md).

- \`initiator.iqn\`, \`targetIqn\`: not an iSCSI name (\`iqn.<yyyy>-<mm>.<reversed domain>[:<name>]\`,
  \`eui.<16 hex>\` or \`naa.<16|32 hex>\`; lowercase; at most 223 bytes).
- \`network\` (static): both or neither of \`netmask\` and \`prefix\`; an \`ip\`, \`gateway\` or \`dns\` entry that is not
  a dotted IPv4 address; a non-contiguous netmask.
- \`chap.mutual.password\` equal to \`chap.password\` (RFC 3720 §8.2.1).
- \`target.ssh\` without \`privateKeyPath\` or \`useAgent: true\`, or without a host key policy
  (\`hostKeyFingerprint\`, \`knownHosts\` or \`insecureAcceptAnyHostKey: true\`); see
  [targets.md](targets.md#ssh-a-machine-you-own).
- \`luns[i].image\` on an \`ssh\` or \`local\` target: an \`{"os": …}\` image (the appliance's only), or, when the lab
  is read, a qcow2 file (the message gives the \`qemu-img convert -O raw\` to run: LIO's fileio serves raw bytes).
- A missing \`name\` whose folder name is not a lab name (set \`name\` then).

## What a lab derives

Everything below is computed from the one \`lab.json\` (\`packages/lab/src/lib/derive-lab.ts\`), so the
initiator IQN, target IQN, LUNs and CHAP names cannot disagree between the script, the target and the check.

- **Names.** The project name is \`name\`, or the folder's name. The target IQN is \`targetIqn\`, or
  \`iqn.2024-01.org.ibft-lab:<name>\`. LUN *i* is a sparse fileio backstore, \`ibftlab_<name>_lun<i>\` on the target
  machine, backed by \`<backingDir>/ibft-lab-<name>-lun<i>.img\` (\`/var/tmp\` inside the appliance). A LUN with an
  \`image\` is, on the appliance, a block backstore on its disk (\`/dev/vda\`, …, copy-on-write); on an \`ssh\` or
  \`local\` target that same file is a copy of the image, uploaded once beside it as \`<file>.source\` (checked by
  sha256, reused while unchanged; raw images only, no \`{"os": …}\`).
- **Portal.** \`appliance\`: \`10.0.2.4:3260\`, a fixed address of QEMU's user network that \`boot-vm\` relays to the
  loopback port the appliance got. \`ssh\` and \`local\`: \`target.portal\`.
- **iPXE script** (\`gen-script\` → \`dist/labs/<name>/boot.ipxe\`): the network (\`dhcp\`, or \`set net0/ip\`,
  \`net0/netmask\`, \`net0/gateway\`, \`net0/dns\`, \`hostname\` and \`ifopen net0\`), \`set initiator-iqn\`, the CHAP
  settings once before the first \`sanhook\` (\`username\`, \`password\`; \`reverse-username\`, \`reverse-password\` for
  mutual CHAP), one \`sanhook … ||\` per LUN (LUN 1 on \`--drive 0x81\`; the port is left out of the URI when it
  is 3260), then \`show initiator-iqn\`, \`route\`, the marker \`echo == config done ==\` that \`boot-vm\` waits for,
  and \`exit\`. \`labs/two-luns\` gives:

  \`\`\`
${twoLunScript(root)
  .split('\n')
  .map((line) => `  ${line}`)
  .join('\n')}
  \`\`\`

- **LIO desired state** (the \`config\` option of \`setup-target\`, \`teardown-target\`, \`target-status\`): the
  backstores above; one target with TPG 1 (attribute \`authentication\` on exactly when \`chap\` is set;
  \`generate_node_acls\`, \`demo_mode_write_protect\`, \`cache_dynamic_acls\` off), portal \`0.0.0.0:<port>\`
  (3260 in the appliance; \`target.listenPort\`, else \`target.portal.port\`, elsewhere), LUN *i* on backstore \`lun<i>\`, and one ACL for \`initiator.iqn\` that maps every LUN
  read-write, with \`chap\` as its CHAP pair and \`chap.mutual\` as its mutual pair. No discovery CHAP, no
  \`saveconfig\`. What this may change on a shared machine: [targets.md](targets.md#ownership-what-a-lab-changes-on-a-target-machine).
- **iBFT expectations** (the \`expectations\` option of \`boot-vm\`): the initiator name; NIC 0 with
  \`initiator.mac\` and, for \`dhcp\`, the values QEMU's user network hands out (origin DHCP, 10.0.2.15/24,
  gateway 10.0.2.2, DNS 10.0.2.3, DHCP server 10.0.2.2), for \`static\` origin manual, \`ip\`, the prefix, and
  \`gateway\`, \`dns[0]\`, \`dns[1]\`, \`hostname\` when given; one target section per LUN with the portal's address
  and port, the LUN, the target IQN, NIC association 0, CHAP type \`none\`, \`chap\` or \`mutual\`, and the CHAP
  names and secrets. \`boot-vm\` compares every one (secrets are compared but printed as \`********\`) and, with
  \`probe\`, requires Linux's \`/sys/firmware/ibft\` to agree line for line.

## Nx targets

The plugin (\`packages/lab/src/plugins/plugin.ts\`, registered in \`nx.json\` as
\`@ibft-lab/lab/plugin\`) infers these from the spec (\`lab-targets.ts\`). Its option \`targetPrefix\`
(e.g. \`"lab-"\`) prefixes every target name and \`dependsOn\` entry.

\`\`\`
gen-script ──▶ build-rom ──┐
                            ├──▶ boot-vm (sets the target up itself)
target-vm ──────────────────┘
(continuous)

setup-target, teardown-target, target-status: the target alone
\`\`\`

| Target | Executor | Present | Cached | dependsOn | Does |
|---|---|---|---|---|---|
| \`gen-script\` | \`@ibft-lab/script-gen:gen-script\` | always | yes | – | writes \`dist/labs/<name>/boot.ipxe\` |
| \`lint-script\` | \`@ibft-lab/script-gen:lint\` | always | no | \`gen-script\` | lints \`boot.ipxe\`, warnings fail |
| \`build-rom\` | \`@ibft-lab/ipxe-builder:build-rom\` | \`firmware.rom\` is \`"build"\` | yes | \`gen-script\` | iPXE with the script embedded, or the stock-ROM fallback, into \`dist/labs/<name>/firmware/\` |
| \`target-vm\` | \`@ibft-lab/lio-target:target-vm\` | \`target.kind\` is \`"appliance"\` | no (continuous) | – | boots the LIO appliance and serves until Nx stops it |
| \`setup-target\` | \`@ibft-lab/lio-target:setup-target\` | always | no | \`target-vm\` (appliance) | applies the desired state, writes \`dist/labs/<name>/target/initiator.json\` |
| \`teardown-target\` | \`@ibft-lab/lio-target:teardown-target\` | always | no | – | removes what the lab created on the target |
| \`target-status\` | \`@ibft-lab/lio-target:target-status\` | always | no | – | prints the plan \`setup-target\` would run; fails on drift |
| \`boot-vm\` | \`@ibft-lab/lab:boot-vm\` | always | no | \`gen-script\`, \`build-rom\` (if present), \`target-vm\` (appliance) | does what \`setup-target\` does (its options as \`target\`), boots the initiator, checks the iBFT, writes \`dist/labs/<name>/boot-vm/\` |

Nx starts \`boot-vm\` as soon as it has started the continuous \`target-vm\`, keeps the appliance running until
\`boot-vm\` ends and then stops it. Nx gives no readiness signal for a continuous target: \`boot-vm\` (like
\`setup-target\`) waits for the appliance's endpoint file and SSH (300 s by default). Then it applies the lab's
target and, for an appliance reached through QEMU's relay (the user network, no image LUN), boots the initiator
at the same time: iPXE's login waits in a relay held by \`boot-vm\` until the target is ready, and a failed apply
stops the boot and fails the task naming it. With private segments, a published portal (an image LUN), \`ssh\`
or \`local\` the target is set up first, then the initiator boots. \`setup-target\` stays for the target alone
(\`nx run <name>:setup-target\` applies it and writes \`initiator.json\`). \`teardown-target\` and \`target-status\` do not start the appliance; for
an appliance lab, run \`nx run <name>:target-vm\` in another terminal first (a stopped appliance keeps nothing, so
there is nothing to tear down). When \`firmware.rom\` is \`"stock"\` there is no \`build-rom\`: \`boot-vm\` uses
Debian's ROM for the NIC and serves the script over QEMU's TFTP.

## Example labs

${exampleLabs(root)}

Run one with \`npx nx run <name>:boot-vm\`, all with \`npx nx run-many -t boot-vm\`; see
[getting-started.md](getting-started.md).
`;
}

export function renderLabReference(root = WORKSPACE_ROOT): string {
  const schema = labJsonSchema();
  return `${[INTRO, fieldsPart(schema), '', handWritten(root)].join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** Both generated files, workspace-relative path → content. */
export function renderLabDocs(root = WORKSPACE_ROOT): Array<{ path: string; content: string }> {
  return [
    { path: LAB_SCHEMA_FILE, content: renderLabSchemaJson() },
    { path: LAB_REFERENCE_FILE, content: renderLabReference(root) },
  ];
}
