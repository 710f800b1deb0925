import type { Db } from './client.ts';

/**
 * Thrown when a query through a tenant-scoped client names another tenant (in a filter, in data, or by moving a
 * row). It signals a bug in our code, not bad input, so it is deliberately not an AppError: `formatError` masks
 * it as INTERNAL_SERVER_ERROR.
 */
export class TenantScopeError extends Error {
  override readonly name = 'TenantScopeError';
}

const TENANT_FIELD = 'tenantId';

type Args = Record<string, unknown>;

interface ModelInfo {
  readonly tenantScoped: boolean;
  /** Relation field name → the related model's name. */
  readonly relations: ReadonlyMap<string, string>;
}

type ModelIndex = ReadonlyMap<string, ModelInfo>;

declare const tenantScoped: unique symbol;

/**
 * A client (or a per-domain view of one, e.g. `UserDb`) that {@link scopeToTenant} confined to one tenant. Only
 * `scopeToTenant` makes one: the repositories that serve a request take this type, so they cannot be handed the
 * process-wide client by mistake, and a query they forget to filter by tenant is still filtered.
 */
export type TenantScoped<T> = T & { readonly [tenantScoped]: true };

/**
 * A client whose every model query is confined to one tenant: for each model with a `tenantId` column, reads,
 * counts, aggregates, updates and deletes get `tenantId` added to their `where` (findUnique too — Prisma accepts
 * extra non-unique fields there), and creates/upserts get `tenantId` set, nested writes included. Catalog models
 * without the column (ChatModel, ImageModel, ChatPrice, ImagePrice, Tenant) pass through unchanged.
 *
 * Naming a different tenant anywhere throws {@link TenantScopeError} instead of being silently rewritten, so a bug
 * shows up rather than hiding. `$queryRaw`/`$executeRaw` are not model queries and are NOT scoped.
 *
 * Call it per request: it wraps the process-wide client without opening connections, and the scoped client of
 * each tenant is built once and reused (building one costs Prisma ~0.25 ms; the cache holds at most
 * {@link MAX_CACHED_TENANTS} tenants per client).
 */
export function scopeToTenant<T extends object = Db>(view: T, tenantId: string): TenantScoped<T> {
  if (typeof tenantId !== 'string' || tenantId === '') {
    throw new TenantScopeError('scopeToTenant: tenantId must be a non-empty string');
  }
  // A per-domain view is the process's client under a narrower type: the extension needs the whole client.
  const db = view as unknown as Db;
  let perTenant = scopedCache.get(db);
  if (perTenant === undefined) scopedCache.set(db, (perTenant = new Map()));
  let scoped = perTenant.get(tenantId);
  if (scoped === undefined) {
    if (perTenant.size >= MAX_CACHED_TENANTS) perTenant.clear();
    perTenant.set(tenantId, (scoped = buildScopedClient(db, tenantId)));
  }
  return scoped as unknown as TenantScoped<T>;
}

const MAX_CACHED_TENANTS = 1_000;
const scopedCache = new WeakMap<object, Map<string, Db>>();

function buildScopedClient(db: Db, tenantId: string): Db {
  const models = indexModels(db);
  const scoped = db.$extends({
    name: `tenant-scope`,
    query: {
      $allModels: {
        $allOperations({ model, operation, args, query }) {
          const info = models.get(model);
          if (info === undefined || !info.tenantScoped) return query(args);
          return query(scopeOperation(new Scoper(models, tenantId), model, operation, (args ?? {}) as Args));
        },
      },
    },
  });
  // A query-only extension leaves every delegate's signature as it was, so the extended client is a Db to callers.
  return scoped as unknown as Db;
}

/** The models that carry a `tenantId` column, read from the generated client (for tests and diagnostics). */
export function tenantScopedModels(db: Db): string[] {
  return [...indexModels(db)].filter(([, info]) => info.tenantScoped).map(([name]) => name);
}

const indexCache = new WeakMap<object, ModelIndex>();

function indexModels(db: Db): ModelIndex {
  const cached = indexCache.get(db);
  if (cached !== undefined) return cached;
  // The generated client carries the datamodel at run time; the runtime typings declare this property.
  const dataModel = (db as unknown as { _runtimeDataModel?: RuntimeDataModel })._runtimeDataModel;
  if (dataModel === undefined) {
    throw new Error('scopeToTenant: the Prisma client exposes no runtime data model; was @prisma/client upgraded?');
  }
  const index = new Map<string, ModelInfo>();
  for (const [name, model] of Object.entries(dataModel.models)) {
    index.set(name, {
      tenantScoped: model.fields.some((f) => f.kind === 'scalar' && f.name === TENANT_FIELD),
      relations: new Map(model.fields.filter((f) => f.kind === 'object').map((f) => [f.name, f.type])),
    });
  }
  indexCache.set(db, index);
  return index;
}

interface RuntimeDataModel {
  models: Record<string, { fields: ReadonlyArray<{ name: string; kind: string; type: string }> }>;
}

function scopeOperation(scoper: Scoper, model: string, operation: string, args: Args): Args {
  switch (operation) {
    case 'findUnique':
    case 'findUniqueOrThrow':
    case 'findFirst':
    case 'findFirstOrThrow':
    case 'findMany':
    case 'count':
    case 'aggregate':
    case 'groupBy':
    case 'delete':
    case 'deleteMany':
      return { ...args, where: scoper.where(args.where) };
    case 'create':
      return { ...args, data: scoper.createData(model, args.data) };
    case 'createMany':
    case 'createManyAndReturn':
      return { ...args, data: mapOneOrMany(args.data, (d) => scoper.createData(model, d)) };
    case 'update':
    case 'updateMany':
    case 'updateManyAndReturn':
      return { ...args, where: scoper.where(args.where), data: scoper.updateData(model, args.data) };
    case 'upsert':
      return {
        ...args,
        where: scoper.where(args.where),
        create: scoper.createData(model, args.create),
        update: scoper.updateData(model, args.update),
      };
    default:
      // Fail closed: an operation added by a future Prisma must be classified here before it can run unscoped.
      throw new TenantScopeError(`scopeToTenant: operation ${model}.${operation} is not supported on a scoped client`);
  }
}

class Scoper {
  constructor(
    private readonly models: ModelIndex,
    private readonly tenantId: string,
  ) {}

  /** Adds the tenant to a filter; a filter that names another tenant (directly or in a compound key) throws. */
  where(where: unknown): Args {
    const filter = asArgs(where, 'where');
    for (const [key, value] of Object.entries(filter)) {
      if (key === TENANT_FIELD) this.assertSameTenant(value, 'where.tenantId');
      else if (isCompoundKeyWithTenant(key) && isArgs(value)) this.assertSameTenant(value[TENANT_FIELD], `where.${key}.tenantId`);
    }
    return { ...filter, [TENANT_FIELD]: this.tenantId };
  }

  createData(model: string, data: unknown): Args {
    const record = asArgs(data, 'data');
    if (record[TENANT_FIELD] !== undefined) this.assertSameTenant(record[TENANT_FIELD], 'data.tenantId');
    return this.nestedWrites(model, { ...record, [TENANT_FIELD]: this.tenantId });
  }

  /** Update data may not move a row to another tenant. */
  updateData(model: string, data: unknown): Args {
    const record = asArgs(data, 'data');
    const value = record[TENANT_FIELD];
    if (value !== undefined) this.assertSameTenant(isArgs(value) && 'set' in value ? value.set : value, 'data.tenantId');
    return this.nestedWrites(model, record);
  }

  private assertSameTenant(value: unknown, where: string): void {
    if (value !== this.tenantId) {
      throw new TenantScopeError(`${where} names another tenant than the one this client is scoped to`);
    }
  }

  /**
   * Nested writes reach rows of related models: creates get the tenant, and every nested filter (connect, set,
   * delete, update…) is scoped so that a row of another tenant cannot be linked or changed by its id.
   */
  private nestedWrites(model: string, data: Args): Args {
    const relations = this.models.get(model)?.relations;
    if (relations === undefined || relations.size === 0) return data;
    let out: Args | undefined;
    for (const [field, target] of relations) {
      const ops = data[field];
      if (!isArgs(ops)) continue;
      out ??= { ...data };
      out[field] = this.relationOps(target, ops);
    }
    return out ?? data;
  }

  private relationOps(target: string, ops: Args): Args {
    const scoped = this.models.get(target)?.tenantScoped ?? false;
    const where = (w: unknown): unknown => (scoped ? this.where(w) : w);
    const create = (d: unknown): Args => (scoped ? this.createData(target, d) : this.nestedWrites(target, asArgs(d, 'data')));
    const update = (d: unknown): Args => this.updateData(target, d);
    const whereOrFlag = (w: unknown): unknown => (typeof w === 'boolean' ? w : where(w));
    const out: Args = {};
    for (const [op, value] of Object.entries(ops)) {
      switch (op) {
        case 'create':
          out[op] = mapOneOrMany(value, create);
          break;
        case 'createMany': {
          const many = asArgs(value, 'createMany');
          out[op] = { ...many, data: mapOneOrMany(many.data, create) };
          break;
        }
        case 'connectOrCreate':
          out[op] = mapOneOrMany(value, (v) => {
            const item = asArgs(v, 'connectOrCreate');
            return { ...item, where: where(item.where), create: create(item.create) };
          });
          break;
        case 'connect':
        case 'set':
          out[op] = mapOneOrMany(value, where);
          break;
        case 'disconnect':
        case 'delete':
          out[op] = mapOneOrMany(value, whereOrFlag);
          break;
        case 'deleteMany':
          out[op] = mapOneOrMany(value, where);
          break;
        case 'update':
          out[op] = mapOneOrMany(value, (v) => {
            const item = asArgs(v, 'update');
            // To-many (and to-one with a filter) take { where, data }; a to-one update may be the data itself.
            if (isWhereDataPair(item)) return { ...item, ...('where' in item ? { where: where(item.where) } : {}), data: update(item.data) };
            return update(item);
          });
          break;
        case 'updateMany':
          out[op] = mapOneOrMany(value, (v) => {
            const item = asArgs(v, 'updateMany');
            return { ...item, where: where(item.where), data: update(item.data) };
          });
          break;
        case 'upsert':
          out[op] = mapOneOrMany(value, (v) => {
            const item = asArgs(v, 'upsert');
            return {
              ...item,
              ...('where' in item ? { where: where(item.where) } : {}),
              create: create(item.create),
              update: update(item.update),
            };
          });
          break;
        default:
          throw new TenantScopeError(`scopeToTenant: nested write "${op}" on ${target} is not supported on a scoped client`);
      }
    }
    return out;
  }
}

function isCompoundKeyWithTenant(key: string): boolean {
  return key.split('_').includes(TENANT_FIELD);
}

function isWhereDataPair(item: Args): boolean {
  const keys = Object.keys(item);
  return keys.includes('data') && keys.every((k) => k === 'data' || k === 'where');
}

function isArgs(value: unknown): value is Args {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function asArgs(value: unknown, what: string): Args {
  if (value === undefined) return {};
  if (!isArgs(value)) throw new TenantScopeError(`scopeToTenant: expected an object for ${what}`);
  return value;
}

function mapOneOrMany<T>(value: unknown, fn: (item: unknown) => T): T | T[] {
  return Array.isArray(value) ? value.map(fn) : fn(value);
}
