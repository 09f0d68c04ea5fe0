/**
 * Secret hygiene (issue 13, point 5): the whole reference-app flow on every store, with every log
 * line (events included: the app logs each one) and everything the process writes to stdout and
 * stderr captured, then searched for every secret the traffic carried: session cookies and header
 * tokens, the ids and MACs inside them, CSRF tokens (session and pre-session) and the pre-session
 * nonce, the signing secrets, the passwords. None may appear. contract.test.ts and auth-log.test.ts
 * check a login, a forged cookie and the password forms on MemoryStore; this adds renewal,
 * re-authentication, listing, revocation, admin actions, header tokens and every store.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { StoreKind } from '../../app/config.js'
import { manualClock } from '../helpers/clock.js'
import { tamper } from '../helpers/tamper.js'
import {
  Client,
  formToken,
  HTML,
  newSecret,
  serveOn,
  storeSkips,
  type Answer,
  type Served,
} from './harness.js'

const skips = await storeSkips()
const MIN = 60_000
const PASSWORDS = { alice: 'correct-horse', bob: 'battery-staple', admin: 'correct-horse-admin' }
const WRONG = 'not-the-password-9f2k'

/** Every secret value seen, and its parts long enough to be secret (ids, MACs, nonces). */
class Secrets {
  readonly values = new Set<string>()

  add(value: string | null | undefined): void {
    if (value === null || value === undefined || value === '') return
    this.values.add(value)
    for (const part of value.split('.')) if (part.length >= 16) this.values.add(part)
  }

  harvest(client: Client, answer: Answer): void {
    for (const value of client.cookies.values()) this.add(value)
    for (const line of answer.headers.getSetCookie()) this.add(line.split(';')[0]!.split('=')[1])
    this.add(answer.headers.get('x-session-token'))
    const json = answer.json as { csrfToken?: string } | undefined
    this.add(json?.csrfToken)
    for (const [, token] of answer.text.matchAll(/name="_csrf" value="([^"]+)"/g)) this.add(token)
  }
}

/** A cookie-keeping client whose every answer is harvested. */
class Browser extends Client {
  readonly secrets: Secrets

  constructor(base: string, secrets: Secrets, agent: string) {
    super(base, agent)
    this.secrets = secrets
  }

  override async send(...args: Parameters<Client['send']>): Promise<Answer> {
    const answer = await super.send(...args)
    this.secrets.harvest(this, answer)
    return answer
  }
}

/** What the process writes to stdout and stderr, and its warnings, while `work` runs. */
async function capturingOutput(work: () => Promise<void>): Promise<string[]> {
  const chunks: string[] = []
  const { stdout, stderr } = process
  // Kept unbound, to be put back exactly as they were.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const writes = [stdout.write, stderr.write] as const
  for (const stream of [stdout, stderr]) {
    const original = stream.write.bind(stream) as (...a: unknown[]) => boolean
    stream.write = function captured(chunk: unknown, ...rest: unknown[]): boolean {
      chunks.push(String(chunk))
      return original(chunk, ...rest)
    }
  }
  const onWarning = (warning: Error) => chunks.push(`${warning.name}: ${warning.message}`)
  process.on('warning', onWarning)
  try {
    await work()
  } finally {
    stdout.write = writes[0]
    stderr.write = writes[1]
    process.off('warning', onWarning)
  }
  return chunks
}

async function fullFlow(app: Served, secrets: Secrets, clock: ReturnType<typeof manualClock>) {
  const json = { accept: 'application/json' }
  // A browser logs in through the form (pre-session CSRF token and nonce cookie).
  const laptop = new Browser(app.url, secrets, 'laptop-agent')
  const loginPage = await laptop.get('/login', HTML)
  const form = { _csrf: formToken(loginPage.text), username: 'alice', password: PASSWORDS.alice }
  const sameSite = { ...HTML, 'sec-fetch-site': 'same-origin' }
  assert.equal((await laptop.send('POST', '/login', { form, headers: sameSite })).status, 303)
  assert.equal((await laptop.get('/profile')).status, 200)
  // A second device, a failed login, a refused post (no CSRF token), a cross-site post.
  const phone = new Browser(app.url, secrets, 'phone-agent')
  assert.equal((await phone.login('alice', WRONG)).status, 401)
  assert.equal((await phone.login('alice', PASSWORDS.alice)).status, 200)
  assert.equal((await phone.send('POST', '/sessions/revoke-others', { json: {} })).status, 403)
  const crossSite = { 'x-csrf-token': await phone.token(), origin: 'https://evil.example' }
  assert.equal((await phone.send('POST', '/logout', { json: {}, headers: crossSite })).status, 403)
  // Renewal: the login is now old, the cookie rotates, a re-authentication form post follows.
  clock.advance(16 * MIN)
  assert.equal((await laptop.get('/profile')).status, 200)
  const reauthPage = await laptop.get('/reauth?next=/sessions', HTML)
  const reauth = { _csrf: formToken(reauthPage.text), password: PASSWORDS.alice, next: '/sessions' }
  assert.equal(
    (await laptop.send('POST', '/reauth', { form: reauth, headers: sameSite })).status,
    303,
  )
  // Listing and revocation, one session and then the others.
  const listed = (await laptop.get('/sessions', json)).json as {
    sessions: Array<{ ref: string; current: boolean }>
  }
  const other = listed.sessions.find((s) => !s.current)!
  assert.equal((await laptop.post(`/sessions/${other.ref}/revoke`)).status, 200)
  assert.equal((await phone.get('/profile')).status, 401, 'the revoked phone')
  assert.equal((await phone.login('alice', PASSWORDS.alice)).status, 200)
  assert.equal((await laptop.post('/sessions/revoke-others')).status, 200)
  // A forged copy of a cookie, and a stale one.
  const forger = new Browser(app.url, secrets, 'forger')
  const cookie = laptop.cookies.get('sid')!
  forger.cookies.set('sid', tamper(cookie))
  assert.equal((await forger.get('/profile')).status, 401)
  assert.equal((await phone.get('/profile')).status, 401)
  // Header tokens: log in, use, log out.
  let token = ''
  async function native(method: string, path: string, body?: unknown) {
    const headers: Record<string, string> =
      token === '' ? { 'x-session-transport': 'bearer' } : { authorization: `Bearer ${token}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(app.url + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    token = res.headers.get('x-session-token') ?? token
    secrets.add(token)
    await res.text()
    return res.status
  }
  assert.equal(await native('POST', '/login', { username: 'bob', password: PASSWORDS.bob }), 200)
  assert.equal(await native('GET', '/profile'), 200)
  assert.equal(await native('GET', '/sessions'), 200)
  // The administrator ends bob's sessions, then everyone's.
  const bob = new Browser(app.url, secrets, 'bob-agent')
  assert.equal((await bob.login('bob', PASSWORDS.bob)).status, 200)
  const admin = new Browser(app.url, secrets, 'admin-agent')
  assert.equal((await admin.login('admin', PASSWORDS.admin)).status, 200)
  assert.equal((await admin.get('/admin', json)).status, 200)
  assert.equal((await admin.post('/admin/users/bob/revoke')).status, 200)
  assert.equal(await native('GET', '/profile'), 401, 'bob ended')
  assert.equal((await laptop.post('/logout')).status, 200)
  assert.equal((await admin.post('/admin/revoke-all')).status, 200)
  assert.equal((await admin.get('/profile')).status, 401)
}

function events(app: Served): Set<string> {
  return new Set(app.lines.map((line) => (JSON.parse(line) as { event?: string }).event ?? ''))
}

for (const kind of Object.keys(skips) as StoreKind[]) {
  describe(`secrets in the reference app's logs on ${kind}`, { skip: skips[kind] }, () => {
    it('no log line, event or output holds a token, id, CSRF token, nonce, secret or password', async (t: TestContext) => {
      const clock = manualClock(Date.now())
      const secretsUsed = [newSecret(), newSecret()]
      const adminClass = {
        secret: newSecret(),
        idleTimeoutMs: 10 * MIN,
        absoluteTimeoutMs: 60 * MIN,
      }
      const app = await serveOn(t, kind, { secrets: secretsUsed, adminClass }, { clock })
      const secrets = new Secrets()
      for (const s of [...secretsUsed, adminClass.secret, ...Object.values(PASSWORDS), WRONG])
        secrets.add(s)
      const output = await capturingOutput(() => fullFlow(app, secrets, clock))
      const seen = events(app)
      for (const type of [
        'session.login',
        'session.regenerated',
        'session.destroyed',
        'session.revoked',
        'session.revoked_all',
        'csrf.rejected',
        'token.forged',
        'auth.failed',
      ]) {
        assert.ok(seen.has(type), `the flow raised ${type}`)
      }
      // Enough distinct values to show the harvest worked: many cookies, tokens, ids and MACs.
      assert.ok(secrets.values.size >= 40, `${secrets.values.size} secret values collected`)
      for (const line of [...app.lines, ...output]) {
        for (const value of secrets.values) {
          // The message shows where, never the secret itself.
          const shown = line.split(value).join('<SECRET>').slice(0, 300)
          assert.ok(!line.includes(value), `a log line or output holds a secret value: ${shown}`)
        }
      }
      t.diagnostic(
        `${kind}: ${app.lines.length} log lines and ${output.length} output chunks, ` +
          `${seen.size - 1} event types, checked against ${secrets.values.size} secret values`,
      )
    })
  })
}
