import type tls from 'node:tls';

/**
 * The secure context of twostep's TLS listeners, swapped by a reload (SIGHUP): connections
 * started after the swap get the new certificate, those already running keep theirs. Front ends
 * read it at each handshake, never keep it.
 */
export class SecureContextHolder {
  #current: tls.SecureContext;

  constructor(initial: tls.SecureContext) {
    this.#current = initial;
  }

  get current(): tls.SecureContext {
    return this.#current;
  }

  replace(next: tls.SecureContext): void {
    this.#current = next;
  }
}

/** A fixed context (tests, tools) or a holder `serve` swaps on reload. */
export type SecureContextSource = tls.SecureContext | SecureContextHolder;

/** The context a handshake starting now uses. */
export function currentSecureContext(source: SecureContextSource): tls.SecureContext {
  return source instanceof SecureContextHolder ? source.current : source;
}
