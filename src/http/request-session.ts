import type { CommitOutcome, RequestContext, SessionState } from '../core/manager-types.js'
import { dataFromSnapshot } from '../core/diff.js'
import type { StoredCookie } from '../stores/types.js'
import { TetherError, isTetherError } from '../errors.js'
import type { AdapterHooks } from './adapter-hooks.js'
import { Cookie, type CookieOptions } from './cookie.js'
import { nonceCookieLine, nonceFromCookie } from './csrf.js'
import { customId, type ResolvedHttpOptions } from './options.js'
import type { RequestView } from './request-view.js'
import type { SessionHandle, UpdateFn } from './session-handle.js'
import { copyData, STATE, type SessionObject } from './session-object.js'
import { clearCookieLine, isSecureCookie, sessionCookieLine } from './set-cookie.js'
import type { Transport } from './transport.js'

/** What a request session needs from its engine: the options and the adapter's hooks. */
export interface EngineParts<N, R> {
  readonly cfg: ResolvedHttpOptions<N>
  readonly hooks: AdapterHooks<N, R>
}

/**
 * Everything Tether tracks for one request: the session state, the cookie settings and what the
 * request did. One instance per request; the application's session object points back here.
 * Framework-free: the adapter's hooks put the session object on the request and headers on the
 * response.
 */
export class RequestSession<N = unknown, R = unknown> implements SessionHandle {
  session!: SessionState
  /** The session object the application holds (changes on regenerate, login, logout, reload). */
  private current: SessionObject | null = null
  /** A session was ended during the request, so a presented cookie must be cleared. */
  private ended = false
  /** `save()` was called and nothing changed since, so `resave` need not write again. */
  private saved = false
  private finishing: Promise<void> | undefined
  /** An id the store refused as in use (a `genid` repeating itself): the end of the request does not retry it. */
  private refusedId: string | undefined
  /** How this request carries its token; a bearer client gets new tokens in `X-Session-Token`. */
  transport: Transport = 'cookie'
  /** Outside the cookie's path: the session is never stored and no cookie is sent. */
  inert = false
  /** The pre-session CSRF nonce of this request, once `csrfToken()` issued or found one. */
  private nonce: string | undefined

  readonly engine: EngineParts<N, R>
  readonly native: N
  readonly out: R
  readonly view: RequestView
  readonly ctx: RequestContext
  readonly cookieOptions: CookieOptions
  readonly cookieName: string

  constructor(
    engine: EngineParts<N, R>,
    native: N,
    out: R,
    view: RequestView,
    ctx: RequestContext,
    cookieOptions: CookieOptions,
    cookieName: string,
  ) {
    this.engine = engine
    this.native = native
    this.out = out
    this.view = view
    this.ctx = ctx
    this.cookieOptions = cookieOptions
    this.cookieName = cookieName
  }

  get secure(): boolean {
    return this.view.secure
  }

  now(): number {
    return this.engine.cfg.manager.options.clock.now()
  }

  /** Milliseconds since the user last authenticated, or null (see core `authAge`). */
  authAge(): number | null {
    return this.engine.cfg.manager.authAge(this.session)
  }

  /** An id for a new session: from `genid` when the application gave one, else undefined (random). */
  private newId(): string | undefined {
    const { genid } = this.engine.cfg
    return genid ? customId(genid, this.native) : undefined
  }

  /** Puts a session on the request: a loaded one, or a new one when `loaded` is null. */
  attach(loaded: SessionState | null, data?: Record<string, unknown>): SessionObject {
    const { cfg, hooks } = this.engine
    this.session = loaded ?? cfg.manager.create(this.ctx, this.newId())
    const kept = hooks.keepObject ? this.current : null
    const sess = kept ?? hooks.createSession(this.native, data ?? appData(this.session))
    if (kept === null) Object.defineProperty(sess, STATE, { value: this, writable: true })
    else replaceData(kept, data ?? appData(this.session))
    sess.cookie = this.makeCookie(this.session.record.cookie)
    this.current = sess
    hooks.attach(this.native, sess, this.session.id)
    return sess
  }

  /** Tells the adapter the id changed under the same session object (a renewal found meanwhile). */
  private idChanged(): void {
    if (this.current !== null) this.engine.hooks.attach(this.native, this.current, this.session.id)
  }

  private makeCookie(stored: StoredCookie | undefined): Cookie {
    const cookie = new Cookie(this.cookieOptions)
    if (stored?.expiresAt != null) cookie.expires = new Date(stored.expiresAt)
    else if (stored !== undefined) cookie.maxAge = stored.originalMaxAge
    if (stored !== undefined) cookie.originalMaxAge = stored.originalMaxAge
    return cookie
  }

  /** The per-session cookie settings to persist, when the application changed them. */
  private storedCookie(cookie: Cookie): StoredCookie | undefined {
    const configured = this.cookieOptions.maxAge ?? null
    const explicitExpiry = cookie.originalMaxAge === null && cookie.expires !== null
    if (cookie.originalMaxAge === configured && !explicitExpiry) return this.session.record.cookie
    return {
      originalMaxAge: cookie.originalMaxAge,
      expiresAt: explicitExpiry ? cookie.expires!.getTime() : null,
    }
  }

  /** The application's data: the session object's own enumerable properties but `cookie`. */
  private dataOf(sess: SessionObject): Record<string, unknown> {
    const data: Record<string, unknown> = Object.create(null) as Record<string, unknown>
    for (const key of Object.keys(sess))
      if (key !== 'cookie') data[key] = (sess as unknown as Record<string, unknown>)[key]
    return data
  }

  private async commit(
    sess: SessionObject,
    force: boolean,
    saveNew: boolean,
  ): Promise<CommitOutcome> {
    try {
      return await this.engine.cfg.manager.commit(this.session, this.ctx, {
        data: this.dataOf(sess),
        cookie: this.storedCookie(sess.cookie),
        force,
        saveNew,
        cookieExpiresAt: sess.cookie.expires?.getTime() ?? null,
        cookieName: this.transport === 'bearer' ? '' : this.cookieName,
      })
    } catch (err) {
      if (isTetherError(err) && err.code === 'TETHER_SESSION_ID_IN_USE')
        this.refusedId = this.session.id
      throw err
    }
  }

  /** The signed token (cookie value) of the session. */
  token(): string {
    return this.engine.cfg.manager.token(this.session)
  }

  /** The session object the request holds now (the one the application changed). */
  private held(): SessionObject {
    if (this.current === null)
      throw new TetherError('TETHER_SESSION_NOT_FOUND', 'the session was destroyed in this request')
    return this.current
  }

  async save(): Promise<void> {
    const outcome = await this.commit(this.held(), true, true)
    if (outcome === 'gone')
      throw new TetherError(
        'TETHER_SESSION_NOT_FOUND',
        'session.save(): the session was ended meanwhile',
      )
    this.saved = true
  }

  async reload(): Promise<void> {
    const fresh = await this.engine.cfg.manager.reload(this.session, this.ctx)
    if (fresh === null) throw new TetherError('TETHER_SESSION_NOT_FOUND', 'failed to load session')
    const cookie = this.current?.cookie
    this.attach(fresh)
    if (cookie !== undefined) this.current!.cookie = cookie
  }

  /**
   * Ends the session in the store; the cookie is cleared at the end of the request. Adapters that
   * keep one session object go on with it empty, as a new anonymous session.
   */
  async destroy(): Promise<void> {
    const { hooks, cfg } = this.engine
    const ended = this.session
    this.ended = true
    if (hooks.keepObject && this.current !== null) this.attach(null, {})
    else {
      if (hooks.current(this.native) === this.current) hooks.attach(this.native, null, undefined)
      this.current = null
    }
    await cfg.manager.destroy(ended, this.ctx)
  }

  async regenerate(): Promise<void> {
    const fresh = await this.engine.cfg.manager.regenerate(this.session, this.ctx, this.newId())
    this.attach(fresh, {})
  }

  async login(userId: string, opts: { class?: string }): Promise<void> {
    const sess = this.held()
    const id = this.newId()
    const next = await this.engine.cfg.manager.login(
      this.session,
      this.dataOf(sess),
      userId,
      this.ctx,
      id === undefined ? opts : { ...opts, id },
    )
    const cookie = sess.cookie
    this.attach(next)
    this.current!.cookie = cookie
  }

  async logout(opts: { clearSiteData?: boolean }): Promise<void> {
    const fresh = await this.engine.cfg.manager.logout(this.session, this.ctx, this.newId())
    this.ended = true
    this.attach(fresh, {})
    // Asks the browser to drop cached pages and storage of this origin too (sent with the response).
    if (opts.clearSiteData === true && !this.engine.hooks.headersSent(this.out)) {
      this.engine.hooks.setHeader(this.out, 'Clear-Site-Data', '"cache", "cookies", "storage"')
    }
  }

  async reauthenticated(): Promise<void> {
    const id = this.newId()
    // A new id, as at login: the response carries the new cookie. The session object stays the
    // same, so what the route set before or sets after is saved to the new id.
    const reauthOpts = id === undefined ? {} : { id }
    this.session = await this.engine.cfg.manager.reauthenticate(this.session, this.ctx, reauthOpts)
    this.idChanged()
  }

  async update(fn: UpdateFn): Promise<void> {
    const sess = this.held()
    // What the request changed before update(fn) is written first (a new session is created):
    // update(fn) reads the stored data afresh and hands its result back to the session object.
    await this.commit(sess, false, this.session.isNew)
    this.session = await this.engine.cfg.manager.update(this.session, fn, this.ctx)
    this.idChanged()
    replaceData(sess, appData(this.session))
  }

  /**
   * The CSRF token for this request. With a stored session (or one just logged in) it is the
   * session's token; before that, a pre-session token bound to an HttpOnly nonce cookie (set here
   * if needed), so login forms are protected too. Reveals nothing about the session id.
   */
  csrfToken(): string {
    const { csrfTokens } = this.engine.cfg
    if (!this.session.isNew)
      return csrfTokens.sessionToken(
        this.engine.cfg.manager.csrfAnchor(this.session),
        this.session.record.sessionClass,
      )
    let nonce = this.nonce ?? nonceFromCookie(this.view.header('cookie'), this.secure)
    if (nonce === undefined) {
      nonce = csrfTokens.newNonce()
      this.engine.hooks.appendSetCookie(this.out, nonceCookieLine(this.secure, nonce))
    }
    this.nonce = nonce
    return csrfTokens.preSessionToken(nonce)
  }

  /**
   * Runs before the response's headers: writes the session and sets or clears the cookie. Runs
   * once; a second call gets the first one's promise.
   */
  finish(): Promise<void> {
    this.finishing ??= this.commitAtEnd()
    return this.finishing
  }

  /**
   * True when `finish()` would do nothing: a new session the request left empty and did not end
   * (no commit, no cookie). The response hold then lets the response go without waiting.
   */
  finishesEmpty(): boolean {
    if (this.inert) return true
    const sess = this.engine.hooks.current(this.native)
    return (
      this.finishing === undefined &&
      sess === this.current &&
      this.current !== null &&
      !this.ended &&
      this.leftEmpty(this.current)
    )
  }

  /** A new session the request left empty: never stored (no commit to run, and no id needed). */
  private leftEmpty(current: SessionObject): boolean {
    return this.session.isNew && !this.engine.cfg.saveUninitialized && isEmpty(current)
  }

  private async commitAtEnd(): Promise<void> {
    if (this.inert) return
    const { cfg, hooks } = this.engine
    const sess = hooks.current(this.native)
    if (sess !== this.current || !sess) {
      // The application dropped or replaced its session object.
      if (cfg.unsetDestroy && !this.ended) await this.destroy()
      if (this.ended && this.ctx.token !== undefined) this.clearCookie()
      return
    }
    const current = sess as SessionObject
    // Refused during the request already, and reported: trying again would fail the response twice.
    if (this.session.id === this.refusedId) return
    // A new session whose cookie is never sent (Secure, over http) would be stored for nobody.
    const unsendable = current.cookie.secure === true && !this.secure && this.transport === 'cookie'
    if (this.session.isNew && unsendable) return
    if (current.cookie.originalMaxAge !== null)
      current.cookie.maxAge = current.cookie.originalMaxAge
    const wasNew = this.session.isNew
    const outcome = this.leftEmpty(current)
      ? 'none'
      : await this.commit(current, cfg.resave && !wasNew && !this.saved, cfg.saveUninitialized)
    // Ended meanwhile (a parallel login, logout or revocation): leave the cookie alone, it may
    // already be the new one; the next request with the old cookie simply finds no session.
    if (outcome === 'gone') return
    if (this.shouldSetCookie(current.cookie, wasNew, outcome)) this.setCookie(current.cookie)
    else if (this.ended && this.ctx.token !== undefined && this.session.isNew) this.clearCookie()
  }

  private shouldSetCookie(cookie: Cookie, wasNew: boolean, outcome: CommitOutcome): boolean {
    if (this.session.isNew) return false
    if (wasNew || this.session.needsCookie) return true
    // A header token has no expiry to move: only a new token is sent.
    if (this.transport === 'bearer') return false
    if (this.engine.cfg.rolling) return true
    // A cookie with an expiry moves with the server's: sent again whenever the store is written.
    return (
      cookie.expires !== null &&
      (outcome === 'updated' || outcome === 'touched' || (this.saved && outcome === 'none'))
    )
  }

  private setCookie(cookie: Cookie): void {
    const { hooks, cfg } = this.engine
    if (this.transport === 'bearer') return this.sendToken(this.token())
    if (cookie.secure === true && !this.secure) return // express-session: a Secure cookie is never sent over http
    if (hooks.headersSent(this.out)) return
    if (!isSecureCookie(cookie, this.secure)) cfg.warnInsecureCookie?.(cookie)
    const line = sessionCookieLine(
      this.cookieName,
      cfg.manager.token(this.session),
      cookie,
      this.secure,
      this.session.record.absoluteExpiresAt,
    )
    this.sendCookie(line)
    this.session.needsCookie = false
  }

  /** Clears the session cookie with the attributes it was set with (a bearer client: an empty token). */
  clearCookie(): void {
    if (this.engine.hooks.headersSent(this.out)) return
    if (this.transport === 'bearer') return this.sendToken('')
    this.sendCookie(clearCookieLine(this.cookieName, new Cookie(this.cookieOptions), this.secure))
  }

  /** A bearer client's new token (empty: the one it holds is void), never a cookie. */
  private sendToken(token: string): void {
    const { hooks } = this.engine
    if (hooks.headersSent(this.out)) return
    hooks.setHeader(this.out, 'Cache-Control', 'no-store')
    hooks.setHeader(this.out, 'X-Session-Token', token)
    if (token !== '') this.session.needsCookie = false
  }

  private sendCookie(line: string): void {
    const { hooks } = this.engine
    // A response that sets or clears the session cookie must never be stored by a shared cache,
    // or the next visitor would receive this user's cookie. Overrides what the route set.
    hooks.setHeader(this.out, 'Cache-Control', 'no-store')
    hooks.appendSetCookie(this.out, line)
  }
}

/** True when the session object holds no data (only its `cookie`). */
function isEmpty(sess: SessionObject): boolean {
  for (const key in sess) if (key !== 'cookie' && Object.hasOwn(sess, key)) return false
  return true
}

/**
 * The data the application gets: a deep copy, rebuilt from the snapshot, that shares nothing with
 * the record the manager keeps. An object changed in place and then put back as it was must not
 * reach the record the next write is built from (a store may write that record as is).
 */
function appData(session: SessionState): Record<string, unknown> {
  return session.snapshot === null ? {} : dataFromSnapshot(session.snapshot)
}

/** Replaces a session object's data with `data`, keeping the object (and its `cookie`). */
function replaceData(sess: SessionObject, data: Record<string, unknown>): void {
  for (const key of Object.keys(sess))
    if (key !== 'cookie') delete (sess as unknown as Record<string, unknown>)[key]
  copyData(sess, data)
}
