import type { Page } from '@playwright/test';

import { PASSWORD, createOrg, expect, field, gotoHydrated, shot, signUp, test, unique } from './fixtures';

/** The Personal access tokens card of Account settings. */
const tokensCard = (page: Page) =>
  page.locator('section.card', {
    has: page.getByRole('heading', { name: 'Personal access tokens', exact: true }),
  });

test.describe('Personal access tokens', () => {
  test('Generate a token (shown once), list it, revoke it', async ({ page }) => {
    const email = `${unique('tok').toLowerCase()}@example.com`;
    await signUp(page, { email, displayName: 'Toni Tokens', password: PASSWORD });
    const org = await createOrg(page, 'Tokens ');

    await gotoHydrated(page, '/account');
    const card = tokensCard(page);
    await expect(card.getByText('No personal access tokens yet')).toBeVisible();

    // The form checks what it can before it asks the server.
    await card.getByRole('button', { name: 'Generate new token' }).click();
    await card.getByRole('button', { name: 'Generate token' }).click();
    await expect(card.getByText('Give the token a name, so that you know what it is for.')).toBeVisible();
    await expect(field(page, 'Name')).toBeFocused();

    await field(page, 'Name').fill('Deploy pipeline');
    await card.getByLabel(/^\s*Expiration\b/).selectOption({ label: '90 days' });
    await card.getByRole('radio', { name: /Read and write/ }).check();
    await card.getByLabel('Limit to organizations').check();
    // Limited to none: refused next to the list.
    await card.getByRole('button', { name: 'Generate token' }).click();
    await expect(card.getByText('Choose at least one organization, or allow all of them.')).toBeVisible();
    await card.getByRole('group', { name: 'Organizations' }).getByLabel(org.name).check();
    await expect(card.getByText('Choose at least one organization, or allow all of them.')).toBeHidden();
    await card.getByRole('button', { name: 'Generate token' }).click();

    // Shown once, with its Copy button.
    await expect(card.getByText("Make sure to copy your token now. You won't be able to see it again.")).toBeVisible();
    const secretField = card.getByLabel('New personal access token', { exact: true });
    const secret = (await secretField.textContent())?.trim() ?? '';
    expect(secret).toMatch(/^tgp_[0-9A-Za-z]{36}$/);
    await expect(card.getByRole('button', { name: 'Copy New personal access token' })).toBeVisible();

    // Listed, never used, active.
    const row = card.getByRole('row', { name: /Deploy pipeline/ });
    await expect(row).toContainText('Read and write');
    await expect(row).toContainText(org.name);
    await expect(row).toContainText('Never used');
    await expect(row).toContainText('Active');
    await expect(row).toContainText(`tgp_…${secret.slice(-4)}`);
    await shot(page, 'access-tokens');

    // After a reload the token is gone from the page; the row stays.
    await page.reload();
    await expect(page.locator('html.hydrated')).toBeAttached();
    await expect(tokensCard(page).getByRole('row', { name: /Deploy pipeline/ })).toBeVisible();
    expect(await page.content()).not.toContain(secret);

    // Revoke, with a confirmation that names the token.
    await tokensCard(page).getByRole('button', { name: 'Revoke Deploy pipeline' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Revoke “Deploy pipeline”?' });
    await expect(dialog).toContainText('Scripts and pipelines that use “Deploy pipeline” are refused from now on.');
    await dialog.getByRole('button', { name: 'Revoke token' }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByText('Token “Deploy pipeline” revoked.')).toBeVisible();
    const revoked = tokensCard(page).getByRole('row', { name: /Deploy pipeline/ });
    await expect(revoked).toContainText('Revoked');
    await expect(revoked.getByRole('button', { name: 'Revoke Deploy pipeline' })).toHaveCount(0);
  });
});
