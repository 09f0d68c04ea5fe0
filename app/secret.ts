/**
 * Where the app's signing secrets come from: SESSION_SECRET (and SESSION_SECRET_PREVIOUS during a
 * rotation), or in development a generated one kept under DATA_DIR; and SESSION_ADMIN_SECRET, the
 * admin session class's own. Secrets are never printed.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createSessionManager, isTetherError } from 'tether-session'

/** A configuration problem; its message says what is wrong and how to fix it. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

/** How to generate a strong secret for the variable `name`. */
function howToMakeOne(name: string): string {
  return (
    "Make one with `npx tether-session secret` (or: node -e \"console.log(require('crypto')" +
    `.randomBytes(32).toString('base64url'))") and set it as ${name}.`
  )
}

const HOW_TO_MAKE_ONE = howToMakeOne('SESSION_SECRET')

/** The signing secrets (the first signs, all verify) and a warning to show at startup, if any. */
export interface ResolvedSecrets {
  secrets: string[]
  warning?: string
}

/** Refuses what tether-session would refuse, naming the variable instead of the option. */
function assertStrong(name: string, value: string): void {
  try {
    // The manager validates the secret exactly as the middleware will; nothing else is kept.
    void createSessionManager({ secret: value }).close()
  } catch (err) {
    if (!isTetherError(err)) throw err
    // Cosmetic: the variable is named already, so the option's label would only confuse.
    throw new ConfigError(`${name} is refused: ${err.message.replace(/^"secret"\[0\]/, 'it')}`)
  }
}

/** The development secret in `dir/secret`, created (mode 0600) on first use. */
function developmentSecret(dir: string): string {
  const file = join(dir, 'secret')
  try {
    return readFileSync(file, 'utf8').trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  mkdirSync(dir, { recursive: true })
  const secret = randomBytes(32).toString('base64url')
  // 'wx': never overwrite a secret another process wrote meanwhile.
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' })
  return secret
}

/**
 * Reads SESSION_SECRET and SESSION_SECRET_PREVIOUS. Without SESSION_SECRET, production stops
 * with a message saying how to make one; development generates one under `dataDir` and warns.
 */
export function resolveSecrets(
  env: Record<string, string | undefined>,
  dataDir: string,
  production: boolean,
): ResolvedSecrets {
  const current = env['SESSION_SECRET'] || undefined
  const previous = env['SESSION_SECRET_PREVIOUS'] || undefined
  if (current === undefined) {
    if (previous !== undefined) {
      throw new ConfigError(
        'SESSION_SECRET_PREVIOUS is set but SESSION_SECRET is not. To rotate, move the current ' +
          'secret to SESSION_SECRET_PREVIOUS and set a new SESSION_SECRET. ' +
          HOW_TO_MAKE_ONE,
      )
    }
    if (production) {
      throw new ConfigError(
        `SESSION_SECRET is not set, and NODE_ENV=production does not start without one. ${HOW_TO_MAKE_ONE}`,
      )
    }
    const file = join(dataDir, 'secret')
    const secret = developmentSecret(dataDir)
    assertStrong(`The development secret in ${file}`, secret)
    return {
      secrets: [secret],
      warning:
        `SESSION_SECRET is not set: using a development secret kept in ${file}. ` +
        `Set SESSION_SECRET before running in production. ${HOW_TO_MAKE_ONE}`,
    }
  }
  assertStrong('SESSION_SECRET', current)
  if (previous === undefined) return { secrets: [current] }
  assertStrong('SESSION_SECRET_PREVIOUS', previous)
  if (previous === current) {
    throw new ConfigError('SESSION_SECRET_PREVIOUS equals SESSION_SECRET; set a new SESSION_SECRET')
  }
  return { secrets: [current, previous] }
}

/** The admin class's secret (undefined: no admin class) and a warning to show at startup, if any. */
export interface ResolvedAdminSecret {
  secret?: string
  warning?: string
}

/**
 * Reads SESSION_ADMIN_SECRET, refused when weak or equal to one of `secrets` (a shared secret
 * would let the kill switch, removing it, end everyone's sessions). Unset: a warning, no class.
 */
export function resolveAdminSecret(
  env: Record<string, string | undefined>,
  secrets: readonly string[],
): ResolvedAdminSecret {
  const secret = env['SESSION_ADMIN_SECRET'] || undefined
  if (secret === undefined) {
    return {
      warning:
        'SESSION_ADMIN_SECRET is not set: admin sessions are not separated (they use the ' +
        "ordinary secret and timeouts, and cannot be ended without ending everyone else's). " +
        howToMakeOne('SESSION_ADMIN_SECRET'),
    }
  }
  assertStrong('SESSION_ADMIN_SECRET', secret)
  if (secrets.includes(secret)) {
    throw new ConfigError(
      'SESSION_ADMIN_SECRET equals SESSION_SECRET (or SESSION_SECRET_PREVIOUS); admin sessions ' +
        `need a secret of their own. ${howToMakeOne('SESSION_ADMIN_SECRET')}`,
    )
  }
  return { secret }
}
