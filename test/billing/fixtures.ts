import type {
  CompanyIdentity,
  ContractInput,
  LegalInterestRate,
  SyntecIndexPublication,
} from '../../operator/billing/index.ts';

/** 1 To in bytes, as a bigint, for readable usage figures. */
export const terabyte = 10n ** 12n;

/** The provider, as it appears on its invoices (a made-up company with a valid SIREN). */
export const seller: CompanyIdentity = {
  name: 'Coffre SAS',
  siren: '123456782',
  siret: '12345678200010',
  vatNumber: 'FR11123456782',
  address: { lines: ['2 rue Kellermann'], postalCode: '59100', city: 'Roubaix', country: 'France' },
};

/** A customer whose name needs escaping in HTML and quoting in CSV. */
export const customer: CompanyIdentity = {
  name: 'Dupont & Fils <Santé> "Clinique", Lille',
  siren: '987654324',
  vatNumber: 'FR14987654324',
  address: {
    lines: ['10 place du Général-de-Gaulle'],
    postalCode: '59000',
    city: 'Lille',
    country: 'France',
  },
};

/**
 * SYNTEC indices with realistic values; each month's index is modelled as published on the last
 * day of the following month.
 */
export const syntecIndices: SyntecIndexPublication[] = [
  { month: '2025-10', value: '296.3', publishedOn: '2025-11-30' },
  { month: '2025-11', value: '296.9', publishedOn: '2025-12-31' },
  { month: '2026-10', value: '304.2', publishedOn: '2026-11-30' },
  { month: '2026-11', value: '305.1', publishedOn: '2026-12-31' },
  { month: '2026-12', value: '305.8', publishedOn: '2027-01-31' },
];

/** A contract committing 10 To from 2026-01-01, signed when the last published index was 296.3. */
export function contractInput(overrides: Partial<ContractInput> = {}): ContractInput {
  return {
    contractNumber: 'CSI-2026-0042',
    company: customer,
    representativeName: 'Camille Martin',
    committedTerabytes: 10,
    startDate: '2026-01-01',
    syntecIndexAtSignature: '296.3',
    syntecIndices,
    ...overrides,
  };
}

/** The legal interest rate for professional creditors, by half-year (percent). */
export const legalRates: LegalInterestRate[] = [
  { from: '2025-01-01', percent: '3.71' },
  { from: '2025-07-01', percent: '2.76' },
];
