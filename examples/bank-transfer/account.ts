import { entity } from "perdure";

/** One bank account. `debits` and `credits` name every transfer applied, so each can be audited. */
export interface AccountState {
  balance: number;
  /** The lowest balance the account ever had: proof that it never went negative. */
  lowest: number;
  debits: string[];
  credits: string[];
}

export interface Movement {
  transferId: string;
  amount: number;
}

/** Raised by `withdraw` when the balance cannot cover the amount: the state stays as it was. */
export class InsufficientFundsError extends Error {
  override name = "InsufficientFundsError";
  readonly code = "INSUFFICIENT_FUNDS";
}

/**
 * Accounts as durable entities, one per key. Operations on one account run one at a time;
 * a transfer's critical section keeps every other transfer off both of its accounts while
 * it checks the balance and moves the money.
 */
export const account = entity("account", {
  initialState: (): AccountState => ({ balance: 0, lowest: 0, debits: [], credits: [] }),
  operations: {
    balance: (state) => state.balance,
    deposit(state, movement: Movement) {
      if (!(movement.amount > 0)) throw new RangeError(`deposit of ${movement.amount}`);
      state.balance += movement.amount;
      state.credits.push(movement.transferId);
    },
    withdraw(state, movement: Movement) {
      if (!(movement.amount > 0)) throw new RangeError(`withdrawal of ${movement.amount}`);
      if (state.balance < movement.amount) {
        throw new InsufficientFundsError(`balance ${state.balance} is less than ${movement.amount}`);
      }
      state.balance -= movement.amount;
      state.lowest = Math.min(state.lowest, state.balance);
      state.debits.push(movement.transferId);
    },
    get: (state) => state,
  },
});
