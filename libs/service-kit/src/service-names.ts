/** Consul name, OpenTelemetry service.name, Nx project, log field `service` and database prefix. */
export type ServiceName = 'gateway' | 'order' | 'stock' | 'menu' | 'payment' | 'kitchen';

export const SERVICE_PORTS: Record<ServiceName, number> = {
  gateway: 8080,
  order: 50051,
  stock: 50052,
  menu: 50053,
  payment: 50054,
  kitchen: 50055,
};
