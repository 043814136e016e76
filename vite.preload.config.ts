import { defineConfig } from 'vite';

// The Electron preload: sandboxed preloads cannot import files, so it is one CommonJS bundle.
export default defineConfig({
  build: {
    outDir: 'dist/electron',
    emptyOutDir: true,
    minify: false,
    sourcemap: false,
    lib: { entry: 'src-main/electron/preload.ts', formats: ['cjs'], fileName: () => 'preload.cjs' },
    rollupOptions: { external: ['electron'] },
  },
});
