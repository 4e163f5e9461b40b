import { plainSerialText } from './serial-console';

describe('plainSerialText', () => {
  it('removes ANSI escapes and carriage returns the way a terminal would show the text', () => {
    expect(plainSerialText('\x1b[2J\x1b[01;01HiPXE 1.0\r\nConfiguring (net0)...... ok\r\n')).toBe(
      'iPXE 1.0\nConfiguring (net0)...... ok\n',
    );
    expect(plainSerialText('progress 10%\rprogress 100%\n')).toBe('progress 100%\n');
  });
});
