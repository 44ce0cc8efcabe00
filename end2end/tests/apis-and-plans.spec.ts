import { ADMIN, createOrg, escapeRegExp, expect, field, gotoHydrated, signIn, test, waitHydrated } from './fixtures';

test('Create API and Create Plan wizards, the organization tabs and the dashboard list them', async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  const org = await createOrg(page, 'Echo Org ');
  const next = page.getByRole('button', { name: 'Next', exact: true });

  // Create API: organization, details, implementation (endpoint optional but validated), summary.
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByRole('menuitem', { name: 'Create API' }).click();
  await page.waitForURL(/\/create\/api$/);
  await expect(page.getByText(/3\s*Implementation/).first()).toBeVisible();
  await expect(page.getByText(/4\s*Summary/).first()).toBeVisible();
  await field(page, 'Select Organization').selectOption({ label: org.name });
  await next.click();
  await field(page, 'Name').fill('Echo API');
  await field(page, 'Version').fill('v1');
  await field(page, 'Description').fill('Echoes what it gets.');
  await next.click();
  await field(page, 'Endpoint URL').fill('ftp://example.com');
  await expect(page.locator('#wizard-endpoint-error')).toContainText('http:// or https://');
  await field(page, 'Endpoint URL').fill('http://127.0.0.1:9000/echo');
  await expect(page.locator('#wizard-endpoint-error')).toHaveText('');
  await next.click();
  await expect(page.getByText('Please confirm if you want to create the API with the following settings:')).toBeVisible();
  await expect(page.getByText('http://127.0.0.1:9000/echo')).toBeVisible();
  await page.getByRole('button', { name: 'Create API', exact: true }).click();
  await page.waitForURL(new RegExp(`/orgs/${escapeRegExp(org.id)}/apis/EchoAPI/v1$`));
  await expect(page.getByRole('heading', { name: `${org.name} / Echo API` })).toBeVisible();
  await expect(page.getByText('http://127.0.0.1:9000/echo')).toBeVisible();
  await expect(page.getByLabel('Change version')).toBeVisible();

  // Create Plan, started from the organization's empty Plans tab.
  await gotoHydrated(page, `/orgs/${org.id}/plans`);
  await expect(page.getByText('No plans yet.')).toBeVisible();
  await page.getByRole('link', { name: 'Click here to create a new plan' }).click();
  await page.waitForURL(/\/create\/plan\?org=/);
  await waitHydrated(page);
  await next.click();
  await field(page, 'Name').fill('Gold');
  await next.click();
  await expect(page.getByText('Please confirm if you want to create the plan with the following settings:')).toBeVisible();
  await page.getByRole('button', { name: 'Create Plan', exact: true }).click();
  await page.waitForURL(new RegExp(`/orgs/${escapeRegExp(org.id)}/plans/Gold/1\\.0$`));
  await expect(page.getByRole('heading', { name: `${org.name} / Gold` })).toBeVisible();
  await page.getByRole('link', { name: 'Change Log', exact: true }).click();
  await expect(page.getByText('Created plan Gold version 1.0')).toBeVisible();

  // The organization's tabs list them; each tab has its URL.
  await gotoHydrated(page, `/orgs/${org.id}/apis`);
  await expect(page.getByRole('link', { name: 'Echo API' })).toBeVisible();
  await page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Plans', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/orgs/${escapeRegExp(org.id)}/plans$`));
  await expect(page.getByRole('link', { name: 'Gold', exact: true })).toBeVisible();
  await page.screenshot({ path: 'screenshots/organization-plans-tab.png', fullPage: true });

  // The dashboard lists them too, with a working filter.
  await gotoHydrated(page, '/');
  await expect(page.getByRole('heading', { name: 'My APIs' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Echo API' }).first()).toBeVisible();
  await page.getByLabel('Filter APIs').fill('no such thing');
  await expect(page.getByText('Nothing matches the filter.').first()).toBeVisible();
  await page.getByLabel('Filter APIs').fill('echo');
  await expect(page.getByRole('link', { name: 'Echo API' }).first()).toBeVisible();
  await page.screenshot({ path: 'screenshots/dashboard.png', fullPage: true });
});
