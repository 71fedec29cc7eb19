/**
 * The mail address of a login name: the name itself when it holds an "@", else the name at
 * `domain` (the first of [clients] domains, or [notify] recipient_domain); null when neither
 * gives one. Lower case, as twostep keeps user names.
 */
export function mailAddressOf(username: string, domain: string | undefined): string | null {
  const name = username.trim().toLowerCase();
  if (!/^[^\s<>"(),;:\\@]+(@[A-Za-z0-9.-]+)?$/.test(name)) return null; // nothing a header could be broken with
  if (name.includes('@')) return name;
  return domain ? `${name}@${domain.toLowerCase()}` : null;
}

/** The domain of an address ("example.com" of "alice@example.com"), lower case; null without one. */
export function domainOf(address: string): string | null {
  const at = address.lastIndexOf('@');
  return at < 0 ? null : address.slice(at + 1).toLowerCase() || null;
}
