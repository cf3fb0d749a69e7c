// `node operator/usage/invoice-command.ts`: the invoice of one billing period of a tenant, from the
// agent's usage ledger. It reads the tenant's daily peaks from the agent's admin API (signed with
// COFFRE_ADMIN_KEY), applies the contract (operator/billing) and prints the invoice as JSON, CSV
// or HTML. Exit status 2 on bad usage, 1 when the agent or the billing rules refuse.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { adminRequest } from '../../agent/admin/admin-client.ts';
import {
  type CompanyIdentity,
  type ContractInput,
  invoiceLinesToCsv,
  invoiceToJson,
  renderInvoiceHtml,
  validateContract,
} from '../billing/index.ts';
import { invoiceFromLedger, type LedgerDailyPeak } from './ledger-invoices.ts';

const usage = `usage: node operator/usage/invoice-command.ts --admin URL --tenant ID --contract CONTRACT.json
         --seller SELLER.json --period N --number INVOICE-NUMBER --issued YYYY-MM-DD --due YYYY-MM-DD
         [--format json|csv|html]     (the admin key in COFFRE_ADMIN_KEY)`;

function parse() {
  return parseArgs({
    args: process.argv.slice(2),
    options: {
      admin: { type: 'string' },
      tenant: { type: 'string' },
      contract: { type: 'string' },
      seller: { type: 'string' },
      period: { type: 'string' },
      number: { type: 'string' },
      issued: { type: 'string' },
      due: { type: 'string' },
      format: { type: 'string', default: 'json' },
    },
  }).values;
}

async function main(): Promise<number> {
  let options: ReturnType<typeof parse>;
  try {
    options = parse();
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const key = process.env.COFFRE_ADMIN_KEY;
  const { admin, tenant, contract, seller, period, number, issued, due, format } = options;
  if (!key || !admin || !tenant || !contract || !seller || !period || !number || !issued || !due) {
    console.error(usage);
    return 2;
  }
  if (!['json', 'csv', 'html'].includes(format ?? '')) {
    console.error(usage);
    return 2;
  }
  const peaks = await adminRequest<{ days: LedgerDailyPeak[] }>(
    admin,
    key,
    'GET',
    `/v1/tenants/${encodeURIComponent(tenant)}/peaks`,
  );
  if (peaks.status !== 200) {
    console.error(`the agent answered ${peaks.status}: ${peaks.text}`);
    return 1;
  }
  const invoice = invoiceFromLedger({
    contract: validateContract(JSON.parse(readFileSync(contract, 'utf8')) as ContractInput),
    period: Number(period),
    days: peaks.body.days,
    invoiceNumber: number,
    issuedOn: issued,
    dueDate: due,
    seller: JSON.parse(readFileSync(seller, 'utf8')) as CompanyIdentity,
  });
  const rendered =
    format === 'csv'
      ? invoiceLinesToCsv(invoice)
      : format === 'html'
        ? renderInvoiceHtml(invoice)
        : invoiceToJson(invoice);
  process.stdout.write(rendered.endsWith('\n') ? rendered : `${rendered}\n`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`invoice: ${(error as Error).message}`);
  process.exitCode = 1;
}
