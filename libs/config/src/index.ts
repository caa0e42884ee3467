export { ConfigError, loadConfig, refuseLocalDefaultsInProduction } from './load-config';
export { BaseServiceConfig, ResilienceConfig, type BaseServiceConfigType } from './base-config';
