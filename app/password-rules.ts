/** What a new password must be, in words for people. Checked on the server, whatever the form says. */
import { MAX_PASSWORD_CHARS } from './users.js'

/** The shortest new password accepted (NIST SP 800-63B §3.1.1.2 asks for at least 8). */
export const MIN_PASSWORD_CHARS = 10

/** What the user asked for on /password. `confirm` is the form's second field (JSON omits it). */
export interface PasswordChange {
  username: string
  current: string
  next: string
  confirm?: string | undefined
}

/** Why `change.next` is refused, as one sentence, or null when it is acceptable. */
export function newPasswordProblem(change: PasswordChange): string | null {
  const { username, current, next, confirm } = change
  const chars = [...next].length // code points: "ü" is one character to the person typing it
  if (chars < MIN_PASSWORD_CHARS) {
    return `The new password must be at least ${MIN_PASSWORD_CHARS} characters long.`
  }
  if (next.length > MAX_PASSWORD_CHARS) {
    return `The new password must be at most ${MAX_PASSWORD_CHARS} characters long.`
  }
  if (next === current) return 'The new password must differ from the current one.'
  if (next.trim().toLowerCase() === username.toLowerCase()) {
    return 'The new password must not be your username.'
  }
  if (confirm !== undefined && confirm !== next) return 'The two new passwords do not match.'
  return null
}
