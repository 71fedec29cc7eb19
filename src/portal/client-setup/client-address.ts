import type { ClientSettings } from '../../config/client-settings.js';

/** The user name a mail app sends for `address` (the whole address, or its local part). */
export function appLoginName(s: ClientSettings, address: string): string {
  return s.loginName === 'localpart' ? address.slice(0, address.lastIndexOf('@')) : address;
}

/** True when [clients] answers for this address's domain (every domain when none is listed). */
export function servesDomain(s: ClientSettings, address: string): boolean {
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  return s.domains.length === 0 || s.domains.includes(domain);
}
