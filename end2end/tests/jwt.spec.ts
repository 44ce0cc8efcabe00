import {
  createOrg,
  createThroughWizard,
  expect,
  headerStatus,
  PASSWORD,
  shot,
  signUp,
  startBackend,
  startOidcProvider,
  tab,
  test,
  unique,
} from './fixtures';

// A public API guarded by JWT Validation and Authorization, both attached through the Add
// Policy wizard, called through the gateway with tokens of a real OpenID provider.
test('JWT Validation and Authorization attached through the wizard let in the tokens of an OpenID provider', async ({
  page,
  request,
}) => {
  test.setTimeout(180_000);
  const backend = await startBackend();
  const idp = await startOidcProvider();
  try {
    await signUp(page, { email: `${unique('jules')}@example.com`, displayName: 'Jules Tokens', password: PASSWORD });
    const org = await createOrg(page, 'Tokens ');
    const apiName = unique('Forecast');
    await createThroughWizard(page, 'api', org.id, apiName, backend.url);

    // Public: the token is the only credential.
    await tab(page, 'Implementation').click();
    await page.getByLabel('Public API (callable without an API key or contract)').check();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(page.getByText('Implementation saved.')).toBeVisible();

    // JWT Validation: the provider's JWKS, its issuer and the audience; two claims forwarded.
    await tab(page, 'Policies').click();
    await page.getByRole('button', { name: 'Click here to attach a new policy' }).first().click();
    const wizard = page.getByRole('dialog', { name: 'Add Policy' });
    await wizard.getByRole('button', { name: 'JWT Validation', exact: true }).click();
    await expect(wizard.getByLabel('RS256')).toBeChecked();
    // A JWKS URL is required for RS256: the message shows next to it and goes as it is filled.
    await wizard.getByRole('button', { name: 'Add Policy' }).click();
    const jwksUrl = wizard.getByLabel('JWKS URL');
    const jwksMessage = wizard.getByText('Enter the JWKS URL of the identity provider, or add a static key.');
    await expect(jwksMessage).toBeVisible();
    await jwksUrl.fill(`${idp.issuer}/jwks`);
    await expect(jwksMessage).toHaveCount(0);
    await wizard.getByLabel('Issuer (optional)').fill(idp.issuer);
    await wizard.getByLabel('Audiences (one per line, optional)').fill('https://weather.example');
    const forwarded = wizard.getByRole('group', { name: 'Sent to the back end' });
    for (const [claim, header] of [
      ['tenant', 'X-Tenant'],
      ['roles', 'X-Roles'],
    ]) {
      await forwarded.getByRole('button', { name: 'Add claim header' }).click();
      await forwarded.getByLabel('Claim', { exact: true }).last().fill(claim);
      await forwarded.getByLabel('Request header', { exact: true }).last().fill(header);
    }
    await shot(page, 'policy-wizard-jwt');
    await wizard.getByRole('button', { name: 'Add Policy' }).click();
    await expect(page.getByText('Policy added.').last()).toBeVisible();

    // Authorization: /admin/... needs admin, anything else reader; no match is refused.
    await page.getByRole('button', { name: 'Click here to attach a new policy' }).first().click();
    await wizard.getByRole('button', { name: 'Authorization', exact: true }).click();
    await wizard.getByLabel('Roles claim').fill('roles');
    const rules = wizard.getByRole('group', { name: 'Rules' });
    await rules.getByLabel('Path pattern (regex)').fill('/admin/.*');
    await rules.getByLabel('Required roles (any of)').fill('admin');
    await rules.getByRole('button', { name: 'Add rule' }).click();
    await rules.getByLabel('Path pattern (regex)').last().fill('/.*');
    await rules.getByLabel('Required roles (any of)').last().fill('reader, reader');
    await wizard.getByRole('button', { name: 'Add Policy' }).click();
    // The server's refusal names the rule it broke, next to the field; correcting it clears it.
    const roleMessage = wizard.getByText("'reader' is listed twice.");
    await expect(roleMessage).toBeVisible();
    await rules.getByLabel('Required roles (any of)').last().fill('reader');
    await expect(roleMessage).toHaveCount(0);
    await wizard.getByLabel('When no rule matches').selectOption({ label: 'Refuse it (403 Forbidden)' });
    await shot(page, 'policy-wizard-authorization');
    await wizard.getByRole('button', { name: 'Add Policy' }).click();
    // The first policy's toast may still be showing: the newest one is this policy's.
    await expect(page.getByText('Policy added.').last()).toBeVisible();
    await expect(page.getByRole('button', { name: 'Edit JWT Validation' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Edit Authorization' })).toBeVisible();
    // The chain a call without a key meets, each policy titled with its description.
    const keyless = page.getByRole('list', { name: 'Policy chain without an API key' });
    await expect(keyless.getByTitle(/^Requires a JWT \(RS256\)/)).toHaveText('JWT Validation');
    await expect(keyless.getByTitle('2 rules on roles from roles; other requests are denied')).toHaveText('Authorization');
    await shot(page, 'api-policies-jwt');

    // Published; the gateway URL from the Overview.
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Publish' }).click();
    await expect(headerStatus(page)).toContainText('Published');
    await tab(page, 'Overview').click();
    const gatewayUrl = (await page.getByLabel('Gateway URL', { exact: true }).innerText()).trim();

    const reader = await idp.token('weather-reader');
    const admin = await idp.token('weather-admin');
    const call = (path: string, token?: string) =>
      request.get(`${gatewayUrl}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });

    // The publication reaches the gateway within a second: until then the API is unknown (404).
    let first = await call('/forecast', reader);
    for (let tries = 0; first.status() === 404 && tries < 40; tries++) {
      await page.waitForTimeout(100);
      first = await call('/forecast', reader);
    }
    expect(first.status()).toBe(200);
    const seen = (await first.json()).headers;
    expect(seen['x-tenant']).toBe('acme');
    expect(seen['x-roles']).toBe('reader');
    expect(seen.authorization).toBeUndefined();

    // No token: 401 with the RFC 6750 challenge.
    const none = await call('/forecast');
    expect(none.status()).toBe(401);
    expect(none.headers()['x-policy-failure-code']).toBe('10040');
    expect(none.headers()['www-authenticate']).toContain('Bearer');

    // Another audience: 401, a code of its own.
    const maps = await call('/forecast', await idp.token('weather-reader', 'https://maps.example'));
    expect(maps.status()).toBe(401);
    expect(maps.headers()['x-policy-failure-code']).toBe('10044');
    expect(maps.headers()['www-authenticate']).toContain('error="invalid_token"');

    // A missing role: 403 from Authorization; the admin passes.
    const denied = await call('/admin/stats', reader);
    expect(denied.status()).toBe(403);
    expect(denied.headers()['x-policy-failure-code']).toBe('10046');
    expect((await call('/admin/stats', admin)).status()).toBe(200);
  } finally {
    idp.close();
    await backend.close();
  }
});
