/** How `graphbox` ends: one code per outcome, so scripts can branch on it. */
export const EXIT = {
  /** The program ran to its end. */
  success: 0,
  /** The program failed (syntax error, exception, timeout, memory limit, cancelled...). */
  programError: 1,
  /** The command line was wrong, or its file or JSON could not be read. */
  usage: 2,
  /** The program paused at a breakpoint or an interrupt(): `graphbox resume THREAD` goes on. */
  interrupted: 3,
  /** The engine refused the request (HTTP 4xx/5xx: unauthenticated, thread busy, overloaded...). */
  refused: 4,
  /** The engine could not be reached, or the stream broke and could not be followed again. */
  unreachable: 5,
} as const;

export class UsageError extends Error {
  override name = "UsageError";
}
