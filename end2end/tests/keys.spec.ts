import type { APIRequestContext } from '@playwright/test';
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
} from './fixtures';

/** The status of one call through the gateway with `key` in the X-API-Key header. */
async function call(request: APIRequestContext, url: string, key: string): Promise<number> {
  const res = await request.get(`${url}/hello`, { headers: { 'X-API-Key': key } });
  return res.status();
}

/** Key changes reach the gateway within a second: poll for a little longer. */
const GATEWAY_DELAY = { timeout: 3_000, intervals: [100] };

test('keys: rotate with an overlap, both keys answer, revoke the old one, bring your own key, the portal shows the keys', async ({
  page,
  request,
}) => {
  test.setTimeout(180_000);
  const backend = await startBackend();
  try {
    const owner = { email: `${unique('kim')}@example.com`, displayName: 'Kim Keys', password: PASSWORD };
    await signUp(page, owner);
    const org = await createOrg(page, 'Keys ');

    // An open plan, an API on a real backend offering it, a client with a contract, registered.
    await createThroughWizard(page, 'plan', org.id, 'Open');
    await lockPlan(page);
    const apiName = unique('Echo');
    await createThroughWizard(page, 'api', org.id, apiName, backend.url);
    await offerAndPublish(page, [{ plan: 'Open', approval: false }], 'All users');
    const clientName = unique('Keyed');
    await createThroughWizard(page, 'client', org.id, clientName);
    await tab(page, 'Contracts').click();
    await page.getByRole('button', { name: 'New Contract' }).click();
    const contract = page.getByRole('dialog', { name: 'New Contract' });
    await contract.getByLabel('API').selectOption({ label: `${apiName} 1.0` });
    await contract.getByRole('button', { name: 'Create Contract' }).click();
    await expect(page.getByText('Contract created.')).toBeVisible();
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await expect(headerStatus(page)).toContainText('Registered');
    const gatewayUrl = (await page.getByRole('cell').filter({ hasText: /^https?:\/\// }).first().innerText()).trim();
    await tab(page, 'Overview').click();

    // The API Key card: the key is masked until Show.
    const keyField = page.getByLabel('API key', { exact: true });
    await expect(keyField).toHaveText(/^•••• \S{4}$/);
    await expect(page.getByText('This API key is valid for all contracts of the client version')).toBeVisible();
    const first = await showApiKey(page);
    const first4 = first.slice(-4);
    await expect.poll(() => call(request, gatewayUrl, first), GATEWAY_DELAY).toBe(200);
    await page.getByRole('button', { name: 'Hide API key' }).click();
    await expect(keyField).toHaveText(`•••• ${first4}`);

    // Rotate: the overlap to pick; a date must lie ahead (UTC).
    await page.getByRole('button', { name: 'Rotate key' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate key' });
    await expect(rotate).toContainText(`The current key …${first4} keeps working`);
    await expect(rotate.getByRole('radio', { name: /^1 day/ })).toBeChecked();
    await rotate.getByRole('radio', { name: /^Until a date/ }).check();
    await rotate.getByLabel('Until (UTC)').fill('2020-01-01T00:00');
    await expect(rotate.getByText('Pick a moment in the future.')).toBeVisible();
    await expect(rotate.getByRole('button', { name: 'Rotate key' })).toBeDisabled();
    await rotate.getByRole('radio', { name: /^1 day/ }).check();
    await expect(rotate.getByLabel('Until (UTC)')).toHaveCount(0);
    await rotate.getByLabel('Label for the new key').fill('Production');
    await shot(page, 'keys-rotate-dialog');
    await rotate.getByRole('button', { name: 'Rotate key' }).click();

    // The new key, shown once, and the old key's end.
    const rotated = page.getByRole('dialog', { name: 'Key rotated' });
    const second = (await rotated.getByLabel('New API key', { exact: true }).innerText()).trim();
    const second4 = second.slice(-4);
    expect(second).not.toBe(first);
    await expect(rotated).toContainText(`The previous key …${first4} keeps working until`);
    await shot(page, 'keys-new-key-dialog');
    await rotated.getByRole('button', { name: 'Done' }).click();

    // The card shows the new key; the Keys list both, the old one expiring.
    await expect(keyField).toHaveText(`•••• ${second4}`);
    await expect(page.getByRole('list', { name: 'Other working keys' })).toContainText(`…${first4}`);
    const keys = page.getByRole('region', { name: 'Keys', exact: true });
    const firstRow = keys.getByRole('row').filter({ hasText: `…${first4}` });
    const secondRow = keys.getByRole('row').filter({ hasText: `…${second4}` });
    await expect(firstRow).toContainText('Expiring on');
    await expect(secondRow).toContainText('Active');
    await expect(secondRow).toContainText('Production');
    await expect(secondRow).toContainText('Current');

    // Both keys answer 200 through the real backend during the overlap.
    await expect.poll(() => call(request, gatewayUrl, second), GATEWAY_DELAY).toBe(200);
    expect(await call(request, gatewayUrl, first)).toBe(200);

    // Revoke the old key: the confirmation names it; it answers 401 (10030) within a second or two.
    await keys.getByRole('button', { name: `Revoke key …${first4}` }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Revoke key' });
    await expect(confirm).toContainText(`Revoke the key …${first4}? Requests with it are refused at once.`);
    await confirm.getByRole('button', { name: 'Revoke key' }).click();
    await expect(page.getByText(`The key …${first4} was revoked.`)).toBeVisible();
    await expect(firstRow).toContainText('Revoked on');
    await expect(firstRow.getByRole('button', { name: `Revoke key …${first4}` })).toHaveCount(0);
    await expect.poll(() => call(request, gatewayUrl, first), GATEWAY_DELAY).toBe(401);
    const refused = await request.get(`${gatewayUrl}/hello`, { headers: { 'X-API-Key': first } });
    expect((await refused.json()).failureCode).toBe(10030);
    expect(await call(request, gatewayUrl, second)).toBe(200);

    // Bring your own key: checked as you type, refusals name the rule; a key in use is refused.
    await page.getByRole('button', { name: 'Add key' }).click();
    const add = page.getByRole('dialog', { name: 'Add key' });
    await add.getByLabel('Bring your own key').check();
    const ownField = add.getByLabel(/^Your key/);
    await ownField.fill('legacy-key-01');
    await expect(add.getByText('A key has at least 20 characters (this one has 13).')).toBeVisible();
    await expect(add.getByRole('button', { name: 'Add key' })).toBeDisabled();
    await ownField.fill('legacy key from the old gateway');
    await expect(add.getByText(/U\+0020 is not allowed/)).toBeVisible();
    await ownField.fill(second);
    await add.getByRole('button', { name: 'Add key' }).click();
    await expect(add.getByText('This key is already in use; choose another one.')).toBeVisible();
    const own = `legacy-gateway-${unique('k')}`;
    const own4 = own.slice(-4);
    await ownField.fill(own);
    await add.getByLabel('Label', { exact: true }).fill('Migrated');
    await add.getByRole('button', { name: 'Add key' }).click();
    const added = page.getByRole('dialog', { name: 'Key added' });
    await expect(added.getByLabel('New API key', { exact: true })).toHaveText(own);
    await added.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => call(request, gatewayUrl, own), GATEWAY_DELAY).toBe(200);
    await expect(keys.getByRole('row').filter({ hasText: `…${own4}` })).toContainText('Migrated');
    await expect(page.getByText('2 working keys of 3')).toBeVisible();
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'keys-client-overview');

    // Each Show is a Change Log row.
    await tab(page, 'Change Log').click();
    await expect(page.getByText(`API key …${first4} shown to ${owner.displayName}`)).toBeVisible();
    await expect(page.getByText(`Revoked the API key …${first4}`)).toBeVisible();

    // The portal's My Clients: the same key card and list; the example carries the key once shown.
    await gotoHydrated(page, '/portal/clients');
    const card = page.getByRole('region', { name: `${clientName} 1.0` });
    await expect(card.getByLabel('API key', { exact: true })).toHaveText(`•••• ${own4}`);
    await expect(card.getByText('X-API-Key')).toContainText('YOUR-API-KEY');
    const list = card.getByRole('region', { name: 'Keys', exact: true });
    await expect(list.getByRole('row')).toHaveCount(4);
    await expect(list.getByRole('row').filter({ hasText: `…${first4}` })).toContainText('Revoked on');
    expect(await showApiKey(card)).toBe(own);
    await expect(card.getByText('X-API-Key')).toContainText(own);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'keys-portal-card');

    // Revoking from the portal works the same way.
    await list.getByRole('button', { name: `Revoke key …${own4}` }).click();
    const portalConfirm = page.getByRole('alertdialog', { name: 'Revoke key' });
    await expect(portalConfirm).toContainText(`Revoke the key …${own4}?`);
    await portalConfirm.getByRole('button', { name: 'Revoke key' }).click();
    await expect(list.getByRole('row').filter({ hasText: `…${own4}` })).toContainText('Revoked on');
    await expect(card.getByLabel('API key', { exact: true })).toHaveText(`•••• ${second4}`);
    await expect.poll(() => call(request, gatewayUrl, own), GATEWAY_DELAY).toBe(401);
    expect(await call(request, gatewayUrl, second)).toBe(200);
  } finally {
    await backend.close();
  }
});
