export { ConsulClient, type ServiceRegistration, type ServiceEndpoint } from './consul-client';
export { ServiceCatalog } from './service-catalog';
export { registerConsulResolver, consulTarget } from './consul-resolver';
