import { defineConfig } from 'tsup';

/**
 * ESM for `import`, CommonJS for `require`. These dependencies ship ESM only; the CommonJS build carries
 * them inside, so `require('@sluice/contracts')` works on any Node (and Electron) without require(esm).
 */
const ESM_ONLY = ['@noble/hashes', 'uuid'];

export default defineConfig([
  {
    entry: ['src/index.ts'],
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
