// Typed entry point; the implementation is plain JS (shared with scripts/demo-backend.mjs).
import { inject } from 'vitest';
import type { TestCert } from './tls.mjs';

export { makeTestCert } from './tls.mjs';
export type { TestCert } from './tls.mjs';

/**
 * The run's test certificate, made once by the global setup (CN=localhost, SAN DNS:localhost and
 * IP:127.0.0.1): what a file needs unless its test is about a certificate of its own.
 */
export function sharedTestCert(): TestCert {
  return inject('testCert');
}
