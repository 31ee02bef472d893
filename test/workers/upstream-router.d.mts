/** Headers the test CDN in front of the sandbox adds to every answer (see upstream-router.mjs). */
export declare const INTERNAL_HEADERS: Record<string, string>;
declare const router: ExportedHandler;
export default router;
