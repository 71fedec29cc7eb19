import { sectionsOf, type ConfSection } from './dovecot-config-tree.js';
import type { Finding } from './finding.js';

/** Dovecot's protocols that take passwords, their login service and default listeners (2.3). */
const LOGIN_PROTOCOLS = [
  { protocol: 'imap', label: 'IMAP', service: 'imap-login', defaults: 'imap 143, imaps 993' },
  { protocol: 'pop3', label: 'POP3', service: 'pop3-login', defaults: 'pop3 110, pop3s 995' },
  { protocol: 'sieve', label: 'ManageSieve', service: 'managesieve-login', defaults: 'sieve 4190' },
  { protocol: 'submission', label: 'Submission', service: 'submission-login', defaults: 'submission 587' },
] as const;

/**
 * Every Dovecot door that takes a password: the login services of the enabled protocols (with
 * their listeners) and the auth service's client listeners (SASL for Postfix and other
 * programs). All go through the same passdb list; a protocol with passdbs of its own
 * (`protocol imap { passdb { ... } }`) is not vouched for.
 */
export function dovecotDoors(root: ConfSection, guarded: boolean): Finding[] {
  const protocols = (root.settings.get('protocols') ?? 'imap pop3 lmtp').split(/\s+/).filter(Boolean);
  const status = (protocol: string): Finding['status'] => {
    const own = sectionsOf(root, 'protocol', protocol).some((p) => sectionsOf(p, 'passdb').length > 0);
    return guarded && !own ? 'guarded' : 'open';
  };
  const findings: Finding[] = [];
  for (const p of LOGIN_PROTOCOLS) {
    if (!protocols.includes(p.protocol)) continue;
    const service = sectionsOf(root, 'service', p.service)[0];
    const listeners = service ? sectionsOf(service, 'inet_listener') : [];
    let where: string = p.defaults;
    if (listeners.length > 0) {
      const on = listeners.filter((l) => l.settings.get('port') !== '0');
      if (on.length === 0) continue; // every listener turned off: no door
      where = on.map((l) => `${l.name} ${l.settings.get('address') ? `${l.settings.get('address')}:` : ''}${l.settings.get('port') ?? '(default port)'}`).join(', ');
    }
    const s = status(p.protocol);
    findings.push({ item: `${p.label} (${p.service})`, detail: s === 'open' && guarded ? `${where}; passdbs of its own` : where, status: s });
  }
  const auth = sectionsOf(root, 'service', 'auth')[0];
  const saslListeners = [
    'auth-client (default)',
    ...(auth ? [...sectionsOf(auth, 'unix_listener'), ...sectionsOf(auth, 'inet_listener')] : [])
      .filter((l) => !['auth-client', 'auth-userdb', 'auth-master', 'auth-login', 'login/login'].includes(l.name))
      .map((l) => (l.type === 'inet_listener' ? `${l.name} ${l.settings.get('address') ?? '*'}:${l.settings.get('port') ?? '?'}` : l.name)),
  ];
  findings.push({ item: 'Dovecot auth (SASL clients)', detail: saslListeners.join(', '), status: guarded ? 'guarded' : 'open' });
  return findings;
}
