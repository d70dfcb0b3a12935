export * from './ops.js';
export { initBackend, ensureBackend, matmulPath, type BackendPreference } from './backend.js';
export { clearTransposeCache } from './fast.js';
