import { chapSecretSchema, chapUsernameSchema, iscsiNameSchema, validateIscsiName } from './iscsi-name';

describe('validateIscsiName', () => {
  it.each([
    'iqn.2010-04.org.ipxe:f43',
    'iqn.2003-01.org.linux-iscsi.f43.x8664:sn.f1eec5c8304a',
    'iqn.1986-03.com.sun:02:e9abf4cd-714b-c6ec-d017-eea5a56252ed',
    'iqn.2003-01.org.ibft-lab',
    'eui.02004567a425678d',
    'naa.52004567ba64678d',
    'naa.6001405abcdef0123456789abcdef012',
  ])('accepts %s', (name) => {
    expect(validateIscsiName(name)).toEqual([]);
  });

  it.each([
    ['', /empty/],
    ['iqn.2010-04.org.ipxe:has space', /a space/],
    ['iqn.2010-04.org.ipxe:under_score', /"_"/],
    ['iqn.2010-04.org.ipxe:{brace}', /"\{"/],
    ['iqn.2010-04.org.ipxe:"q"', /"""/],
    ['iqn.2010-04.org.ipxe:Upper', /lowercase/],
    ['iqn.2010-13.org.ipxe:x', /month 13/],
    ['iqn.2010-04.ipxe:x', /not a valid IQN/], // rtslib wants a dot in the domain
    ['iqn.10-04.org.ipxe:x', /not a valid IQN/],
    ['eui.02004567a425678', /EUI/],
    ['naa.1234', /NAA/],
    ['foo.bar', /does not start with/],
    [`iqn.2010-04.org.ipxe:${'a'.repeat(210)}`, /at most 223 bytes/],
  ])('rejects %j', (name, problem) => {
    expect(validateIscsiName(name).join('\n')).toMatch(problem);
  });

  it('accepts exactly 223 bytes', () => {
    const base = 'iqn.2010-04.org.ipxe:';
    expect(validateIscsiName(base + 'a'.repeat(223 - base.length))).toEqual([]);
  });

  it('zod schema reports the problem as an issue', () => {
    const result = iscsiNameSchema.safeParse('iqn.2010-04.org.ipxe:a b');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].message).toMatch(/iSCSI name contains a space/);
  });
});

describe('CHAP credentials', () => {
  it('accepts a 12-16 character secret of safe characters', () => {
    expect(chapSecretSchema.safeParse('abcdefgh1234').success).toBe(true);
    expect(chapSecretSchema.safeParse('A.b_c~d+e-f12345').success).toBe(true);
  });

  it.each([
    ['short', /12-16 characters/],
    ['a'.repeat(17), /12-16 characters/],
    ['has space 12345', /only A-Z/],
    ['dollar${x}1234', /only A-Z/],
    ['quote"12345678', /only A-Z/],
  ])('rejects secret %#, never echoing it', (secret, problem) => {
    const result = chapSecretSchema.safeParse(secret);
    expect(result.success).toBe(false);
    const text = result.error!.issues.map((i) => i.message).join('\n');
    expect(text).toMatch(problem);
    expect(text).not.toContain(secret);
  });

  it('user names allow . _ : @ - and reject spaces and =', () => {
    expect(chapUsernameSchema.safeParse('lab.user_1@host:x-y').success).toBe(true);
    expect(chapUsernameSchema.safeParse('lab user').success).toBe(false);
    expect(chapUsernameSchema.safeParse('a=b').success).toBe(false);
    expect(chapUsernameSchema.safeParse('').success).toBe(false);
  });
});
