export { newEvent, PermanentError, type DomainEvent } from './event';
export { MessageBus, type EventInbox, type MessageBusOptions, type OnOptions } from './message-bus';
export type { EventHandler } from './consumer';
export { WATCH_QUEUE_MAX_LENGTH, type WatchHandler } from './event-watch';
export type { DeadLetter, DeadLetterQueueReport } from './dead-letters';
export { eventsExchangeName, subscriptionQueues, type SubscriptionQueues } from './topology';
export { registerOutboxBacklogGauge } from './metrics';
export {
  stageEvents,
  stageEventsForInsert,
  ensureOutboxIndex,
  OutboxRelay,
  relayNothing,
  type OutboxRelayOptions,
  type PublishedEvents,
  type PollScheduler,
  type OutboxFields,
  type EventPublisher,
  type OutboxHandOff,
  type RelayOutbox,
  type StagedDocument,
} from './outbox';
export {
  openOutboxCollection,
  OutboxDocuments,
  OutboxStore,
  type OutboxCollection,
} from './outbox-collection';
export type { IndexDefinition } from '@oms/persistence';
export { Inbox } from './inbox';
