import type { Connection } from 'mariadb';
import { HISTORY_TABLE } from '../migrate/history.ts';
import {
  normalizeColumnType,
  normalizeNow,
  normalizeNumber,
  normalizeSqlDefault,
  sqlStringLiteral,
  type ColumnShape,
  type ForeignKeyShape,
  type IndexKind,
  type IndexShape,
  type SchemaShape,
  type TableShape,
} from './shape.ts';

interface ColumnRow {
  tableName: string;
  columnName: string;
  columnType: string;
  isNullable: string;
  columnDefault: string | null;
  extra: string;
}

interface IndexRow {
  tableName: string;
  indexName: string;
  nonUnique: number;
  columnName: string;
  subPart: number | null;
  collation: string | null;
  indexType: string;
}

interface ForeignKeyRow {
  tableName: string;
  constraintName: string;
  columnName: string;
  referencedTableName: string;
  referencedColumnName: string;
  deleteRule: string;
  updateRule: string;
}

/** MySQL and MariaDB write column defaults differently in information_schema (see {@link normalizeLiveDefault}). */
export type ServerFlavor = 'mariadb' | 'mysql';

/**
 * Reads the live shape of the connection's current database from information_schema (tables, columns, types,
 * nullability, defaults, primary keys, indexes, foreign keys). Prisma's `_prisma_migrations` is left out.
 */
export async function readDatabaseShape(conn: Connection): Promise<SchemaShape> {
  const [{ database, version }] = await conn.query<[{ database: string | null; version: string }]>(
    'SELECT DATABASE() AS `database`, VERSION() AS version',
  );
  if (database === null) throw new Error('readDatabaseShape: the connection has no current database');
  const flavor: ServerFlavor = /mariadb/i.test(version) ? 'mariadb' : 'mysql';

  const tableRows = await conn.query<{ tableName: string }[]>(
    `SELECT TABLE_NAME AS tableName FROM information_schema.TABLES
      WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME <> ? ORDER BY TABLE_NAME`,
    [database, HISTORY_TABLE],
  );
  const columnRows = await conn.query<ColumnRow[]>(
    `SELECT TABLE_NAME AS tableName, COLUMN_NAME AS columnName, COLUMN_TYPE AS columnType, IS_NULLABLE AS isNullable,
            COLUMN_DEFAULT AS columnDefault, EXTRA AS extra
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    [database],
  );
  const indexRows = await conn.query<IndexRow[]>(
    `SELECT TABLE_NAME AS tableName, INDEX_NAME AS indexName, NON_UNIQUE AS nonUnique, COLUMN_NAME AS columnName,
            SUB_PART AS subPart, COLLATION AS collation, INDEX_TYPE AS indexType
       FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
    [database],
  );
  const foreignKeyRows = await conn.query<ForeignKeyRow[]>(
    `SELECT k.TABLE_NAME AS tableName, k.CONSTRAINT_NAME AS constraintName, k.COLUMN_NAME AS columnName,
            k.REFERENCED_TABLE_NAME AS referencedTableName, k.REFERENCED_COLUMN_NAME AS referencedColumnName,
            r.DELETE_RULE AS deleteRule, r.UPDATE_RULE AS updateRule
       FROM information_schema.KEY_COLUMN_USAGE k
       JOIN information_schema.REFERENTIAL_CONSTRAINTS r
         ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
      WHERE k.TABLE_SCHEMA = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL
      ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
    [database],
  );

  const tables = new Map<string, TableShape>(
    tableRows.map(({ tableName }) => [tableName, { name: tableName, columns: [], primaryKey: [], indexes: [], foreignKeys: [] }]),
  );

  for (const row of columnRows) {
    tables.get(row.tableName)?.columns.push(toColumn(row, flavor));
  }

  const indexes = new Map<string, IndexShape>();
  for (const row of indexRows) {
    const table = tables.get(row.tableName);
    if (table === undefined) continue;
    const column = `${row.columnName}${row.subPart === null ? '' : `(${row.subPart})`}${row.collation === 'D' ? ' DESC' : ''}`;
    if (row.indexName === 'PRIMARY') {
      table.primaryKey.push(row.columnName);
      continue;
    }
    const key = `${row.tableName}\u0000${row.indexName}`;
    let index = indexes.get(key);
    if (index === undefined) {
      const kind: IndexKind = row.indexType === 'FULLTEXT' ? 'fulltext' : Number(row.nonUnique) === 0 ? 'unique' : 'normal';
      index = { name: row.indexName, columns: [], kind };
      indexes.set(key, index);
      table.indexes.push(index);
    }
    index.columns.push(column);
  }

  const foreignKeys = new Map<string, ForeignKeyShape>();
  for (const row of foreignKeyRows) {
    const table = tables.get(row.tableName);
    if (table === undefined) continue;
    const key = `${row.tableName}\u0000${row.constraintName}`;
    let foreignKey = foreignKeys.get(key);
    if (foreignKey === undefined) {
      foreignKey = {
        name: row.constraintName,
        columns: [],
        referencedTable: row.referencedTableName,
        referencedColumns: [],
        onDelete: row.deleteRule.toUpperCase(),
        onUpdate: row.updateRule.toUpperCase(),
      };
      foreignKeys.set(key, foreignKey);
      table.foreignKeys.push(foreignKey);
    }
    foreignKey.columns.push(row.columnName);
    foreignKey.referencedColumns.push(row.referencedColumnName);
  }

  return { tables: [...tables.values()] };
}

function toColumn(row: ColumnRow, flavor: ServerFlavor): ColumnShape {
  const type = normalizeColumnType(row.columnType);
  return {
    name: row.columnName,
    type,
    nullable: row.isNullable === 'YES',
    default: normalizeLiveDefault(row.columnDefault, row.extra, type, flavor),
    autoIncrement: /auto_increment/i.test(row.extra),
  };
}

const NUMERIC_TYPE = /^(tinyint|smallint|mediumint|int|bigint|decimal|numeric|float|double|real|bit)\b/;

/**
 * MariaDB (10.2.7+) writes COLUMN_DEFAULT as SQL: `'text'`, `0`, `current_timestamp(3)`, and `NULL` for "no
 * default". MySQL writes literals bare (`text`) and flags expressions with DEFAULT_GENERATED in EXTRA.
 */
export function normalizeLiveDefault(raw: string | null, extra: string, type: string, flavor: ServerFlavor): string | null {
  if (raw === null) return null;
  if (flavor === 'mariadb') return raw === 'NULL' ? null : normalizeSqlDefault(raw);
  if (/DEFAULT_GENERATED/i.test(extra)) return normalizeSqlDefault(raw);
  if (NUMERIC_TYPE.test(type)) return normalizeNumber(raw) ?? raw;
  if (/^(datetime|timestamp)/.test(type)) return normalizeNow(raw) ?? sqlStringLiteral(raw);
  return sqlStringLiteral(raw);
}
