/**
 * Commands that are valid IMAP but only after login (RFC 9051, 3501 and common extensions).
 * Before login they get "Command not permitted in this state."; anything else is "Unknown command."
 */
export const POST_AUTH_COMMANDS: ReadonlySet<string> = new Set([
  'SELECT', 'EXAMINE', 'CREATE', 'DELETE', 'RENAME', 'SUBSCRIBE', 'UNSUBSCRIBE', 'LIST', 'LSUB',
  'XLIST', 'STATUS', 'APPEND', 'CHECK', 'CLOSE', 'UNSELECT', 'EXPUNGE', 'SEARCH', 'ESEARCH', 'FETCH',
  'STORE', 'COPY', 'MOVE', 'UID', 'IDLE', 'ENABLE', 'NAMESPACE', 'GETQUOTA', 'GETQUOTAROOT',
  'SETQUOTA', 'GETACL', 'SETACL', 'DELETEACL', 'MYRIGHTS', 'LISTRIGHTS', 'GETMETADATA',
  'SETMETADATA', 'SORT', 'THREAD', 'COMPRESS', 'NOTIFY', 'REPLACE', 'UNAUTHENTICATE', 'DONE',
]);
