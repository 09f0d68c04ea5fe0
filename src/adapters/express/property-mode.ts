/**
 * Express gives every request and response a new prototype (`Object.setPrototypeOf(req,
 * app.request)`). V8 does not cache the hidden-class transitions that start from such an object,
 * so every property added to it afterwards (`req.session`, `req.sessionID`, `req.sessionStore`,
 * and Express's own `req.route` and `req.params` later on) builds a new hidden class: about 5 µs
 * each, measured on Node 20, and garbage for the collector. An object in dictionary mode adds a
 * property as a hash-table insert. And since each request has a hidden class of its own anyway,
 * reads of its properties gain nothing from fast mode.
 *
 * Deleting a property that is not the last one added puts an object in dictionary mode; putting
 * it back keeps its value. Only a plain own data property is touched (writable, enumerable,
 * configurable), so nothing else about the object changes but where that key comes in `for ... in`.
 */
export function useDictionaryProperties(target: object, key: PropertyKey): void {
  const d = Object.getOwnPropertyDescriptor(target, key)
  if (d === undefined || !('value' in d) || !d.writable || !d.enumerable || !d.configurable) return
  const t = target as Record<PropertyKey, unknown>
  delete t[key]
  t[key] = d.value
}
