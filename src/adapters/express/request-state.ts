import { ServerResponse, type IncomingMessage } from 'node:http'
import type { CommitOutcome, RequestContext, SessionState } from '../../core/manager-types.js'
import type { StoredCookie } from '../../stores/types.js'
import { TetherError, isTetherError } from '../../errors.js'
import { Cookie, type CookieOptions } from './cookie.js'
import { customId, type ResolvedExpressOptions } from './options.js'
import { assignData, Session, STATE } from './session.js'
import { clearCookieHeader, isSecureCookie, setCookieHeader } from './set-cookie.js'

type Req = IncomingMessage & {
  session?: Session | null
  sessionID?: string
  sessionStore?: unknown
}

/**
 * Everything Tether tracks for one request: the session state, the cookie settings and what the
 * request did. One instance per request, created by the middleware; `req.session` points back here.
 */
export class RequestState {
  session!: SessionState
  /** The Session object currently on `req.session` (changes on regenerate/login/logout). */
  private current: Session | null = null
  /** A session was ended during the request, so a presented cookie must be cleared. */
  private ended = false
  /** `save()` was called and nothing changed since, so `resave` need not write again. */
  private saved = false
  /** An id the store refused as in use (a `genid` repeating itself): finish() does not retry it. */
  private refusedId: string | undefined

  readonly cfg: ResolvedExpressOptions
  readonly req: Req
  readonly res: ServerResponse
  readonly ctx: RequestContext
  readonly cookieOptions: CookieOptions
  readonly secure: boolean
  readonly cookieName: string

  constructor(
    cfg: ResolvedExpressOptions,
    req: Req,
    res: ServerResponse,
    ctx: RequestContext,
    cookieOptions: CookieOptions,
    secure: boolean,
    cookieName: string,
  ) {
    this.cfg = cfg
    this.req = req
    this.res = res
    this.ctx = ctx
    this.cookieOptions = cookieOptions
    this.secure = secure
    this.cookieName = cookieName
  }

  now(): number {
    return this.cfg.manager.options.clock.now()
  }

  /** Puts a session on `req.session`: a loaded one, or a new one when `loaded` is null. */
  attach(loaded: SessionState | null, data?: Record<string, unknown>): Session {
    const { manager, genid } = this.cfg
    this.session = loaded ?? manager.create(this.ctx, genid ? customId(genid, this.req) : undefined)
    const sess = new Session(this.req, data ?? this.session.record.data)
    Object.defineProperty(sess, STATE, { value: this, writable: true })
    sess.cookie = this.makeCookie(this.session.record.cookie)
    this.req.session = sess
    this.req.sessionID = this.session.id
    this.current = sess
    return sess
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

  private dataOf(sess: Session): Record<string, unknown> {
    const data: Record<string, unknown> = Object.create(null) as Record<string, unknown>
    for (const key of Object.keys(sess))
      if (key !== 'cookie') data[key] = (sess as unknown as Record<string, unknown>)[key]
    return data
  }

  private async commit(sess: Session, force: boolean, saveNew: boolean): Promise<CommitOutcome> {
    try {
      return await this.cfg.manager.commit(this.session, this.ctx, {
        data: this.dataOf(sess),
        cookie: this.storedCookie(sess.cookie),
        force,
        saveNew,
        cookieExpiresAt: sess.cookie.expires?.getTime() ?? null,
      })
    } catch (err) {
      if (isTetherError(err) && err.code === 'TETHER_SESSION_ID_IN_USE')
        this.refusedId = this.session.id
      throw err
    }
  }

  async save(sess: Session): Promise<void> {
    const outcome = await this.commit(sess, true, true)
    if (outcome === 'gone')
      throw new TetherError(
        'TETHER_SESSION_NOT_FOUND',
        'session.save(): the session was ended meanwhile',
      )
    this.saved = true
  }

  async reload(): Promise<void> {
    const fresh = await this.cfg.manager.reload(this.session, this.ctx)
    if (fresh === null) throw new TetherError('TETHER_SESSION_NOT_FOUND', 'failed to load session')
    const cookie = this.current?.cookie
    this.attach(fresh)
    if (cookie !== undefined) this.current!.cookie = cookie
  }

  async destroy(): Promise<void> {
    if (this.req.session === this.current) delete this.req.session
    this.current = null
    this.ended = true
    await this.cfg.manager.destroy(this.session, this.ctx)
  }

  async regenerate(): Promise<void> {
    const old = this.session
    await this.cfg.manager.destroy(old, this.ctx)
    this.attach(null, {})
    this.cfg.manager.options.emit('session.regenerated', this.ctx, { ref: this.session.ref })
  }

  async login(userId: string, opts: { class?: string }): Promise<void> {
    const sess = this.current!
    const next = await this.cfg.manager.login(this.session, this.dataOf(sess), userId, this.ctx, {
      ...opts,
      ...(this.cfg.genid ? { id: customId(this.cfg.genid, this.req) } : {}),
    })
    const cookie = sess.cookie
    this.attach(next)
    this.current!.cookie = cookie
  }

  async logout(opts: { clearSiteData?: boolean }): Promise<void> {
    await this.destroy()
    this.attach(null, {})
    // Asks the browser to drop cached pages and storage of this origin too (sent with the response).
    if (opts.clearSiteData === true && !this.res.headersSent) {
      ServerResponse.prototype.setHeader.call(
        this.res,
        'Clear-Site-Data',
        '"cache", "cookies", "storage"',
      )
    }
  }

  async reauthenticated(): Promise<void> {
    const id = this.cfg.genid ? { id: customId(this.cfg.genid, this.req) } : {}
    // A new id, as at login: the response carries the new cookie. req.session stays the same
    // object, so what the route set before or sets after is saved to the new id.
    this.session = await this.cfg.manager.reauthenticate(this.session, this.ctx, id)
    this.req.sessionID = this.session.id
  }

  async update(sess: Session, fn: Parameters<Session['update']>[0]): Promise<void> {
    if (this.session.isNew) await this.commit(sess, false, true)
    this.session = await this.cfg.manager.update(this.session, fn, this.ctx)
    this.req.sessionID = this.session.id
    for (const key of Object.keys(sess))
      if (key !== 'cookie') delete (sess as unknown as Record<string, unknown>)[key]
    assignData(sess, this.session.record.data)
  }

  /** Runs before the response's headers: writes the session and sets or clears the cookie. */
  async finish(): Promise<void> {
    const sess = this.req.session
    if (sess !== this.current || !sess) {
      // req.session was deleted or replaced by the application.
      if (this.cfg.unsetDestroy && !this.ended) await this.destroy()
      if (this.ended && this.ctx.token !== undefined) this.clearCookie()
      return
    }
    // Refused during the request already, and reported: trying again would fail the response twice.
    if (this.session.id === this.refusedId) return
    if (sess.cookie.originalMaxAge !== null) sess.resetMaxAge()
    const wasNew = this.session.isNew
    const outcome = await this.commit(
      sess,
      this.cfg.resave && !wasNew && !this.saved,
      this.cfg.saveUninitialized,
    )
    // Ended meanwhile (a parallel login, logout or revocation): leave the cookie alone, it may
    // already be the new one; the next request with the old cookie simply finds no session.
    if (outcome === 'gone') return
    if (this.shouldSetCookie(sess, wasNew, outcome)) this.setCookie(sess.cookie)
    else if (this.ended && this.ctx.token !== undefined && this.session.isNew) this.clearCookie()
  }

  private shouldSetCookie(sess: Session, wasNew: boolean, outcome: CommitOutcome): boolean {
    if (this.session.isNew) return false
    if (wasNew || this.session.needsCookie || this.cfg.rolling) return true
    // A cookie with an expiry moves with the server's: sent again whenever the store is written.
    return (
      sess.cookie.expires !== null &&
      (outcome === 'updated' || outcome === 'touched' || (this.saved && outcome === 'none'))
    )
  }

  private setCookie(cookie: Cookie): void {
    if (cookie.secure === true && !this.secure) return // express-session: a Secure cookie is never sent over http
    if (this.res.headersSent) return
    if (!isSecureCookie(cookie, this.secure)) this.cfg.warnInsecureCookie?.(cookie)
    setCookieHeader(
      this.res,
      this.cookieName,
      this.cfg.manager.token(this.session),
      cookie,
      this.secure,
      this.session.record.absoluteExpiresAt,
    )
    this.session.needsCookie = false
  }

  private clearCookie(): void {
    if (this.res.headersSent) return
    clearCookieHeader(this.res, this.cookieName, new Cookie(this.cookieOptions), this.secure)
  }
}
