// Buying credits in a real browser (Debian's Chromium, headless) against the whole platform and the payment
// simulator: the order's QR code carries the channel's payment instruction (scanned here from a screenshot), the
// cashier page takes the payment, and the balance changes on screen. Also what a buyer reads when a channel is
// down, when too many orders are unpaid, and when an order is cancelled. Screenshots: tests/artifacts/web/credits/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { eventually, scanQrCode, signUpInBrowser, startWebSuite, type WebSuite } from '../../src/browser.ts';
import { uniqueEmail } from '../../src/identity-helpers.ts';
import { findUserByEmail } from '../../src/pii.ts';

let web: WebSuite;
let page: Page;
const email = uniqueEmail('buyer');
// Seeded credit packs of the default tenant (packages/db/src/seed.ts).
const PACK_550 = { name: '550 积分', credits: 550, price: '¥30.00' };
const PACK_100 = { name: '100 积分', credits: 100, price: '¥6.00' };

beforeAll(async () => {
  // Two unpaid orders at most, so that the limit is reached within the test.
  web = await startWebSuite('credits', { env: { ORDER_MAX_OPEN_PER_USER: '2' } });
  page = web.page;
  await signUpInBrowser(page, web.app.url, { email, displayName: 'Buyer' });
  await page.getByRole('link', { name: 'Credits', exact: true }).click();
  await page.getByRole('heading', { name: 'Credits', level: 1 }).waitFor();
}, 180_000);

afterAll(async () => {
  await web?.stop();
});

const pendingOrder = () => page.getByTestId('pending-order');
const latestOrder = async () => {
  const user = await findUserByEmail(web.sg.db, email);
  return web.sg.db.order.findFirstOrThrow({ where: { userId: user.id }, orderBy: { createdAt: 'desc' } });
};

async function buy(channel: 'Alipay' | 'WeChat Pay', pack: { name: string }) {
  await page.getByRole('radio', { name: channel }).check();
  await page.getByRole('button', { name: `Buy credits: ${pack.name}` }).click();
}

describe('buying credits in a browser', { timeout: 90_000 }, () => {
  it('pays with Alipay by scanning the QR code of the order, and the balance goes up', async () => {
    const before = await web.balance();
    await buy('Alipay', PACK_550);
    await eventually(() => pendingOrder().innerText()).toContain(`${PACK_550.name} · ${PACK_550.price}`);
    const qr = page.getByRole('img', { name: 'QR code to pay with Alipay' });
    await eventually(() => qr.isVisible()).toBe(true);
    expect(await pendingOrder().innerText()).toContain('Scan with Alipay on your phone to pay');
    await web.shot(page, 'alipay-order');

    // The code on screen is the order's Alipay payment instruction (precreate qr_code): a phone scanning it opens
    // the cashier, which is what the test does.
    const scanned = await scanQrCode(qr);
    const order = await latestOrder();
    expect(scanned).toBe(order.qrCodeUrl);
    expect(order).toMatchObject({ channel: 'ALIPAY', status: 'PENDING', credits: PACK_550.credits });
    const phone = await web.context.newPage();
    await phone.goto(scanned);
    await eventually(() => phone.getByRole('heading', { name: 'Alipay (simulator)' }).isVisible()).toBe(true);
    await web.shot(phone, 'alipay-cashier');
    await phone.getByRole('button', { name: 'Pay' }).click();
    await eventually(() => phone.locator('#message').innerText()).toContain('Paid.');
    await phone.close();

    await eventually(() => pendingOrder().getByRole('status').innerText()).toBe(`Payment received: ${PACK_550.credits} credits added.`);
    await eventually(() => web.balance()).toBe(before + PACK_550.credits);
    await eventually(() => page.getByTestId('credits-available').innerText()).toBe(String(before + PACK_550.credits));
    const purchase = page.getByTestId('ledger-row').filter({ hasText: 'Purchase' });
    await eventually(() => purchase.first().innerText()).toContain(`+${PACK_550.credits}`);
    await web.shot(page, 'alipay-paid');
    await pendingOrder().getByRole('button', { name: 'Close' }).click();
  });

  it('pays with WeChat Pay on the cashier page the order opens; its QR code is the weixin:// code_url', async () => {
    const before = await web.balance();
    await buy('WeChat Pay', PACK_100);
    const qr = page.getByRole('img', { name: 'QR code to pay with WeChat Pay' });
    await eventually(() => qr.isVisible()).toBe(true);
    const scanned = await scanQrCode(qr);
    expect(scanned).toMatch(/^weixin:\/\/wxpay\//);
    const order = await latestOrder();
    expect(scanned).toBe(order.qrCodeUrl);
    expect(order.channel).toBe('WECHAT');
    await web.shot(page, 'wechat-order');

    const [cashier] = await Promise.all([web.context.waitForEvent('page'), page.getByRole('link', { name: 'Open the payment page ↗' }).click()]);
    await eventually(() => cashier.getByRole('heading', { name: 'WeChat Pay (simulator)' }).isVisible()).toBe(true);
    expect(await cashier.locator('body').innerText()).toContain(PACK_100.price);
    await web.shot(cashier, 'wechat-cashier');
    await cashier.getByRole('button', { name: 'Pay' }).click();
    await eventually(() => cashier.locator('#message').innerText()).toContain('Paid.');
    await cashier.close();

    await eventually(() => web.balance()).toBe(before + PACK_100.credits);
    expect(await pendingOrder().getByRole('status').innerText()).toBe(`Payment received: ${PACK_100.credits} credits added.`);
    await web.shot(page, 'wechat-paid');
    await pendingOrder().getByRole('button', { name: 'Close' }).click();
  });

  it('says which payment channel is down when the provider fails, and creates no payable order', async () => {
    web.sg.payments.setFaults({ systemError: true });
    try {
      await buy('Alipay', PACK_100);
      const alert = page.getByRole('alert');
      await eventually(() => alert.innerText()).toContain('Alipay is unavailable right now. Please try again in a moment.');
      expect(await alert.innerText()).not.toMatch(/UPSTREAM_UNAVAILABLE|SYSTEM_ERROR|Error:|\bat /);
      await web.shot(page, 'alipay-down');
      expect(await pendingOrder().count()).toBe(0);
      expect((await latestOrder()).status).toBe('CLOSED');
      await alert.getByRole('button', { name: 'Dismiss' }).click();
    } finally {
      web.sg.payments.setFaults({});
    }
  });

  it('cancels an unpaid order, after which its cashier no longer offers to pay and no credits arrive', async () => {
    const before = await web.balance();
    await buy('Alipay', PACK_100);
    await eventually(() => page.getByRole('img', { name: 'QR code to pay with Alipay' }).isVisible()).toBe(true);
    const payUrl = (await page.getByRole('link', { name: 'Open the payment page ↗' }).getAttribute('href'))!;
    await pendingOrder().getByRole('button', { name: 'Cancel order' }).click();
    await eventually(() => pendingOrder().innerText()).toContain('The order was closed without payment.');
    await web.shot(page, 'order-cancelled');

    const cashier = await web.context.newPage();
    await cashier.goto(payUrl);
    await eventually(() => cashier.locator('#state').innerText()).toBe('TRADE_CLOSED');
    expect(await cashier.getByRole('button', { name: 'Pay' }).count()).toBe(0);
    await web.shot(cashier, 'cancelled-cashier');
    await cashier.close();
    await pendingOrder().getByRole('button', { name: 'Close' }).click();
    expect(await web.balance()).toBe(before);
  });

  it('keeps unpaid orders across a reload, and says what to do when too many are unpaid', async () => {
    await buy('WeChat Pay', PACK_100);
    await eventually(() => pendingOrder().isVisible()).toBe(true);
    // A reload forgets the screen's state, not the order: it is listed as waiting, ready to be paid.
    await page.reload();
    await eventually(() => page.getByTestId('open-order').count()).toBe(1);
    await buy('Alipay', PACK_100);
    await eventually(() => pendingOrder().isVisible()).toBe(true);
    await page.reload();
    await eventually(() => page.getByTestId('open-order').count()).toBe(2);

    // A third unpaid order is over this platform's limit of two: the buyer reads when to retry and what to do now.
    await buy('Alipay', PACK_550);
    const alert = page.getByRole('alert');
    await eventually(() => alert.innerText()).toMatch(/Please try again in \d+ minutes\./);
    expect(await alert.innerText()).toContain('You have too many unpaid orders: pay or cancel one of them below first.');
    expect(await alert.innerText()).not.toMatch(/RATE_LIMITED/);
    await web.shot(page, 'too-many-unpaid');

    // Continuing the older one shows its QR code again; cancelling it makes room for a new order.
    await page.getByRole('button', { name: `Continue paying for ${PACK_100.name}` }).first().click();
    await eventually(() => pendingOrder().getByRole('img').isVisible()).toBe(true);
    await pendingOrder().getByRole('button', { name: 'Cancel order' }).click();
    await pendingOrder().getByRole('button', { name: 'Close' }).click();
    await eventually(() => page.getByTestId('open-order').count()).toBe(1);
    await buy('Alipay', PACK_550);
    await eventually(() => page.getByRole('img', { name: 'QR code to pay with Alipay' }).isVisible()).toBe(true);
  });
});
