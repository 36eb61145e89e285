// Runs every benchmark file in this directory, one at a time, each in its own process so that memory
// figures are not mixed up.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const directory = fileURLToPath(new URL('.', import.meta.url));
const files = readdirSync(directory)
  .filter((name) => name.endsWith('.ts') && name !== 'run.ts')
  .sort();
let failed = 0;
for (const file of files) {
  console.log(`\n## ${file}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', file, ...process.argv.slice(2)], {
    cwd: directory,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    failed += 1;
    console.log(`${file} failed (exit ${result.status ?? result.signal})`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
