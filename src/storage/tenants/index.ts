/**
 * Tenants in D1 (tables tenants, tenant_identities, identity_releases), one file per reader:
 * - records.ts: the shapes (TenantRecord, EdgeTenant, IdentityConfig, plans), row mapping, new tenant
 *   ids, and what a refused write was refused for (writeRefusal);
 * - repo.ts: TenantRepo, one tenant at a time: reads, the token -> tenant lookup, the statements
 *   that create, change, lease, release an identity and delete (the tenant service and the edge);
 * - scans.ts: TenantScans, keyset pages over every tenant (maintenance jobs and their status);
 * - directory.ts: the console's tenant list and search.
 */
export * from "./directory";
export * from "./records";
export * from "./repo";
export * from "./scans";
