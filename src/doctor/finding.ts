/**
 * One line of `twostep doctor`: a door that takes passwords (guarded or open) or a check.
 * 'open' makes doctor exit non-zero; 'warn' is worth a look but lets nobody around twostep.
 */
export interface Finding {
  /** What: "IMAP (imap-login)", "Postfix smtpd submission", "master passdb", ... */
  item: string;
  /** Where and why, in a few words: listeners, the setting's value, what to change. */
  detail: string;
  status: 'guarded' | 'ok' | 'open' | 'warn';
}

/** What doctor knows about twostep itself (its config, or the defaults). */
export interface TwostepSide {
  /** Addresses twostep connects to Dovecot and Postfix from. */
  addresses: string[];
  /** Where the verify service listens: the socket path and/or loopback host:port ('' = none). */
  verifySocket: string;
  verifyListen: string;
}
