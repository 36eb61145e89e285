import { listKeys } from '../auth/source-keys.js';
import { withDatabase } from './with-database.js';

if (process.argv.length > 2) {
  process.stderr.write('usage: sources:list   (every key: source, key id, origin, state, created)\n');
  process.exitCode = 2;
} else {
  await withDatabase(
    async (db) => {
      const keys = await listKeys(db);
      const rows = [
        ['SOURCE', 'KEY ID', 'ORIGIN', 'STATE', 'CREATED'],
        ...keys.map((key) => [key.source, key.keyId, key.origin, key.state, key.createdAt.toISOString()]),
      ];
      const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
      for (const row of rows) {
        process.stdout.write(
          `${row
            .map((cell, column) => cell.padEnd(widths[column]!))
            .join('  ')
            .trimEnd()}\n`,
        );
      }
      return 0;
    },
    { readOnly: true },
  );
}
