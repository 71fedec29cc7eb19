import { z } from 'zod';
import { address, backendTls } from './address-schema.js';

const on = z.boolean().default(true);

/**
 * [notify]: mails to users about their account, sent through the mail server off the login path.
 * Absent: nothing is queued or sent.
 */
export const notifySchema = z
  .object({
    /** The sender address of every notice. */
    from: z.string().regex(/^[^\s@<>"(),;:\\]+@[A-Za-z0-9.-]+$/, 'must be an address such as "twostep@example.com"'),
    /** The mail server twostep hands notices to (Postfix's smtpd, or a submission service). */
    smtp: address('mail server', '127.0.0.1:25'),
    /** How to talk to it: "none" | "starttls" | "tls" (verified with smtp_ca, else the system's CAs). */
    smtp_tls: backendTls.default('none'),
    /** CA bundle (PEM) to verify the mail server's certificate. */
    smtp_ca: z.string().min(1).optional(),
    /** Log in to the mail server as this user (AUTH PLAIN, only over TLS) ... */
    smtp_user: z.string().min(1).max(255).optional(),
    /** ... with the password on the first line of this file. */
    smtp_password_file: z.string().min(1).optional(),
    /** Appended as "@domain" to a login name without "@" to make its address; unset: [clients] domains' first, else no notice for such names. */
    recipient_domain: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a domain such as "example.com"').optional(),
    /** Which events send a notice. */
    two_step_changes: on,
    app_code_changes: on,
    one_time_codes: on,
    new_browser: on,
    new_network: on,
    account_locked: on,
    code_expiring: on,
  })
  .strict()
  .refine((n) => (n.smtp_user === undefined) === (n.smtp_password_file === undefined), {
    message: 'set smtp_user and smtp_password_file together',
    path: ['smtp_user'],
  })
  .refine((n) => n.smtp_user === undefined || n.smtp_tls !== 'none', {
    message: 'smtp_user needs smtp_tls = "starttls" or "tls": a password never goes over plaintext',
    path: ['smtp_user'],
  });

export type NotifyConfig = z.infer<typeof notifySchema>;
