import { KEY_ID_PATTERN } from '@sluice/contracts';
import { isValidSourceName } from '../auth/api-keys.js';
import { revokeKeys } from '../auth/source-keys.js';
import { withDatabase } from './with-database.js';

const target = process.argv[2];
if (
  target === undefined ||
  process.argv.length > 3 ||
  !(KEY_ID_PATTERN.test(target) || isValidSourceName(target))
) {
  process.stderr.write(
    'usage: sources:revoke NAME|KEY-ID   (every key of a source, or one key by its id from sources:list)\n',
  );
  process.exitCode = 2;
} else {
  await withDatabase(async (db) => {
    const revoked = await revokeKeys(db, target);
    if (revoked.length === 0) {
      process.stderr.write(`no valid key matches ${target}; nothing revoked (see sources:list)\n`);
      return 1;
    }
    for (const key of revoked) process.stdout.write(`${key.source}\t${key.keyId}\n`);
    process.stderr.write(
      `revoked ${revoked.length} key(s); running instances refuse them within a second. Revocation is final.\n`,
    );
    return 0;
  });
}
