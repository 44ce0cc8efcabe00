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
  tab,
  test,
  unique,
  waitHydrated,
} from './fixtures';

test('a rate limit attached through the wizard is enforced at the gateway and the calls show in Metrics', async ({
  page,
  request,
}) => {
  test.setTimeout(180_000);
  const backend = await startBackend();
  try {
    const provider = { email: `${unique('gwen')}@example.com`, displayName: 'Gwen Gateway', password: PASSWORD };
    await signUp(page, provider);
    const org = await createOrg(page, 'Gateway ');

    // A plan with a Rate Limiting policy attached through the Policies tab's wizard.
    await createThroughWizard(page, 'plan', org.id, 'Metered');
    await tab(page, 'Policies').click();
    await page.getByRole('button', { name: 'Click here to attach a new policy' }).first().click();
    const wizard = page.getByRole('dialog', { name: 'Add Policy' });
    await expect(wizard.getByRole('heading', { name: 'Security' })).toBeVisible();
    await expect(wizard.getByRole('heading', { name: 'Limitation' })).toBeVisible();
    await wizard.getByLabel('Filter policies').fill('rate');
    await expect(wizard.getByRole('button', { name: 'IP Allowlist', exact: true })).toHaveCount(0);
    await shot(page, 'policy-wizard-catalogue');
    await wizard.getByRole('button', { name: 'Rate Limiting', exact: true }).click();
    // Bad input is refused next to its field.
    await wizard.getByLabel('Limit').fill('0');
    await wizard.getByRole('button', { name: 'Add Policy' }).click();
    await expect(wizard.getByText('Enter a limit of at least 1.')).toBeVisible();
    await wizard.getByLabel('Limit').fill('5');
    await wizard.getByLabel('Granularity').selectOption('Client');
    await wizard.getByLabel('Period').selectOption('Minute');
    await shot(page, 'policy-wizard-form');
    await wizard.getByRole('button', { name: 'Add Policy' }).click();
    await expect(page.getByText('Policy added.').last()).toBeVisible();
    await expect(page.getByText('Consumers are limited to 5 requests per Minute per Client')).toBeVisible();
    await shot(page, 'plan-policies-tab');
    await lockPlan(page);
    await expect(page.getByRole('button', { name: 'Click here to attach a new policy' })).toHaveCount(0);

    // An API on the backend, offering the plan, published; a client with a contract, registered.
    const apiName = unique('Echo');
    await createThroughWizard(page, 'api', org.id, apiName, backend.url);
    await offerAndPublish(page, [{ plan: 'Metered', approval: false }], 'All users');
    await tab(page, 'Policies').click();
    await expect(page.getByRole('heading', { name: 'Effective policy chain' })).toBeVisible();
    await expect(page.getByTitle('Consumers are limited to 5 requests per Minute per Client')).toHaveText('Rate Limiting');
    await shot(page, 'api-policies-chain');
    const apiPath = new URL(page.url()).pathname.replace(/\/policies$/, '');

    await createThroughWizard(page, 'client', org.id, 'Caller');
    await tab(page, 'Contracts').click();
    await page.getByRole('button', { name: 'New Contract' }).click();
    const dialog = page.getByRole('dialog', { name: 'New Contract' });
    await dialog.getByLabel('API').selectOption({ label: `${apiName} 1.0` });
    await dialog.getByRole('button', { name: 'Create Contract' }).click();
    await expect(page.getByText('Contract created.')).toBeVisible();
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await expect(headerStatus(page)).toContainText('Registered');
    const gatewayUrl = (await page.getByRole('cell').filter({ hasText: /^https?:\/\// }).first().innerText()).trim();
    await tab(page, 'Overview').click();
    const apiKey = await showApiKey(page);
    expect(apiKey.length).toBeGreaterThan(10);

    // Calls through the gateway: five pass (counting down), the sixth is refused with 429.
    // (The registration reaches the gateway within a second: until then the key is unknown, 401.)
    const statuses: number[] = [];
    let remaining = '';
    let calls = 0;
    for (let tries = 0; statuses.length < 6 && tries < 40; tries++) {
      const res = await request.get(`${gatewayUrl}/hello`, { headers: { 'X-API-Key': apiKey } });
      calls += 1;
      if (res.status() === 401 && statuses.length === 0) {
        await page.waitForTimeout(100);
        continue;
      }
      statuses.push(res.status());
      if (res.status() === 200) remaining = res.headers()['x-ratelimit-remaining'];
      else {
        expect(res.headers()['x-policy-failure-code']).toBe('10005');
        expect((await res.json()).failureCode).toBe(10005);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(remaining).toBe('0');

    // The API's Metrics tab shows every call (written in per-minute rollups within seconds).
    await gotoHydrated(page, `${apiPath}/metrics`);
    await page.getByRole('button', { name: 'Last hour' }).click();
    const chart = page.getByRole('img', { name: new RegExp(`^Requests over time: ${calls} requests`) });
    for (let attempt = 0; attempt < 10 && (await chart.count()) === 0; attempt++) {
      await page.waitForTimeout(1000);
      await page.reload();
      await waitHydrated(page);
      await page.getByRole('button', { name: 'Last hour' }).click();
    }
    await expect(chart).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Usage by client' })).toBeVisible();
    await expect(page.getByText(/Caller 1\.0/).first()).toBeVisible();
    await shot(page, 'api-metrics-tab');

    // My Clients in the portal: the rate limit is used up.
    await gotoHydrated(page, '/portal/clients');
    const usage = page.getByRole('list', { name: `Usage of ${apiName} 1.0` });
    await expect(usage).toContainText('Rate limit');
    await expect(usage).toContainText('5 used · 0 remaining');
    await shot(page, 'portal-my-clients-usage');
  } finally {
    await backend.close();
  }
});
