// The bill comes from the ledger: the agent's daily peaks, through operator/billing, give the
// invoice of a period (the highest value reached in it, including the level carried into it).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { openObjectLayer } from '../../agent/objects/object-layer.ts';
import { bucketIdOf } from '../../agent/objects/records.ts';
import { validateContract } from '../../operator/billing/index.ts';
import {
  invoiceFromLedger,
  type LedgerDailyPeak,
  usageSamplesFromLedger,
} from '../../operator/usage/ledger-invoices.ts';
import { contractInput, seller } from '../billing/fixtures.ts';
import { bodyOf, patternBytes, testClock } from '../objects/helpers.ts';
import { MemoryErasureSet } from '../objects/memory-erasure-set.ts';

const terabyte = 1e12;
const invoiceDates = { invoiceNumber: 'F-2026-0100', issuedOn: '2026-05-02', dueDate: '2026-06-01', seller };

function day(date: string, peakBytes: number, lastBytes: number): LedgerDailyPeak {
  const noonMs = Date.parse(`${date}T10:00:00Z`);
  return { day: date, peakBytes, peakAtMs: noonMs, lastBytes, lastAtMs: noonMs + 3_600_000 };
}

test('ledger invoice: a month with no change bills the level carried into it; a month with a peak bills the peak, rounded up per To', (t) => {
  const contract = validateContract(contractInput({ periodicity: 'monthly', startDate: '2026-01-01' }));
  const days = [
    day('2026-02-20', 12.3 * terabyte, 12.3 * terabyte),
    day('2026-04-10', 14.2 * terabyte, 9 * terabyte),
  ];
  const march = invoiceFromLedger({ contract, period: 2, days, ...invoiceDates });
  t.is(march.peakStoredBytes, 12_300_000_000_000n);
  t.deepEqual(
    march.lines.map((line) => [line.kind, line.quantityTerabytes, line.amountExcludingTaxCents]),
    [
      ['subscription', 10, 23_000],
      ['consumption', 3, 6_900],
    ],
  );
  const april = invoiceFromLedger({ contract, period: 3, days, ...invoiceDates });
  t.is(april.peakStoredBytes, 14_200_000_000_000n);
  t.is(april.lines[1].quantityTerabytes, 5);
  // May starts at the 9 To April ended with: under the commitment, no consumption line amount.
  const may = invoiceFromLedger({ contract, period: 4, days, ...invoiceDates });
  t.is(may.peakStoredBytes, 9_000_000_000_000n);
  t.is(may.lines[1].amountExcludingTaxCents, 0);
});

test('ledger invoice: from a real ledger, the peak of the Paris month survives the deletes that followed it', async (t) => {
  const directory = await mkdtemp(path.join(tmpdir(), 'coffre-ledger-invoice-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const clock = testClock(Date.parse('2026-03-05T09:00:00Z'));
  const layer = await openObjectLayer({
    store: new MemoryErasureSet(),
    indexPath: path.join(directory, 'index.sqlite'),
    clock: clock.now,
  });
  t.teardown(() => layer.close());
  await layer.buckets.create({ name: 'invoiced-bucket', ownerTenantId: 'acme' });
  await layer.objects.put({
    bucket: bucketIdOf('acme', 'invoiced-bucket'),
    key: 'a',
    body: bodyOf(patternBytes(4000, 1)),
  });
  clock.set(Date.parse('2026-03-20T09:00:00Z'));
  await layer.objects.delete({ bucket: bucketIdOf('acme', 'invoiced-bucket'), key: 'a' });
  await layer.objects.put({
    bucket: bucketIdOf('acme', 'invoiced-bucket'),
    key: 'b',
    body: bodyOf(patternBytes(100, 2)),
  });
  const days = layer.usage.dailyPeaks('acme');
  t.deepEqual(
    usageSamplesFromLedger(days).map((sample) => Number(sample.storedBytes)),
    [4000, 4000, 4000, 100],
  );
  const contract = validateContract(
    contractInput({ periodicity: 'monthly', startDate: '2026-03-01', committedTerabytes: 0 }),
  );
  const invoice = invoiceFromLedger({ contract, period: 0, days, ...invoiceDates });
  t.is(invoice.peakStoredBytes, 4000n);
  // A started To is due: 4000 bytes bill 1 To of consumption.
  t.is(invoice.lines[1].quantityTerabytes, 1);
  t.is(invoice.lines[1].amountExcludingTaxCents, 2300);
});
