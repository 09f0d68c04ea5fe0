/**
 * `tether-session/csrf`: CSRF protection. The Express adapter runs it by itself (the `csrf`
 * option); this entry is for rendering tokens and for other frameworks.
 *
 *   import { csrfToken } from 'tether-session/csrf'
 *   res.render('form', { csrfToken: csrfToken(req) })
 */
export { checkRequestOrigin } from './origin-check.js'
export { createCsrfTokens } from './token.js'
export { csrfToken } from '../http/csrf-token.js'

export type { OriginCheckInput, OriginFailure } from './origin-check.js'
export type { CsrfKeySource, CsrfTokens } from './token.js'
export type { CsrfOptions } from './options.js'
export type { CsrfFailure } from '../http/csrf.js'
export type { CsrfTokenSource } from '../http/csrf-token.js'
