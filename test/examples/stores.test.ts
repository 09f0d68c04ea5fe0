/**
 * The example app on every store, chosen by configuration alone (SESSION_STORE's values): a visit
 * counter persists, login gives a new session and logout ends it. Redis and PostgreSQL parts skip
 * with a reason when the service is absent (and fail under TETHER_REQUIRE_SERVICES=1).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { createApp } from '../../examples/express-app/app.js'
import { openStore, storeKind, type StoreKind } from '../../examples/express-app/stores.js'
import { DATABASE_URL, REDIS_URL, skipUnlessReachable } from '../helpers/services.js'

const skips: Record<StoreKind, string | false> = {
  sqlite: false,
  memory: false,
  redis: await skipUnlessReachable('Redis', REDIS_URL, 'REDIS_URL'),
  postgres: await skipUnlessReachable('PostgreSQL', DATABASE_URL, 'DATABASE_URL'),
}

function cookieOf(res: Response): string | undefined {
  return res.headers
    .getSetCookie()
    .find((c) => c.startsWith('sid='))
    ?.split(';')[0]
}

describe('example app, store by configuration', () => {
  it('refuses an unknown SESSION_STORE with a message listing the choices', () => {
    assert.throws(() => storeKind('mongo'), /sqlite, memory, redis or postgres/)
    assert.equal(storeKind(undefined), 'sqlite')
  })

  for (const kind of Object.keys(skips) as StoreKind[]) {
    it(`serves sessions on ${kind}`, { skip: skips[kind] }, async (t) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'tether-stores-'))
      t.after(() => rmSync(dataDir, { recursive: true, force: true }))
      const opened = await openStore(kind, {
        dataDir,
        redisUrl: REDIS_URL,
        databaseUrl: DATABASE_URL,
      })
      const server = createApp({
        store: opened.store,
        secret: randomBytes(32).toString('base64url'),
      }).listen(0, '127.0.0.1')
      await new Promise<void>((resolve) => server.once('listening', resolve))
      t.after(async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()))
        await opened.close()
      })
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const first = await fetch(url + '/')
      const anon = cookieOf(first)
      assert.ok(anon)
      assert.match(
        await (await fetch(url + '/', { headers: { cookie: anon } })).text(),
        /id="views">2</,
      )
      const login = await fetch(url + '/login', {
        method: 'POST',
        headers: { cookie: anon, 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: 'correct-horse' }),
      })
      assert.equal(login.status, 200)
      const authed = cookieOf(login)!
      assert.notEqual(authed, anon)
      const me = (await (await fetch(url + '/api/me', { headers: { cookie: authed } })).json()) as {
        user?: string
      }
      assert.equal(me.user, 'alice')
      await fetch(url + '/logout', { method: 'POST', headers: { cookie: authed } })
      const after = (await (
        await fetch(url + '/api/me', { headers: { cookie: authed } })
      ).json()) as { user?: string }
      assert.equal(after.user ?? null, null)
    })
  }
})
