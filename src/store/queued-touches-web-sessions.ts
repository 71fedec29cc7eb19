import type { WebSessionsRepo } from './store.js';
import type { NewWebSession, WebSession, WebSessionKind } from './types.js';
import type { WriteBehind } from './write-behind.js';

/**
 * The store's web sessions as this process last touched them: a session read right after a
 * queued last-seen write (a page view, then the next) is not taken for idle because the write is
 * still queued. Everything else goes to `inner` as it is.
 */
export class QueuedTouchesWebSessions implements WebSessionsRepo {
  readonly #inner: WebSessionsRepo;
  readonly #queue: WriteBehind;

  constructor(inner: WebSessionsRepo, queue: WriteBehind) {
    this.#inner = inner;
    this.#queue = queue;
  }

  async findByTokenHash(tokenHash: string): Promise<WebSession | undefined> {
    const s = await this.#inner.findByTokenHash(tokenHash);
    const seen = s && this.#queue.queuedSessionSeen(s.id);
    return s && seen !== undefined && seen > s.lastSeenAt ? { ...s, lastSeenAt: seen } : s;
  }

  insert(s: NewWebSession): Promise<number> {
    return this.#inner.insert(s);
  }

  touch(id: number, at: number): Promise<void> {
    return this.#inner.touch(id, at);
  }

  setReauth(id: number, at: number): Promise<void> {
    return this.#inner.setReauth(id, at);
  }

  deleteByTokenHash(tokenHash: string): Promise<boolean> {
    return this.#inner.deleteByTokenHash(tokenHash);
  }

  setDevice(tokenHash: string, deviceId: number): Promise<void> {
    return this.#inner.setDevice(tokenHash, deviceId);
  }

  deleteForDevices(deviceIds: readonly number[], exceptTokenHash?: string): Promise<number> {
    return this.#inner.deleteForDevices(deviceIds, exceptTokenHash);
  }

  deleteForSubject(kind: WebSessionKind, subject: string): Promise<number> {
    return this.#inner.deleteForSubject(kind, subject);
  }

  deleteExpired(now: number, idleBefore: number): Promise<number> {
    return this.#inner.deleteExpired(now, idleBefore);
  }
}
