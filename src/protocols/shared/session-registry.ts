import type { Protocol } from '../../policy/types.js';

/** A proxied session that signed in with an application code, as the revocation watcher sees it. */
export interface CodeSession {
  protocol: Protocol;
  codeId: number;
  /** The code's name (e.g. "Phone"), for logs; never the code. */
  codeName: string;
  /** The account, as the policy named it. */
  user: string;
  cid: string;
  clientIp: string;
  /** Ends the session now: both sockets closed. */
  destroy(): void;
}

/**
 * The live sessions that signed in with an application code, across protocols. A session
 * registers when it starts proxying and unregisters when it closes; the revocation watcher
 * reads it to end sessions whose code was revoked. Passthrough sessions are not registered:
 * their credentials are the backend's business.
 */
export class SessionRegistry {
  readonly #live = new Set<CodeSession>();

  /** Adds a session; returns the function that removes it (safe to call more than once). */
  register(s: CodeSession): () => void {
    this.#live.add(s);
    return () => {
      this.#live.delete(s);
    };
  }

  /** Removes a session (the watcher does, before ending it). */
  remove(s: CodeSession): void {
    this.#live.delete(s);
  }

  get size(): number {
    return this.#live.size;
  }

  /** Distinct code ids of the live sessions. */
  codeIds(): number[] {
    return [...new Set([...this.#live].map((s) => s.codeId))];
  }

  /** Live sessions that signed in with one of these codes. */
  usingCodes(codeIds: readonly number[]): CodeSession[] {
    const ids = new Set(codeIds);
    return [...this.#live].filter((s) => ids.has(s.codeId));
  }
}
