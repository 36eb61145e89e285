import { defineConfig } from 'tsup';

/** The orchestrator and the client and log-writer scripts it spawns; both run as plain `node dist/…` processes. */
export default defineConfig({
  entry: ['src/cli.ts', 'src/client.ts', 'src/writer.ts'],
  format: 'esm',
  clean: true,
  sourcemap: true,
});
