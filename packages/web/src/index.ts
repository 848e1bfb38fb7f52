export { PAGE_DIR, WebServerError, isSuspiciousPath, startWebServer, type WebServer, type WebServerOptions } from './server.js';
export type { ServerInfo } from './info.js';
export { FLAG_NAMES, FLAG_SPECS, FlagError, parseFlags, type TrainFlags } from './flags.js';
