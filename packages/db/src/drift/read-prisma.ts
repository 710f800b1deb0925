import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getDMMF } from '@prisma/get-dmmf';
import {
  normalizeColumnType,
  normalizeSqlDefault,
  sqlStringLiteral,
  type ColumnShape,
  type ForeignKeyShape,
  type IndexShape,
  type SchemaShape,
  type TableShape,
} from './shape.ts';

type DmmfDocument = Exclude<ReturnType<typeof getDMMF>, { type: string; reason: string }>;
type Datamodel = DmmfDocument['datamodel'];
type Model = Datamodel['models'][number];
type Field = Model['fields'][number];
type Enum = Datamodel['enums'][number];

/** A Prisma schema file: its path (for error messages) and content. */
export type SchemaFile = readonly [path: string, content: string];

/** Reads every `*.prisma` file of a multi-file schema folder, in name order. */
export async function readSchemaFiles(schemaDir: string): Promise<SchemaFile[]> {
  const names = (await readdir(schemaDir)).filter((name) => name.endsWith('.prisma')).sort();
  return Promise.all(names.map(async (name) => [join(schemaDir, name), await readFile(join(schemaDir, name), 'utf8')] as const));
}

/**
 * The shape the Prisma schema asks of a MySQL database: what Prisma's migrate would create for it. Parsed through
 * the DMMF, which Prisma computes in wasm, so no native engine is needed.
 */
export function readPrismaShape(files: readonly SchemaFile[]): SchemaShape {
  const result = getDMMF({ datamodel: files.map(([path, content]) => [path, content]) });
  if ('type' in result && 'reason' in result) {
    throw new Error(`the Prisma schema does not parse: ${wasmErrorMessage(result.error) ?? result.reason}`, { cause: result.error });
  }
  const { datamodel } = result;
  const enums = new Map(datamodel.enums.map((e) => [e.name, e]));
  const models = new Map(datamodel.models.map((m) => [m.name, m]));
  return { tables: datamodel.models.map((model) => toTable(model, datamodel, enums, models)) };
}

/** The wasm reports validation errors as JSON `{ message }` with terminal colours; keep the readable text. */
function wasmErrorMessage(error: Error): string | undefined {
  try {
    const parsed = JSON.parse(error.message) as { message?: unknown };
    // eslint-disable-next-line no-control-regex
    return typeof parsed.message === 'string' ? parsed.message.replace(/\u001b\[[0-9;]*m/g, '') : undefined;
  } catch {
    return undefined;
  }
}

function tableName(model: Model): string {
  return model.dbName ?? model.name;
}

function columnName(model: Model, fieldName: string): string {
  const field = model.fields.find((f) => f.name === fieldName);
  return field?.dbName ?? fieldName;
}

function toTable(model: Model, datamodel: Datamodel, enums: Map<string, Enum>, models: Map<string, Model>): TableShape {
  const table = tableName(model);
  const columns = model.fields
    .filter((field) => field.kind === 'scalar' || field.kind === 'enum')
    .map((field) => toColumn(field, enums));

  const indexes: IndexShape[] = [];
  let primaryKey: string[] = [];
  for (const index of datamodel.indexes.filter((i) => i.model === model.name)) {
    const names = index.fields.map((f) => columnName(model, f.name));
    if (index.type === 'id') {
      primaryKey = names;
      continue;
    }
    const suffix = index.type === 'unique' ? 'key' : 'idx';
    indexes.push({
      name: index.dbName ?? constraintName(table, names, suffix),
      columns: index.fields.map((f, i) => `${names[i]}${f.length === undefined ? '' : `(${f.length})`}${f.sortOrder === 'desc' ? ' DESC' : ''}`),
      kind: index.type,
    });
  }

  const foreignKeys: ForeignKeyShape[] = model.fields
    .filter((field) => field.kind === 'object' && (field.relationFromFields?.length ?? 0) > 0)
    .map((field) => {
      const from = (field.relationFromFields ?? []).map((name) => columnName(model, name));
      const target = models.get(field.type);
      const required = (field.relationFromFields ?? []).every((name) => model.fields.find((f) => f.name === name)?.isRequired);
      return {
        name: constraintName(table, from, 'fkey'),
        columns: from,
        referencedTable: target === undefined ? field.type : tableName(target),
        referencedColumns: (field.relationToFields ?? []).map((name) => (target === undefined ? name : columnName(target, name))),
        // Prisma's defaults: Restrict (required) or SetNull (optional) on delete, Cascade on update.
        onDelete: referentialAction(field.relationOnDelete ?? (required ? 'Restrict' : 'SetNull')),
        onUpdate: referentialAction(field.relationOnUpdate ?? 'Cascade'),
      };
    });

  return { name: table, columns, primaryKey, indexes, foreignKeys };
}

const MYSQL_IDENTIFIER_LIMIT = 64;

/** Prisma's default constraint name: `<table>_<columns>_<key|idx|fkey>`, cut to MySQL's identifier limit. */
function constraintName(table: string, columns: readonly string[], suffix: 'key' | 'idx' | 'fkey'): string {
  const base = `${table}_${columns.join('_')}`;
  const room = MYSQL_IDENTIFIER_LIMIT - suffix.length - 1;
  return `${base.length > room ? base.slice(0, room) : base}_${suffix}`;
}

function referentialAction(action: string): string {
  switch (action) {
    case 'Cascade':
      return 'CASCADE';
    case 'Restrict':
      return 'RESTRICT';
    case 'SetNull':
      return 'SET NULL';
    case 'SetDefault':
      return 'SET DEFAULT';
    case 'NoAction':
      return 'NO ACTION';
    default:
      return action.toUpperCase();
  }
}

/** Prisma's MySQL column types for scalars without a native-type attribute. */
const DEFAULT_TYPES: Record<string, string> = {
  String: 'varchar(191)',
  Boolean: 'tinyint(1)',
  Int: 'int',
  BigInt: 'bigint',
  Float: 'double',
  Decimal: 'decimal(65,30)',
  DateTime: 'datetime(3)',
  Json: 'json',
  Bytes: 'longblob',
};

function toColumn(field: Field, enums: Map<string, Enum>): ColumnShape {
  const type = columnType(field, enums);
  const isAutoIncrement = isFunctionDefault(field.default) && field.default.name === 'autoincrement';
  return {
    name: field.dbName ?? field.name,
    type,
    nullable: !field.isRequired,
    default: isAutoIncrement ? null : columnDefault(field, type, enums),
    autoIncrement: isAutoIncrement,
  };
}

function columnType(field: Field, enums: Map<string, Enum>): string {
  if (field.kind === 'enum') {
    const values = enums.get(field.type)?.values.map((v) => sqlStringLiteral(v.dbName ?? v.name)) ?? [];
    return `enum(${values.join(',')})`;
  }
  if (field.nativeType) {
    const [name, args] = field.nativeType;
    const unsigned = /^Unsigned(.+)$/.exec(name);
    if (unsigned?.[1] !== undefined) return `${unsigned[1].toLowerCase()} unsigned`;
    return normalizeColumnType(`${name.toLowerCase()}${args.length > 0 ? `(${args.map((a) => a.trim()).join(',')})` : ''}`);
  }
  return DEFAULT_TYPES[field.type] ?? field.type.toLowerCase();
}

type FunctionDefault = { name: string; args: ReadonlyArray<string | number> };

function isFunctionDefault(value: Field['default']): value is FunctionDefault {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'name' in value;
}

function columnDefault(field: Field, type: string, enums: Map<string, Enum>): string | null {
  const value = field.default;
  if (value === undefined) return null;
  if (typeof value === 'object') {
    // Lists have no database default on MySQL (Prisma does not support scalar lists there).
    if (!isFunctionDefault(value)) return null;
    switch (value.name) {
      case 'now':
        return `CURRENT_TIMESTAMP(${/\((\d+)\)/.exec(type)?.[1] ?? '0'})`;
      case 'dbgenerated':
        return typeof value.args[0] === 'string' ? normalizeSqlDefault(value.args[0]) : null;
      default:
        // uuid(), cuid(), nanoid(), ulid() are filled in by the client; the column has no database default.
        return null;
    }
  }
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') return String(value);
  if (field.kind === 'enum') {
    const enumValue = enums.get(field.type)?.values.find((v) => v.name === value);
    return sqlStringLiteral(enumValue?.dbName ?? value);
  }
  if (['Int', 'BigInt', 'Float', 'Decimal'].includes(field.type)) return String(Number(value));
  return sqlStringLiteral(value);
}
