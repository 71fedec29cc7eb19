import { describe, expect, it } from 'vitest';
import { networkOf } from '../../src/policy/source-network.js';

describe('networkOf', () => {
  it('IPv4 by /24, mapped IPv4 as IPv4', () => {
    expect(networkOf('203.0.113.77')).toBe('203.0.113.0/24');
    expect(networkOf('::ffff:203.0.113.77')).toBe('203.0.113.0/24');
    expect(networkOf('::FFFF:10.1.2.3')).toBe('10.1.2.0/24');
  });

  it('IPv6 by /48, whatever the spelling', () => {
    expect(networkOf('2001:db8:abcd:12::1')).toBe('2001:db8:abcd::/48');
    expect(networkOf('2001:0db8:ABCD:0012:0000:0000:0000:0001')).toBe('2001:db8:abcd::/48');
    expect(networkOf('2001:db8::1')).toBe('2001:db8:0::/48');
    expect(networkOf('::1')).toBe('0:0:0::/48');
    expect(networkOf('fe80::1%eth0')).toBe('fe80:0:0::/48');
    expect(networkOf('64:ff9b::192.0.2.1')).toBe('64:ff9b:0::/48');
  });

  it('anything else is its own key', () => {
    expect(networkOf('')).toBe('');
    expect(networkOf('unix')).toBe('unix');
  });
});
