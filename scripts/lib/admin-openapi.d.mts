export declare function servedAdminDocument(script: string): Promise<Record<string, unknown>>;
