import { MASKED_SECRET } from '@ibft-lab/ibft';
import {
  compareProbeLines,
  hostLinesAsProbePrints,
  maskProbeSecrets,
  parseProbeOutput,
  saltedSecretHash,
} from './probe-lines';
import { PROBE_BEGIN, PROBE_END } from './probe-init';

describe('probe lines', () => {
  const serial = [
    'tftp://10.0.2.2/probe/vmlinuz... ok',
    PROBE_BEGIN,
    'ibft-probe: target0/port=3260',
    '[    1.2] some kernel message',
    'ibft-probe: initiator/initiator-name=iqn.2010-04.org.ipxe:foobar',
    PROBE_END,
  ].join('\n');

  it('parses the lines between the markers, sorted, ignoring interleaved kernel messages', () => {
    expect(parseProbeOutput(serial)).toEqual(['initiator/initiator-name=iqn.2010-04.org.ipxe:foobar', 'target0/port=3260']);
  });

  it('fails clearly when the probe output is incomplete', () => {
    expect(() => parseProbeOutput(`${PROBE_BEGIN}\nibft-probe: a/b=1\n`)).toThrow(/no IBFT-LAB-PROBE-END/);
  });

  it('agrees when every line is equal, and lists differing attributes otherwise', () => {
    const host = ['initiator/initiator-name=iqn.2010-04.org.ipxe:foobar', 'target0/port=3260'];
    expect(compareProbeLines(host, [...host])).toEqual({ agrees: true, lines: host, differences: [] });
    const result = compareProbeLines(host, ['initiator/initiator-name=iqn.2010-04.org.ipxe:foobar', 'target0/port=3261', 'target0/lun=01000000']);
    expect(result.agrees).toBe(false);
    expect(result.differences).toEqual([
      { attribute: 'target0/lun', host: null, linux: '01000000' },
      { attribute: 'target0/port', host: '3260', linux: '3261' },
    ]);
  });

  it('compares CHAP secrets as salted hashes and never shows them', () => {
    const salt = 'abc123';
    const hostLines = hostLinesAsProbePrints(['target0/chap-secret=s3cretpassword1', 'target0/chap-name=user'], salt);
    expect(hostLines).toContain(`target0/chap-secret=${saltedSecretHash(salt, 's3cretpassword1')}`);
    const linux = [`target0/chap-name=user`, `target0/chap-secret=${saltedSecretHash(salt, 'otherpassword12')}`];
    const result = compareProbeLines(hostLines, linux);
    expect(result.differences).toEqual([{ attribute: 'target0/chap-secret', host: MASKED_SECRET, linux: MASKED_SECRET }]);
    expect(JSON.stringify(result)).not.toMatch(/s3cret|otherpassword|salted-sha256/);
    expect(maskProbeSecrets(`ibft-probe: target0/chap-secret=${saltedSecretHash(salt, 'x')}\n`)).toBe(
      `ibft-probe: target0/chap-secret=${MASKED_SECRET}\n`,
    );
  });

  it('treats the mutual CHAP secret (Linux: rev-chap-name-secret) as a secret too', () => {
    const salt = 'abc123';
    const hostLines = hostLinesAsProbePrints(['target0/rev-chap-name=target', 'target0/rev-chap-name-secret=mutualsecret01'], salt);
    expect(hostLines).toContain(`target0/rev-chap-name-secret=${saltedSecretHash(salt, 'mutualsecret01')}`);
    const result = compareProbeLines(hostLines, ['target0/rev-chap-name=target', `target0/rev-chap-name-secret=${saltedSecretHash(salt, 'mutualsecret01')}`]);
    expect(result.agrees).toBe(true);
    expect(JSON.stringify(result)).not.toMatch(/mutualsecret01|salted-sha256/);
    expect(maskProbeSecrets('ibft-probe: target0/rev-chap-name-secret=anything\n')).toBe(`ibft-probe: target0/rev-chap-name-secret=${MASKED_SECRET}\n`);
    // The consumer probe's open-iscsi lines carry the same hashes.
    expect(maskProbeSecrets(`ibft-consumer iscsiadm out: node.session.auth.password_in = ${saltedSecretHash(salt, 'mutualsecret01')}\n`)).toBe(
      `ibft-consumer iscsiadm out: node.session.auth.password_in = ${MASKED_SECRET}\n`,
    );
  });
});
