// Compile-only (checked by `tsc --noEmit -p test/types`): @fastify/session code that must keep
// compiling against tether-session/fastify, and what must not. `@ts-expect-error` marks the latter.
import Fastify from 'fastify'
import fastifySession, { MemoryStore, type FastifySessionOptions } from 'tether-session/fastify'

// @fastify/session's way of typing session data keeps working beside Tether's SessionData
// (test/types/session-data.ts declares userId and cart there).
declare module 'fastify' {
  interface Session {
    user: { id: string; name: string }
  }
}

const app = Fastify()
const options: FastifySessionOptions = {
  secret: 'x'.repeat(40),
  cookieName: 'sessionId',
  cookie: { secure: 'auto', maxAge: 60_000 },
  saveUninitialized: false,
  rolling: false,
  idGenerator: (request) => `${request.ip}-id`,
  store: new MemoryStore(),
}
void app.register(fastifySession, options)

app.get('/', async (request, reply) => {
  const name: string = request.session.user.name
  const userId: string | undefined = request.session.get('userId')
  request.session.set('cart', ['a'])
  // @ts-expect-error SessionData says cart holds strings
  request.session.set('cart', [1])
  // @ts-expect-error no such key was declared
  request.session.get('nope')
  request.session.options({ maxAge: 1000 })
  request.session.touch()
  const modified: boolean = request.session.isModified()
  const id: string = request.session.sessionId
  const signed: string = request.session.encryptedSessionId
  await request.session.regenerate(['user'])
  request.session.regenerate(['user'], (err) => void err)
  request.session.regenerate((err) => void err)
  await request.session.reload()
  request.session.save((err) => void err)
  await request.session.destroy()
  await request.session.login('u1')
  const store: unknown = request.sessionStore
  return reply.send({ name, userId, modified, id, signed, store })
})

app.decryptSession('value', {}, (err) => void err)
app.decryptSession('value', {}, { maxAge: 1000 }, (err) => void err)
void app.decryptSession('value', {})
// @ts-expect-error a cookie value is a string
void app.decryptSession(42, {})
void app.tetherSessions.listUserSessions('u1')
