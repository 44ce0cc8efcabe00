import {
  createOrg,
  createThroughWizard,
  expect,
  field,
  gotoHydrated,
  headerStatus,
  offerAndPublish,
  PASSWORD,
  signUp,
  switchUser,
  tab,
  test,
  unique,
  waitHydrated,
  shot,
} from './fixtures';

test('provider publishes with an approval plan; consumer contracts, gets approved, registers, re-registers, unregisters', async ({ page }) => {
  test.setTimeout(180_000);
  const provider = { email: `${unique('pat')}@example.com`, displayName: 'Pat Provider', password: PASSWORD };
  const consumer = { email: `${unique('cody')}@example.com`, displayName: 'Cody Consumer', password: PASSWORD };
  // Names of their own: other specs publish APIs named Weather too, which the consumer also sees.
  const weather = unique('Weather');
  const maps = unique('Maps');

  // Provider: a plan, locked; an API that is not ready until it offers the plan.
  await signUp(page, provider);
  const providerOrg = await createOrg(page, 'Provider ');
  await createThroughWizard(page, 'plan', providerOrg.id, 'Gold');
  await page.getByRole('button', { name: 'Lock', exact: true }).click();
  await expect(page.getByRole('alertdialog')).toContainText('This cannot be undone.');
  await page.getByRole('alertdialog').getByRole('button', { name: 'Lock' }).click();
  await expect(headerStatus(page)).toContainText('Locked');

  await createThroughWizard(page, 'api', providerOrg.id, weather);
  // Definition tab: an OpenAPI document, validated, and an extended description in Markdown.
  await tab(page, 'Definition').click();
  await field(page, 'OpenAPI definition').fill("swagger: '2.0'");
  await page.getByRole('button', { name: 'Save definition' }).click();
  await expect(page.locator('#definition-error')).toContainText('Swagger 2');
  await field(page, 'OpenAPI definition').fill(
    "openapi: 3.0.3\ninfo:\n  title: Weather API\n  version: '1.0'\npaths:\n  /forecast:\n    get:\n      summary: Forecast\n",
  );
  await page.getByRole('button', { name: 'Save definition' }).click();
  await expect(page.getByText('Definition saved.')).toBeVisible();
  await expect(page.getByText('Weather API: 1 operation,')).toBeVisible();
  await field(page, 'Extended description').fill('## Forecasts\n\nHourly **forecasts** <script>alert(1)</script>');
  await page.getByRole('button', { name: 'Save extended description' }).click();
  await expect(page.getByRole('heading', { name: 'Forecasts' })).toBeVisible();
  await expect(page.getByText('<script>alert(1)</script>')).toBeVisible();
  await shot(page, 'api-definition-tab');
  await tab(page, 'Overview').click();
  await expect(page.getByText("Why can't I publish?")).toBeVisible();
  await expect(page.getByText('Offer at least one locked plan, or make the API public.')).toBeVisible();
  await offerAndPublish(page, [{ plan: 'Gold', approval: true }], 'All users');
  await tab(page, 'Overview').click();
  await expect(page.getByText("Why can't I publish?")).toHaveCount(0);
  await shot(page, 'api-published');
  await createThroughWizard(page, 'api', providerOrg.id, maps);
  await offerAndPublish(page, [{ plan: 'Gold', approval: false }], 'All users');

  // Consumer: a client and a contract for the plan that requires approval.
  await page.context().clearCookies();
  await signUp(page, consumer);
  const consumerOrg = await createOrg(page, 'Consumer ');
  await createThroughWizard(page, 'client', consumerOrg.id, 'App');
  await expect(headerStatus(page)).toContainText('Created');
  await tab(page, 'Contracts').click();
  await expect(page.getByText('No contracts available')).toBeVisible();
  await page.getByRole('button', { name: 'New Contract' }).click();
  const dialog = page.getByRole('dialog', { name: 'New Contract' });
  await dialog.getByLabel('API').selectOption({ label: `${weather} 1.0` });
  await dialog.getByLabel('Plan').selectOption('Gold');
  await expect(dialog.getByLabel('Plan')).toHaveValue('Gold');
  await expect(dialog.getByText('This plan requires approval')).toBeVisible();
  await shot(page, 'new-contract-dialog');
  await dialog.getByRole('button', { name: 'Create Contract' }).click();
  await expect(page.getByText('Contract requested. It awaits approval')).toBeVisible();
  await expect(headerStatus(page)).toContainText('Awaiting Approval');
  await expect(page.getByRole('button', { name: 'Register', exact: true })).toHaveCount(0);
  const clientUrl = page.url().replace(/\/contracts$/, '');

  // The approver sees the request in the header and approves it from the inbox.
  await switchUser(page, provider.email);
  await page.getByRole('link', { name: 'Pending approvals: 1' }).click();
  await waitHydrated(page);
  await expect(page.getByRole('heading', { name: 'Pending Approvals' })).toBeVisible();
  await shot(page, 'pending-approvals');
  await page.getByRole('button', { name: 'Approve App 1.0' }).click();
  const approve = page.getByRole('dialog', { name: 'Approve contract' });
  await approve.getByLabel('Register the client version when nothing else holds it back').uncheck();
  await approve.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByText('Contract approved.')).toBeVisible();
  await expect(page.getByText('Nothing awaits your approval.')).toBeVisible();

  // The consumer is notified, registers, adds a second contract and re-registers.
  await switchUser(page, consumer.email);
  await page.getByRole('button', { name: 'Notifications: 1 unread' }).click();
  await expect(page.getByRole('region', { name: 'Notifications' })).toContainText('Pat Provider approved the contract');
  await shot(page, 'notifications');
  await page.getByRole('button', { name: 'Mark all read' }).click();
  await expect(page.getByRole('button', { name: 'Notifications: 0 unread' })).toBeVisible();
  await gotoHydrated(page, new URL(clientUrl).pathname);
  await expect(headerStatus(page)).toContainText('Ready');
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await expect(headerStatus(page)).toContainText('Registered');

  await tab(page, 'Contracts').click();
  await page.getByRole('button', { name: 'New Contract' }).click();
  await dialog.getByLabel('API').selectOption({ label: `${maps} 1.0` });
  await dialog.getByRole('button', { name: 'Create Contract' }).click();
  await expect(page.getByText('Contract created.')).toBeVisible();
  await expect(headerStatus(page)).toContainText('Unpublished Changes');
  await expect(page.getByRole('table')).toContainText(maps);
  await shot(page, 'client-unpublished-changes');
  await page.getByRole('button', { name: 'Re-register', exact: true }).click();
  await expect(page.getByText('The client version is registered.')).toBeVisible();
  await expect(headerStatus(page)).not.toContainText('Unpublished Changes');

  // Unregister from the status menu, with confirmation.
  await page.getByRole('button', { name: 'Actions' }).click();
  await page.getByRole('menuitem', { name: 'Unregister' }).click();
  await expect(page.getByRole('alertdialog')).toContainText('Its API key stops working');
  await page.getByRole('alertdialog').getByRole('button', { name: 'Unregister' }).click();
  await expect(headerStatus(page)).toContainText('Retired');

  // The Change Log tells the whole story, newest first.
  await tab(page, 'Change Log').click();
  const log = page.locator('table');
  await expect(log).toContainText('Unregistered (retired) version 1.0');
  await expect(log).toContainText('Re-registered version 1.0');
  await expect(log).toContainText('Registered version 1.0');
  await expect(log).toContainText('Approved the contract');
  await expect(log).toContainText(`Created a contract of App 1.0 with ${weather} 1.0`);
  await shot(page, 'client-change-log');
});
