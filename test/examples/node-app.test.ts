/**
 * examples/node-app (plain node:http) over real HTTP on 127.0.0.1, its SQLite store in a
 * temporary directory. Imports the package by its own name, so `npm run build` first.
 */
import { createApp } from '../../examples/node-app/app.js'
import { listen } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { describeExampleFlow, sqliteStore } from './flow.js'

describeExampleFlow('node-app', async (t) => {
  const server = await listen(createApp({ store: sqliteStore(t), secret: newSecret() }))
  t.after(() => server.close())
  return server
})
