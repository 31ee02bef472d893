/**
 * The secrets the test gateway runs with (vitest.workers.config.ts binds them). The secret-hygiene
 * scan (test/hygiene/) looks for each of them in every response body and log line of the suite.
 */
export const TEST_SECRETS = {
  ZAVU_API_KEY: "zv_live_sandbox_main",
  KEY_ENCRYPTION_KEY: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
  ADMIN_TOKEN: "test-admin-token-a,test-admin-token-b",
} as const;
