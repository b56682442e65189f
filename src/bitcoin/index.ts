/**
 * Bitcoin primitives: pure functions over Uint8Array — hashing, byte encodings, targets,
 * addresses, coinbase, merkle trees, headers and blocks. No I/O, no configuration.
 * @module
 */
export * from './errors.js';
export * from './bytes.js';
export * from './hash.js';
export * from './target.js';
export * from './address.js';
export * from './script.js';
export * from './coinbase.js';
export * from './merkle.js';
export * from './header.js';
export * from './block.js';
export * from './subsidy.js';
export * from './version-rolling.js';
