/**
 * The scenarios of `npm run bench`: what each server runs (bench/server/ builds it from the name)
 * and how the load drives it. Every session scenario serves the same routes: `GET /login` logs in
 * with a small user record, `GET /me` increments a counter (a write on every request), `GET
 * /whoami` only reads. A floor has no sessions and answers every route with the same small JSON.
 */

/** The store behind a scenario; `redis` and `postgres` are the harness's own. */
export type StoreKind = 'none' | 'memory' | 'sqlite' | 'redis' | 'postgres' | 'cookie'

/**
 * How the load gets and sends its credentials: `login` (a cookie from `GET /login`), `bearer`
 * (`X-Session-Token` from a login with `X-Session-Transport: bearer`, sent as `Authorization`),
 * `none` (no cookie at all), `forged-new` (a valid-looking forged cookie, new on every request),
 * `forged-fixed` (one of a fixed set of forged cookies), `expired` (a cookie past its absolute
 * lifetime: the server's `absoluteTimeout` is 1 s and the load waits for it).
 */
export type CredentialKind = 'login' | 'bearer' | 'none' | 'forged-new' | 'forged-fixed' | 'expired'

export type Route = 'me' | 'whoami'

export interface Scenario {
  name: string
  /** One line for the README and the table's legend. */
  about: string
  store: StoreKind
  credential: CredentialKind
  /** Routes measured; a floor is measured on `/whoami` alone. */
  routes: readonly Route[]
  /** A floor: no session library at all. */
  floor?: boolean
}

const BOTH: readonly Route[] = ['me', 'whoami']
const READ: readonly Route[] = ['whoami']

function floor(name: string, about: string, store: StoreKind = 'none'): Scenario {
  return { name, about, store, credential: 'none', routes: READ, floor: true }
}

function sessions(name: string, about: string, store: StoreKind): Scenario {
  return { name, about, store, credential: 'login', routes: BOTH }
}

const ADAPTERS = ['fastify', 'hono', 'koa', 'node', 'fetch'] as const

/** Every scenario, in the order a repetition runs them. */
export const SCENARIOS: readonly Scenario[] = [
  floor('express-floor', 'Express 5, no sessions'),
  floor('fastify-floor', 'Fastify 5, no sessions'),
  floor('hono-floor', 'Hono on @hono/node-server, no sessions'),
  floor('koa-floor', 'Koa 3, no sessions'),
  floor('node-floor', 'plain node:http, no sessions'),
  floor('fetch-floor', 'a plain Fetch API handler on @hono/node-server, no sessions'),
  floor(
    'express-redis-floor',
    'Express 5, one Redis GET per request (the round-trip floor)',
    'redis',
  ),
  sessions('express-session-memory', 'express-session + its MemoryStore', 'memory'),
  sessions(
    'express-session-redis',
    'express-session + connect-redis (rolling, resave false, saveUninitialized false)',
    'redis',
  ),
  sessions('iron-session', 'iron-session 8 on Express (sealed cookie)', 'cookie'),
  sessions('fastify-session', '@fastify/session + @fastify/cookie, its memory store', 'memory'),
  sessions('fastify-secure-session', '@fastify/secure-session (sealed cookie)', 'cookie'),
  sessions('tether-memory', 'Tether on Express, MemoryStore', 'memory'),
  sessions('tether-sqlite', 'Tether on Express, SqliteStore (temp dir)', 'sqlite'),
  sessions('tether-redis', 'Tether on Express, RedisStore (node-redis)', 'redis'),
  sessions('tether-postgres', 'Tether on Express, PostgresStore (pg Pool)', 'postgres'),
  ...ADAPTERS.flatMap((adapter) => [
    sessions(`tether-${adapter}-memory`, `Tether on ${adapter}, MemoryStore`, 'memory'),
    sessions(`tether-${adapter}-redis`, `Tether on ${adapter}, RedisStore`, 'redis'),
  ]),
  sessions('tether-sealed', "Tether on Express, store: 'sealed'", 'cookie'),
  {
    name: 'tether-bearer',
    about: 'Tether on Express, MemoryStore, header tokens (Authorization: Bearer)',
    store: 'memory',
    credential: 'bearer',
    routes: BOTH,
  },
  {
    name: 'tether-nocookie',
    about: 'Tether on Express + Redis, requests with no cookie at all',
    store: 'redis',
    credential: 'none',
    routes: READ,
  },
  {
    name: 'tether-forged',
    about:
      'Tether on Express + Redis, a new forged cookie per request, default throttle (429 path)',
    store: 'redis',
    credential: 'forged-new',
    routes: READ,
  },
  {
    name: 'tether-forged-nothrottle',
    about:
      'Tether on Express + Redis, 16 fixed forged cookies, throttle: false (verify and reject)',
    store: 'redis',
    credential: 'forged-fixed',
    routes: READ,
  },
  {
    name: 'tether-expired',
    about: 'Tether on Express + Redis, a cookie past its absolute lifetime (absoluteTimeout 1 s)',
    store: 'redis',
    credential: 'expired',
    routes: READ,
  },
]

/** Scenarios run by `--quick` when no `--only` is given: those the targets compare. */
export const QUICK = [
  'express-floor',
  'fastify-floor',
  'express-redis-floor',
  'express-session-memory',
  'express-session-redis',
  'iron-session',
  'fastify-session',
  'tether-memory',
  'tether-sqlite',
  'tether-redis',
  'tether-fastify-memory',
  'tether-sealed',
  'tether-nocookie',
  'tether-forged',
  'tether-forged-nothrottle',
  'tether-expired',
]

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name)
}
