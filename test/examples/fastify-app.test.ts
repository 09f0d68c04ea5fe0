/**
 * examples/fastify-app over real HTTP on 127.0.0.1, its SQLite store in a temporary directory.
 * Imports the package by its own name, so `npm run build` first.
 */
import { createApp } from '../../examples/fastify-app/app.js'
import { newSecret } from '../helpers/secrets.js'
import { describeExampleFlow, sqliteStore } from './flow.js'

describeExampleFlow('fastify-app', async (t) => {
  const app = await createApp({ store: sqliteStore(t), secret: newSecret() })
  t.after(() => app.close())
  return { url: await app.listen({ port: 0, host: '127.0.0.1' }) }
})
