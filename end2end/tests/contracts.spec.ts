import type { APIRequestContext, Page } from '@playwright/test';
import {
  createOrg,
  createThroughWizard,
  expect,
  gotoHydrated,
  headerStatus,
  lockPlan,
  offerAndPublish,
  PASSWORD,
  shot,
  showApiKey,
  signUp,
  startBackend,
  switchUser,
  tab,
  test,
  unique,
  waitHydrated,
} from './fixtures';

/** A plan with a Rate Limiting policy of `limit` requests per minute per client, locked. */
async function planWithRateLimit(page: Page, orgId: string, name: string, limit: number): Promise<void> {
  await createThroughWizard(page, 'plan', orgId, name);
  await tab(page, 'Policies').click();
  await page.getByRole('button', { name: 'Click here to attach a new policy' }).first().click();
  const wizard = page.getByRole('dialog', { name: 'Add Policy' });
  await wizard.getByRole('button', { name: 'Rate Limiting', exact: true }).click();
  await wizard.getByLabel('Limit').fill(String(limit));
  await wizard.getByLabel('Granularity').selectOption('Client');
  await wizard.getByLabel('Period').selectOption('Minute');
  await wizard.getByRole('button', { name: 'Add Policy' }).click();
  await expect(page.getByText('Policy added.').last()).toBeVisible();
  await lockPlan(page);
}

/** One call through the gateway: its status and the plan's rate limit it was counted against. */
async function call(request: APIRequestContext, url: string, key: string) {
  const res = await request.get(`${url}/hello`, { headers: { 'X-API-Key': key } });
  return {
    status: res.status(),
    limit: res.headers()['x-ratelimit-limit'],
    remaining: res.headers()['x-ratelimit-remaining'],
  };
}

/** Calls until `done` holds for an answer (at most ~3 s); returns that answer. */
async function callUntil(
  page: Page,
  request: APIRequestContext,
  url: string,
  key: string,
  done: (r: Awaited<ReturnType<typeof call>>) => boolean,
) {
  let last = await call(request, url, key);
  for (let tries = 0; !done(last) && tries < 30; tries++) {
    await page.waitForTimeout(100);
    last = await call(request, url, key);
  }
  expect(done(last), `gateway answer ${JSON.stringify(last)}`).toBe(true);
  return last;
}

test('a change of plan that needs approval keeps the old plan until approved; the provider revokes and the consumer is told', async ({
  page,
  request,
}) => {
  test.setTimeout(240_000);
  const backend = await startBackend();
  try {
    const provider = { email: `${unique('priya')}@example.com`, displayName: 'Priya Provider', password: PASSWORD };
    const consumer = { email: `${unique('carl')}@example.com`, displayName: 'Carl Consumer', password: PASSWORD };

    // Provider: Bronze (2 a minute) and Gold (5 a minute, requires approval), offered by Weather.
    await signUp(page, provider);
    const providerOrg = await createOrg(page, 'Provider ');
    await planWithRateLimit(page, providerOrg.id, 'Bronze', 2);
    await planWithRateLimit(page, providerOrg.id, 'Gold', 5);
    await createThroughWizard(page, 'api', providerOrg.id, 'Weather', backend.url);
    await offerAndPublish(
      page,
      [
        { plan: 'Bronze', approval: false },
        { plan: 'Gold', approval: true },
      ],
      'All users',
    );
    const apiPath = new URL(page.url()).pathname.replace(/\/plans$/, '');

    // Consumer: App with a contract on Bronze, registered.
    await page.context().clearCookies();
    await signUp(page, consumer);
    const consumerOrg = await createOrg(page, 'Consumer ');
    await createThroughWizard(page, 'client', consumerOrg.id, 'App');
    const clientPath = new URL(page.url()).pathname;
    await tab(page, 'Contracts').click();
    await page.getByRole('button', { name: 'New Contract' }).click();
    const newContract = page.getByRole('dialog', { name: 'New Contract' });
    await newContract.getByLabel('API').selectOption({ label: 'Weather 1.0' });
    await newContract.getByLabel('Plan').selectOption('Bronze');
    await newContract.getByRole('button', { name: 'Create Contract' }).click();
    await expect(page.getByText('Contract created.')).toBeVisible();
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await expect(headerStatus(page)).toContainText('Registered');
    const gatewayUrl = (await page.getByRole('cell').filter({ hasText: /^https?:\/\// }).first().innerText()).trim();
    await tab(page, 'Overview').click();
    const apiKey = await showApiKey(page);
    expect(apiKey.length).toBeGreaterThan(10);

    // The gateway answers by Bronze (the registration arrives within a second).
    const first = await callUntil(page, request, gatewayUrl, apiKey, (r) => r.status === 200);
    expect(first.limit).toBe('2');

    // Change plan to Gold: it needs approval, so Bronze stays in force.
    await tab(page, 'Contracts').click();
    await page.getByRole('button', { name: 'Change plan of the contract with Weather 1.0' }).click();
    const change = page.getByRole('dialog', { name: 'Change plan' });
    await expect(change.getByRole('radio', { name: /Bronze/ })).toBeChecked();
    await expect(change.getByRole('radio', { name: /Bronze/ })).toBeDisabled();
    await expect(change.getByText('2 requests per Minute')).toBeVisible();
    await change.getByRole('radio', { name: /Gold/ }).check();
    await expect(change.getByText('Gold requires approval. The contract stays on Bronze')).toBeVisible();
    await shot(page, 'change-plan-dialog');
    await change.getByRole('button', { name: 'Request change' }).click();
    await expect(page.getByText('Change to Gold requested. Bronze stays in force')).toBeVisible();
    await expect(page.getByRole('table')).toContainText('Awaiting approval: Gold 1.0');
    await expect(page.getByRole('button', { name: 'Change plan of the contract with Weather 1.0' })).toBeDisabled();
    await shot(page, 'contract-change-awaiting-approval');
    // My Clients in the portal shows the same: the plan in force, and the change awaiting approval.
    await gotoHydrated(page, '/portal/clients');
    const card = page.getByRole('region', { name: 'App 1.0' });
    await expect(card).toContainText('plan Bronze 1.0');
    await expect(card).toContainText('Awaiting approval: Gold 1.0');
    await expect(card.getByRole('button', { name: 'Change plan of the contract with Weather 1.0' })).toBeDisabled();

    // Meanwhile the gateway still counts against Bronze: 2 a minute, then 429.
    await page.waitForTimeout(1200);
    const held = await callUntil(page, request, gatewayUrl, apiKey, (r) => r.status === 429);
    expect(held.limit).toBe('2');

    // The provider approves the change from the inbox.
    await switchUser(page, provider.email);
    await page.getByRole('link', { name: 'Pending approvals: 1' }).click();
    await waitHydrated(page);
    const inbox = page.getByRole('table');
    await expect(inbox).toContainText('Change of plan');
    await expect(inbox).toContainText('Bronze 1.0 → Gold 1.0');
    await shot(page, 'pending-approvals-change-of-plan');
    await page.getByRole('button', { name: 'Approve App 1.0' }).click();
    const approve = page.getByRole('dialog', { name: 'Approve change of plan' });
    await expect(approve).toContainText('from plan Bronze 1.0 to Gold 1.0');
    await approve.getByRole('button', { name: 'Approve' }).click();
    await expect(page.getByText('Change of plan approved.')).toBeVisible();
    await expect(page.getByText('Nothing awaits your approval.')).toBeVisible();

    // Gold is in force at the gateway within a second, its limit counting from zero.
    const gold = await callUntil(page, request, gatewayUrl, apiKey, (r) => r.limit === '5');
    expect(gold.status).toBe(200);
    expect(gold.remaining).toBe('4');

    // The provider revokes the contract from the API's Contracts tab, with a reason.
    await gotoHydrated(page, `${apiPath}/contracts`);
    await expect(page.getByRole('table')).toContainText('Gold 1.0');
    await page.getByRole('button', { name: 'Revoke contract of App 1.0' }).click();
    const revoke = page.getByRole('alertdialog', { name: 'Revoke contract' });
    await revoke.getByRole('button', { name: 'Revoke contract' }).click();
    await expect(revoke.getByText('Say why, so that the consumer knows what to change.')).toBeVisible();
    const reason = 'Your app exceeded the fair-use terms of the Gold plan.';
    await revoke.getByLabel('Reason').fill(reason);
    await shot(page, 'revoke-contract-dialog');
    await revoke.getByRole('button', { name: 'Revoke contract' }).click();
    await expect(page.getByText('Contract revoked. It was the client\'s last contract')).toBeVisible();
    await expect(page.getByText('No contracts yet')).toBeVisible();

    // The gateway refuses the key within a second.
    const refused = await callUntil(page, request, gatewayUrl, apiKey, (r) => r.status !== 200);
    expect([401, 403]).toContain(refused.status);

    // The consumer reads why in the notifications; the client version is retired.
    await switchUser(page, consumer.email);
    await page.getByRole('button', { name: /^Notifications: \d+ unread$/ }).click();
    const notes = page.getByRole('region', { name: 'Notifications' });
    await expect(notes).toContainText(`Priya Provider revoked the contract of App 1.0 with Weather 1.0: ${reason}`);
    await expect(notes).toContainText('Priya Provider approved the change of plan');
    await shot(page, 'notification-contract-revoked');
    await gotoHydrated(page, clientPath);
    await expect(headerStatus(page)).toContainText('Retired');
    await tab(page, 'Change Log').click();
    const log = page.locator('table');
    await expect(log).toContainText(`Revoked the contract of App 1.0 with Weather 1.0: ${reason}`);
    await expect(log).toContainText('Approved the change of plan of the contract of App 1.0 with Weather 1.0 from Bronze 1.0 to Gold 1.0');
    await expect(log).toContainText('from Bronze 1.0 to Gold 1.0 (awaiting approval)');
  } finally {
    await backend.close();
  }
});
