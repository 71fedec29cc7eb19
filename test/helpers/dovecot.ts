// A private, throw-away Dovecot for integration tests. The logic lives in plain JS in
// dovecot-core.mjs (shared with scripts/demo-backend.mjs); this is the typed entry point.
//
//   const dovecot = await startDovecot({ users: [{ user: 'alice', password: 'alicepw' }],
//                                        master: { user: 'proxymaster', password: 'masterpw' } });
//   ... connect to 127.0.0.1:dovecot.imapPort ...
//   await dovecot.stop();
//
// Needs root and an installed Dovecot (.ci/run installs it); throws a clear error otherwise.
export { startDovecot, instanceProcesses, findDovecotBinary, renderDovecotConf } from './dovecot-core.mjs';
export type { DovecotInstance, DovecotUser, StartDovecotOptions } from './dovecot-core.mjs';
