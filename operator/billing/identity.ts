import { BillingError } from './errors.ts';

/**
 * French company identifiers printed on invoices. The INSEE numbers carry a Luhn check digit and
 * the French VAT number a key computed from the SIREN, so a typing error is caught when the
 * contract is entered rather than on a rejected invoice.
 */

/** The Luhn checksum (ISO/IEC 7812-1 annex B) over a string of decimal digits. */
function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let position = 0; position < digits.length; position++) {
    let digit = Number(digits[digits.length - 1 - position]);
    if (position % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** SIREN: 9 digits, Luhn check (INSEE). Spaces, as usually printed ('732 829 320'), are accepted. */
export function normaliseSiren(value: string): string {
  const digits = typeof value === 'string' ? value.replace(/\s/g, '') : '';
  if (!/^\d{9}$/.test(digits) || !luhnValid(digits)) {
    throw new BillingError(
      'InvalidSiren',
      `SIREN ${JSON.stringify(value)} is not 9 digits with a valid Luhn key`,
    );
  }
  return digits;
}

/**
 * La Poste's establishments all share one SIREN and do not follow the Luhn rule: their SIRET
 * digits sum to a multiple of 5 (INSEE); only the head office's SIRET, 356 000 000 00048, is Luhn.
 */
const laPosteSiren = '356000000';

/** SIRET: 14 digits, the SIREN followed by the establishment number (NIC), Luhn check. */
export function normaliseSiret(value: string, siren: string): string {
  const digits = typeof value === 'string' ? value.replace(/\s/g, '') : '';
  const valid =
    /^\d{14}$/.test(digits) &&
    (luhnValid(digits) ||
      (digits.startsWith(laPosteSiren) &&
        [...digits].reduce((sum, digit) => sum + Number(digit), 0) % 5 === 0));
  if (!valid) {
    throw new BillingError(
      'InvalidSiret',
      `SIRET ${JSON.stringify(value)} is not 14 digits with a valid key`,
    );
  }
  if (!digits.startsWith(siren)) {
    throw new BillingError('InvalidSiret', `SIRET ${digits} does not belong to SIREN ${siren}`);
  }
  return digits;
}

/** The two-digit key of a French VAT number: (12 + 3 × (SIREN mod 97)) mod 97. */
export function frenchVatKey(siren: string): string {
  const key = (12 + 3 * (Number(siren) % 97)) % 97;
  return String(key).padStart(2, '0');
}

/**
 * Intra-community VAT number. A French one (FR + key + SIREN) must carry the company's SIREN and
 * the right key; another member state's is checked for its general shape only.
 */
export function normaliseVatNumber(value: string, siren: string): string {
  const compact = typeof value === 'string' ? value.replace(/\s/g, '').toUpperCase() : '';
  if (compact.startsWith('FR')) {
    if (compact !== `FR${frenchVatKey(siren)}${siren}`) {
      throw new BillingError(
        'InvalidVatNumber',
        `VAT number ${JSON.stringify(value)} is not FR${frenchVatKey(siren)}${siren}, the one of SIREN ${siren}`,
      );
    }
    return compact;
  }
  if (!/^[A-Z]{2}[0-9A-Z+*]{2,13}$/.test(compact)) {
    throw new BillingError('InvalidVatNumber', `VAT number ${JSON.stringify(value)} is not well formed`);
  }
  return compact;
}
