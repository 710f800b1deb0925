/**
 * A database schema reduced to what the drift check compares, in one normal form whatever it was read from (the
 * live database's information_schema or the Prisma schema): lower-case MySQL column types without integer display
 * widths, defaults as SQL literals, indexes by name.
 */
export interface SchemaShape {
  tables: TableShape[];
}

export interface TableShape {
  name: string;
  columns: ColumnShape[];
  /** Column names of the primary key, in key order. Empty when the table has none. */
  primaryKey: string[];
  /** Unique and plain indexes, the primary key excluded. */
  indexes: IndexShape[];
  foreignKeys: ForeignKeyShape[];
}

export interface ColumnShape {
  name: string;
  /** e.g. `varchar(191)`, `int`, `tinyint(1)` (Boolean), `datetime(3)`, `enum('A','B')`, `double`, `longtext`. */
  type: string;
  nullable: boolean;
  /** `'text'` for a string literal, `0` for a number, `CURRENT_TIMESTAMP(3)`, or null when there is none. */
  default: string | null;
  autoIncrement: boolean;
}

export type IndexKind = 'unique' | 'normal' | 'fulltext';

export interface IndexShape {
  name: string;
  /** Column names in index order; a prefix length is written `col(10)`, a descending column `col DESC`. */
  columns: string[];
  kind: IndexKind;
}

export interface ForeignKeyShape {
  name: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  /** `CASCADE`, `RESTRICT`, `SET NULL`, `NO ACTION` or `SET DEFAULT`. */
  onDelete: string;
  onUpdate: string;
}

/** Integer display widths (`int(11)`) are cosmetic and gone in MySQL 8; `tinyint(1)` stays, it means Boolean. */
export function normalizeColumnType(type: string): string {
  const trimmed = type.trim();
  // Enum values are case-sensitive data: only the keyword is lower-cased, and the list is written without spaces.
  const enumMatch = /^(enum|set)\s*\((.*)\)$/is.exec(trimmed);
  if (enumMatch !== null) return `${enumMatch[1]?.toLowerCase()}(${enumMatch[2]?.replace(/'\s*,\s*'/g, "','")})`;
  const lower = trimmed.toLowerCase().replace(/\s+/g, ' ');
  if (/^tinyint\(1\)( unsigned)?$/.test(lower)) return lower;
  return lower.replace(/^(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)/, (_, base: string) => (base === 'integer' ? 'int' : base));
}

/** Quotes a string as a SQL literal in our normal form: single quotes, embedded quotes doubled. */
export function sqlStringLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `current_timestamp()`, `now(3)`, `CURRENT_TIMESTAMP` → `CURRENT_TIMESTAMP(n)` (no precision means 0). */
export function normalizeNow(expression: string): string | undefined {
  const match = /^(?:current_timestamp|now)\s*(?:\(\s*(\d*)\s*\))?$/i.exec(expression.trim());
  if (match === null) return undefined;
  const digits = match[1];
  return `CURRENT_TIMESTAMP(${digits === undefined || digits === '' ? 0 : Number(digits)})`;
}

/**
 * A default written as SQL (MariaDB's information_schema, Prisma's `dbgenerated(…)`): a quoted string, a number,
 * the current timestamp or another expression, each in our normal form.
 */
export function normalizeSqlDefault(expression: string): string {
  const trimmed = expression.trim();
  if (trimmed.length >= 2 && trimmed.startsWith("'") && trimmed.endsWith("'")) {
    const body = trimmed.slice(1, -1).replace(/''|\\\\|\\'/g, (escape) => (escape === '\\\\' ? '\\' : "'"));
    return sqlStringLiteral(body);
  }
  const unwrapped = /^\((.*)\)$/s.exec(trimmed)?.[1] ?? trimmed;
  return normalizeNow(unwrapped) ?? normalizeNumber(unwrapped) ?? unwrapped.toLowerCase();
}

/** Canonical number text (`0.50` → `0.5`, `1e3` → `1000`), or undefined when the text is not a number. */
export function normalizeNumber(text: string): string | undefined {
  const trimmed = text.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(trimmed)) return undefined;
  return String(Number(trimmed));
}
