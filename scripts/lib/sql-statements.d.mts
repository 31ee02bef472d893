export declare function sqlStatements(sql: string): string[];
