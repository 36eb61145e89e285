import { defineConfig } from 'tsup';

export default defineConfig({
  entry: [
    'src/index.ts',
    'src/server.ts',
    'src/testing.ts',
    'src/cli/sources-create.ts',
    'src/cli/sources-list.ts',
    'src/cli/sources-revoke.ts',
    'src/cli/blobs-retry.ts',
  ],
  format: 'esm',
  dts: true,
  clean: true,
  sourcemap: true,
  // Bundled, not imported at run time: Node resolves each of drizzle-orm's few hundred internal modules
  // against its package.json, whose exports map is thousands of entries long, and re-reading it for
  // every one cost the server about 0.4 s of its start and 160 MB of garbage.
  noExternal: ['drizzle-orm'],
});
