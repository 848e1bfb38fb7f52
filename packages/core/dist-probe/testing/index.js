export * from './check.js';
//# sourceMappingURL=index.js.map