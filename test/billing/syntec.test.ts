import test from 'ava';
import {
  BillingError,
  lastAnniversary,
  lastPublishedSyntecIndex,
  priceInForce,
  revisedPriceCents,
  validateContract,
} from '../../operator/billing/index.ts';
import { contractInput, syntecIndices } from './fixtures.ts';

test('SYNTEC: P = P0 × S / S0 — 23 € with S0 = 296.3 and S = 305.1 becomes 23.68 €', (t) => {
  // 2300 × 305.1 / 296.3 = 2368.309… cents.
  t.is(revisedPriceCents(2300, '296.3', '305.1'), 2368);
});

test('SYNTEC: the revised price rounds half-up to the cent', (t) => {
  t.is(revisedPriceCents(2300, 200, 201), 2312); // exactly 2311.5
  t.is(revisedPriceCents(2300, '200', '200.1'), 2301); // 2301.15
  t.is(revisedPriceCents(2300, '200', '200.3'), 2303); // 2303.45
});

test('SYNTEC: a fall of the index lowers the price, as the formula says', (t) => {
  t.is(revisedPriceCents(2300, '305.1', '296.3'), 2234); // 2233.66…
});

test('SYNTEC: the index used is the last one published on the date, not the last month measured', (t) => {
  // On 2027-01-01 the December 2026 index exists but is not published before 2027-01-31.
  t.is(lastPublishedSyntecIndex(syntecIndices, '2027-01-01').month, '2026-11');
  t.is(lastPublishedSyntecIndex(syntecIndices, '2026-12-30').month, '2026-10');
  t.is(lastPublishedSyntecIndex(syntecIndices, '2026-12-31').month, '2026-11');
  t.is(lastPublishedSyntecIndex(syntecIndices, '2027-01-31').month, '2026-12');
});

test('SYNTEC: no index published by the date is a SyntecIndexNotPublished error', (t) => {
  const error = t.throws(() => lastPublishedSyntecIndex(syntecIndices, '2025-11-29'), {
    instanceOf: BillingError,
  });
  t.is(error?.code, 'SyntecIndexNotPublished');
});

test('anniversaries: start + whole years, the first on the first anniversary', (t) => {
  t.is(lastAnniversary('2026-01-01', '2026-12-31'), undefined);
  t.deepEqual(lastAnniversary('2026-01-01', '2027-01-01'), {
    anniversaryDate: '2027-01-01',
    contractYear: 1,
  });
  t.deepEqual(lastAnniversary('2024-02-29', '2025-03-01'), {
    anniversaryDate: '2025-02-28',
    contractYear: 1,
  });
  t.deepEqual(lastAnniversary('2024-02-29', '2028-02-29'), {
    anniversaryDate: '2028-02-29',
    contractYear: 4,
  });
});

test('price in force: P0 during the first year, the revised price from the anniversary on', (t) => {
  const contract = validateContract(contractInput());
  t.deepEqual(priceInForce(contract, '2026-12-31'), { priceCentsPerTerabyteMonth: 2300 });
  const revised = priceInForce(contract, '2027-01-01');
  t.is(revised.priceCentsPerTerabyteMonth, 2368);
  t.is(revised.revision?.anniversaryDate, '2027-01-01');
  t.is(revised.revision?.contractYear, 1);
  t.is(revised.revision?.index.month, '2026-11');
  // Later in the contract year the price stays the one fixed on the anniversary.
  t.is(priceInForce(contract, '2027-06-30').priceCentsPerTerabyteMonth, 2368);
});

test('price in force: every revision starts again from P0 and S0, so rounding does not accumulate', (t) => {
  const contract = validateContract(
    contractInput({
      syntecIndexAtSignature: '200',
      syntecIndices: [
        { month: '2026-11', value: '200.1', publishedOn: '2026-12-31' },
        { month: '2027-11', value: '200.2', publishedOn: '2027-12-31' },
      ],
    }),
  );
  t.is(priceInForce(contract, '2027-01-01').priceCentsPerTerabyteMonth, 2301); // 2301.15
  t.is(priceInForce(contract, '2028-01-01').priceCentsPerTerabyteMonth, 2302); // 2302.3, not 2301 × 200.2/200.1
});
