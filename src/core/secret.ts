import { inspect } from 'node:util';

/**
 * A password, application code or key as it enters the process. Its value is only reachable
 * through reveal(); printing, JSON or util.inspect show "[redacted]", so a stray log line or
 * error dump cannot leak it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}
