import { TetherError } from '../errors.js'

/** The command shown in every weak-secret message. */
export const GENERATE_SECRET_HINT =
  `node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"` +
  ' (or: npx tether-session secret)'

/** Minimum secret length in bytes (UTF-8): 256 bits, the HMAC-SHA256 key size. */
export const MIN_SECRET_BYTES = 32

// Published placeholders from tutorials, READMEs and .env.example files. Compared after
// lower-casing and dropping everything but letters and digits, so "Keyboard-Cat" matches too.
const PLACEHOLDERS = new Set(
  [
    'keyboard cat',
    'nyan cat',
    'awesome cat',
    'your_super_secret_key_here',
    'your-secret-key',
    'your secret key',
    'secret',
    'changeme',
    'change me',
    'abc',
    'abc123',
    'password',
    'mysecret',
    'supersecret',
    'session secret',
    'sessionsecret',
    'replace me',
    'your-session-secret',
  ].map(normalise),
)

// Words that mark a value copied from an example rather than generated. A random 32-byte
// secret contains one of these by chance with negligible probability.
const PLACEHOLDER_WORDS = [
  'changeme',
  'changethis',
  'replaceme',
  'keyboardcat',
  'yoursecret',
  'yoursupersecret',
  'supersecretkey',
  'secretkeyhere',
  'placeholder',
  'example',
]

function normalise(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '')
}

/**
 * Refuses a secret that is short, a published placeholder, or visibly not random.
 * `label` names the option in the message (e.g. `"secret"[1]`); the secret itself never appears.
 */
export function assertStrongSecret(
  secret: unknown,
  label: string,
): asserts secret is string | Uint8Array {
  if (secret instanceof Uint8Array) {
    if (secret.byteLength < MIN_SECRET_BYTES || new Set(secret).size < 8) {
      throw new TetherError(
        'TETHER_WEAK_SECRET',
        `${label} is a ${secret.byteLength}-byte buffer with ${new Set(secret).size} distinct bytes; ` +
          `at least ${MIN_SECRET_BYTES} random bytes are required. Generate one with: ${GENERATE_SECRET_HINT}`,
      )
    }
    return
  }
  if (typeof secret !== 'string') {
    throw new TetherError(
      'TETHER_INVALID_OPTION',
      `${label} must be a string (or Buffer) of at least ${MIN_SECRET_BYTES} bytes; got ${describeType(secret)}. ` +
        `Generate one with: ${GENERATE_SECRET_HINT}`,
    )
  }
  const norm = normalise(secret)
  if (PLACEHOLDERS.has(norm) || PLACEHOLDER_WORDS.some((w) => norm.includes(w))) {
    throw new TetherError(
      'TETHER_WEAK_SECRET',
      `${label} is a published placeholder, not a secret. Generate one with: ${GENERATE_SECRET_HINT}`,
    )
  }
  const bytes = Buffer.byteLength(secret, 'utf8')
  if (bytes < MIN_SECRET_BYTES) {
    throw new TetherError(
      'TETHER_WEAK_SECRET',
      `${label} is ${bytes} bytes; at least ${MIN_SECRET_BYTES} are required. ` +
        `Generate one with: ${GENERATE_SECRET_HINT}`,
    )
  }
  if (new Set(secret).size < 8) {
    throw new TetherError(
      'TETHER_WEAK_SECRET',
      `${label} uses fewer than 8 distinct characters, so it is not random. ` +
        `Generate one with: ${GENERATE_SECRET_HINT}`,
    )
  }
}

export function describeType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}
