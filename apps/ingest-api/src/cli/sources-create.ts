import { isValidSourceName } from '../auth/api-keys.js';
import { createSourceKey } from '../auth/source-keys.js';
import { withDatabase } from './with-database.js';

const name = process.argv[2];
if (!isValidSourceName(name) || process.argv.length > 3) {
  process.stderr.write('usage: sources:create NAME   (NAME: 1-64 characters of [A-Za-z0-9._-])\n');
  process.exitCode = 2;
} else {
  await withDatabase(async (db) => {
    const created = await createSourceKey(db, name);
    process.stderr.write(
      `Created a key for source "${name}", key id ${created.keyId} (for sources:list and sources:revoke).\n` +
        'The key is shown only once; store it now:\n',
    );
    process.stdout.write(`${created.key}\n`);
    return 0;
  });
}
