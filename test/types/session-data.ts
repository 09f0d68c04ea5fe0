// Compile-only (checked by `tsc --noEmit`): what users' code may and may not write.
// `@ts-expect-error` marks what must not compile.
import express from 'express'
import session, { type ExpressSessionOptions } from 'tether-session/express'
import { createSessionManager, type TetherError, type TetherEvent } from 'tether-session'

declare module 'tether-session' {
  interface SessionData {
    userId: string
    cart: string[]
  }
}

const app = express()
const mw = session({ secret: 'x'.repeat(40) })
app.use(mw)

app.get('/', async (req, res) => {
  const cart: string[] | undefined = req.session.cart
  req.session.userId = 'u1'
  // @ts-expect-error SessionData says cart holds strings
  req.session.cart = [1]
  await req.session.login('u1')
  await req.session.login('u1', { class: 'admin' })
  // @ts-expect-error a user id is a string
  await req.session.login(42)
  const age: number | null = req.session.authAge
  await req.session.save()
  req.session.save((err) => void err)
  await req.session.update((data) => {
    data['n'] = 1
  })
  const sid: string = req.sessionID
  res.json({ cart, age, sid })
})

const listed: Promise<{ ref: string; current: boolean }[]> = mw.manager.listUserSessions('u1')
void listed
void mw.manager.revokeUserSessions('u1', { except: 'ref' })

const opts: ExpressSessionOptions = {
  secret: ['a', 'b'],
  idleTimeout: '30m',
  onStoreError: 'anonymous',
}
// @ts-expect-error onStoreError takes 'fail-closed' or 'anonymous'
const bad: ExpressSessionOptions = { secret: 's', onStoreError: 'ignore' }
void opts
void bad

createSessionManager({ secret: 's', onEvent: (e: TetherEvent) => void e.type })
// @ts-expect-error the event type union is closed
createSessionManager({ secret: 's', onEvent: (e: TetherEvent) => e.type === 'session.nope' })
export type { TetherError }
