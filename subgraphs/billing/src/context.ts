import { createByIdLoader, createPageLoader, oncePerRequest, type BaseContext } from '@firefly/server-kit';
import { createBalanceLoader } from './data/accounts.ts';
import { createLedgerRepository } from './data/ledger.ts';
import { createOrderRepository } from './data/orders.ts';
import { createProductRepository } from './data/products.ts';
import type { PaymentScope } from './domain/orders.ts';
import type { BillingScope } from './domain/scope.ts';
import type { BillingDeps } from './server.ts';
import type { BillingServices } from './services.ts';

/**
 * Fresh per request: repositories bound to the request's tenant, fresh DataLoaders, and the scope the credit use
 * cases take. Per-user pages batch every user asking for the same page into ONE query (data/page-per-user.ts).
 */
export function createBillingContext(deps: BillingDeps, services: BillingServices, base: BaseContext) {
  const orders = createOrderRepository(deps.db, base.tenantId);
  const productRepository = createProductRepository(deps.db, base.tenantId);
  // The catalog is read once per request, however many aliases ask for it.
  const products = { ...productRepository, listActive: oncePerRequest(productRepository.listActive) };
  const ledger = createLedgerRepository(deps.db, base.tenantId);
  const scope: BillingScope = { store: services.store, settings: services.settings, logger: base.logger };
  const payments: PaymentScope = { orders: services.orders, providers: services.providers, settings: services.orderSettings, logger: base.logger };
  return {
    ...base,
    services,
    scope,
    payments,
    products,
    loaders: {
      balance: createBalanceLoader(deps.db, base.tenantId),
      order: createByIdLoader(orders.findByIds),
      product: createByIdLoader(products.findByIds),
      ledgerPages: createPageLoader(ledger.pagesOf),
      orderPages: createPageLoader(orders.pagesOf),
    },
  };
}

export type BillingContext = ReturnType<typeof createBillingContext>;
