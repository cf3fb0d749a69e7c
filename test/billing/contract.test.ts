import test from 'ava';
import {
  BillingError,
  defaultPeriodicity,
  defaultPriceCentsPerTerabyteMonth,
  frenchVatKey,
  normaliseSiren,
  normaliseSiret,
  normaliseVatNumber,
  validateContract,
  validateContractNumber,
} from '../../operator/billing/index.ts';
import { contractInput, customer } from './fixtures.ts';

test('contract defaults: 23 € HT per To per month, billed annually (order form)', (t) => {
  const contract = validateContract(contractInput());
  t.is(defaultPriceCentsPerTerabyteMonth, 2300);
  t.is(defaultPeriodicity, 'annual');
  t.is(contract.priceCentsPerTerabyteMonth, 2300);
  t.is(contract.periodicity, 'annual');
});

test('contract: an explicit monthly periodicity and price are kept', (t) => {
  const contract = validateContract(
    contractInput({ periodicity: 'monthly', priceCentsPerTerabyteMonth: 2100 }),
  );
  t.is(contract.periodicity, 'monthly');
  t.is(contract.priceCentsPerTerabyteMonth, 2100);
});

test('contract number: CSI- followed by upper-case groups is accepted', (t) => {
  for (const number of ['CSI-2026-0042', 'CSI-1', 'CSI-ABC-12-X'])
    t.is(validateContractNumber(number), number);
});

test('contract number: anything but CSI-… is refused with InvalidContractNumber', (t) => {
  for (const number of [
    'CSI-',
    'csi-2026-1',
    'CSI_2026',
    'XYZ-2026',
    'CSI-2026--1',
    'CSI-2026-1 ',
    `CSI-${'9'.repeat(40)}`,
  ]) {
    const error = t.throws(() => validateContractNumber(number), { instanceOf: BillingError });
    t.is(error?.code, 'InvalidContractNumber', number);
  }
});

test('SIREN: the Luhn key is checked and printed spaces are removed', (t) => {
  t.is(normaliseSiren('732 829 320'), '732829320');
  const error = t.throws(() => normaliseSiren('732829321'), { instanceOf: BillingError });
  t.is(error?.code, 'InvalidSiren');
  t.throws(() => normaliseSiren('73282932'), { instanceOf: BillingError });
});

test('SIRET: the INSEE example 732 829 320 00074 is valid and must belong to the SIREN', (t) => {
  t.is(normaliseSiret('732 829 320 00074', '732829320'), '73282932000074');
  t.is(t.throws(() => normaliseSiret('73282932000075', '732829320'))?.message.includes('valid key'), true);
  const error = t.throws(() => normaliseSiret('12345678200010', '732829320'), { instanceOf: BillingError });
  t.is(error?.code, 'InvalidSiret');
});

test("SIRET: La Poste's establishments follow the sum-of-digits-multiple-of-5 rule", (t) => {
  t.is(normaliseSiret('35600000000048', '356000000'), '35600000000048');
  t.is(normaliseSiret('35600000000015', '356000000'), '35600000000015');
  t.throws(() => normaliseSiret('35600000000016', '356000000'), { instanceOf: BillingError });
});

test('VAT number: a French number must be FR + key + SIREN (FR83 404833048)', (t) => {
  t.is(frenchVatKey('404833048'), '83');
  t.is(normaliseVatNumber('fr 83 404833048', '404833048'), 'FR83404833048');
  const error = t.throws(() => normaliseVatNumber('FR84404833048', '404833048'), {
    instanceOf: BillingError,
  });
  t.is(error?.code, 'InvalidVatNumber');
  t.is(normaliseVatNumber('DE123456789', '404833048'), 'DE123456789');
});

test('contract: a wrong VAT number, an empty name or a fractional commitment are refused', (t) => {
  const badVat = t.throws(
    () => validateContract(contractInput({ company: { ...customer, vatNumber: 'FR00987654324' } })),
    { instanceOf: BillingError },
  );
  t.is(badVat?.code, 'InvalidVatNumber');
  const noName = t.throws(() => validateContract(contractInput({ company: { ...customer, name: ' ' } })), {
    instanceOf: BillingError,
  });
  t.is(noName?.code, 'InvalidContract');
  const fractional = t.throws(() => validateContract(contractInput({ committedTerabytes: 2.5 })), {
    instanceOf: BillingError,
  });
  t.is(fractional?.code, 'InvalidContract');
  const floatPrice = t.throws(() => validateContract(contractInput({ priceCentsPerTerabyteMonth: 23.5 })), {
    instanceOf: BillingError,
  });
  t.is(floatPrice?.code, 'InvalidAmount');
});

test('contract: a SYNTEC table with a month twice or published before its month is refused', (t) => {
  const twice = t.throws(
    () =>
      validateContract(
        contractInput({
          syntecIndices: [
            { month: '2026-01', value: '300', publishedOn: '2026-02-28' },
            { month: '2026-01', value: '301', publishedOn: '2026-03-01' },
          ],
        }),
      ),
    { instanceOf: BillingError },
  );
  t.is(twice?.code, 'SyntecTableInvalid');
  const early = t.throws(
    () =>
      validateContract(
        contractInput({ syntecIndices: [{ month: '2026-03', value: '300', publishedOn: '2026-02-28' }] }),
      ),
    { instanceOf: BillingError },
  );
  t.is(early?.code, 'SyntecTableInvalid');
});
