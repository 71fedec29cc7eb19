import { Secret } from '../../core/secret.js';
import { decodeBase64Strict, decodeUtf8Strict } from './base64-strict.js';

/** base64("Username:") and base64("Password:"), the prompts every LOGIN-mechanism client expects. */
export const SASL_LOGIN_USERNAME_PROMPT = 'VXNlcm5hbWU6';
export const SASL_LOGIN_PASSWORD_PROMPT = 'UGFzc3dvcmQ6';

export enum SaslLoginStep {
  Username = 'username',
  Password = 'password',
  Done = 'done',
}

export type SaslLoginFeed =
  | { ok: false }
  | { ok: true; done: false; prompt: string }
  | { ok: true; done: true; user: string; password: Secret };

/** Decodes one SASL LOGIN response: strict base64 of UTF-8 text without NUL. */
export function decodeSaslLoginStep(b64: string): string | null {
  const raw = decodeBase64Strict(b64);
  if (!raw || raw.includes(0)) return null;
  const text = decodeUtf8Strict(raw);
  raw.fill(0);
  return text;
}

/**
 * The two steps of the (non-standard but ubiquitous) SASL LOGIN mechanism: user name, then
 * password, each base64. An initial response (SASL-IR) counts as the user name.
 */
export class SaslLogin {
  #step = SaslLoginStep.Username;
  #user = '';

  get step(): SaslLoginStep {
    return this.#step;
  }

  /** The base64 prompt for the current step. */
  prompt(): string {
    return this.#step === SaslLoginStep.Username ? SASL_LOGIN_USERNAME_PROMPT : SASL_LOGIN_PASSWORD_PROMPT;
  }

  feed(b64: string): SaslLoginFeed {
    const text = decodeSaslLoginStep(b64);
    if (text === null || this.#step === SaslLoginStep.Done) return { ok: false };
    if (this.#step === SaslLoginStep.Username) {
      if (text === '') return { ok: false };
      this.#user = text;
      this.#step = SaslLoginStep.Password;
      return { ok: true, done: false, prompt: this.prompt() };
    }
    this.#step = SaslLoginStep.Done;
    return { ok: true, done: true, user: this.#user, password: new Secret(text) };
  }
}
