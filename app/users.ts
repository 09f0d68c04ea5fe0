/**
 * The demo users and the password check. Passwords are stored only as scrypt hashes
 * (`scrypt$N$r$p$salt$hash`, base64url), as a real user table would hold them; the plain
 * passwords appear in the README and on the login page, never here. Names and ids are fixed;
 * password hashes live in a {@link UserTable} per app, in memory: a changed password lasts until
 * the process ends (a real app writes it to its database).
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

/** What a user may do: an `admin` logs in to the admin session class when it is configured. */
export type Role = 'user' | 'admin'

/** A user of the app. `id` is what sessions are indexed by; `username` is what people type. */
export interface User {
  id: string
  username: string
  role: Role
}

interface StoredUser extends User {
  passwordHash: string
}

const USERS: readonly Readonly<StoredUser>[] = [
  {
    id: '1',
    username: 'alice', // correct-horse
    role: 'user',
    passwordHash:
      'scrypt$16384$8$1$-j7wwkso2JjVEgmfOVKwNQ$2bHGyM5k4pv2ofK1SMsdTluOeIH7uZqEn1Pjht42gEQ',
  },
  {
    id: '2',
    username: 'bob', // battery-staple
    role: 'user',
    passwordHash:
      'scrypt$16384$8$1$U-8tAku1DfJDt1Jt158oOw$MQ7MylmxVSOB1vqBMN1SlsnDHZG88vSYwGUw2EdXquU',
  },
  {
    id: '3',
    username: 'admin', // correct-horse-admin
    role: 'admin',
    passwordHash:
      'scrypt$16384$8$1$QwQUGuiF-io6VEF612cSzg$SmGhFKR5gYT9X-6-UUpNx81naep02TFPaM87PQI2BUk',
  },
]

/** The user without the password hash. */
function publicUser(user: StoredUser): User {
  return { id: user.id, username: user.username, role: user.role }
}

const KEY_BYTES = 32
/** Longer passwords are refused before hashing: scrypt of a megabyte is a cheap way to load us. */
export const MAX_PASSWORD_CHARS = 1024

function scryptAsync(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise(function hashing(resolve, reject) {
    scrypt(password, salt, KEY_BYTES, opts, function hashed(err, key) {
      if (err) reject(err)
      else resolve(key)
    })
  })
}

/** Hashes a password into the stored form, with a fresh salt and Node's default cost. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scryptAsync(password, salt, { N: 16384, r: 8, p: 1 })
  return `scrypt$16384$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`
}

/** Checks `password` against a stored hash in constant time. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return false
  const expected = Buffer.from(hash, 'base64url')
  const opts = { N: Number(n), r: Number(r), p: Number(p) }
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), opts)
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

// Hashed once for unknown usernames, so that a wrong name costs one scrypt like a wrong password.
const DECOY_HASH = hashPassword(randomBytes(16).toString('base64url'))

/** The users' password hashes, as one app instance keeps them (in memory). */
export interface UserTable {
  /**
   * The user with this username and password, or null. Takes one scrypt whether or not the user
   * exists, so the response time does not tell which usernames are valid.
   */
  authenticate(username: unknown, password: unknown): Promise<User | null>
  /** Whether `password` is the user's current one (one scrypt, constant-time compare). */
  checkPassword(userId: string, password: unknown): Promise<boolean>
  /** Replaces the user's password hash; the plain password is not kept. */
  setPassword(userId: string, password: string): Promise<void>
}

/** A table seeded with the demo users' hashes; each app has its own, so tests stay apart. */
export function createUserTable(): UserTable {
  const hashes = new Map(USERS.map((u) => [u.id, u.passwordHash]))

  async function check(hash: string | undefined, password: unknown): Promise<boolean> {
    if (typeof password !== 'string' || password.length > MAX_PASSWORD_CHARS) return false
    return verifyPassword(hash ?? (await DECOY_HASH), password)
  }

  return {
    async authenticate(username, password) {
      if (typeof username !== 'string') return null
      const user = USERS.find((u) => u.username === username)
      const ok = await check(user === undefined ? undefined : hashes.get(user.id), password)
      return ok && user ? publicUser(user) : null
    },
    async checkPassword(userId, password) {
      const hash = hashes.get(userId)
      return (await check(hash, password)) && hash !== undefined
    },
    async setPassword(userId, password) {
      if (!hashes.has(userId)) throw new Error('setPassword: no such user')
      hashes.set(userId, await hashPassword(password))
    },
  }
}

/** Every user, in id order, without password hashes (for the administrator's page). */
export function listUsers(): User[] {
  return USERS.map(publicUser)
}

/** The user with this username, or null. */
export function findUserByName(username: string): User | null {
  const user = USERS.find((u) => u.username === username)
  return user ? publicUser(user) : null
}

/** The user with this id, or null (a session may outlive its user). */
export function findUser(id: unknown): User | null {
  const user = USERS.find((u) => u.id === id)
  return user ? publicUser(user) : null
}
