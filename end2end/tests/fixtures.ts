import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test as base, expect, type Locator, type Page } from '@playwright/test';

export { expect };

/**
 * Browser-side errors seen during a test. Every test fails if any
 * `console.error` message (this includes Chromium's "Failed to load resource"
 * for responses with status >= 400) or uncaught page error was recorded, so a
 * broken WASM bundle or a panicking hydration can never pass.
 *
 * Ignored: Chromium's automatic /favicon.ico request, and 4xx answers of server
 * functions (/api/...), which is how the server refuses bad input. A test
 * that deliberately provokes an error can whitelist it with
 * `consoleGuard.allow(/pattern/)`.
 */
export interface ConsoleGuard {
  /** Everything recorded so far, formatted for the failure message. */
  readonly errors: readonly string[];
  /** Ignore recorded errors matching `pattern` in the final check. */
  allow(pattern: RegExp): void;
}

export const test = base.extend<{ consoleGuard: ConsoleGuard }>({
  consoleGuard: [
    async ({ page }, use) => {
      const errors: string[] = [];
      const allowed: RegExp[] = [];

      page.on('console', (msg) => {
        if (msg.type() !== 'error') return;
        const loc = msg.location();
        // Chromium's own favicon probe is not the app's doing.
        if (/\/favicon\.ico(\?|$)/.test(loc.url)) return;
        // A server function that refuses bad input answers 4xx (422, 409, 403, ...) by design;
        // Chromium logs each such response. 5xx answers still fail the test.
        if (/\/api\//.test(loc.url) && /status of 4\d\d/.test(msg.text())) return;
        const where = loc.url ? ` (at ${loc.url}:${loc.lineNumber})` : '';
        errors.push(`console.error: ${msg.text()}${where}`);
      });
      page.on('pageerror', (err) => {
        errors.push(`pageerror: ${err.name}: ${err.message}`);
      });

      await use({
        get errors() {
          return errors;
        },
        allow(pattern: RegExp) {
          allowed.push(pattern);
        },
      });

      const unexpected = errors.filter((e) => !allowed.some((re) => re.test(e)));
      expect(unexpected, 'browser console errors').toEqual([]);
    },
    { auto: true },
  ],
});

/** The WASM bundle adds class `hydrated` to <html> from an effect once it hydrated. */
const HYDRATION_TIMEOUT = 20_000;

/** Wait until the current document has hydrated. */
export async function waitHydrated(page: Page): Promise<void> {
  await expect(page.locator('html.hydrated')).toHaveCount(1, { timeout: HYDRATION_TIMEOUT });
}

/** Load `path` as a new document and wait until it has hydrated. */
export async function gotoHydrated(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await waitHydrated(page);
}

/** The password a fresh Tollgate gives its first administrator unless told otherwise. */
export const DEFAULT_ADMIN_PASSWORD = 'change-me-now-please';
const initialAdminPassword = process.env.TOLLGATE_ADMIN_PASSWORD ?? DEFAULT_ADMIN_PASSWORD;

/**
 * The first administrator. With the default password Tollgate makes them choose a new one at
 * the first sign-in: the `setup` project (account.setup.ts) walks that through the browser and
 * sets `password`, which every other spec signs in with.
 */
export const ADMIN = {
  email: process.env.TOLLGATE_ADMIN_EMAIL ?? 'admin@tollgate.local',
  initialPassword: initialAdminPassword,
  mustChangePassword: initialAdminPassword === DEFAULT_ADMIN_PASSWORD,
  password:
    initialAdminPassword === DEFAULT_ADMIN_PASSWORD ? 'the administrator chose this one' : initialAdminPassword,
};

/** Form fields are located by the start of their label (tolerates "Password *" etc.). */
export function field(page: Page, label: string) {
  return page.getByLabel(new RegExp(`^\\s*${escapeRegExp(label)}\\b`));
}

/** Sign in through /signin and wait until the app navigated away and hydrated. */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await gotoHydrated(page, '/signin');
  await field(page, 'Email').fill(email);
  await field(page, 'Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
  await waitHydrated(page);
}

export interface NewUser {
  email: string;
  displayName: string;
  password: string;
}

/** Fill the /signup form and submit it (does not wait for the outcome). */
export async function fillSignUp(page: Page, user: NewUser): Promise<void> {
  await gotoHydrated(page, '/signup');
  await field(page, 'Email').fill(user.email);
  await field(page, 'Display name').fill(user.displayName);
  await field(page, 'Password').fill(user.password);
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
}

/** Sign up through /signup and wait until the app navigated away and hydrated. */
export async function signUp(page: Page, user: NewUser): Promise<void> {
  await fillSignUp(page, user);
  await page.waitForURL((url) => !url.pathname.startsWith('/signup'));
  await waitHydrated(page);
}

/** Creates an organization through its wizard (as the signed-in user); returns its name and id. */
export async function createOrg(page: Page, prefix = 'ACME Support '): Promise<{ name: string; id: string }> {
  const name = unique(prefix);
  await gotoHydrated(page, '/create/organization');
  await field(page, 'Name').fill(name);
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.getByRole('button', { name: 'Create Organization', exact: true }).click();
  const id = name.replace(/\s+/g, '');
  await page.waitForURL(new RegExp(`/orgs/${escapeRegExp(id)}$`));
  await waitHydrated(page);
  return { name, id };
}

/** `prefix` + a short alphanumeric suffix, unique per call. */
let counter = 0;
export function unique(prefix: string): string {
  counter += 1;
  const time = Date.now().toString(36).slice(-5);
  const rand = Math.random().toString(36).slice(2, 5).padEnd(3, '0');
  return `${prefix}${time}${rand}${counter}`;
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export const PASSWORD = 'correct horse battery staple';

/** A full-page screenshot under end2end/screenshots/, to look at. */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
}

/** A tab of a client, API or plan page. */
export const tab = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true });

/** The status badges in the page header. */
export const headerStatus = (page: Page) => page.locator('.page-subtitle');

/** Signs out (by dropping the cookies) and signs in as `email`. */
export async function switchUser(page: Page, email: string): Promise<void> {
  await page.context().clearCookies();
  await signIn(page, email, PASSWORD);
}

/** Creates a client, API or plan through its wizard, started with the organization preset. */
export async function createThroughWizard(
  page: Page,
  kind: 'client' | 'api' | 'plan',
  orgId: string,
  name: string,
  endpoint?: string,
): Promise<void> {
  await gotoHydrated(page, `/create/${kind}?org=${orgId}`);
  const next = page.getByRole('button', { name: 'Next', exact: true });
  await next.click();
  await field(page, 'Name').fill(name);
  await next.click();
  if (kind === 'api') {
    await field(page, 'Endpoint URL').fill(endpoint ?? 'http://127.0.0.1:9000/');
    await next.click();
  }
  const label = kind === 'api' ? 'Create API' : kind === 'client' ? 'Create Client' : 'Create Plan';
  await page.getByRole('button', { name: label, exact: true }).click();
  await page.waitForURL(
    new RegExp(`/orgs/${escapeRegExp(orgId)}/${kind}s/${escapeRegExp(name.replace(/\s+/g, ''))}/1\\.0$`),
  );
  await waitHydrated(page);
}

/** On a plan page: Lock, confirmed. */
export async function lockPlan(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Lock', exact: true }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Lock' }).click();
  await expect(headerStatus(page)).toContainText('Locked');
}

/** On an API page: offers locked plans (in the order the Plans tab adds them), then publishes. */
export async function offerAndPublish(
  page: Page,
  plans: { plan: string; approval: boolean }[],
  discoverability: string,
): Promise<void> {
  await tab(page, 'Plans').click();
  for (let i = 0; i < plans.length; i++) {
    await page.getByRole('button', { name: 'Add plan' }).click();
  }
  for (const p of plans) {
    const row = page.getByRole('group', { name: `Plan ${p.plan}` });
    await row.getByLabel('Discoverability').selectOption({ label: discoverability });
    if (p.approval) await row.getByLabel('Requires approval').check();
  }
  await page.getByRole('button', { name: 'Save plans' }).click();
  await expect(page.getByText('Plans saved.')).toBeVisible();
  await expect(page.getByRole('group', { name: `Plan ${plans[0].plan}` })).toBeVisible();
  await page.screenshot({ path: 'screenshots/api-plans-tab.png', fullPage: true });
  await page.getByRole('button', { name: 'Publish', exact: true }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Publish' }).click();
  await expect(headerStatus(page)).toContainText('Published');
}

/**
 * A real backend for the gateway to proxy to: answers every request with a small JSON body
 * naming the path and the request headers it received.
 */
export async function startBackend(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ path: req.url, ok: true, headers: req.headers }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Shows the current API key on a client page or in a My Clients card (`scope`): clicks Show and
 * returns the value that replaced the masked one.
 */
export async function showApiKey(scope: Page | Locator): Promise<string> {
  await scope.getByRole('button', { name: 'Show API key' }).click();
  const value = scope.getByLabel('API key', { exact: true });
  await expect(value).not.toContainText('•');
  return (await value.innerText()).trim();
}

/**
 * A real OpenID provider (oidc-provider, see gateway/tests/oidc/provider.mjs) on a loopback
 * port. `token` gets an access token (a JWT signed RS256) through the client_credentials grant
 * for `client` ("weather-admin": roles admin and reader; "weather-reader": reader) and
 * `resource` (the token's audience).
 */
export async function startOidcProvider(): Promise<{
  issuer: string;
  token: (client: string, resource?: string) => Promise<string>;
  close: () => void;
}> {
  const child = spawn(process.execPath, ['../gateway/tests/oidc/provider.mjs'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const issuer = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve(JSON.parse(line).issuer);
    });
    child.on('exit', (code) => reject(new Error(`the OpenID provider exited (${code})`)));
  });
  const token = async (client: string, resource = 'https://weather.example') => {
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client,
        client_secret: `secret-${client}`,
        resource,
        scope: 'read',
      }),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(`no token for ${client}: ${JSON.stringify(body)}`);
    return body.access_token as string;
  };
  return { issuer, token, close: () => child.kill() };
}
