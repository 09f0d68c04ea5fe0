import { TetherError } from '../errors.js'

/**
 * Session data follows JSON (DESIGN.md "Session data"). What JSON would silently lose or cannot
 * encode is refused when the data is serialised at commit: JSON.stringify as before, then one walk
 * of the same values (no copy); only a refusal pays for a second walk that finds the key path.
 */

/**
 * Top-level keys refused when set: a session object (`req.session`) inherits or defines each, so
 * such a key would be stored but never seen again, or would replace a method or the prototype.
 * The API of `req.session` (express-session's and Tether's), its own fields, `prototype`, and
 * every name of `Object.prototype`. Deeper in the data these are ordinary keys.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set([
  // The session object of every adapter: its id, cookie and request, its methods and getters.
  'id',
  'cookie',
  'req',
  'ref',
  'authAge',
  'touch',
  'resetMaxAge',
  'save',
  'reload',
  'destroy',
  'regenerate',
  'login',
  'logout',
  'reauthenticated',
  'update',
  // The other adapters' session objects: Fastify's (@fastify/session's API), node's and fetch's.
  'get',
  'set',
  'sessionId',
  'encryptedSessionId',
  'isModified',
  'isSaved',
  'options',
  'commit',
  'prototype',
  // Object.prototype, which every session object inherits.
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  'toString',
  'valueOf',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
])

type Holder = Record<string | symbol, unknown>

const NON_FINITE = 'is NaN or Infinity, which JSON turns into null'
const INVALID_DATE = 'is an invalid Date, which JSON turns into null'

function hasToJSON(value: object | bigint): boolean {
  return typeof (value as { toJSON?: unknown }).toJSON === 'function'
}

function isInvalidDate(value: object): boolean {
  return value instanceof Date && Number.isNaN(value.getTime())
}

/** Why JSON would not keep a primitive exactly; undefined when it would. */
function primitiveProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? undefined : NON_FINITE
    case 'bigint':
      return 'is a BigInt, which JSON cannot encode (store it as a string)'
    case 'function':
      return 'is a function, which JSON drops'
    case 'symbol':
      return 'is a symbol, which JSON drops'
    case 'string':
    case 'boolean':
    case 'object': // null here: objects are objectProblem's
    case 'undefined': // dropped from objects, null in arrays: JSON's rule, kept
      return undefined
  }
}

/** Why JSON would not keep an object (through its toJSON, if any) exactly: not plain, not an array. */
function objectProblem(value: object): string | undefined {
  if (Array.isArray(value)) return undefined
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) return undefined
  const ctor = (proto as { constructor?: { name?: unknown } }).constructor
  const name = typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : undefined
  if (
    value instanceof Map ||
    value instanceof Set ||
    value instanceof WeakMap ||
    value instanceof WeakSet
  )
    return `is a ${name ?? 'collection'}, which JSON turns into {} (store a plain object or an array)`
  const what = name === undefined ? 'an object with a custom prototype' : `an instance of ${name}`
  return `is ${what}, not a plain object or array, and has no toJSON: JSON would not keep it`
}

/** The first enumerable symbol-keyed property, which JSON skips without a word. */
function symbolKeyOf(value: object): symbol | undefined {
  for (const sym of Object.getOwnPropertySymbols(value))
    if (Object.prototype.propertyIsEnumerable.call(value, sym)) return sym
  return undefined
}

/**
 * The check on the hot path, after JSON.stringify succeeded (so there is no cycle): true when JSON
 * kept `value` exactly. A value with a toJSON method is taken as JSON takes it (a Date as its ISO
 * string, a Buffer as `{ type, data }`); an invalid Date, which toJSON turns into null, is not.
 */
function isKept(value: unknown): boolean {
  if (typeof value !== 'object' || value === null)
    return typeof value === 'bigint' ? hasToJSON(value) : primitiveProblem(value) === undefined
  if (hasToJSON(value)) return !isInvalidDate(value)
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) if (!isKept(item)) return false
    return true
  }
  if (objectProblem(value) !== undefined || symbolKeyOf(value) !== undefined) return false
  for (const key of Object.keys(value)) if (!isKept((value as Holder)[key])) return false
  return true
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

function childPath(path: string, key: string | number | symbol): string {
  if (typeof key === 'number') return `${path}[${key}]`
  if (typeof key === 'symbol') return `${path}[${String(key)}]`
  if (IDENTIFIER.test(key)) return path === '' ? key : `${path}.${key}`
  return `${path}[${JSON.stringify(key)}]`
}

/**
 * Off the hot path, once the data is known to be refused: walks `holder[key]` as JSON.stringify
 * does (toJSON called, its result checked too, ancestors tracked for cycles) to the first value
 * JSON would lose, and says where and why.
 */
function findProblem(
  holder: Holder,
  key: string,
  path: string,
  ancestors: Map<object, string>,
): string | undefined {
  let value = holder[key]
  if (
    ((typeof value === 'object' && value !== null) || typeof value === 'bigint') &&
    hasToJSON(value)
  ) {
    if (isInvalidDate(value as object)) return `${path} ${INVALID_DATE}`
    value = (value as { toJSON(key: string): unknown }).toJSON(key)
  }
  if (typeof value !== 'object' || value === null) {
    const problem = primitiveProblem(value)
    return problem === undefined ? undefined : `${path} ${problem}`
  }
  const problem = objectProblem(value)
  if (problem !== undefined) return `${path} ${problem}`
  const sym = symbolKeyOf(value)
  if (sym !== undefined) return `${childPath(path, sym)} is a symbol key, which JSON drops`
  const ancestor = ancestors.get(value)
  if (ancestor !== undefined)
    return `${path} refers back to ${ancestor}: a cycle JSON cannot encode`
  ancestors.set(value, path)
  const keys = Array.isArray(value) ? value.keys() : Object.keys(value)
  for (const k of keys) {
    const found = findProblem(value as Holder, String(k), childPath(path, k), ancestors)
    if (found !== undefined) return found
  }
  ancestors.delete(value)
  return undefined
}

function invalid(detail: string): TetherError {
  return new TetherError('TETHER_INVALID_SESSION_DATA', `cannot store session data: ${detail}`)
}

/**
 * JSON of `data[key]`, or undefined when JSON drops the value (undefined). Throws
 * `TETHER_INVALID_SESSION_DATA` naming the key path (`cart.items[2].price`), never the value, when
 * JSON would lose or cannot encode something in it.
 */
export function encodeEntry(data: Record<string, unknown>, key: string): string | undefined {
  let json: string | undefined
  try {
    json = JSON.stringify(data[key])
  } catch (err) {
    // JSON.stringify's TypeError: a BigInt or a cycle. Anything else (a throwing getter) is the app's.
    if (!(err instanceof TypeError)) throw err
    throw refusal(data, key) ?? err
  }
  // Native serialisation, then one walk of the same value: measured cheaper than a replacer.
  if (!isKept(data[key])) throw refusal(data, key) ?? invalid(`${childPath('', key)} is not JSON`)
  return json
}

function refusal(data: Record<string, unknown>, key: string): TetherError | undefined {
  const found = findProblem(data, key, childPath('', key), new Map())
  return found === undefined ? undefined : invalid(found)
}

/** Refuses a top-level key a session object would shadow (see RESERVED_KEYS). */
export function assertUnreservedKey(key: string): void {
  if (!RESERVED_KEYS.has(key)) return
  throw invalid(
    `${JSON.stringify(key)} is a reserved name: req.session or every object has it (or it is ` +
      'used to reach a prototype), so it would not load back as data; choose another key',
  )
}

/** Refuses session data that is not a plain object (an array, a Map, what update(fn) returned). */
export function assertPlainData(data: unknown): asserts data is Record<string, unknown> {
  const proto: unknown =
    typeof data === 'object' && data !== null ? Object.getPrototypeOf(data) : undefined
  if (proto === Object.prototype || proto === null) return
  const kind = typeof data === 'object' && data !== null ? 'an object of another kind' : typeof data
  throw invalid(`the data must be a plain object; got ${Array.isArray(data) ? 'an array' : kind}`)
}
