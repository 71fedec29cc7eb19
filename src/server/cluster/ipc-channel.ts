/**
 * What travels between the supervisor and one worker over node:cluster's IPC channel: notices
 * (one way) and questions with their answers. Marked `tw` so node's own cluster messages and
 * anything else on the channel are left alone.
 */
type Envelope =
  | { tw: 'notice'; kind: string; body: unknown }
  | { tw: 'ask'; id: number; kind: string; body: unknown }
  | { tw: 'answer'; id: number; ok: true; body: unknown }
  | { tw: 'answer'; id: number; ok: false; error: string };

/** A question's body (q) and its answer's (a). */
export type Questions = Record<string, { q: unknown; a: unknown }>;

interface Pending {
  resolve(v: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

const isEnvelope = (m: unknown): m is Envelope => typeof m === 'object' && m !== null && 'tw' in m;

/**
 * One end of the channel. `Out`/`In`: the notices this end sends and receives; `Asked`/`Answered`:
 * the questions it asks and those it answers. A question unanswered within its deadline, or
 * still open when the channel closes, rejects; nothing here throws on a closed channel.
 */
export class IpcChannel<Out extends object, In extends object, Asked extends Questions, Answered extends Questions> {
  readonly #send: (m: Envelope) => Promise<void>;
  readonly #pending = new Map<number, Pending>();
  readonly #notices = new Map<string, (body: never) => void>();
  readonly #answers = new Map<string, (body: never) => unknown>();
  #next = 0;

  /**
   * `send` writes one message and resolves once it is written (at once, dropping it, when the
   * channel is closed); feed every message received to receive().
   */
  constructor(send: (m: unknown) => Promise<void>) {
    this.#send = send;
  }

  /** Resolves once the notice is written (a worker's last words before it exits). */
  notify<K extends keyof Out & string>(kind: K, body: Out[K]): Promise<void> {
    return this.#send({ tw: 'notice', kind, body });
  }

  ask<K extends keyof Asked & string>(kind: K, body: Asked[K]['q'], timeoutMs: number): Promise<Asked[K]['a']> {
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`no answer to "${kind}" within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.#pending.set(id, { resolve, reject, timer });
      void this.#send({ tw: 'ask', id, kind, body });
    });
  }

  onNotice<K extends keyof In & string>(kind: K, fn: (body: In[K]) => void): void {
    this.#notices.set(kind, fn);
  }

  answer<K extends keyof Answered & string>(kind: K, fn: (body: Answered[K]['q']) => Answered[K]['a'] | Promise<Answered[K]['a']>): void {
    this.#answers.set(kind, fn);
  }

  /** A message from the other end (anything not ours is ignored). */
  receive(m: unknown): void {
    if (!isEnvelope(m)) return;
    if (m.tw === 'notice') return void this.#notices.get(m.kind)?.(m.body as never);
    if (m.tw === 'answer') {
      const p = this.#pending.get(m.id);
      if (!p) return; // answered after its deadline
      this.#pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.body);
      else p.reject(new Error(m.error));
      return;
    }
    const fn = this.#answers.get(m.kind);
    const reply = (r: { ok: true; body: unknown } | { ok: false; error: string }) => void this.#send({ tw: 'answer', id: m.id, ...r });
    if (!fn) return reply({ ok: false, error: `no answer for "${m.kind}"` });
    Promise.resolve()
      .then(() => fn(m.body as never))
      .then(
        (body) => reply({ ok: true, body }),
        (err: unknown) => reply({ ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
  }

  /** The other end is gone: every open question rejects. */
  close(): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new Error('the other process is gone'));
      this.#pending.delete(id);
    }
  }
}
