import { checkIsoDate, type IsoDate } from './calendar.ts';
import { BillingError } from './errors.ts';
import { normaliseSiren, normaliseSiret, normaliseVatNumber } from './identity.ts';
import { type Cents, checkCents, type DecimalInput, isZeroFraction, parseDecimal } from './money.ts';
import { checkSyntecTable, type SyntecIndexPublication } from './syntec-table.ts';

/** Order form: "Price: 23 € HT per To per month". */
export const defaultPriceCentsPerTerabyteMonth: Cents = 2300;

/** Order form: "billing periodicity (annual)"; monthly is the other periodicity offered. */
export type Periodicity = 'annual' | 'monthly';
export const defaultPeriodicity: Periodicity = 'annual';

export interface PostalAddress {
  readonly lines: readonly string[];
  readonly postalCode: string;
  readonly city: string;
  readonly country: string;
}

/** Order form: "company identification". */
export interface CompanyIdentity {
  readonly name: string;
  readonly siren: string;
  readonly siret?: string;
  readonly vatNumber?: string;
  readonly address: PostalAddress;
}

/** What the order form and the general terms fix for billing, as entered. */
export interface ContractInput {
  readonly contractNumber: string;
  readonly company: CompanyIdentity;
  readonly representativeName: string;
  /** Order form: "monthly data volume (To)", the subscribed (committed) volume. */
  readonly committedTerabytes: number;
  readonly periodicity?: Periodicity;
  /** P0, the price per To per month before any indexation, in cents excluding tax. */
  readonly priceCentsPerTerabyteMonth?: Cents;
  /** The first day of service, a Europe/Paris date; its anniversaries are the revision dates. */
  readonly startDate: IsoDate;
  /** S0: "the last SYNTEC index published when the contract was made". */
  readonly syntecIndexAtSignature: DecimalInput;
  /** Published SYNTEC indices, each with its month and its publication date. */
  readonly syntecIndices: readonly SyntecIndexPublication[];
}

/** A contract checked by `validateContract`, with defaults applied and identifiers normalised. */
export interface Contract extends ContractInput {
  readonly periodicity: Periodicity;
  readonly priceCentsPerTerabyteMonth: Cents;
}

/**
 * Contract numbers on the order form read `CSI-…`: the prefix, then upper-case letters and digits
 * in groups separated by single hyphens (CSI-2026-0042), at most 40 characters, so the number
 * is safe in file names, CSV cells and HTML alike.
 */
const contractNumberPattern = /^CSI-[A-Z0-9]+(?:-[A-Z0-9]+)*$/;
const contractNumberMaximumLength = 40;

export function validateContractNumber(value: string): string {
  if (
    typeof value !== 'string' ||
    value.length > contractNumberMaximumLength ||
    !contractNumberPattern.test(value)
  ) {
    throw new BillingError('InvalidContractNumber', `contract number ${JSON.stringify(value)} is not CSI-…`);
  }
  return value;
}

function requireText(value: string, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new BillingError('InvalidContract', `${what} is required`);
  }
  return value.trim();
}

/** Checks a company identity (name, SIREN, optional SIRET and VAT number, address) and normalises it. */
export function validateCompanyIdentity(company: CompanyIdentity): CompanyIdentity {
  if (typeof company !== 'object' || company === null) {
    throw new BillingError('InvalidContract', 'company identity is required');
  }
  const siren = normaliseSiren(company.siren);
  const address = company.address;
  if (typeof address !== 'object' || address === null || !Array.isArray(address.lines)) {
    throw new BillingError('InvalidContract', 'company address is required');
  }
  return {
    name: requireText(company.name, 'company name'),
    siren,
    ...(company.siret === undefined ? {} : { siret: normaliseSiret(company.siret, siren) }),
    ...(company.vatNumber === undefined ? {} : { vatNumber: normaliseVatNumber(company.vatNumber, siren) }),
    address: {
      lines: address.lines.map((line) => requireText(line, 'address line')),
      postalCode: requireText(address.postalCode, 'postal code'),
      city: requireText(address.city, 'city'),
      country: requireText(address.country, 'country'),
    },
  };
}

/** Checks a contract as entered and applies the order form's defaults (23 € HT, annual). */
export function validateContract(input: ContractInput): Contract {
  const periodicity = input.periodicity ?? defaultPeriodicity;
  if (periodicity !== 'annual' && periodicity !== 'monthly') {
    throw new BillingError(
      'InvalidContract',
      `periodicity ${JSON.stringify(periodicity)} is not annual or monthly`,
    );
  }
  const price = checkCents(
    input.priceCentsPerTerabyteMonth ?? defaultPriceCentsPerTerabyteMonth,
    'price per To per month',
  );
  if (price < 0) throw new BillingError('InvalidContract', 'price per To per month is negative');
  if (!Number.isSafeInteger(input.committedTerabytes) || input.committedTerabytes < 0) {
    throw new BillingError('InvalidContract', 'committed volume must be a whole number of To, zero or more');
  }
  if (isZeroFraction(parseDecimal(input.syntecIndexAtSignature, 'SYNTEC index at signature'))) {
    throw new BillingError('InvalidContract', 'SYNTEC index at signature is zero');
  }
  return {
    contractNumber: validateContractNumber(input.contractNumber),
    company: validateCompanyIdentity(input.company),
    representativeName: requireText(input.representativeName, 'representative name'),
    committedTerabytes: input.committedTerabytes,
    periodicity,
    priceCentsPerTerabyteMonth: price,
    startDate: checkIsoDate(input.startDate, 'contract start date'),
    syntecIndexAtSignature: input.syntecIndexAtSignature,
    syntecIndices: checkSyntecTable(input.syntecIndices),
  };
}
