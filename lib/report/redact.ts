/**
 * Redaction lives in `lib/core/redact.ts`, where the engine can reach it too;
 * this re-export keeps the report's imports working.
 *
 * @module
 */

export * from "../core/redact.ts";
