export { startOssSimulator, type OssSimulator, type OssSimulatorOptions, type RecordedOssRequest } from './simulator.ts';
