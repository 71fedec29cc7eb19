import { z } from 'zod';

/** A DNS name: letters, digits, hyphens, dots; no scheme, port or path. */
const dnsName = z
  .string()
  .max(253)
  .regex(/^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/, 'must be a host name such as "mail.example.com"')
  .transform((s) => s.toLowerCase());

const port = z.number().int().min(1).max(65535);

/** How a mail app reaches a protocol: implicit TLS (RFC 8314's choice), STARTTLS, or not at all. */
const security = z.enum(['tls', 'starttls', 'off']);

/**
 * [clients]: what mail apps are told when they set themselves up (Thunderbird's autoconfig,
 * Outlook's autodiscover, the Apple profile the portal offers after "Add Application Code"), and
 * what `twostep doctor` / `init` print as DNS records. The public names and ports, as the apps
 * see them from outside (a port forward or a load balancer may sit between them and twostep's
 * listeners). Absent: nothing is advertised and those URLs answer 404.
 */
export const clientsSchema = z
  .object({
    /** Public host name of the IMAP, POP3 and SMTP services (the name on the [tls] certificate). */
    host: dnsName,
    /** Shown as the account's provider in the apps; default: host. */
    display_name: z.string().trim().min(1).max(64).optional(),
    /** The mail domains whose users sign in here; [] answers for any domain. The first completes a bare login name into an address. */
    domains: z.array(dnsName).max(100).default([]),
    /** What apps send as the user name: the whole address, or its local part. */
    login_name: z.enum(['address', 'localpart']).default('address'),
    imap_port: port.default(993),
    imap_security: security.default('tls'),
    pop3_port: port.default(995),
    pop3_security: security.default('off'),
    smtp_port: port.default(465),
    smtp_security: security.default('tls'),
    /** Sign the Apple profile with the [tls] certificate and key (devices then show it as verified). */
    sign_profiles: z.boolean().default(true),
  })
  .strict()
  .refine((c) => c.imap_security !== 'off' || c.pop3_security !== 'off', {
    message: 'advertise IMAP or POP3 (both are "off")',
    path: ['imap_security'],
  })
  .refine((c) => c.login_name === 'address' || c.domains.length > 0, {
    message: 'login_name = "localpart" needs domains (the address is local part @ the first domain)',
    path: ['login_name'],
  });

export type ClientsConfig = z.infer<typeof clientsSchema>;
