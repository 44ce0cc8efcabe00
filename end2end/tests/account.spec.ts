import type { Page } from '@playwright/test';

import {
  ADMIN,
  PASSWORD,
  expect,
  field,
  gotoHydrated,
  shot,
  signIn,
  signUp,
  test,
  unique,
  waitHydrated,
} from './fixtures';

// The forced password change of the default administrator is walked by account.setup.ts (the
// `setup` project every spec depends on).

/** A card of the Account settings page, by its title. */
const card = (page: Page, title: string) =>
  page.locator('section.card', { has: page.getByRole('heading', { name: title, exact: true }) });

test.describe('Account settings', () => {
  test('Change password signs out the other browser, keeps this one', async ({ page, browser }) => {
    const email = `${unique('jane').toLowerCase()}@example.com`;
    await signUp(page, { email, displayName: 'Jane Account', password: PASSWORD });

    // The same account in another browser.
    const other = await browser.newContext();
    const otherPage = await other.newPage();
    await signIn(otherPage, email, PASSWORD);
    await gotoHydrated(otherPage, '/orgs');
    await expect(otherPage).toHaveURL(/\/orgs$/);

    // Account settings from the user menu.
    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'Account settings' }).click();
    await expect(page).toHaveURL(/\/account$/);
    await waitHydrated(page);
    await expect(page.getByRole('heading', { name: 'Account settings', level: 1 })).toBeVisible();

    const password = card(page, 'Change password');
    // A wrong current password: refused next to its field.
    await password.getByLabel(/^\s*Current password\b/).fill('not my password at all');
    await password.getByLabel(/^\s*New password\b/).fill('a brand new password');
    await password.getByLabel(/^\s*Repeat the new password\b/).fill('a brand new password');
    await password.getByRole('button', { name: 'Change password' }).click();
    await expect(password.getByText('This is not your current password.')).toBeVisible();

    await password.getByLabel(/^\s*Current password\b/).fill(PASSWORD);
    await password.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByText('Password changed. Your other sessions have been signed out and your tokens revoked.')).toBeVisible();
    await shot(page, 'account-settings');

    // This session stays; the other browser is signed out.
    await gotoHydrated(page, '/orgs');
    await expect(page).toHaveURL(/\/orgs$/);
    await otherPage.goto('/orgs');
    await expect(otherPage).toHaveURL(/\/signin\?next=%2Forgs$/);
    await other.close();

    // The new password is the one that works now.
    await page.context().clearCookies();
    await signIn(page, email, 'a brand new password');
    await expect(page.getByRole('button', { name: 'Account menu' })).toBeVisible();
  });

  test('The email change asks for the current password', async ({ page }) => {
    const email = `${unique('mail').toLowerCase()}@example.com`;
    await signUp(page, { email, displayName: 'Mail Changer', password: PASSWORD });
    await gotoHydrated(page, '/account');
    const mail = card(page, 'Email');
    const changed = `new-${email}`;
    await mail.getByLabel(/^\s*Email\b/).fill(changed);
    await mail.getByRole('button', { name: 'Change email' }).click();
    await expect(mail.getByText('Enter your current password.')).toBeVisible();
    await mail.getByLabel(/^\s*Current password\b/).fill(PASSWORD);
    await mail.getByRole('button', { name: 'Change email' }).click();
    await expect(page.getByText(`Your email address is now ${changed}.`)).toBeVisible();
  });

  test('A portal-only account has its Account settings in the portal', async ({ page }) => {
    const email = `${unique('dev').toLowerCase()}@example.com`;
    await gotoHydrated(page, '/signup?next=%2Fportal%2Fapis');
    await field(page, 'Email').fill(email);
    await field(page, 'Display name').fill('Portal Dev');
    await field(page, 'Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    await page.waitForURL(/\/portal\/apis$/);
    await waitHydrated(page);

    await page.getByRole('link', { name: 'Account settings' }).click();
    await expect(page).toHaveURL(/\/portal\/account$/);
    await waitHydrated(page);
    await expect(page.getByRole('heading', { name: 'Account settings', level: 1 })).toBeVisible();
    // The portal's shell, no API Management.
    await expect(page.getByRole('navigation', { name: 'Portal' })).toBeVisible();
    await expect(page.getByRole('link', { name: 'API Management' })).toHaveCount(0);

    const profile = card(page, 'Profile');
    await profile.getByLabel(/^\s*Display name\b/).fill('Portal Developer');
    await profile.getByRole('button', { name: 'Save display name' }).click();
    await expect(page.getByText('Display name saved.')).toBeVisible();
    await shot(page, 'portal-account-settings');

    // /account leads portal-only accounts to the same page in the portal.
    await page.goto('/account');
    await expect(page).toHaveURL(/\/portal\/account$/);
    await waitHydrated(page);
    await expect(card(page, 'Profile').getByLabel(/^\s*Display name\b/)).toHaveValue('Portal Developer');
  });

  test('An administrator sets a temporary password, which its owner must replace', async ({ page }) => {
    const email = `${unique('temp').toLowerCase()}@example.com`;
    await signUp(page, { email, displayName: 'Temp Owner', password: PASSWORD });
    await page.context().clearCookies();
    await signIn(page, ADMIN.email, ADMIN.password);

    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'Accounts and settings' }).click();
    await expect(page).toHaveURL(/\/admin\/accounts$/);
    await waitHydrated(page);
    await page.getByLabel('Search accounts').fill(email);
    await page.getByRole('button', { name: `Set a temporary password for ${email}` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/^\s*Temporary password\b/).fill('a temporary password');
    await dialog.getByRole('button', { name: 'Set temporary password' }).click();
    await expect(page.getByText(`Temporary password set for ${email}.`, { exact: false })).toBeVisible();
    await expect(page.getByText('Must change password')).toBeVisible();

    await page.context().clearCookies();
    await gotoHydrated(page, '/signin');
    await field(page, 'Email').fill(email);
    await field(page, 'Password').fill('a temporary password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL('**/choose-password');
    await waitHydrated(page);
    await field(page, 'Current password').fill('a temporary password');
    await field(page, 'New password').fill('my very own password');
    await field(page, 'Repeat the new password').fill('my very own password');
    await page.getByRole('button', { name: 'Save new password' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await waitHydrated(page);
    await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  });
});
