import type { ColumnShape, ForeignKeyShape, IndexShape, SchemaShape, TableShape } from './shape.ts';

export type DriftKind =
  | 'table-missing'
  | 'table-extra'
  | 'column-missing'
  | 'column-extra'
  | 'column-type'
  | 'column-nullability'
  | 'column-default'
  | 'column-auto-increment'
  | 'primary-key'
  | 'index-missing'
  | 'index-extra'
  | 'index-changed'
  | 'foreign-key-missing'
  | 'foreign-key-extra'
  | 'foreign-key-changed';

/**
 * One way the database differs from the Prisma schema. "missing" means the schema has it and the database does
 * not; "extra" the other way round.
 */
export interface DriftDifference {
  kind: DriftKind;
  table: string;
  /** The column, index or foreign key concerned, when there is one. */
  object?: string;
  /** A sentence a person can act on. */
  message: string;
}

/**
 * Compares what the Prisma schema expects with what the database has. Both sides must be in the normal form of
 * shape.ts. Indexes MySQL creates by itself to back a foreign key (named after the constraint) are not drift.
 */
export function compareShapes(expected: SchemaShape, actual: SchemaShape): DriftDifference[] {
  const differences: DriftDifference[] = [];
  const actualTables = byName(actual.tables);
  const expectedTables = byName(expected.tables);

  for (const table of expected.tables) {
    const live = actualTables.get(table.name);
    if (live === undefined) {
      differences.push({ kind: 'table-missing', table: table.name, message: `table ${table.name} is in the Prisma schema but missing from the database` });
      continue;
    }
    compareTables(table, live, differences);
  }
  for (const table of actual.tables) {
    if (!expectedTables.has(table.name)) {
      differences.push({ kind: 'table-extra', table: table.name, message: `table ${table.name} is in the database but not in the Prisma schema` });
    }
  }
  return differences;
}

function compareTables(expected: TableShape, actual: TableShape, out: DriftDifference[]): void {
  const table = expected.name;
  const actualColumns = byName(actual.columns);
  const expectedColumns = byName(expected.columns);

  for (const column of expected.columns) {
    const live = actualColumns.get(column.name);
    if (live === undefined) {
      out.push({ kind: 'column-missing', table, object: column.name, message: `${table}.${column.name} is in the Prisma schema but missing from the database` });
    } else {
      compareColumns(table, column, live, out);
    }
  }
  for (const column of actual.columns) {
    if (!expectedColumns.has(column.name)) {
      out.push({ kind: 'column-extra', table, object: column.name, message: `${table}.${column.name} is in the database but not in the Prisma schema` });
    }
  }

  if (!sameList(expected.primaryKey, actual.primaryKey)) {
    out.push({
      kind: 'primary-key',
      table,
      message: `${table}: primary key is ${describeColumns(actual.primaryKey)} in the database but ${describeColumns(expected.primaryKey)} in the Prisma schema`,
    });
  }

  const foreignKeyNames = new Set(actual.foreignKeys.map((fk) => fk.name));
  const actualIndexes = byName(actual.indexes);
  const expectedIndexes = byName(expected.indexes);
  for (const index of expected.indexes) {
    const live = actualIndexes.get(index.name);
    if (live === undefined) {
      out.push({
        kind: 'index-missing',
        table,
        object: index.name,
        message: `${table}: ${describeIndex(index)} is in the Prisma schema but missing from the database`,
      });
    } else if (live.kind !== index.kind || !sameList(live.columns, index.columns)) {
      out.push({
        kind: 'index-changed',
        table,
        object: index.name,
        message: `${table}: ${describeIndex(live)} in the database is ${describeIndex(index)} in the Prisma schema`,
      });
    }
  }
  for (const index of actual.indexes) {
    if (!expectedIndexes.has(index.name) && !foreignKeyNames.has(index.name)) {
      out.push({ kind: 'index-extra', table, object: index.name, message: `${table}: ${describeIndex(index)} is in the database but not in the Prisma schema` });
    }
  }

  const actualForeignKeys = byName(actual.foreignKeys);
  const expectedForeignKeys = byName(expected.foreignKeys);
  for (const foreignKey of expected.foreignKeys) {
    const live = actualForeignKeys.get(foreignKey.name);
    if (live === undefined) {
      out.push({
        kind: 'foreign-key-missing',
        table,
        object: foreignKey.name,
        message: `${table}: ${describeForeignKey(foreignKey)} is in the Prisma schema but missing from the database`,
      });
    } else if (describeForeignKey(live) !== describeForeignKey(foreignKey)) {
      out.push({
        kind: 'foreign-key-changed',
        table,
        object: foreignKey.name,
        message: `${table}: ${describeForeignKey(live)} in the database is ${describeForeignKey(foreignKey)} in the Prisma schema`,
      });
    }
  }
  for (const foreignKey of actual.foreignKeys) {
    if (!expectedForeignKeys.has(foreignKey.name)) {
      out.push({
        kind: 'foreign-key-extra',
        table,
        object: foreignKey.name,
        message: `${table}: ${describeForeignKey(foreignKey)} is in the database but not in the Prisma schema`,
      });
    }
  }
}

function compareColumns(table: string, expected: ColumnShape, actual: ColumnShape, out: DriftDifference[]): void {
  const at = `${table}.${expected.name}`;
  if (!sameType(expected.type, actual.type)) {
    out.push({ kind: 'column-type', table, object: expected.name, message: `${at} is ${actual.type} in the database but ${expected.type} in the Prisma schema` });
  }
  if (expected.nullable !== actual.nullable) {
    out.push({
      kind: 'column-nullability',
      table,
      object: expected.name,
      message: `${at} is ${nullability(actual.nullable)} in the database but ${nullability(expected.nullable)} in the Prisma schema`,
    });
  }
  if (expected.default !== actual.default) {
    out.push({
      kind: 'column-default',
      table,
      object: expected.name,
      message: `${at} has default ${actual.default ?? 'none'} in the database but ${expected.default ?? 'none'} in the Prisma schema`,
    });
  }
  if (expected.autoIncrement !== actual.autoIncrement) {
    out.push({
      kind: 'column-auto-increment',
      table,
      object: expected.name,
      message: `${at} is ${actual.autoIncrement ? '' : 'not '}AUTO_INCREMENT in the database but ${expected.autoIncrement ? '' : 'not '}in the Prisma schema`,
    });
  }
}

/** MariaDB stores a JSON column as LONGTEXT (with a json_valid check), so that is what Prisma's Json becomes there. */
function sameType(expected: string, actual: string): boolean {
  return expected === actual || (expected === 'json' && actual === 'longtext');
}

function nullability(nullable: boolean): string {
  return nullable ? 'nullable (NULL)' : 'required (NOT NULL)';
}

function describeColumns(columns: readonly string[]): string {
  return columns.length === 0 ? 'none' : `(${columns.join(', ')})`;
}

function describeIndex(index: IndexShape): string {
  const kind = index.kind === 'unique' ? 'unique index' : index.kind === 'fulltext' ? 'fulltext index' : 'index';
  return `${kind} ${index.name} ${describeColumns(index.columns)}`;
}

function describeForeignKey(fk: ForeignKeyShape): string {
  return `foreign key ${fk.name} ${describeColumns(fk.columns)} → ${fk.referencedTable}${describeColumns(fk.referencedColumns)} ON DELETE ${fk.onDelete} ON UPDATE ${fk.onUpdate}`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function byName<T extends { name: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((item) => [item.name, item]));
}
