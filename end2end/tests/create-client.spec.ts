import type { Page } from '@playwright/test';
import {
  ADMIN,
  createOrg,
  escapeRegExp,
  expect,
  field,
  gotoHydrated,
  signIn,
  signUp,
  test,
  unique,
  waitHydrated,
  shot,
} from './fixtures';

const nameError = (page: Page) => page.locator('#wizard-name-error');
const versionError = (page: Page) => page.locator('#wizard-version-error');

test.describe('Create Client wizard', () => {
  test('the whole flow from the Create menu, with validation, Back and the new client page', async ({
    page,
    context,
  }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await signIn(page, ADMIN.email, ADMIN.password);
    const org = await createOrg(page);

    // The floating Create button opens the menu with exactly four entries.
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const items = page.getByRole('menuitem');
    await expect(items).toHaveText(['Create API', 'Create Client', 'Create Plan', 'Create Organization']);
    await page.keyboard.press('Escape');
    await expect(items).toHaveCount(0);
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('menuitem', { name: 'Create Client' }).click();
    await page.waitForURL(/\/create\/client$/);

    // Step 1: Choose Organization.
    await expect(page.getByText(/1\s*Choose Organization/).first()).toBeVisible();
    await expect(page.getByText(/2\s*Configure Details/).first()).toBeVisible();
    await expect(page.getByText(/3\s*Summary/).first()).toBeVisible();
    await expect(page.getByText('Select the organization in which the client will be created:')).toBeVisible();
    const next = page.getByRole('button', { name: 'Next', exact: true });
    await expect(next).toBeDisabled();
    await shot(page, 'create-client-1-choose-organization');
    await field(page, 'Select Organization').selectOption({ label: org.name });
    await expect(next).toBeEnabled();
    await next.click();

    // Step 2: Configure Details, with messages as the user types.
    await expect(page.getByText('✓').first()).toBeVisible();
    await expect(field(page, 'Version')).toHaveValue('1.0');
    await expect(page.getByText('The name cannot be changed after creation.')).toBeVisible();
    await field(page, 'Name').fill('???');
    await expect(nameError(page)).toHaveText('The name must contain at least one letter or digit.');
    await field(page, 'Name').fill('');
    await expect(nameError(page)).toHaveText('Name is required.');
    await field(page, 'Version').fill('1 0');
    await expect(versionError(page)).toContainText('Use only letters, digits');
    await field(page, 'Version').fill('');
    await expect(versionError(page)).toHaveText('Version is required.');
    await next.click();
    await expect(page.getByText('Please confirm if you want to create the client')).toHaveCount(0);
    await expect(field(page, 'Name')).toBeFocused();

    await field(page, 'Name').fill('Janes Test Client');
    await field(page, 'Version').fill('1.0');
    await field(page, 'Description').fill('Janes first test client');
    await expect(nameError(page)).toHaveText('');
    await shot(page, 'create-client-2-configure-details');
    await next.click();

    // Step 3: Summary (read-only); Back keeps the entries.
    await expect(
      page.getByText('Please confirm if you want to create the client with the following settings:'),
    ).toBeVisible();
    const summary = page.locator('.summary-table');
    await expect(summary).toContainText('Janes Test Client');
    await expect(summary).toContainText('1.0');
    await expect(page.getByText('Janes first test client')).toBeVisible();
    await shot(page, 'create-client-3-summary');
    await page.getByRole('button', { name: 'Back', exact: true }).click();
    await expect(field(page, 'Name')).toHaveValue('Janes Test Client');
    await expect(field(page, 'Description')).toHaveValue('Janes first test client');
    await next.click();
    await page.getByRole('button', { name: 'Create Client', exact: true }).click();

    // The new client's page.
    await page.waitForURL(new RegExp(`/orgs/${escapeRegExp(org.id)}/clients/JanesTestClient/1\\.0$`));
    await waitHydrated(page);
    await expect(page.getByRole('heading', { name: `${org.name} / Janes Test Client` })).toBeVisible();
    await expect(page.getByRole('link', { name: org.name, exact: true }).first()).toBeVisible();
    await expect(page.getByText('No contracts available')).toBeVisible();
    await expect(page.getByText('1 of 0')).toBeVisible();
    await expect(page.getByText('No policies attached')).toBeVisible();
    await expect(page.getByText('This API key is valid for all contracts of the client version')).toBeVisible();
    // The key is masked until Show; Copy shows it first (copying needs the value).
    const keyField = page.getByLabel('API key', { exact: true });
    await expect(keyField).toHaveText(/^•••• [0-9a-f]{4}$/);
    await page.getByRole('button', { name: 'Copy API key' }).click();
    // (The Keys list shows the key and its "Copied" too.)
    await expect(page.getByText('Copied').first()).toBeVisible();
    const key = (await keyField.innerText()).trim();
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    await expect(page.getByText('Pending Approvals')).toBeVisible();
    await expect(page.getByText('Active Contracts')).toBeVisible();
    await shot(page, 'client-page-overview');

    // Every tab has its own URL, which also loads directly.
    const base = `/orgs/${org.id}/clients/JanesTestClient/1.0`;
    for (const [tab, slug, text] of [
      ['Contracts', 'contracts', 'No contracts available'],
      ['Policies', 'policies', 'No policies attached'],
      ['Metrics', 'metrics', 'No traffic yet.'],
      ['Change Log', 'changelog', 'Created client Janes Test Client version 1.0'],
    ] as const) {
      await page.getByRole('link', { name: tab, exact: true }).click();
      await expect(page).toHaveURL(new RegExp(`${escapeRegExp(base)}/${slug}$`));
      await expect(page.getByText(text).first()).toBeVisible();
      await gotoHydrated(page, `${base}/${slug}`);
      await expect(page.getByText(text).first()).toBeVisible();
    }
    await page.getByRole('link', { name: 'Overview', exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${escapeRegExp(base)}$`));

    // The page also works on a phone.
    await page.setViewportSize({ width: 390, height: 844 });
    await expect(page.getByRole('heading', { name: `${org.name} / Janes Test Client` })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Create', exact: true })).toBeVisible();
    await shot(page, 'client-page-overview-390');
    await page.setViewportSize({ width: 1280, height: 800 });

    // A second client with the same name is refused while typing.
    await gotoHydrated(page, `/create/client?org=${org.id}`);
    await next.click();
    await field(page, 'Name').fill('Janes Test Client');
    await expect(nameError(page)).toHaveText(
      `A client named 'Janes Test Client' already exists in ${org.name}.`,
    );
  });

  test('Cancel creates nothing; the empty Clients tab opens the wizard with the organization set', async ({
    page,
  }) => {
    await signIn(page, ADMIN.email, ADMIN.password);
    const org = await createOrg(page);

    await gotoHydrated(page, `/orgs/${org.id}/clients`);
    await expect(page.getByText('No clients yet.')).toBeVisible();
    await page.getByRole('link', { name: 'Click here to create a new client' }).click();
    await page.waitForURL(new RegExp(`/create/client\\?org=${escapeRegExp(org.id)}$`));
    await waitHydrated(page);
    await expect(field(page, 'Select Organization')).toHaveValue(org.id);
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await field(page, 'Name').fill('Never Created');
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect(page.getByText('Please confirm if you want to create the client')).toBeVisible();
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.waitForURL(new RegExp(`/orgs/${escapeRegExp(org.id)}/clients$`));
    await expect(page.getByText('No clients yet.')).toBeVisible();
    await gotoHydrated(page, `/orgs/${org.id}/clients`);
    await expect(page.getByText('No clients yet.')).toBeVisible();
  });

  test('a Viewer does not see the organization in step 1', async ({ page }) => {
    const viewer = { email: `${unique('viewer')}@example.com`, displayName: 'Vera Viewer', password: 'viewer-password-123' };
    await signUp(page, viewer);
    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'Sign out' }).click();
    await page.waitForURL(/\/signin/);

    await signIn(page, ADMIN.email, ADMIN.password);
    const org = await createOrg(page, 'Viewer Org ');
    await gotoHydrated(page, `/orgs/${org.id}/members`);
    await field(page, 'Email').fill(viewer.email);
    await page.getByLabel('Role', { exact: true }).selectOption({ label: 'Viewer' });
    await page.getByRole('button', { name: 'Add member', exact: true }).click();
    await expect(page.getByRole('cell', { name: viewer.email })).toBeVisible();
    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'Sign out' }).click();
    await page.waitForURL(/\/signin/);

    await signIn(page, viewer.email, viewer.password);
    await gotoHydrated(page, '/create/client');
    await expect(page.getByText('You cannot create clients in any organization yet')).toBeVisible();
    await expect(page.getByRole('option', { name: org.name })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Next', exact: true })).toBeDisabled();
    // The organization itself is visible to the Viewer.
    await gotoHydrated(page, `/orgs/${org.id}`);
    await expect(page.getByRole('heading', { name: org.name })).toBeVisible();
  });
});
