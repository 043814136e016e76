import { isBulkheadError } from '../../src-shared/errors.js';
import type { TenantSummary } from '../../src-shared/tenant.js';
import { createEmbedder } from '../embed/index.js';
import { ingestPaths } from '../ingest/pipeline.js';
import { readEmbedderConfig } from '../embed/settings.js';
import type { ConsoleSession } from './session.js';

interface SampleTenant {
  name: string;
  documents: Record<string, string>;
}

/** Two invented clients with a few documents each, so a new user can try everything at once. */
export const SAMPLE_TENANTS: readonly SampleTenant[] = [
  {
    name: 'Northwind Legal (sample)',
    documents: {
      'engagement-letter.md': `# Engagement letter

## Scope
Northwind Legal engages the agency to redesign its client intake portal and to migrate 2,400 archived matters.

## Fees
The fixed fee is EUR 48,000, invoiced in three milestones: discovery (30%), build (50%) and acceptance (20%).
Invoices are payable within 30 days. Late payment accrues interest at the statutory rate.

## Term and renewal
The engagement runs twelve months from signature and renews automatically for six months unless either
party gives 60 days' written notice before the renewal date.
`,
      'data-processing.md': `# Data processing addendum

## Retention
Client matter files are retained for seven years after a matter closes, then deleted with a deletion certificate.

## Sub-processors
No sub-processor may receive matter data without Northwind's prior written consent.

## Breach notification
The agency notifies Northwind of any personal data breach within 24 hours of becoming aware of it.
`,
      'meeting-notes.md': `# Kick-off meeting notes

Attendees: the managing partner, the head of IT and two associates.

- The intake form must work on phones: most new clients write in the evening.
- Conflict checks stay manual for now; the partner wants to review every match.
- Go-live target: before the spring conference, when the firm expects a wave of new enquiries.
`,
    },
  },
  {
    name: 'Harbour Health Clinic (sample)',
    documents: {
      'service-agreement.md': `# Service agreement

## Services
The agency maintains the clinic's appointment booking website and its patient newsletter.

## Availability
The booking site must be available 99.5% of each calendar month, measured from outside the clinic's network.

## Fees
The monthly retainer is EUR 3,200. Work beyond 20 hours a month is billed at EUR 110 per hour.

## Termination
Either party may terminate with 90 days' notice; the clinic may terminate at once for a security breach.
`,
      'newsletter-guidelines.md': `# Newsletter guidelines

- Never mention a patient, even with consent, without the practice manager's approval.
- Seasonal topics: flu vaccination in October, hay fever in April, travel vaccines in June.
- The newsletter goes out on the first Tuesday of the month at 7 in the morning.
`,
      'incident-2024-03.md': `# Incident report: booking outage

On a Monday morning the booking site was down for 47 minutes after an expired TLS certificate.
Root cause: the renewal job ran on a server that had been retired.
Action: certificate renewal now runs on the hosting platform, with an alert 21 days before expiry.
`,
    },
  },
];

/**
 * Creates the sample clients (skipping any whose name is already taken) and ingests their
 * documents through the same temporary-upload path as files from the user.
 */
export async function createSampleTenants(s: ConsoleSession): Promise<TenantSummary[]> {
  const created: TenantSummary[] = [];
  for (const sample of SAMPLE_TENANTS) {
    let tenant: TenantSummary;
    try {
      tenant = s.vault.createTenant(sample.name);
    } catch (err) {
      if (isBulkheadError(err, 'NAME_TAKEN')) continue;
      throw err;
    }
    created.push(tenant);
    const session = s.vault.openSession();
    const uploads = await Promise.all(Object.entries(sample.documents).map(([name, text]) => s.uploads.add(tenant.id, name, Buffer.from(text))));
    try {
      const handle = session.open(tenant.id);
      const stored = s.uploads.take(
        tenant.id,
        uploads.map((u) => u.uploadId),
      );
      const staged = s.uploads.ingestInputs(stored);
      await ingestPaths(handle, staged.inputs, {
        embedder: createEmbedder(handle, readEmbedderConfig(handle)),
        sourcePathOf: staged.sourcePathOf,
        staged: staged.staged,
      });
    } finally {
      s.uploads.discard(uploads.map((u) => u.uploadId));
      session.dispose();
    }
  }
  return created;
}
