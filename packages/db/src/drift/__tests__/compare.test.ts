import { describe, expect, it } from 'vitest';
import { compareShapes, normalizeLiveDefault, readPrismaShape, type SchemaShape, type TableShape } from '../index.ts';
import { normalizeColumnType, normalizeSqlDefault } from '../shape.ts';

function userTable(overrides: Partial<TableShape> = {}): TableShape {
  return {
    name: 'User',
    columns: [
      { name: 'id', type: 'varchar(191)', nullable: false, default: null, autoIncrement: false },
      { name: 'tenantId', type: 'varchar(191)', nullable: false, default: null, autoIncrement: false },
      { name: 'email', type: 'varchar(191)', nullable: true, default: null, autoIncrement: false },
      { name: 'roles', type: 'varchar(191)', nullable: false, default: "'USER'", autoIncrement: false },
    ],
    primaryKey: ['id'],
    indexes: [
      { name: 'User_tenantId_email_key', columns: ['tenantId', 'email'], kind: 'unique' },
      { name: 'User_tenantId_idx', columns: ['tenantId'], kind: 'normal' },
    ],
    foreignKeys: [],
    ...overrides,
  };
}

const shape = (...tables: TableShape[]): SchemaShape => ({ tables });

describe('compareShapes', () => {
  it('finds nothing when both sides agree', () => {
    expect(compareShapes(shape(userTable()), shape(userTable()))).toEqual([]);
  });

  it('reports a column that only the database has, and one that only the schema has', () => {
    const base = userTable();
    const withNickname = userTable({
      columns: [...base.columns, { name: 'nickname', type: 'varchar(191)', nullable: true, default: null, autoIncrement: false }],
    });
    const dbOnly = compareShapes(shape(base), shape(withNickname));
    expect(dbOnly).toEqual([
      { kind: 'column-extra', table: 'User', object: 'nickname', message: 'User.nickname is in the database but not in the Prisma schema' },
    ]);
    const schemaOnly = compareShapes(shape(withNickname), shape(base));
    expect(schemaOnly).toEqual([
      { kind: 'column-missing', table: 'User', object: 'nickname', message: 'User.nickname is in the Prisma schema but missing from the database' },
    ]);
  });

  it('reports a changed nullability', () => {
    const base = userTable();
    const emailRequired = userTable({
      columns: base.columns.map((c) => (c.name === 'email' ? { ...c, nullable: false } : c)),
    });
    expect(compareShapes(shape(base), shape(emailRequired))).toEqual([
      {
        kind: 'column-nullability',
        table: 'User',
        object: 'email',
        message: 'User.email is required (NOT NULL) in the database but nullable (NULL) in the Prisma schema',
      },
    ]);
  });

  it('reports a missing index, and a unique key that lost its uniqueness', () => {
    const base = userTable();
    const actual = userTable({
      indexes: [{ name: 'User_tenantId_email_key', columns: ['tenantId', 'email'], kind: 'normal' }],
    });
    const differences = compareShapes(shape(base), shape(actual));
    expect(differences.map((d) => [d.kind, d.object])).toEqual([
      ['index-changed', 'User_tenantId_email_key'],
      ['index-missing', 'User_tenantId_idx'],
    ]);
    expect(differences[1]?.message).toBe('User: index User_tenantId_idx (tenantId) is in the Prisma schema but missing from the database');
  });

  it('reports type, default, primary key, table and foreign key differences', () => {
    const expected = shape(
      userTable({
        foreignKeys: [{ name: 'User_tenantId_fkey', columns: ['tenantId'], referencedTable: 'Tenant', referencedColumns: ['id'], onDelete: 'RESTRICT', onUpdate: 'CASCADE' }],
      }),
      { name: 'Tenant', columns: [], primaryKey: [], indexes: [], foreignKeys: [] },
    );
    const base = userTable();
    const actual = shape(
      userTable({
        columns: base.columns.map((c) => (c.name === 'roles' ? { ...c, type: 'varchar(64)', default: "'ADMIN'" } : c)),
        primaryKey: ['id', 'tenantId'],
        foreignKeys: [{ name: 'User_tenantId_fkey', columns: ['tenantId'], referencedTable: 'Tenant', referencedColumns: ['id'], onDelete: 'CASCADE', onUpdate: 'CASCADE' }],
      }),
      { name: 'Legacy', columns: [], primaryKey: [], indexes: [], foreignKeys: [] },
    );
    expect(compareShapes(expected, actual).map((d) => d.kind)).toEqual([
      'column-type',
      'column-default',
      'primary-key',
      'foreign-key-changed',
      'table-missing',
      'table-extra',
    ]);
  });

  it('does not count the index MySQL adds by itself to back a foreign key', () => {
    const fk = { name: 'User_tenantId_fkey', columns: ['tenantId'], referencedTable: 'Tenant', referencedColumns: ['id'], onDelete: 'RESTRICT', onUpdate: 'CASCADE' };
    const base = userTable();
    const expected = userTable({ foreignKeys: [fk] });
    const actual = userTable({ foreignKeys: [fk], indexes: [...base.indexes, { name: 'User_tenantId_fkey', columns: ['tenantId'], kind: 'normal' }] });
    expect(compareShapes(shape(expected), shape(actual))).toEqual([]);
  });
});

describe('normal forms', () => {
  it('drops integer display widths but keeps tinyint(1) and enum value case', () => {
    expect(normalizeColumnType('int(11)')).toBe('int');
    expect(normalizeColumnType('INT(10) UNSIGNED')).toBe('int unsigned');
    expect(normalizeColumnType('tinyint(1)')).toBe('tinyint(1)');
    expect(normalizeColumnType('VARCHAR(191)')).toBe('varchar(191)');
    expect(normalizeColumnType("ENUM('ALIPAY', 'WeChat')")).toBe("enum('ALIPAY','WeChat')");
  });

  it('reads MariaDB and MySQL column defaults into one form', () => {
    expect(normalizeLiveDefault('NULL', '', 'varchar(191)', 'mariadb')).toBeNull();
    expect(normalizeLiveDefault("'USER'", '', 'varchar(191)', 'mariadb')).toBe("'USER'");
    expect(normalizeLiveDefault("'it''s'", '', 'varchar(191)', 'mariadb')).toBe("'it''s'");
    expect(normalizeLiveDefault('current_timestamp(3)', '', 'datetime(3)', 'mariadb')).toBe('CURRENT_TIMESTAMP(3)');
    expect(normalizeLiveDefault('0', '', 'double', 'mariadb')).toBe('0');
    expect(normalizeLiveDefault('USER', '', 'varchar(191)', 'mysql')).toBe("'USER'");
    expect(normalizeLiveDefault('0', '', 'int', 'mysql')).toBe('0');
    expect(normalizeLiveDefault('CURRENT_TIMESTAMP(3)', 'DEFAULT_GENERATED', 'datetime(3)', 'mysql')).toBe('CURRENT_TIMESTAMP(3)');
    expect(normalizeLiveDefault(null, '', 'int', 'mysql')).toBeNull();
    expect(normalizeSqlDefault('(uuid())')).toBe('uuid()');
  });

  it("turns a Prisma schema into the shape Prisma's migrate would create", () => {
    const schema = `
      datasource db {
        provider = "mysql"
      }
      enum Kind {
        A
        B @map("bee")
      }
      model Thing {
        id        Int      @id @default(autoincrement())
        name      String   @default("x") @map("thing_name")
        note      String?  @db.Text
        kind      Kind     @default(B)
        ratio     Float    @default(0.5)
        on        Boolean  @default(true)
        at        DateTime @default(now()) @db.DateTime(6)
        token     String   @default(uuid()) @db.Char(36)
        parentId  Int?
        parent    Thing?   @relation("tree", fields: [parentId], references: [id])
        children  Thing[]  @relation("tree")
        @@unique([name, kind])
        @@index([at(sort: Desc)], map: "by_time")
        @@map("things")
      }`;
    const [table] = readPrismaShape([['schema.prisma', schema]]).tables;
    expect(table?.name).toBe('things');
    expect(table?.columns).toEqual([
      { name: 'id', type: 'int', nullable: false, default: null, autoIncrement: true },
      { name: 'thing_name', type: 'varchar(191)', nullable: false, default: "'x'", autoIncrement: false },
      { name: 'note', type: 'text', nullable: true, default: null, autoIncrement: false },
      { name: 'kind', type: "enum('A','bee')", nullable: false, default: "'bee'", autoIncrement: false },
      { name: 'ratio', type: 'double', nullable: false, default: '0.5', autoIncrement: false },
      { name: 'on', type: 'tinyint(1)', nullable: false, default: '1', autoIncrement: false },
      { name: 'at', type: 'datetime(6)', nullable: false, default: 'CURRENT_TIMESTAMP(6)', autoIncrement: false },
      { name: 'token', type: 'char(36)', nullable: false, default: null, autoIncrement: false },
      { name: 'parentId', type: 'int', nullable: true, default: null, autoIncrement: false },
    ]);
    expect(table?.primaryKey).toEqual(['id']);
    expect(table?.indexes).toEqual(
      expect.arrayContaining([
        { name: 'things_thing_name_kind_key', columns: ['thing_name', 'kind'], kind: 'unique' },
        { name: 'by_time', columns: ['at DESC'], kind: 'normal' },
      ]),
    );
    expect(table?.foreignKeys).toEqual([
      { name: 'things_parentId_fkey', columns: ['parentId'], referencedTable: 'things', referencedColumns: ['id'], onDelete: 'SET NULL', onUpdate: 'CASCADE' },
    ]);
  });

  it('reports a schema that does not parse', () => {
    expect(() => readPrismaShape([['broken.prisma', 'model Broken {\n  id Int @id\n  other Missing\n}']])).toThrow(
      /does not parse.*Missing/s,
    );
  });
});
