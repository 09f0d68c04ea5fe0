/**
 * The reference app for people: HTML pages on the same routes as the JSON contract, the login
 * form's CSRF token, and clear answers to 401, 403, 404, 429 and 503 (never a stack trace).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryStore } from 'tether-session'
import { html } from '../../app/pages/html.js'
import { browserOf, deviceOf } from '../../app/pages/format.js'
import { spyStore } from '../helpers/spy-store.js'
import { Client, serve, tempDir, testConfig } from './harness.js'

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }

/** The `_csrf` value of the first form on a page. */
function formToken(page: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page)
  assert.ok(match, 'the form carries a CSRF token')
  return match[1]!
}

function assertNoStack(text: string): void {
  assert.doesNotMatch(text, /\bat \S+ \(|node:internal|\.ts:\d+/, 'no stack trace')
}

describe('reference app pages', () => {
  it('logs in through the form with the login page token, and refuses the form without it', async (t) => {
    const app = await serve(t, testConfig('memory', tempDir(t)))
    const browser = new Client(app.url, 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0')
    const page = await browser.get('/login', HTML)
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-type')!, /^text\/html/)
    const token = formToken(page.text)
    // <form method="post" action="http://app/login"> posted by a page that cannot read the token.
    const forged = new Client(app.url)
    const credentials = { username: 'bob', password: 'battery-staple' }
    assert.equal(
      (await forged.send('POST', '/login', { form: credentials, headers: HTML })).status,
      403,
    )
    const other = new Client(app.url)
    const stolen = { ...credentials, _csrf: token } // a token without its browser's nonce cookie
    assert.equal((await other.send('POST', '/login', { form: stolen, headers: HTML })).status, 403)
    const form = { username: 'alice', password: 'correct-horse', _csrf: token }
    const res = await browser.send('POST', '/login', { form, headers: HTML })
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('location'), '/profile')
    const profile = await browser.get('/profile', HTML)
    assert.equal(profile.status, 200)
    assert.match(profile.text, /<dd id="username">alice<\/dd>/)
  })

  it('shows a failed login again with a message, keeping the username but not the password', async (t) => {
    const app = await serve(t, testConfig('memory', tempDir(t)))
    const browser = new Client(app.url)
    const token = formToken((await browser.get('/login', HTML)).text)
    const form = { username: 'alice', password: 'wrong-horse', _csrf: token }
    const res = await browser.send('POST', '/login', { form, headers: HTML })
    assert.equal(res.status, 401)
    assert.match(res.text, /Wrong username or password\./)
    assert.match(res.text, /value="alice"/)
    assert.doesNotMatch(res.text, /wrong-horse/)
  })

  it('lists sessions for people with every value escaped', async (t) => {
    const app = await serve(t, testConfig('memory', tempDir(t)))
    const evil = new Client(app.url, '<script>alert("ua")</script> Chrome/1 "quoted"')
    assert.equal((await evil.login('alice', 'correct-horse')).status, 200)
    const me = new Client(app.url, 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/140.0')
    assert.equal((await me.login('alice', 'correct-horse')).status, 200)
    const page = await me.get('/sessions', HTML)
    assert.equal(page.status, 200)
    assert.doesNotMatch(page.text, /<script/)
    assert.match(page.text, /&lt;script&gt;alert\(&quot;ua&quot;\)&lt;\/script&gt;/)
    assert.match(page.text, /this device/)
    assert.equal(page.text.match(/>\s*Revoke\s*</g)?.length, 2, 'a Revoke button per session')
    assert.match(page.text, /Log out everywhere else/)
    assert.match(page.text, /Windows/)
    assert.match(page.text, /Firefox/)
  })

  it('answers 401 and 404 with a page for people and JSON for programs', async (t) => {
    const app = await serve(t, testConfig('memory', tempDir(t)))
    const client = new Client(app.url)
    const page = await client.get('/sessions', HTML)
    assert.equal(page.status, 401)
    assert.match(page.text, /Please log in\./)
    assert.match(page.text, /<form method="post" action="\/login"/)
    const json = await client.get('/sessions')
    assert.equal(json.status, 401)
    assert.equal(json.json.error, 'not_logged_in')
    const missing = await client.get('/nothing-here', HTML)
    assert.equal(missing.status, 404)
    assert.match(missing.text, /Not found/)
    const bad = await client.send('POST', '/login', {
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(bad.status, 401, 'an empty body is a failed login')
    for (const res of [page, json, missing, bad]) assertNoStack(res.text)
  })

  it('answers 429 with Retry-After after repeated failed logins for one account', async (t) => {
    const app = await serve(t, testConfig('memory', tempDir(t)))
    const client = new Client(app.url)
    for (let i = 0; i < 5; i++) assert.equal((await client.login('alice', 'guess')).status, 401)
    const blocked = await client.login('alice', 'correct-horse')
    assert.equal(blocked.status, 429)
    assert.equal(blocked.json.error, 'too_many_attempts')
    assert.ok(Number(blocked.headers.get('retry-after')) > 0)
    assert.equal((await client.login('bob', 'battery-staple')).status, 200, 'other accounts work')
    assert.ok(app.lines.some((l) => JSON.parse(l).event === 'ratelimit.blocked'))
  })

  it('answers 503 with Retry-After when the store is down, never a stack', async (t) => {
    const store = spyStore(new MemoryStore())
    const app = await serve(t, testConfig('memory', tempDir(t)), { store })
    const client = new Client(app.url)
    assert.equal((await client.login('alice', 'correct-horse')).status, 200)
    store.failing = true
    const json = await client.get('/profile')
    assert.equal(json.status, 503)
    assert.equal(json.json.error, 'TETHER_STORE_UNAVAILABLE')
    assert.ok(Number(json.headers.get('retry-after')) > 0)
    const page = await client.get('/profile', HTML)
    assert.equal(page.status, 503)
    assert.match(page.text, /Temporarily unavailable/)
    for (const res of [json, page]) assertNoStack(res.text)
    store.failing = false
    assert.equal((await client.get('/profile')).status, 200, 'back once the store is')
  })
})

describe('reference app page helpers', () => {
  it('escapes every interpolated value and nests only html results', () => {
    const name = `<img src=x onerror="alert('x')">&`
    const out = html`<p title="${name}">${name}${html`<b>${'<i>'}</b>`}${[html`<em>e</em>`]}</p>`
      .value
    assert.equal(
      out,
      '<p title="&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;">' +
        '&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;<b>&lt;i&gt;</b><em>e</em></p>',
    )
  })

  it('names devices and browsers from common user agents', () => {
    const iphone =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'
    assert.deepEqual([deviceOf(iphone), browserOf(iphone)], ['iPhone', 'Safari'])
    const edge =
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0'
    assert.deepEqual([deviceOf(edge), browserOf(edge)], ['Windows', 'Edge'])
    assert.deepEqual([deviceOf(null), browserOf(undefined)], ['Unknown device', 'Unknown browser'])
  })
})
