import type { DeferredWrite, StoreRepos } from './store.js';

/** Applies one deferred write through repositories (of a transaction). */
export async function applyDeferred(tx: StoreRepos, w: DeferredWrite): Promise<void> {
  switch (w.kind) {
    case 'audit':
      await tx.audit.insert(w.event);
      return;
    case 'app-code-used':
      await tx.appCodes.markUsed(w.codeId, w.use);
      return;
    case 'device-seen':
      await tx.trustedDevices.touch(w.deviceId, w.at);
      return;
    case 'web-session-seen':
      await tx.webSessions.touch(w.sessionId, w.at);
      return;
    case 'attempt-settled':
      await tx.attempts.settle(w.attempt, w.failed, w.at);
      return;
    case 'attempt-failed':
      await tx.attempts.record(w.keys, w.at);
      return;
    case 'source-seen':
      if ((await tx.knownSources.note(w.username, w.source, w.at)) && w.noticeIfNew) await tx.mailNotices.insert(w.noticeIfNew);
      return;
    case 'mail-notice': {
      const last = w.quietMs === undefined ? null : await tx.mailNotices.lastQueuedAt(w.notice.username, w.notice.kind);
      if (last === null || last <= w.notice.createdAt - (w.quietMs ?? 0)) await tx.mailNotices.insert(w.notice);
      return;
    }
  }
}
