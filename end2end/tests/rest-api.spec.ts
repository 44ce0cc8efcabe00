import { request as http } from '@playwright/test';
import type { Page } from '@playwright/test';

import { PASSWORD, createOrg, expect, field, gotoHydrated, shot, signUp, test, unique, waitHydrated } from './fixtures';

const BASE = 'http://127.0.0.1:3000';

/** Generates a read-and-write token on Account settings and returns it. */
async function generateToken(page: Page, name: string): Promise<string> {
  await gotoHydrated(page, '/account');
  const card = page.locator('section.card', {
    has: page.getByRole('heading', { name: 'Personal access tokens', exact: true }),
  });
  await card.getByRole('button', { name: 'Generate new token' }).click();
  await field(page, 'Name').fill(name);
  await card.getByLabel(/^\s*Expiration\b/).selectOption({ label: '30 days' });
  await card.getByRole('radio', { name: /Read and write/ }).check();
  await card.getByRole('button', { name: 'Generate token' }).click();
  const secret = (await card.getByLabel('New personal access token', { exact: true }).textContent())?.trim() ?? '';
  expect(secret).toMatch(/^tgp_[0-9A-Za-z]{36}$/);
  return secret;
}

test.describe('REST API', () => {
  test('A token drives the API from outside the browser, and /docs/api documents it', async ({ page }) => {
    const email = `${unique('rest').toLowerCase()}@example.com`;
    await signUp(page, { email, displayName: 'Rhea Rest', password: PASSWORD });
    const org = await createOrg(page, 'Pipelines ');
    const token = await generateToken(page, 'CI');

    // A client with no cookies at all: the token alone.
    const api = await http.newContext({ baseURL: BASE });
    const anonymous = await api.get('/api/v1/orgs');
    expect(anonymous.status()).toBe(401);
    expect(anonymous.headers()['content-type']).toBe('application/problem+json');
    const auth = { Authorization: `Bearer ${token}` };
    const orgs = await api.get('/api/v1/orgs', { headers: auth });
    expect(orgs.status()).toBe(200);
    expect((await orgs.json()).map((o: { id: string }) => o.id)).toContain(org.id);
    const created = await api.post(`/api/v1/orgs/${org.id}/plans`, {
      headers: auth,
      data: { name: 'Gold', version: '1.0', description: 'Made by a pipeline' },
    });
    expect(created.status()).toBe(201);
    expect(created.headers()['location']).toBe(`/api/v1/orgs/${org.id}/plans/Gold/versions/1.0`);
    const refused = await api.post(`/api/v1/orgs/${org.id}/plans`, { headers: auth, data: { name: '', version: '1.0' } });
    expect(refused.status()).toBe(422);
    expect((await refused.json()).errors[0].field).toBe('name');
    await api.dispose();

    // What the pipeline made is there in the UI.
    await gotoHydrated(page, `/orgs/${org.id}/plans/Gold/1.0`);
    await expect(page.getByText('Made by a pipeline')).toBeVisible();

    // The reference, from the user menu.
    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'REST API reference' }).click();
    await expect(page).toHaveURL(/\/docs\/api$/);
    await waitHydrated(page);
    await expect(page.getByRole('heading', { name: 'REST API reference', level: 1 })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Organizations', level: 3 })).toBeVisible();
    const createPlan = page.locator('details.op', { hasText: /POST \/api\/v1\/orgs\/\{org\}\/\{kind\} Creates/ });
    await createPlan.locator('summary').click();
    await expect(createPlan.getByRole('cell', { name: /^kind\b/ })).toBeVisible();
    await expect(page.getByRole('link', { name: 'Download openapi.json' })).toHaveAttribute('href', '/api/v1/openapi.json');
    await shot(page, 'api-reference');
  });
});
