/**
 * Polls `check` every 50 ms until it is true; throws with `what` after `timeoutMs`. An exception
 * from `check` ends the wait at once (e.g. the server exited); a check may catch its own errors.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${what} within ${timeoutMs} ms`)
}
