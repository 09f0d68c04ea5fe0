/**
 * examples/hono-app on @hono/node-server over real HTTP on 127.0.0.1, its SQLite store in a
 * temporary directory. Imports the package by its own name, so `npm run build` first.
 */
import { getRequestListener } from '@hono/node-server'
import { createApp } from '../../examples/hono-app/app.js'
import { listen } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { describeExampleFlow, sqliteStore } from './flow.js'

describeExampleFlow('hono-app', async (t) => {
  const app = createApp({ store: sqliteStore(t), secret: newSecret() })
  const listener = getRequestListener(app.fetch)
  const server = await listen((req, res) => void listener(req, res))
  t.after(() => server.close())
  return server
})
