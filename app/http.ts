/** Content negotiation and the app's own HTTP errors. */
import type { Request, Response } from 'express'

/**
 * True when the client prefers HTML (a browser) over JSON. JSON is listed first, so `Accept: *\/*`
 * (curl, fetch) and a missing Accept get JSON, as the JSON contract expects.
 */
export function wantsHtml(req: Request): boolean {
  return req.accepts(['json', 'html']) === 'html'
}

/** Machine-readable error codes of the app's JSON error bodies (`{ error, message }`). */
export type AppErrorCode =
  | 'invalid_credentials'
  | 'not_logged_in'
  | 'forbidden'
  | 'not_found'
  | 'too_many_attempts'
  | 'bad_request'

/** An error the app answers with on purpose: a status, a code and a message for people. */
export class HttpError extends Error {
  readonly status: number
  readonly code: AppErrorCode
  /** Seconds until a retry makes sense (429). */
  readonly retryAfter: number | undefined

  constructor(status: number, code: AppErrorCode, message: string, retryAfter?: number) {
    super(message)
    this.name = 'HttpError'
    this.status = status
    this.code = code
    this.retryAfter = retryAfter
  }
}

/** 401 for routes that need a logged-in user. */
export function notLoggedIn(): HttpError {
  return new HttpError(401, 'not_logged_in', 'You are not logged in, or your session has ended.')
}

/** What a browser gets instead of JSON: a redirect (after a form post) or a page. */
export type ForPeople = { redirect: string } | { page: () => string }

/** Answers a JSON client with `json`, a browser with `forPeople` (negotiated by `Accept`). */
export function respond(req: Request, res: Response, json: unknown, forPeople: ForPeople): void {
  if (!wantsHtml(req)) res.json(json)
  else if ('redirect' in forPeople) res.redirect(303, forPeople.redirect)
  else res.type('html').send(forPeople.page())
}
