// Typed entry point; the implementation is plain JS (shared with scripts/demo-backend.mjs).
export { makeTestCert } from './tls.mjs';
export type { TestCert } from './tls.mjs';
