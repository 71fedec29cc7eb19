import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { exampleConfigText, withSectionUncommented } from '../helpers/example-config.js';

const MINIMAL = '[backend]\nmaster_user = "proxymaster"\nmaster_password = "pw"\n';

describe('config [dovecot]', () => {
  it('is off without the section; the example documents every key with its default', () => {
    expect(parseConfig(MINIMAL).dovecot).toBeUndefined();
    const c = parseConfig(withSectionUncommented(exampleConfigText(), 'dovecot'));
    expect(c.dovecot).toEqual({
      verify_socket: '/run/twostep/verify.sock',
      verify_socket_mode: '0660',
      verify_socket_group: 'dovecot',
      verify_listen: null,
      kick_command: ['doveadm', 'kick', '{user}'],
    });
    expect(parseConfig(`${MINIMAL}[dovecot]\n`).dovecot).toEqual({
      verify_socket: '/run/twostep/verify.sock',
      verify_socket_mode: '0660',
      verify_listen: null,
      kick_command: ['doveadm', 'kick', '{user}'],
    });
  });

  it.each([
    ['verify_listen = "0.0.0.0:7025"', /dovecot\.verify_listen: must be a loopback address/],
    ['verify_listen = "192.0.2.1:7025"', /dovecot\.verify_listen: must be a loopback address/],
    ['verify_socket = ""', /dovecot\.verify_socket: set verify_socket or verify_listen/],
    ['verify_socket_mode = "rw-rw----"', /dovecot\.verify_socket_mode: must be an octal mode/],
    ['kick_command = ["doveadm", "kick"]', /dovecot\.kick_command: must name "\{user\}"/],
    ['kick_command = ["{user}"]', /dovecot\.kick_command: must name "\{user\}"/],
    ['verify_sock = "/tmp/x"', /dovecot\.verify_sock: unknown key/],
  ])('%s is refused naming the key', (line, message) => {
    expect(() => parseConfig(`${MINIMAL}[dovecot]\n${line}\n`)).toThrow(message);
  });

  it('accepts loopback TCP alone, and kick_command = [] (off)', () => {
    const c = parseConfig(`${MINIMAL}[dovecot]\nverify_socket = ""\nverify_listen = "127.0.0.1:7025"\nkick_command = []\n`);
    expect(c.dovecot).toMatchObject({ verify_socket: '', verify_listen: { host: '127.0.0.1', port: 7025 }, kick_command: [] });
    expect(parseConfig(`${MINIMAL}[dovecot]\nverify_listen = "[::1]:7025"\n`).dovecot?.verify_listen).toEqual({ host: '::1', port: 7025 });
  });
});
