import { defineConfig } from 'tsup';

/**
 * ESM for `import` (and the `sluice` CLI), CommonJS for `require`. ky and p-queue ship ESM only; the
 * CommonJS build carries them inside, so `require('@sluice/uploader-sdk')` works on any Node (and
 * Electron) without require(esm). `@sluice/contracts` stays external: it ships CommonJS too.
 */
const ESM_ONLY = ['ky', 'p-queue'];

export default defineConfig([
  {
    entry: ['src/index.ts', 'src/cli/main.ts'],
    format: 'esm',
    dts: true,
    clean: true,
    sourcemap: true,
  },
  {
    entry: ['src/index.ts'],
    format: 'cjs',
    dts: true,
    sourcemap: true,
    noExternal: ESM_ONLY,
  },
]);
