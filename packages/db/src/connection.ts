import * as mariadb from 'mariadb';
import { handleFailedOpenings } from './driver.ts';
import { parseMysqlUrl, SESSION_INIT_SQL } from './url.ts';

export interface OpenConnectionOptions {
  /** Connect to the server only, without selecting the URL's database (to create or drop it). */
  serverOnly?: boolean;
  /** Allow several `;`-separated statements in one query (migration scripts). Default false. */
  multipleStatements?: boolean;
  /** Default 5000 ms. */
  connectTimeoutMs?: number;
}

/**
 * One plain `mariadb` connection (not Prisma) for administrative work: migrations, drift checks, scratch
 * databases. The caller ends it.
 */
export async function openConnection(url: string, options: OpenConnectionOptions = {}): Promise<mariadb.Connection> {
  const parsed = parseMysqlUrl(url);
  handleFailedOpenings();
  return mariadb.createConnection({
    host: parsed.host,
    port: parsed.port,
    user: parsed.user,
    password: parsed.password,
    ...(options.serverOnly === true || parsed.database === '' ? {} : { database: parsed.database }),
    multipleStatements: options.multipleStatements ?? false,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    initSql: SESSION_INIT_SQL,
    // COUNT(*) and friends come back as BIGINT; our counts fit in a JS number.
    bigIntAsNumber: true,
  });
}
