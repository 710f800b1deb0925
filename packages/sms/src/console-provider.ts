import { fenToYuan, type SmsProvider } from './provider.ts';

/**
 * Development only: prints the code (and payment notices) instead of sending it, so `npm start` needs no SMS account. It writes to
 * stderr directly, never through the logger, because log storage must never hold a verification code; and
 * production refuses it (see createSmsProvider and the user subgraph's config).
 */
export function createConsoleSmsProvider(options: { nodeEnv: string; write?: (line: string) => void }): SmsProvider {
  if (options.nodeEnv === 'production') throw new Error('the console SMS provider is for development only; set SMS_PROVIDER=aliyun');
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  return {
    name: 'console',
    async sendVerificationCode({ phone, code }) {
      write(`[sms:console] verification code for ${phone}: ${code}\n`);
      return { messageId: `console-${Date.now()}` };
    },
    sendsOrderPaid: true,
    async sendOrderPaid({ phone, credits, amountFen }) {
      write(`[sms:console] order paid for ${phone}: ${credits} credits, ¥${fenToYuan(amountFen)}\n`);
      return { messageId: `console-${Date.now()}` };
    },
  };
}
