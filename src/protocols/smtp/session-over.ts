/** Ends the command loop: the session is closed (or handed to the splice). Not an error to log. */
export class SessionOver extends Error {}
