import { createOrg, createThroughWizard, expect, PASSWORD, signUp, tab, test, unique } from './fixtures';

// A field's error goes away as the user corrects the field, without sending the form again.
test('the Add Policy form clears a field error as the field is corrected', async ({ page }) => {
  await signUp(page, { email: `${unique('fiona')}@example.com`, displayName: 'Fiona Forms', password: PASSWORD });
  const org = await createOrg(page, 'Forms ');
  await createThroughWizard(page, 'plan', org.id, 'Checked');
  await tab(page, 'Policies').click();
  await page.getByRole('button', { name: 'Click here to attach a new policy' }).first().click();
  const wizard = page.getByRole('dialog', { name: 'Add Policy' });
  await wizard.getByRole('button', { name: 'Rate Limiting', exact: true }).click();

  // The server refuses 0; the message stays while the field is unchanged.
  await wizard.getByLabel('Limit').fill('0');
  await wizard.getByRole('button', { name: 'Add Policy' }).click();
  await expect(wizard.getByText('Enter a limit of at least 1.')).toBeVisible();
  await wizard.getByLabel('Period').selectOption('Hour');
  await expect(wizard.getByText('Enter a limit of at least 1.')).toBeVisible();
  await wizard.getByLabel('Limit').fill('5');
  await expect(wizard.getByText('Enter a limit of at least 1.')).toHaveCount(0);

  // What does not read as a number is the form's own message, checked again as the user types.
  await wizard.getByLabel('Limit').fill('');
  await wizard.getByRole('button', { name: 'Add Policy' }).click();
  const own = wizard.getByText('Enter the number of requests, a whole number of at least 1.');
  await expect(own).toBeVisible();
  await expect(wizard.getByLabel('Limit')).toBeFocused();
  await wizard.getByLabel('Limit').fill('7');
  await expect(own).toHaveCount(0);
  await wizard.getByRole('button', { name: 'Add Policy' }).click();
  await expect(page.getByText('Policy added.').last()).toBeVisible();
});
