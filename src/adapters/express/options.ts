import type { IncomingMessage } from 'node:http'
import type { HttpOptions } from '../../http/options.js'

/** Options of the Express middleware: express-session's, plus Tether's own. */
export interface ExpressSessionOptions extends HttpOptions<IncomingMessage> {
  /** @deprecated express-session's old alias of `name`. */
  key?: string
  /** Trust `X-Forwarded-Proto`: true, false, or undefined to follow Express's "trust proxy". @default undefined */
  proxy?: boolean
}
