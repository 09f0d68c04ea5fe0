/**
 * The reference app driven as a person would, in headless Chromium (playwright-core and Debian's
 * /usr/bin/chromium): log in, see the profile, log in from a second device, see both sessions,
 * revoke the other one, watch it get logged out, log out; a cross-site form post refused; and a
 * password change that first asks "Confirm it's you" because the login is old; the administrator
 * ending a user's sessions from the admin page, after confirming it is them.
 * Saves a screenshot of each page under test-results/screenshots/ (git-ignored).
 *
 * Without /usr/bin/chromium the tests skip with a reason; under TETHER_REQUIRE_BROWSER=1 they fail.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { chromium, type Browser, type Page } from 'playwright-core'
import { serve, tempDir, testConfig } from './harness.js'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const SHOTS = new URL('../../test-results/screenshots/', import.meta.url).pathname
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 ' +
  '(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'

const requireBrowser = process.env['TETHER_REQUIRE_BROWSER'] === '1'
const skip =
  existsSync(CHROMIUM) || requireBrowser
    ? false
    : `no browser at ${CHROMIUM} (apt-get install chromium; TETHER_REQUIRE_BROWSER=1 makes this fail)`

async function launch(t: TestContext): Promise<Browser> {
  if (!existsSync(CHROMIUM)) assert.fail(`TETHER_REQUIRE_BROWSER=1 but there is no ${CHROMIUM}`)
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
  t.after(() => browser.close())
  return browser
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true })
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
}

/** Fills in and sends the login form, as a person would. */
async function logIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(url + '/')
  await page.waitForURL('**/login')
  await page.getByLabel('Username').fill(username)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.waitForURL('**/profile')
}

describe('reference app in a browser', { skip }, () => {
  it('logs in on two devices, revokes one from the other, and logs out', async (t) => {
    const app = await serve(t, testConfig('sqlite', tempDir(t)))
    const browser = await launch(t)
    const laptop = await (
      await browser.newContext({ viewport: { width: 1100, height: 640 } })
    ).newPage()
    await laptop.goto(app.url + '/')
    await laptop.waitForURL('**/login')
    await shot(laptop, '01-login')
    await logIn(laptop, app.url, 'alice', 'correct-horse')
    assert.equal(await laptop.locator('#username').textContent(), 'alice')
    await shot(laptop, '02-profile')

    const phoneContext = await browser.newContext({
      userAgent: IPHONE,
      viewport: { width: 390, height: 700 },
    })
    const phone = await phoneContext.newPage()
    await logIn(phone, app.url, 'alice', 'correct-horse')

    await laptop.getByRole('link', { name: 'Your sessions' }).click()
    await laptop.waitForURL('**/sessions')
    const rows = laptop.locator('table.sessions tbody tr')
    assert.equal(await rows.count(), 2)
    assert.equal(await laptop.locator('tr.current').count(), 1)
    assert.match((await rows.nth(1).textContent()) ?? '', /iPhone[\s\S]*Safari/)
    await shot(laptop, '03-sessions')

    await laptop
      .locator('tr:not(.current)')
      .getByRole('button', { name: /Revoke/ })
      .click()
    await laptop.waitForURL('**/sessions?revoked=1')
    assert.equal(await rows.count(), 1)
    await laptop.getByText('One session was logged out.').waitFor()
    await shot(laptop, '04-sessions-revoked')

    const response = await phone.reload()
    assert.equal(response?.status(), 401)
    await phone.getByText('Please log in.').waitFor()
    await shot(phone, '05-phone-logged-out')

    await laptop.getByRole('button', { name: 'Log out', exact: true }).click()
    await laptop.waitForURL('**/login?logged_out')
    await laptop.getByText('You are logged out.').waitFor()
    await shot(laptop, '06-logged-out')
    assert.equal((await laptop.goto(app.url + '/profile'))?.status(), 401)
  })

  it('changes the password through the pages, confirming it first when the login is old', async (t) => {
    let nowMs = Date.now()
    const clock = { now: () => nowMs } // the app's time: the login is made old without waiting
    const app = await serve(t, testConfig('sqlite', tempDir(t)), { clock })
    const browser = await launch(t)
    const laptop = await (
      await browser.newContext({ viewport: { width: 1100, height: 700 } })
    ).newPage()
    await logIn(laptop, app.url, 'alice', 'correct-horse')
    await laptop.getByText('Signed in just now.').waitFor()
    const phone = await (await browser.newContext({ userAgent: IPHONE })).newPage()
    await logIn(phone, app.url, 'alice', 'correct-horse')

    nowMs += 6 * 60_000
    await laptop.reload()
    await laptop.getByText('Signed in 6 minutes ago.').waitFor()
    await shot(laptop, '08-profile-signed-in')
    await laptop.getByRole('link', { name: 'Change password' }).click()
    await laptop.waitForURL('**/reauth?next=/password')
    await shot(laptop, '09-reauth')
    await laptop.getByLabel('Password').fill('correct-horse')
    await laptop.getByRole('button', { name: 'Continue' }).click()
    await laptop.waitForURL('**/password')
    await laptop.getByLabel('Current password').fill('correct-horse')
    await laptop.getByLabel('New password', { exact: true }).fill('purple-staple-42')
    await laptop.getByLabel('Confirm new password').fill('purple-staple-42')
    await shot(laptop, '10-password')
    await laptop.getByRole('button', { name: 'Change password' }).click()
    await laptop.waitForURL('**/profile?password_changed=1')
    await laptop.getByText('Your password was changed. One other session was logged out.').waitFor()
    await shot(laptop, '11-password-changed')
    assert.equal((await phone.reload())?.status(), 401, 'the other device is logged out')
  })

  it("ends alice's sessions from the admin page, confirming it is the admin first when the login is old", async (t) => {
    let nowMs = Date.now()
    const clock = { now: () => nowMs }
    const app = await serve(t, testConfig('sqlite', tempDir(t)), { clock })
    const browser = await launch(t)
    const phone = await (await browser.newContext({ userAgent: IPHONE })).newPage()
    await logIn(phone, app.url, 'alice', 'correct-horse')
    const admin = await (
      await browser.newContext({ viewport: { width: 1100, height: 700 } })
    ).newPage()
    await logIn(admin, app.url, 'admin', 'correct-horse-admin')

    nowMs += 6 * 60_000
    await admin.getByRole('link', { name: 'Admin' }).click()
    await admin.waitForURL('**/reauth?next=/admin')
    await admin.getByLabel('Password').fill('correct-horse-admin')
    await admin.getByRole('button', { name: 'Continue' }).click()
    await admin.waitForURL('**/admin')
    await shot(admin, '12-admin')
    await admin.getByRole('button', { name: 'End every session of alice' }).click()
    await admin.waitForURL('**/admin?user=alice&revoked=1')
    await admin.getByText('1 session of alice ended.').waitFor()
    await shot(admin, '13-admin-ended')
    assert.equal((await phone.reload())?.status(), 401, "alice's phone is logged out")
  })

  it('refuses a form another site posts to the app, and the user stays logged in', async (t) => {
    const app = await serve(t, testConfig('sqlite', tempDir(t)))
    // The attacker's page, on another site (localhost is not 127.0.0.1's site).
    const evil = createServer(function evilPage(_req, res) {
      res.setHeader('content-type', 'text/html')
      res.end(`<!doctype html><title>Win a prize</title>
        <form method="post" action="${app.url}/sessions/revoke-others">
          <button>Claim your prize</button>
        </form>`)
    })
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise<void>((resolve) => evil.close(() => resolve())))
    const evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}/`

    const browser = await launch(t)
    const page = await (
      await browser.newContext({ viewport: { width: 1100, height: 500 } })
    ).newPage()
    await logIn(page, app.url, 'alice', 'correct-horse')
    await page.goto(evilUrl)
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().startsWith(app.url)),
      page.getByRole('button', { name: 'Claim your prize' }).click(),
    ])
    assert.equal(response.status(), 403)
    await page.getByText('Request refused').first().waitFor()
    await shot(page, '07-cross-site-refused')
    await page.goto(app.url + '/profile')
    assert.equal(await page.locator('#username').textContent(), 'alice', 'still logged in')
  })
})
