import type { Collection, Db } from 'mongodb';
import type { Payment } from '@oms/contracts';

interface PaymentDocument extends Payment {
  _id: string;
}

export class PaymentStore {
  private constructor(private readonly payments: Collection<PaymentDocument>) {}

  static async open(db: Db): Promise<PaymentStore> {
    return new PaymentStore(db.collection<PaymentDocument>('payments'));
  }

  async get(orderId: string): Promise<Payment | undefined> {
    const doc = await this.payments.findOne({ _id: orderId }, { projection: { _id: 0 } });
    return doc ?? undefined;
  }
}
