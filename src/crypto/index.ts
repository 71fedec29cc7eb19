export {
  ARGON2_PARAMS,
  ARGON2_TEST_PARAMS,
  TEST_ARGON2_ENV,
  argon2ParamsFrom,
  createArgon2Hasher,
  type Argon2Params,
  type Hasher,
} from './hasher.js';
export { randomCode } from './random-code.js';
export { APP_CODE_ALPHABET, APP_CODE_LENGTH, generateAppCode, normalizeAppCode } from './app-code.js';
export {
  ONE_TIME_CODES_PER_SET,
  ONE_TIME_CODE_LENGTH,
  generateOneTimeCode,
  normalizeOneTimeCode,
  formatOneTimeCode,
} from './one-time-code.js';
export { encryptSecret, decryptSecret, SECRET_BOX_KEY_BYTES } from './secret-box.js';
export { loadOrCreateKeyFile, MASTER_KEY_BYTES } from './key-file.js';
export { deriveKeys, codeLookup, type DerivedKeys } from './derive-keys.js';
export {
  TOTP_STEP_SECONDS,
  TOTP_DIGITS,
  TOTP_WINDOW,
  generateTotpKey,
  totpUri,
  totpStep,
  totpCode,
  matchTotp,
} from './totp.js';
