import DataLoader from 'dataloader';
import type { BillingDb } from '@firefly/db';
import { createByIdLoader, parsePage, toConnection, type BaseContext, type Page, type PageArgs } from '@firefly/server-kit';
import { createBalanceLoader } from './data/accounts.ts';
import { createLedgerRepository } from './data/ledger.ts';
import { createOrderRepository } from './data/orders.ts';
import { createPriceSource } from './data/prices.ts';
import { createProductRepository } from './data/products.ts';
import type { BillingSql } from './data/raw-sql.ts';
import type { CreditDeps, CreditSettings } from './domain/credit-deps.ts';
import type { CreditStore } from './domain/ports.ts';

export interface BillingDeps {
  db: BillingDb & BillingSql;
  store: CreditStore;
  settings: CreditSettings;
}

type Connection<Row extends { createdAt: Date; id: string }> = ReturnType<typeof toConnection<Row>>;

/**
 * Loaders of one connection page per user: all users asking for the same page (same `first` and `after`) in one
 * request share one batch, which the repository answers with ONE query (see data/page-per-user.ts).
 */
function createPageLoaders<Row extends { createdAt: Date; id: string }>(fetch: (userIds: readonly string[], page: Page) => Promise<Map<string, Row[]>>) {
  const byPage = new Map<string, DataLoader<string, Connection<Row>>>();
  return (args: PageArgs): DataLoader<string, Connection<Row>> => {
    const page = parsePage(args);
    const key = `${page.take}|${args.after ?? ''}`;
    let loader = byPage.get(key);
    if (!loader) {
      loader = new DataLoader<string, Connection<Row>>(async (userIds) => {
        const groups = await fetch(userIds, page);
        return userIds.map((id) => toConnection(groups.get(id) ?? [], page.take));
      });
      byPage.set(key, loader);
    }
    return loader;
  };
}

/** Fresh per request: repositories bound to the request's tenant, fresh DataLoaders, the credit use cases' deps. */
export function createBillingContext(deps: BillingDeps, base: BaseContext) {
  const orders = createOrderRepository(deps.db, base.tenantId);
  const products = createProductRepository(deps.db, base.tenantId);
  const ledger = createLedgerRepository(deps.db, base.tenantId);
  const credits: CreditDeps = { store: deps.store, settings: deps.settings, logger: base.logger };
  return {
    ...base,
    credits,
    prices: createPriceSource(deps.db),
    products,
    loaders: {
      balance: createBalanceLoader(deps.db, base.tenantId),
      order: createByIdLoader(orders.findByIds),
      product: createByIdLoader(products.findByIds),
      ledgerPage: createPageLoaders(ledger.pagesOf),
      orderPage: createPageLoaders(orders.pagesOf),
    },
  };
}

export type BillingContext = ReturnType<typeof createBillingContext>;
