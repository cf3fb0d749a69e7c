/**
 * The billing module's operating errors: bad input that a caller can fix (a malformed contract,
 * a missing SYNTEC index, a legal rate not yet in the table). Broken invariants inside the module
 * are assertions instead (node:assert), because they are programmer errors.
 */
export type BillingErrorCode =
  | 'InvalidAmount'
  | 'InvalidContract'
  | 'InvalidContractNumber'
  | 'InvalidDate'
  | 'InvalidDecimal'
  | 'InvalidInvoice'
  | 'InvalidSiren'
  | 'InvalidSiret'
  | 'InvalidUsage'
  | 'InvalidVatNumber'
  | 'LegalRateMissing'
  | 'PeriodMismatch'
  | 'SyntecIndexNotPublished'
  | 'SyntecTableInvalid'
  | 'TooManyPeriods';

export class BillingError extends Error {
  readonly code: BillingErrorCode;

  constructor(code: BillingErrorCode, message: string) {
    super(message);
    this.name = 'BillingError';
    this.code = code;
  }
}
