import { ADMIN, expect, field, gotoHydrated, shot, test, waitHydrated } from './fixtures';

// The forced password change of the default administrator, through the browser. Runs before
// every other spec (the `setup` project), which then sign in with ADMIN.password.
test('the default administrator must choose a new password before any other page', async ({ page }) => {
  await gotoHydrated(page, '/signin');
  await field(page, 'Email').fill(ADMIN.email);
  await field(page, 'Password').fill(ADMIN.initialPassword);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();

  if (!ADMIN.mustChangePassword) {
    // An operator-chosen password: nothing to change.
    await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
    return;
  }
  // An earlier run on the same database changed it already: the initial one is refused.
  const refused = page.getByText('Invalid email or password.');
  await Promise.race([
    page.waitForURL('**/choose-password').catch(() => undefined),
    refused.waitFor().catch(() => undefined),
  ]);
  if (await refused.isVisible()) {
    await field(page, 'Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/');
    return;
  }
  await expect(page).toHaveURL(/\/choose-password$/);

  await waitHydrated(page);
  await expect(page.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
  await shot(page, 'choose-password');

  // No other page until it is done.
  await page.goto('/orgs');
  await expect(page).toHaveURL(/\/choose-password$/);
  await page.goto('/portal');
  await expect(page).toHaveURL(/\/choose-password$/);
  await waitHydrated(page);

  // The sign-up rules apply, next to the field.
  await field(page, 'Current password').fill(ADMIN.initialPassword);
  await field(page, 'New password').fill('too short');
  await field(page, 'Repeat the new password').fill('too short');
  await page.getByRole('button', { name: 'Save new password' }).click();
  await expect(page.getByText('Password must be at least 12 characters.')).toBeVisible();

  await field(page, 'New password').fill(ADMIN.password);
  await field(page, 'Repeat the new password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Save new password' }).click();
  await page.waitForURL((url) => url.pathname === '/');
  await waitHydrated(page);
  await expect(page.getByRole('button', { name: 'Account menu' })).toBeVisible();

  // Now every page is open, and the old password is gone.
  await gotoHydrated(page, '/orgs');
  await expect(page).toHaveURL(/\/orgs$/);
});
