// The bench's scenarios, run in this order. A scenario is one file exporting
// { id, title, run({ env, rec, quick, log, twostepWorkers }) }: it prepares what it needs (mail, users, extra
// twostep instances, further backends through env.onCleanup), then reports through
// rec.measure (sides in alternation, medians, ratios to the first side) or rec.record.
// Adding one = a new file here + one line below.
import adminConsole from './admin-console.mjs';
import dovecotPassdb from './dovecot-passdb.mjs';
import idleConnections from './idle-connections.mjs';
import imapDownload from './imap-download.mjs';
import logins from './logins.mjs';
import severalNodes from './several-nodes.mjs';
import smtpSubmission from './smtp-submission.mjs';
import storeScale from './store-scale.mjs';
import tlsLogins from './tls-logins.mjs';

export const scenarios = [imapDownload, logins, tlsLogins, idleConnections, storeScale, smtpSubmission, dovecotPassdb, severalNodes, adminConsole];
