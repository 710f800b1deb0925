import { useEffect, useId, useState } from 'react';
import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import { toDataURL } from 'qrcode';
import {
  CancelOrderDocument,
  CreateOrderDocument,
  CreditBalanceDocument,
  LedgerDocument,
  OrderDocument,
  OrdersDocument,
  ProductsDocument,
  type PaymentChannel,
} from '../generated/graphql/graphql.ts';
import { SegmentedChoice } from '../app/controls.tsx';
import { ErrorNotice } from '../app/ErrorNotice.tsx';
import { useI18n } from '../i18n/index.tsx';

export function CreditsScreen() {
  const { t } = useI18n();
  const balance = useQuery(CreditBalanceDocument, { fetchPolicy: 'cache-and-network' });
  const credit = balance.data?.me?.creditBalance;
  const [orderId, setOrderId] = useState<string>();

  return (
    <div className="page">
      <h1>{t.credits.title}</h1>
      <section className="balance-cards" aria-label={t.credits.title}>
        <div className="card">
          <span className="muted">{t.credits.available}</span>
          <strong className="big" data-testid="credits-available">
            {credit?.available ?? '…'}
          </strong>
        </div>
        <div className="card">
          <span className="muted">{t.credits.reserved}</span>
          <strong className="big">{credit?.reserved ?? '…'}</strong>
        </div>
      </section>
      {orderId ? (
        <PendingOrder orderId={orderId} onFinished={() => setOrderId(undefined)} />
      ) : (
        <>
          <BuyCredits onOrder={setOrderId} />
          <OpenOrders onContinue={setOrderId} />
        </>
      )}
      <Ledger />
    </div>
  );
}

function BuyCredits({ onOrder }: { onOrder: (id: string) => void }) {
  const { t } = useI18n();
  const products = useQuery(ProductsDocument);
  const [channel, setChannel] = useState<PaymentChannel>('ALIPAY');
  const [createOrder, createState] = useMutation(CreateOrderDocument);
  const [error, setError] = useState<unknown>();
  const headingId = useId();

  const buy = async (productId: string) => {
    setError(undefined);
    try {
      const { data } = await createOrder({ variables: { productId, channel } });
      if (data) onOrder(data.createOrder.id);
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <section aria-labelledby={headingId} className="stack">
      <h2 id={headingId}>{t.credits.buy}</h2>
      <SegmentedChoice
        legend={t.credits.channel}
        name="channel"
        options={[
          { value: 'ALIPAY', label: t.credits.alipay },
          { value: 'WECHAT', label: t.credits.wechat },
        ]}
        value={channel}
        onChange={setChannel}
      />
      {products.error && <ErrorNotice error={products.error} />}
      <ul className="products">
        {products.data?.products.map((product) => (
          <li key={product.id} className="card product">
            <strong>{product.name}</strong>
            <span>{t.credits.creditsOf(product.credits)}</span>
            <span className="price">{t.credits.price(product.priceFen)}</span>
            <button type="button" className="primary" disabled={createState.loading} onClick={() => void buy(product.id)} aria-label={t.credits.buyProduct(product.name)}>
              {t.credits.buy}
            </button>
          </li>
        ))}
      </ul>
      {error !== undefined && (
        <ErrorNotice error={error} onDismiss={() => setError(undefined)} advice={(e) => (e.kind === 'rateLimited' ? t.credits.tooManyOpen : undefined)} />
      )}
    </section>
  );
}

/** Orders still waiting for their payment (e.g. from before a reload): continue paying one, or cancel it there. */
function OpenOrders({ onContinue }: { onContinue: (id: string) => void }) {
  const { t, formatDate } = useI18n();
  const orders = useQuery(OrdersDocument, { variables: { first: 20 }, fetchPolicy: 'cache-and-network' });
  const headingId = useId();
  const now = Date.now();
  const open = (orders.data?.me?.orders.edges.map((e) => e.node) ?? []).filter((o) => o.status === 'PENDING' && o.payment && Date.parse(o.payment.expiresAt) > now);
  if (open.length === 0) return null;
  return (
    <section aria-labelledby={headingId} className="stack">
      <h2 id={headingId}>{t.credits.openOrders}</h2>
      <ul className="open-orders">
        {open.map((order) => (
          <li key={order.id} className="card open-order" data-testid="open-order">
            <span>
              <strong>{order.product.name}</strong> · {t.credits.price(order.amountFen)} · {order.channel === 'WECHAT' ? t.credits.wechat : t.credits.alipay}
            </span>
            <span className="muted small">{order.payment && t.credits.payBefore(formatDate(order.payment.expiresAt))}</span>
            <button type="button" className="primary" onClick={() => onContinue(order.id)} aria-label={t.credits.continuePayment(order.product.name)}>
              {t.credits.continue}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Follows an order until the payment arrives (the provider notifies billing) or the order closes. */
function PendingOrder({ orderId, onFinished }: { orderId: string; onFinished: () => void }) {
  const { t, formatDate } = useI18n();
  const order = useQuery(OrderDocument, { variables: { id: orderId }, fetchPolicy: 'network-only', pollInterval: 2000 });
  const [cancel, cancelState] = useMutation(CancelOrderDocument);
  const [error, setError] = useState<unknown>();
  const status = order.data?.order?.status;
  const { refetch } = order;

  // Back from the cashier tab: look at once rather than at the next poll.
  useEffect(() => {
    const onVisible = () => document.visibilityState === 'visible' && void refetch();
    document.addEventListener('visibilitychange', onVisible);
    window.addEventListener('focus', onVisible);
    return () => {
      document.removeEventListener('visibilitychange', onVisible);
      window.removeEventListener('focus', onVisible);
    };
  }, [refetch]);
  useEffect(() => {
    if (status && status !== 'PENDING') {
      order.stopPolling();
    }
  }, [status, order]);
  const paid = status === 'PAID';
  const client = useApolloClient();
  useEffect(() => {
    if (paid) void client.refetchQueries({ include: [CreditBalanceDocument, LedgerDocument, OrdersDocument] });
  }, [paid, client]);

  const current = order.data?.order;
  return (
    <section className="card stack" aria-live="polite" data-testid="pending-order">
      <h2>{current ? `${current.product.name} · ${t.credits.price(current.amountFen)}` : t.loading}</h2>
      {status === 'PENDING' && (
        <>
          <p>{t.credits.waiting}</p>
          {current?.payment?.qrCodeUrl && <PaymentQrCode content={current.payment.qrCodeUrl} channel={current.channel} />}
          {current?.payment && <p className="muted small">{t.credits.payBefore(formatDate(current.payment.expiresAt))}</p>}
          {current?.payment?.payUrl && (
            <a className="button primary" href={current.payment.payUrl} target="_blank" rel="noopener noreferrer">
              {t.credits.openCashier} ↗
            </a>
          )}
          <button type="button" disabled={cancelState.loading} onClick={() => cancel({ variables: { id: orderId } }).catch(setError)}>
            {t.credits.cancelOrder}
          </button>
        </>
      )}
      {paid && current && (
        <p className="notice notice-success" role="status">
          {t.credits.paid(current.credits)}
        </p>
      )}
      {status && status !== 'PENDING' && !paid && <p className="notice">{t.credits.closed}</p>}
      {(error ?? order.error) !== undefined && <ErrorNotice error={error ?? order.error} onDismiss={() => setError(undefined)} />}
      {status && status !== 'PENDING' && (
        <button type="button" onClick={onFinished}>
          {t.close}
        </button>
      )}
    </section>
  );
}

/**
 * The payment instruction as a QR code to scan with the channel's phone app: Alipay's precreate qr_code or WeChat
 * Native's code_url (`weixin://…`), drawn by the `qrcode` library. Fixed size, so nothing moves when it appears.
 */
function PaymentQrCode({ content, channel }: { content: string; channel: PaymentChannel }) {
  const { t } = useI18n();
  const [image, setImage] = useState<string>();
  useEffect(() => {
    let current = true;
    toDataURL(content, { errorCorrectionLevel: 'M', margin: 2, width: QR_SIZE }).then(
      (url) => current && setImage(url),
      () => current && setImage(undefined),
    );
    return () => {
      current = false;
    };
  }, [content]);
  const app = channel === 'WECHAT' ? t.credits.wechat : t.credits.alipay;
  return (
    <figure className="payment-qr">
      <div className="qr-frame">
        {image && <img src={image} width={QR_SIZE} height={QR_SIZE} alt={t.credits.qrAlt(app)} data-testid="payment-qr" />}
      </div>
      <figcaption>{t.credits.scanQr(app)}</figcaption>
    </figure>
  );
}

const QR_SIZE = 224;

function Ledger() {
  const { t, formatDate } = useI18n();
  const ledger = useQuery(LedgerDocument, { variables: { first: 50 }, fetchPolicy: 'cache-and-network' });
  const entries = ledger.data?.me?.ledger.edges.map((e) => e.node) ?? [];
  const headingId = useId();
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>{t.credits.ledger}</h2>
      {ledger.error && <ErrorNotice error={ledger.error} />}
      {ledger.error && entries.length === 0 ? null : entries.length === 0 && !ledger.loading ? (
        <p className="muted">{t.credits.ledgerEmpty}</p>
      ) : (
        <table className="table" aria-labelledby={headingId}>
          <thead>
            <tr>
              <th scope="col">{t.credits.when}</th>
              <th scope="col">{t.credits.what}</th>
              <th scope="col" className="num">
                {t.credits.change}
              </th>
              <th scope="col" className="num">
                {t.credits.after}
              </th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id} data-testid="ledger-row">
                <td>{formatDate(entry.createdAt)}</td>
                <td>{t.credits.reasons[entry.reason] ?? entry.reason}</td>
                <td className={`num ${entry.delta < 0 ? 'negative' : 'positive'}`}>{entry.delta > 0 ? `+${entry.delta}` : entry.delta}</td>
                <td className="num">{entry.balanceAfter}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
