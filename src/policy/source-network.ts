import { isIPv4, isIPv6 } from 'node:net';

/**
 * The network a client address belongs to, as the policy counts sources: IPv4 by /24, IPv6 by
 * /48 (a site: a home or office router hands its devices addresses from one /48 or /56, and a
 * phone's /64 changes as it moves within its carrier, so a finer prefix would forget a source
 * the owner uses every day). IPv4-mapped IPv6 (::ffff:a.b.c.d) counts as IPv4. Anything that is
 * not an address is returned as it is (a test's or a unix socket's name), so it is still a key.
 */
export function networkOf(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  const addr = mapped ? (mapped[1] as string) : ip;
  if (isIPv4(addr)) {
    const [a, b, c] = addr.split('.');
    return `${a}.${b}.${c}.0/24`;
  }
  if (isIPv6(addr)) {
    const groups = expandIPv6(addr);
    return `${groups.slice(0, 3).join(':')}::/48`;
  }
  return addr;
}

/** The eight 16-bit groups of an IPv6 address, lower-case, without leading zeros. */
function expandIPv6(addr: string): string[] {
  const noZone = addr.split('%')[0] as string;
  const [h, t] = noZone.split('::');
  // A trailing dotted IPv4 part (::1.2.3.4) stands for the last two groups.
  const toGroups = (part: string | undefined): string[] => {
    if (!part) return [];
    return part.split(':').flatMap((g) => {
      if (!isIPv4(g)) return [g];
      const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
      return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    });
  };
  const head = toGroups(h);
  const tail = toGroups(t);
  const zeros = Array.from({ length: Math.max(0, 8 - head.length - tail.length) }, () => '0');
  return [...head, ...zeros, ...tail].map((g) => (parseInt(g, 16) || 0).toString(16));
}
