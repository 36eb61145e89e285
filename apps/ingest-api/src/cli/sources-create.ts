import { createSourceKey, isValidSourceName } from '../auth/api-keys.js';
import { loadConfig } from '../config.js';
import { createDatabase } from '../db/database.js';

const name = process.argv[2];
if (!isValidSourceName(name)) {
  process.stderr.write('usage: sources:create NAME   (NAME: 1-64 characters of [A-Za-z0-9._-])\n');
  process.exitCode = 2;
} else {
  const db = await createDatabase(loadConfig(process.env));
  try {
    const key = await createSourceKey(db, name);
    process.stderr.write(`Created a key for source "${name}". It is shown only once; store it now:\n`);
    process.stdout.write(`${key}\n`);
  } finally {
    await db.close();
  }
}
