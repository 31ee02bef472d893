export declare const ADMIN_CLIENT_SCHEMA: string;
export declare const GENERATE_COMMAND: string;
export declare function servedAdminDocument(script: string): Promise<Record<string, unknown>>;
export declare function adminClientTypes(document: Record<string, unknown>): Promise<string>;
