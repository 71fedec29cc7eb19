// Typed entry point; the implementation is plain JS (shared with scripts/demo-backend.mjs).
export { freePort, freePorts } from './ports.mjs';
