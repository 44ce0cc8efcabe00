import {
  createOrg,
  createThroughWizard,
  expect,
  field,
  gotoHydrated,
  lockPlan,
  offerAndPublish,
  PASSWORD,
  signUp,
  switchUser,
  tab,
  test,
  unique,
  waitHydrated,
  shot,
  showApiKey,
} from './fixtures';

test('portal: search, Learn More, plan cards, sign-up wizard, My Clients, approval page, multi-org drop-down', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const provider = { email: `${unique('prov')}@example.com`, displayName: 'Paula Provider', password: PASSWORD };
  const forecast = unique('Forecast');
  const radar = unique('Radar');

  // A provider publishes two APIs; Forecast offers Bronze and Gold (approval), Radar offers Bronze.
  await signUp(page, provider);
  const org = await createOrg(page, 'Weather Co ');
  for (const plan of ['Bronze', 'Gold']) {
    await createThroughWizard(page, 'plan', org.id, plan);
    await lockPlan(page);
  }
  await createThroughWizard(page, 'api', org.id, forecast);
  await field(page, 'Tags').fill('featured, weather');
  await page.getByRole('button', { name: 'Save tags' }).click();
  await expect(page.getByText('Tags saved.')).toBeVisible();
  await tab(page, 'Definition').click();
  await field(page, 'OpenAPI definition').fill(
    "openapi: 3.0.3\ninfo:\n  title: Forecast\n  version: '1'\npaths:\n  /daily:\n    get:\n      tags: [forecasts]\n      summary: Daily forecast\n      parameters:\n        - name: city\n          in: query\n          required: true\n          schema: {type: string}\n      responses:\n        '200':\n          description: The forecast\n",
  );
  await page.getByRole('button', { name: 'Save definition' }).click();
  await expect(page.getByText('Definition saved.')).toBeVisible();
  await offerAndPublish(
    page,
    [
      { plan: 'Bronze', approval: false },
      { plan: 'Gold', approval: true },
    ],
    'Anonymous',
  );
  await createThroughWizard(page, 'api', org.id, radar);
  await offerAndPublish(page, [{ plan: 'Bronze', approval: false }], 'Portal');

  // An anonymous visitor finds Forecast by search (Radar is for signed-in users only).
  await page.context().clearCookies();
  await gotoHydrated(page, '/portal');
  await expect(page.getByRole('heading', { name: 'Featured APIs' })).toBeVisible();
  await expect(page.getByRole('heading', { name: forecast })).toBeVisible();
  await shot(page, 'portal-home');
  await page.getByLabel('Search APIs').fill(radar);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/\/portal\/apis\?q=Radar/);
  await waitHydrated(page);
  await expect(page.getByText('No API matches your search.')).toBeVisible();
  await page.getByLabel('Search APIs').fill(forecast.toLowerCase());
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/\/portal\/apis\?q=forecast/);
  await waitHydrated(page);
  await expect(page.getByText('1 API found')).toBeVisible();
  await page.getByRole('link', { name: `Learn More about ${forecast}` }).click();
  await expect(page.getByRole('heading', { name: forecast, level: 1 })).toBeVisible();
  const gold = page.getByRole('article', { name: 'Plan Gold' });
  const bronze = page.getByRole('article', { name: 'Plan Bronze' });
  await expect(gold.getByText('Approval required')).toBeVisible();
  await expect(bronze.getByText('Approval required')).toHaveCount(0);
  await expect(bronze.getByText('Unlimited')).toBeVisible();
  await page.getByText('Daily forecast').click();
  await expect(page.getByRole('cell', { name: 'city *' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Download the OpenAPI definition' })).toBeVisible();
  await shot(page, 'portal-api');

  // Sign Up sends the visitor to sign in; they create a (portal-only) account and come back.
  await bronze.getByRole('link', { name: 'Sign Up for Bronze' }).click();
  await page.waitForURL(/\/signin\?next=/);
  await waitHydrated(page);
  await page.getByRole('link', { name: 'Create an account' }).click();
  await waitHydrated(page);
  const consumer = { email: `${unique('dev')}@example.com`, displayName: 'Dana Dev', password: PASSWORD };
  await field(page, 'Email').fill(consumer.email);
  await field(page, 'Display name').fill(consumer.displayName);
  await field(page, 'Password').fill(consumer.password);
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
  await page.waitForURL(/\/portal\/signup\//);
  await waitHydrated(page);

  // Step 1: a new client, inline; the same messages as in API Management.
  await expect(page.getByText('Your client will be created in a new organization named after you.')).toBeVisible();
  await field(page, 'Version').fill('1 0');
  await expect(page.locator('#signup-version-error')).toContainText('Use only letters, digits');
  await field(page, 'Version').fill('1.0');
  await field(page, 'Client name').fill('My App');
  await shot(page, 'portal-signup-client');
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await expect(page.getByText('Please confirm the sign-up:')).toBeVisible();
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'You are signed up' })).toBeVisible();
  await page.getByRole('link', { name: 'Go to My Clients' }).click();
  await waitHydrated(page);

  // My Clients: the key, the endpoint and how to call it.
  const card = page.getByRole('region', { name: 'My App 1.0' });
  await expect(card.getByText('Registered')).toBeVisible();
  // The key is masked, and the example says YOUR-API-KEY, until the consumer clicks Show.
  await expect(card.getByLabel('API key', { exact: true })).toHaveText(/^•••• \S{4}$/);
  await expect(card.getByText(`/${org.id}/${forecast}/1.0`).first()).toBeVisible();
  await expect(card.getByText('X-API-Key')).toContainText('YOUR-API-KEY');
  const key = await showApiKey(card);
  await expect(card.getByText('X-API-Key')).toContainText(key);
  await shot(page, 'portal-my-clients');

  // A second sign-up (Radar) picks the existing client from the drop-down.
  await gotoHydrated(page, `/portal/apis/${org.id}/${radar}`);
  await page.getByRole('link', { name: 'Sign Up for Bronze' }).click();
  await page.waitForURL(/\/portal\/signup\//);
  await waitHydrated(page);
  await expect(page.getByLabel('Client', { exact: true })).toHaveValue('0');
  await expect(page.getByLabel('Client', { exact: true }).locator('option:checked')).toHaveText('My App 1.0');
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'You are signed up' })).toBeVisible();

  // Gold requires approval: My App already has a contract with Forecast, so a new client.
  await gotoHydrated(page, `/portal/apis/${org.id}/${forecast}`);
  await page.getByRole('link', { name: 'Sign Up for Gold' }).click();
  await page.waitForURL(/\/portal\/signup\//);
  await waitHydrated(page);
  await expect(page.getByText('This client version already has a contract with this API version')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Next', exact: true })).toBeDisabled();
  await page.getByLabel('Create a new client').check();
  await field(page, 'Client name').fill('Gold App');
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Your request awaits approval' })).toBeVisible();
  await expect(page.getByText(`the plan administrators of ${org.name} decide`)).toBeVisible();
  await shot(page, 'portal-awaiting-approval');

  // A portal-only account has no API Management.
  await gotoHydrated(page, '/portal');
  await expect(page.getByRole('link', { name: 'API Management' })).toHaveCount(0);

  // A user in several organizations chooses where the new client goes.
  await switchUser(page, provider.email);
  await createOrg(page, 'Second Org ');
  await gotoHydrated(page, `/portal/apis/${org.id}/${forecast}`);
  await page.getByRole('link', { name: 'Sign Up for Bronze' }).click();
  await page.waitForURL(/\/portal\/signup\//);
  await waitHydrated(page);
  await expect(page.getByLabel('Organization')).toBeVisible();
  await expect(page.getByLabel('Organization').locator('option')).toHaveCount(2);
});
