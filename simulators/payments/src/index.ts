export { startPaymentSimulator } from './simulator.ts';
export { generatePaymentKeySet, merchantEnvOf, simulatorKeysOf, type PaymentKeySet } from './keys.ts';
export type { DeliveryResult, ForgedVariant, NotificationRecord, PaymentSimulator, PaymentSimulatorOptions, TradeView } from './types.ts';
