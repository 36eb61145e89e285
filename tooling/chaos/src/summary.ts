import type { RunSummary } from './run.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The summary as an aligned two-column table, then the failures (if any). */
export function formatSummary(summary: RunSummary): string {
  const check = summary.check;
  const rows: [string, string][] = [
    ['seed', String(summary.seed)],
    ['result', summary.passed ? 'PASS' : 'FAIL'],
    ['fault phase / wall time', `${seconds(summary.durationMs)} / ${seconds(summary.wallMs)}`],
  ];
  if (check !== undefined) {
    const dead = check.deadLetters;
    rows.push(
      [
        'enqueued (resolved, logged)',
        `${check.enqueued.records + check.enqueued.blobs} (${check.enqueued.records} records, ${check.enqueued.blobs} blobs)`,
      ],
      ['delivered (in the database)', String(check.delivered)],
      ['rows stored whose id no log had (killed before logging)', String(check.unlogged)],
      [
        'duplicates absorbed by the server',
        `${check.duplicatesAbsorbed.events} answers for ${check.duplicatesAbsorbed.items} items`,
      ],
      [
        'enqueue refused (not resolved)',
        Object.entries(check.enqueueRefused)
          .map(([name, n]) => `${n} ${name}`)
          .join(', ') || '0',
      ],
      ['lost', String(check.lost.length)],
      ['wrong content', String(check.wrongContent.length)],
      ['duplicate rows', String(check.duplicateRows.length)],
      [
        'blobs uploaded / objects verified by SHA-256',
        `${check.blobs.uploaded} / ${check.blobs.objectsVerified}`,
      ],
      ['blob problems', String(check.blobProblems.length)],
      [
        'log lines written (rotations)',
        `${check.tail.written} (${check.tail.rotations.rename} rename + create, ${check.tail.rotations.copytruncate} copytruncate)`,
      ],
      ['log lines stored (rows)', `${check.tail.linesStored} (${check.tail.rowsStored} rows)`],
      [
        'log lines lost / duplicated / foreign',
        `${check.tail.lost.length} / ${check.tail.duplicated.length} / ${check.tail.foreign.length}`,
      ],
      [
        'dead letters expected / found / unexpected / missing',
        `${dead.expected.length} / ${dead.found.length} / ${dead.unexpected.length} / ${dead.missing.length}`,
      ],
      ['dead letters', dead.found.map((letter) => `${letter.id} ${letter.code}`).join(', ') || 'none'],
    );
  }
  rows.push(
    ['server processes that crashed (restarted)', String(summary.faults['unexpected-server-exit'] ?? 0)],
    [
      'faults injected',
      Object.entries(summary.faults)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(', '),
    ],
    [
      'proxy requests',
      Object.entries(summary.proxy)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(', '),
    ],
  );
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
  for (const note of summary.notes) lines.push(`note: ${note}`);
  for (const failure of summary.failures) lines.push(`FAILURE: ${failure}`);
  return lines.join('\n');
}
