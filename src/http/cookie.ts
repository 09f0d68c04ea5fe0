import { serialize, type SerializeOptions } from 'cookie'

/** Cookie attributes accepted by the `cookie` option (express-session's, plus `'auto'` values). */
export interface CookieOptions {
  /** @default '/' */
  path?: string
  domain?: string
  /** @default true. Tether refuses `false`: a script that can read the session cookie can steal it. */
  httpOnly?: boolean
  /** `'auto'` follows the request's protocol (trust proxy aware). @default 'auto' (express-session: false) */
  secure?: boolean | 'auto'
  /** `'auto'`: None over https, Lax otherwise. @default 'lax' (express-session: unset) */
  sameSite?: boolean | 'lax' | 'strict' | 'none' | 'auto'
  /** Cookie lifetime in ms; null or unset for a browser-session cookie. Capped at the absolute timeout. @default null */
  maxAge?: number | null
  /** Absolute cookie expiry (prefer `maxAge`). @default null */
  expires?: Date | null
  partitioned?: boolean
  priority?: 'low' | 'medium' | 'high'
}

/** Every attribute of the `cookie` option: anything else gets a TETHER_UNKNOWN_OPTION warning. */
export const COOKIE_OPTIONS = {
  path: true,
  domain: true,
  httpOnly: true,
  secure: true,
  sameSite: true,
  maxAge: true,
  expires: true,
  partitioned: true,
  priority: true,
} as const satisfies Record<keyof CookieOptions, true>

/**
 * `req.session.cookie`: express-session's Cookie class, same fields and behaviour
 * (`maxAge` counts down from `expires`; `originalMaxAge` keeps the configured lifetime).
 */
export class Cookie {
  path = '/'
  httpOnly = true
  originalMaxAge: number | null = null
  declare secure?: boolean | 'auto'
  declare domain?: string
  declare sameSite?: boolean | 'lax' | 'strict' | 'none' | 'auto'
  declare partitioned?: boolean
  declare priority?: 'low' | 'medium' | 'high'
  declare private _expires: Date | null | undefined

  constructor(options?: CookieOptions | Record<string, unknown>) {
    this.maxAge = null
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object') throw new TypeError('argument options must be a object')
      for (const key of Object.keys(options)) {
        // `data` is a getter here; express-session ignores it in options too.
        if (key !== 'data')
          (this as Record<string, unknown>)[key] = (options as Record<string, unknown>)[key]
      }
    }
    if (this.originalMaxAge === undefined || this.originalMaxAge === null) {
      this.originalMaxAge = this.maxAge
    }
  }

  /** Absolute expiry; setting it also sets `originalMaxAge`. */
  get expires(): Date | null {
    return this._expires ?? null
  }

  set expires(date: Date | null) {
    this._expires = date
    this.originalMaxAge = this.maxAge
  }

  /** Milliseconds left (counts down); setting it sets `expires` to now + ms. */
  get maxAge(): number | null {
    return this._expires instanceof Date
      ? this._expires.valueOf() - Date.now()
      : (this._expires ?? null)
  }

  set maxAge(ms: number | Date | null) {
    if (ms && typeof ms !== 'number' && !(ms instanceof Date)) {
      throw new TypeError('maxAge must be a number or Date')
    }
    if (typeof ms === 'number') {
      // The number itself, not maxAge read back from the expiry: a millisecond may pass between
      // the two clock reads, and a lifetime one short of the configured one looks changed.
      this._expires = new Date(Date.now() + ms)
      this.originalMaxAge = ms
    } else {
      this.expires = ms ?? null
    }
  }

  /** The attributes as express-session stores them. */
  get data(): Record<string, unknown> {
    return {
      originalMaxAge: this.originalMaxAge,
      partitioned: this.partitioned,
      priority: this.priority,
      expires: this._expires,
      secure: this.secure,
      httpOnly: this.httpOnly,
      domain: this.domain,
      path: this.path,
      sameSite: this.sameSite,
    }
  }

  /** `Set-Cookie` value for `name=val` with these attributes. */
  serialize(name: string, val: string): string {
    return serialize(name, val, this.data as SerializeOptions)
  }

  toJSON(): Record<string, unknown> {
    return this.data
  }
}
