import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { blobObjectKey } from '@sluice/contracts';
import { isAuthenticationError } from '@sluice/uploader-sdk';
import type { Page } from 'playwright-core';
import { PHONE, screenshot } from './support/browser.js';
import { adminKeyOf, describe, eventually, expect, it } from './support/fixtures.js';

/** Blob state of an item, straight from the database. */
async function blobState(
  query: (sql: string, params?: unknown[]) => Promise<{ state: string }[]>,
  id: string,
) {
  const rows = await query('select state from blobs where id = $1', [id]);
  return rows[0]?.state;
}

async function shoot(
  page: Page,
  name: string,
  signedIn: (v?: { width: number; height: number }) => Promise<Page>,
) {
  await page
    .getByText(/^Loading/)
    .first()
    .waitFor({ state: 'hidden' });
  await screenshot(page, `${name}-desktop`);
  const phone = await signedIn(PHONE);
  await phone.goto(page.url());
  await phone.locator('main h1').first().waitFor();
  await phone
    .getByText(/^Loading/)
    .first()
    .waitFor({ state: 'hidden' });
  await screenshot(phone, `${name}-phone`, { fullPage: false });
  await phone.close();
}

describe('the web console on a real API and SDK', () => {
  it('refuses a wrong admin key and signs in with the right one, kept for the tab', async ({
    server,
    browser,
  }) => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/console/items`);
    await page.getByLabel('Admin key').fill('not-the-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('refused');
    await screenshot(page, 'login-desktop');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'login-phone');

    await page.getByLabel('Admin key').fill(adminKeyOf(server));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Items' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Items' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('sluice.adminKey'))).toBe(adminKeyOf(server));
    await page.close();
  });

  it('shows a record sent by the SDK in the live view and opens it in the explorer', async ({
    signedIn,
    startUploader,
  }) => {
    const page = await signedIn();
    await page.getByRole('link', { name: 'Live' }).click();
    await expect.poll(() => page.getByTestId('live-state').textContent()).toBe('Live');

    const uploader = await startUploader();
    const { id } = await uploader.enqueue({ type: 'checkout', data: { cart: 3, user: 'ada' } });
    await uploader.flush({ timeoutMs: 10_000 });
    const link = page.getByTestId('live-table').getByRole('link', { name: id });
    await link.waitFor();
    await shoot(page, 'live', signedIn);

    await link.click();
    await page.getByTestId('item-data').waitFor();
    expect(JSON.parse((await page.getByTestId('item-data').textContent()) ?? '')).toEqual({
      cart: 3,
      user: 'ada',
    });
    expect(await page.getByTestId('item-type').textContent()).toBe('checkout');
    await shoot(page, 'item-record', signedIn);

    await page.close();
  });

  it('searches items by type, 50 a page, with Load more on the cursor', async ({
    signedIn,
    startUploader,
  }) => {
    const uploader = await startUploader();
    for (let i = 0; i < 55; i += 1) await uploader.enqueue({ type: 'page view', data: { i } });
    await uploader.flush({ timeoutMs: 10_000 });
    const page = await signedIn();
    await page.getByRole('link', { name: 'Items', exact: true }).click();
    await page.getByLabel('Type').fill('page view');
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.getByTestId('items-table').locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(50);
    expect(page.url()).toContain('type=page+view');
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => rows.count()).toBe(55);
    await expect.poll(() => page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    await shoot(page, 'items', signedIn);
    await page.close();
  });

  it('previews a PNG screenshot blob sent by the SDK inline', async ({
    browser,
    signedIn,
    startUploader,
    server,
  }) => {
    const page = await signedIn();
    const png = await page.screenshot({ type: 'png' });
    const uploader = await startUploader();
    const { id } = await uploader.enqueueBlob({
      type: 'screenshot',
      body: new Uint8Array(png),
      contentType: 'image/png',
      meta: { screen: 'overview', note: '<b>not bold</b>' },
    });
    await uploader.flush({ timeoutMs: 10_000 });
    await eventually(
      async () => ((await blobState(server.query, id)) === 'uploaded' ? true : undefined),
      'upload',
    );

    await page.goto(`${server.url}/console/items/${server.source}/${id}`);
    const preview = page.getByTestId('blob-preview');
    await preview.waitFor();
    const size = await preview.evaluate((img: HTMLImageElement) =>
      img.complete ? { width: img.naturalWidth, src: img.src } : undefined,
    );
    expect(size?.width).toBeGreaterThan(100);
    expect(size?.src).toMatch(/^blob:/);
    await expect.poll(() => page.getByText('<b>not bold</b>', { exact: false }).count()).toBe(1);
    await shoot(page, 'item-blob', signedIn);
    expect(browser.problems).toEqual([]);
    await page.close();
  });

  it('retries failed blobs, one and then all: failed while the object store refuses them, uploaded after', async ({
    server,
    signedIn,
    startUploader,
  }) => {
    const uploader = await startUploader();
    const blobs: { id: string; blocker: string }[] = [];
    for (const name of ['first', 'second']) {
      const bytes = new TextEncoder().encode(`the ${name} blob the store refuses ${Date.now()}`);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      // A directory where the object belongs: the local object store's rename into place fails.
      const blocker = join(server.db.dataDir, 'objects', blobObjectKey(sha256));
      await mkdir(join(blocker, 'in-the-way'), { recursive: true });
      await writeFile(join(blocker, 'in-the-way', 'x'), 'x');
      const { id } = await uploader.enqueueBlob({ type: 'report', body: bytes, contentType: 'text/plain' });
      blobs.push({ id, blocker });
    }
    await uploader.flush({ timeoutMs: 10_000 });
    const [one, other] = blobs as [(typeof blobs)[0], (typeof blobs)[0]];
    const stateIs = (id: string, state: string) => async () =>
      (await blobState(server.query, id)) === state ? true : undefined;
    await eventually(stateIs(one.id, 'failed'), 'the first failure');
    await eventually(stateIs(other.id, 'failed'), 'the second failure');

    const page = await signedIn();
    await expect.poll(() => page.getByTestId('failed-count').textContent()).toBe('2');
    // Throughput of the last hour: one chart per source that stored something.
    await page.locator('.rate-row', { hasText: server.source }).locator('canvas').waitFor();
    await shoot(page, 'overview', signedIn);
    await page.getByRole('link', { name: 'Failed blobs' }).first().click();
    const row = page.getByTestId('failed-table').locator('tr', { hasText: one.id });
    await row.waitFor();
    await expect.poll(() => row.textContent()).toContain('the object store failed');
    await shoot(page, 'failed-blobs', signedIn);

    for (const { blocker } of blobs) await rm(blocker, { recursive: true, force: true });
    await row.getByRole('button', { name: 'Retry' }).click();
    await page.getByRole('status').filter({ hasText: 'queued for upload again' }).waitFor();
    await eventually(stateIs(one.id, 'uploaded'), 'the first re-upload');
    expect(await blobState(server.query, other.id)).toBe('failed');

    await page.getByRole('button', { name: 'Retry all' }).click();
    await page.getByRole('button', { name: 'Yes, retry all' }).click();
    await page.getByRole('status').filter({ hasText: '1 blob queued for upload again' }).waitFor();
    await eventually(stateIs(other.id, 'uploaded'), 'the second re-upload');
    await page.getByText('No failed blobs.').waitFor();

    await page.goto(`${server.url}/console/items/${server.source}/${one.id}`);
    await expect.poll(() => page.getByTestId('blob-state').textContent()).toBe('uploaded');
    await page.close();
  });

  it('creates a key shown once and revokes it: the SDK is refused (401) and pauses', async ({
    browser,
    server,
    signedIn,
    startUploader,
  }) => {
    const page = await signedIn();
    await page.getByRole('link', { name: 'Sources & keys' }).click();
    await page.getByLabel('Source name').fill('e2e-app');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = await page.getByTestId('new-key').inputValue();
    expect(key.length).toBeGreaterThan(16);
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied.').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    await shoot(page, 'sources-new-key', signedIn);

    const uploader = await startUploader({ apiKey: key });
    const refused = new Promise<Error>((resolve) =>
      uploader.on('error', (error) => {
        if (isAuthenticationError(error)) resolve(error);
      }),
    );
    await uploader.enqueue({ type: 'hello', data: {} });
    expect((await uploader.flush({ timeoutMs: 10_000 })).delivered).toBeGreaterThanOrEqual(1);

    await page.getByRole('button', { name: 'Done' }).click();
    const panel = page.locator('section', { has: page.getByRole('heading', { name: 'e2e-app' }) });
    await panel.getByRole('button', { name: 'Revoke' }).click();
    await panel.getByRole('button', { name: 'Confirm revoke' }).click();
    await panel.getByText('revoked', { exact: true }).waitFor();
    await shoot(page, 'sources', signedIn);

    const answer = await eventually(async () => {
      const response = await fetch(`${server.url}/v1/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ items: [] }),
      });
      return response.status === 401 ? response.status : undefined;
    }, 'the revoked key refused');
    expect(answer).toBe(401);
    await uploader.enqueue({ type: 'hello again', data: {} });
    await refused;
    expect(uploader.stats().paused).toBe(true);
    await page.close();
  });

  it('shows hostile item data and type as text: no script runs, no markup renders', async ({
    server,
    signedIn,
    startUploader,
  }) => {
    const page = await signedIn();
    await page.getByRole('link', { name: 'Live' }).click();
    await expect.poll(() => page.getByTestId('live-state').textContent()).toBe('Live');
    const type = '<img src=x onerror="window.__pwned=1">';
    const script = '<script>window.__pwned=2</script>';
    const uploader = await startUploader();
    const { id } = await uploader.enqueue({
      type,
      data: { html: script, img: '<img src=x onerror=window.__pwned=3>', '<b>key</b>': 'value' },
    });
    await uploader.flush({ timeoutMs: 10_000 });

    await page.getByTestId('live-table').getByText(type).waitFor();
    await page.goto(`${server.url}/console/items?source=${server.source}`);
    await page.getByTestId('items-table').getByText(type).waitFor();
    await page.goto(`${server.url}/console/items/${server.source}/${id}`);
    await page.getByTestId('item-data').waitFor();
    expect(await page.getByTestId('item-type').textContent()).toBe(type);
    const data = (await page.getByTestId('item-data').textContent()) ?? '';
    expect(data).toContain(script);
    expect(data).toContain('<b>key</b>');
    expect(await page.locator('img[src="x"], script:not([src]), b').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    await shoot(page, 'item-hostile', signedIn);
    await page.close();
  });
});
