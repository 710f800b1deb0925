import { describe, expect, it } from 'vitest';
import { checksumMatches, computeChecksum } from '../migrate/checksum.ts';
import { parseMysqlUrl, quoteIdentifier, redactUrl, withDatabase } from '../url.ts';

describe('database URLs', () => {
  it('parses a mysql:// URL, decoding user and password as Prisma does', () => {
    const url = parseMysqlUrl('mysql://app:p%40ss%2Fw@db.internal:3307/firefly?connection_limit=5');
    expect(url).toMatchObject({ host: 'db.internal', port: 3307, user: 'app', password: 'p@ss/w', database: 'firefly' });
    expect(url.params.get('connection_limit')).toBe('5');
    expect(parseMysqlUrl('mysql://root@127.0.0.1')).toMatchObject({ port: 3306, password: '', database: '' });
  });

  it('refuses other protocols and garbage', () => {
    expect(() => parseMysqlUrl('postgresql://x@y/z')).toThrow(/mysql/);
    expect(() => parseMysqlUrl('not a url')).toThrow(/invalid database URL/);
  });

  it('swaps the database and hides the password', () => {
    expect(withDatabase('mysql://root:secret@h:3306/firefly?x=1', 'other')).toBe('mysql://root:secret@h:3306/other?x=1');
    expect(withDatabase('mysql://root@h:3306/firefly', '')).toBe('mysql://root@h:3306/');
    expect(redactUrl('mysql://root:secret@h:3306/firefly')).toBe('mysql://root:***@h:3306/firefly');
    expect(quoteIdentifier('we`ird')).toBe('`we``ird`');
  });
});

describe('migration checksums', () => {
  const sql = Buffer.from('CREATE TABLE a (id INT);\n');

  it('is the sha256 hex of the bytes', () => {
    expect(computeChecksum(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(computeChecksum(Buffer.from(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('accepts the same script with other line endings and the legacy rendering without leading zeros', () => {
    const recorded = computeChecksum(sql);
    expect(checksumMatches(sql, recorded)).toBe(true);
    expect(checksumMatches(Buffer.from('CREATE TABLE a (id INT);\r\n'), recorded)).toBe(true);
    expect(checksumMatches(Buffer.from('CREATE TABLE a (id BIGINT);\n'), recorded)).toBe(false);
    const legacy = [...Buffer.from(recorded, 'hex')].map((byte) => byte.toString(16)).join('');
    expect(checksumMatches(sql, legacy)).toBe(true);
  });
});
