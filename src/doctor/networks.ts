import { BlockList, isIP } from 'node:net';

/**
 * The entries of a network list (Dovecot's login_trusted_networks, allow_real_nets; Postfix's
 * smtpd_authorized_xclient_hosts) that let in more than twostep's own addresses: a network
 * with room for other hosts, another host, or anything that is not an IP address (a host name,
 * a lookup table: nothing doctor can vouch for). Empty when the list holds only twostep.
 */
export function widerThan(list: readonly string[], twostep: readonly string[]): string[] {
  const own = new BlockList();
  for (const a of twostep) {
    const family = isIP(a);
    if (family) own.addAddress(a, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list.filter((entry) => {
    const m = /^\[?([^\]/]+)\]?(?:\/(\d{1,3}))?$/.exec(entry);
    if (!m) return true;
    const address = m[1] as string;
    const family = isIP(address);
    if (!family) return true;
    const full = family === 6 ? 128 : 32;
    const prefix = m[2] === undefined ? full : Number(m[2]);
    if (prefix !== full) return true;
    return !own.check(address, family === 6 ? 'ipv6' : 'ipv4');
  });
}

/** A network list as Dovecot and Postfix write them: separated by spaces and/or commas. */
export function splitNetworks(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean);
}

/** Loopback addresses (twostep on the same host as Dovecot connects from these). */
export const LOOPBACK = ['127.0.0.1', '::1'] as const;

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
