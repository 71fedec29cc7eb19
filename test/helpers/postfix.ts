// A private, throw-away Postfix for SMTP integration tests; logic in postfix-core.mjs.
//
//   const postfix = await startPostfix({ lmtpSocket: dovecot.lmtpSocket,
//     saslPath: `inet:127.0.0.1:${dovecot.authPort}`, tls: cert, senderLogins: { 'alice@test.example': 'alice' } });
//   ... submit to 127.0.0.1:postfix.submissionPort ...
//   await postfix.stop();
//
// Needs root and an installed Postfix (.ci/run installs it); start-up takes 2-3 s, so start one
// per test file.
export { startPostfix, findPostfixBinary, postfixSnippet, renderMainCf, renderMasterCf } from './postfix-core.mjs';
export type { PostfixInstance, StartPostfixOptions } from './postfix-core.mjs';
