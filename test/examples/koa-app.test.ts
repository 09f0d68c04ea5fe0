/**
 * examples/koa-app over real HTTP on 127.0.0.1, its SQLite store in a temporary directory.
 * Imports the package by its own name, so `npm run build` first.
 */
import { createApp } from '../../examples/koa-app/app.js'
import { listen } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { describeExampleFlow, sqliteStore } from './flow.js'

describeExampleFlow('koa-app', async (t) => {
  const app = createApp({ store: sqliteStore(t), secret: newSecret() })
  const callback = app.callback()
  const server = await listen((req, res) => void callback(req, res))
  t.after(() => server.close())
  return server
})
