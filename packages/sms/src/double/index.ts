// @firefly/sms/double: the local Aliyun SMS API for tests and development. Never imported by production code.
export * from './aliyun-sms-double.ts';
