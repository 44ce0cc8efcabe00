import {
  ADMIN,
  escapeRegExp,
  expect,
  field,
  fillSignUp,
  gotoHydrated,
  signIn,
  signUp,
  test,
  unique,
  waitHydrated,
} from './fixtures';

test.describe('authentication', () => {
  test('signed-out visitors are sent to sign in; a wrong password is rejected', async ({ page }) => {
    await gotoHydrated(page, '/');
    await expect(page).toHaveURL(/\/signin\?next=%2F$/);
    await expect(page.getByRole('heading', { name: 'Sign in to Tollgate', exact: true })).toBeVisible();

    await field(page, 'Email').fill(ADMIN.email);
    await field(page, 'Password').fill(`${ADMIN.password}-wrong`);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    await expect(page.getByText('Invalid email or password.')).toBeVisible();
    await expect(page).toHaveURL(/\/signin/);
  });

  test('the admin signs in and sees the dashboard and the account menu', async ({ page }) => {
    await signIn(page, ADMIN.email, ADMIN.password);
    await expect(page.getByRole('heading', { name: 'Dashboard', exact: true })).toBeVisible();

    await page.getByRole('button', { name: 'Account menu', exact: true }).click();
    await expect(page.getByText(ADMIN.email).filter({ visible: true }).first()).toBeVisible();
  });
});

test.describe('organizations', () => {
  test('the admin creates an organization with the wizard', async ({ page }) => {
    const name = unique('ACME Support ');
    const id = name.replace(/\s+/g, '');

    await signIn(page, ADMIN.email, ADMIN.password);
    await expect(page.getByRole('heading', { name: 'Dashboard', exact: true })).toBeVisible();

    // Floating "Create" button -> "Create Organization".
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('menuitem', { name: 'Create Organization' }).click();

    // Step 1: details.
    await expect(page.getByText(/1\s*Configure Details/).first()).toBeVisible();
    await expect(page.getByText(/2\s*Summary/).first()).toBeVisible();
    await waitHydrated(page);
    await field(page, 'Name').fill(name);
    await field(page, 'Description').fill('Customer support for ACME, created by Playwright.');
    await page.getByRole('button', { name: 'Next', exact: true }).click();

    // Step 2: summary.
    await expect(page.getByText(name).first()).toBeVisible();
    await expect(page.getByText('✓').first()).toBeVisible();
    await page.getByRole('button', { name: 'Create Organization', exact: true }).click();

    // The new organization's page.
    await page.waitForURL(new RegExp(`/orgs/${escapeRegExp(id)}$`, 'i'));
    await waitHydrated(page);
    await expect(page.getByRole('heading', { name }).first()).toBeVisible();

    // Listed on /orgs (top-bar navigation link).
    await page
      .getByRole('link', { name: 'Organizations', exact: true })
      .filter({ visible: true })
      .first()
      .click();
    await page.waitForURL(/\/orgs\/?$/);
    await waitHydrated(page);
    await expect(page.getByRole('link', { name }).first()).toBeVisible();
  });
});

test.describe('sign-out', () => {
  test('signing out ends the session', async ({ page }) => {
    await signIn(page, ADMIN.email, ADMIN.password);
    await expect(page.getByRole('heading', { name: 'Dashboard', exact: true })).toBeVisible();

    await page.getByRole('button', { name: 'Account menu', exact: true }).click();
    await page.getByRole('menuitem', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(/\/signin/);
    await waitHydrated(page);
    await expect(page.getByRole('heading', { name: 'Sign in to Tollgate', exact: true })).toBeVisible();

    await gotoHydrated(page, '/orgs');
    await expect(page).toHaveURL(/\/signin/);
    await expect(page.getByRole('heading', { name: 'Sign in to Tollgate', exact: true })).toBeVisible();
  });
});

test.describe('sign-up', () => {
  test('a password shorter than 12 characters is rejected', async ({ page }) => {
    await fillSignUp(page, {
      email: `${unique('short')}@example.com`,
      displayName: 'Short Password',
      password: 'elevenchars', // 11 characters
    });

    await expect(page.getByText('Password must be at least 12 characters.')).toBeVisible();
    await expect(page).toHaveURL(/\/signup/);
  });

  test('a new user signs up and lands on the dashboard', async ({ page }) => {
    const email = `${unique('user')}@example.com`;
    await signUp(page, {
      email,
      displayName: 'Erin Example',
      password: 'a-long-enough-password',
    });

    await expect(page.getByRole('heading', { name: 'Dashboard', exact: true })).toBeVisible();
    await page.getByRole('button', { name: 'Account menu', exact: true }).click();
    await expect(page.getByText(email).filter({ visible: true }).first()).toBeVisible();
  });
});
