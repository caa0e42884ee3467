export {
  LOCAL_WEBHOOK_SECRET,
  newEventId,
  signedCheckoutEvent,
  type CheckoutEventOptions,
  type CheckoutEventType,
  type CheckoutOrder,
  type SignedWebhook,
} from './checkout-event';
