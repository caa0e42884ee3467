export { ConfigError, loadConfig, refuseLocalDefaultsInProduction } from './load-config';
export {
  AdmissionConfig,
  BaseServiceConfig,
  ResilienceConfig,
  type BaseServiceConfigType,
} from './base-config';
