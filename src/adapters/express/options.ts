import type { IncomingMessage } from 'node:http'
import { HTTP_OPTIONS, type HttpOptions } from '../../http/options.js'

/** Options of the Express middleware: express-session's, plus Tether's own. */
export interface ExpressSessionOptions extends HttpOptions<IncomingMessage> {
  /** @deprecated express-session's old alias of `name`. */
  key?: string
  /** Trust `X-Forwarded-Proto`: true, false, or undefined to follow Express's "trust proxy". @default undefined */
  proxy?: boolean
}

/**
 * Every option of the middleware, express-session's included: anything else gets a
 * TETHER_UNKNOWN_OPTION warning at startup.
 */
export const EXPRESS_OPTIONS = {
  ...HTTP_OPTIONS,
  key: true,
  proxy: true,
} as const satisfies Record<keyof ExpressSessionOptions, true>

/** The options only the Express adapter reads. */
export const EXPRESS_ONLY_OPTIONS = { key: true, proxy: true } as const
