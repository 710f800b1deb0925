import { DEFAULT_TENANT_ID, scopeToTenant } from '@firefly/db';
import { catalogChanged } from '@firefly/redis';
import { createByIdLoader, createGroupLoader, createPageLoader, oncePerRequest, type BaseContext } from '@firefly/server-kit';
import { createBalanceLoader } from './data/accounts.ts';
import { createCreditStore } from './data/credit-store.ts';
import { createLedgerRepository } from './data/ledger.ts';
import { notificationsOf } from './data/notification-log.ts';
import { createOrderStore } from './data/order-store.ts';
import { createOrderRepository } from './data/orders.ts';
import { createProductRepository } from './data/products.ts';
import { createTenantPriceStore } from './data/tenant-prices.ts';
import type { PaymentScope } from './domain/orders.ts';
import type { BillingScope } from './domain/scope.ts';
import type { TenantPriceAdmin } from './domain/tenant-prices.ts';
import type { ProductCatalogScope } from './domain/upsert-product.ts';
import type { BillingDeps } from './server.ts';
import type { BillingServices } from './services.ts';

/**
 * Fresh per request: repositories, a credit store and an order store over a client scoped to the request's tenant
 * (scopeToTenant: every model query is filtered by, and every write stamped with, that tenant; naming another
 * tenant fails), fresh DataLoaders, and the scopes the use cases take. The process-wide stores (services.store,
 * services.orders) are for the jobs and payment notifications, which serve every tenant. Per-user pages batch every user asking for the same page into ONE query (data/page-per-user.ts).
 */
export function createBillingContext(deps: BillingDeps, services: BillingServices, base: BaseContext) {
  const db = scopeToTenant(deps.db, base.tenantId);
  const orders = createOrderRepository(db, base.tenantId);
  const productRepository = createProductRepository(db, base.tenantId);
  // The catalog is read once per request, however many aliases ask for it.
  const products = { ...productRepository, listActive: oncePerRequest(productRepository.listActive) };
  const ledger = createLedgerRepository(db, base.tenantId);
  const scope: BillingScope = { store: services.metrics.observeCreditStore(createCreditStore(db, { tenantId: base.tenantId, accountIds: services.accountIds })), settings: services.settings, logger: base.logger };
  const payments: PaymentScope = { orders: createOrderStore(db), providers: services.providers, settings: services.orderSettings, logger: base.logger, events: services.events };
  const catalog: ProductCatalogScope = {
    products: productRepository,
    logger: base.logger,
    catalogChanged: () => catalogChanged(deps.redis, base.logger),
  };
  // Platform admins set any tenant's prices: the process-wide client, not the request tenant's.
  const tenantPrices: TenantPriceAdmin = { platformTenantId: DEFAULT_TENANT_ID, store: createTenantPriceStore(deps.db), logger: base.logger };
  return {
    ...base,
    services,
    tenantPrices,
    orders,
    ledger,
    scope,
    payments,
    catalog,
    products,
    loaders: {
      balance: createBalanceLoader(db, base.tenantId),
      order: createByIdLoader(orders.findByIds),
      product: createByIdLoader(products.findByIds),
      ledgerPages: createPageLoader(ledger.pagesOf),
      orderPages: createPageLoader(orders.pagesOf),
      orderPayments: createGroupLoader(orders.paymentsOf, (row) => row.orderId),
      orderRefunds: createGroupLoader(orders.refundsOf, (row) => row.orderId),
      // Only records that name an order are read here, so orderId is set.
      orderNotifications: createGroupLoader(notificationsOf(db, base.tenantId), (row) => row.orderId ?? ''),
    },
  };
}

export type BillingContext = ReturnType<typeof createBillingContext>;
