/**
 * The DashScope and OSS simulators in a process of their own, for the images benchmark: the simulated provider's
 * work (rendering and serving result PNGs, checking OSS signatures, storing uploads) then neither slows the process
 * that follows the jobs and stamps their events nor competes with it for one event loop.
 *
 * Env: IMAGE_SIMULATORS_OPTIONS (JSON DashScopeSimulatorOptions). Logs one JSON line
 * `{ msg: "image simulators ready", url, dashscopeBaseUrl, dashscopeApiKey, ossUrl }`.
 */
import { startDashScopeSimulator, type DashScopeSimulatorOptions } from '@firefly/dashscope-simulator';
import { startOssSimulator } from '@firefly/oss-simulator';

const options = JSON.parse(process.env.IMAGE_SIMULATORS_OPTIONS ?? '{}') as DashScopeSimulatorOptions;
const dashscope = await startDashScopeSimulator(options);
const oss = await startOssSimulator();
process.stdout.write(`${JSON.stringify({ msg: 'image simulators ready', url: dashscope.url, dashscopeBaseUrl: dashscope.baseUrl, dashscopeApiKey: dashscope.apiKey, ossUrl: oss.localUrl })}\n`);
const stop = () => {
  void Promise.all([dashscope.close(), oss.close()]).finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
