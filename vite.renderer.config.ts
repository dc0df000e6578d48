import { defineConfig } from 'vite';

// The settings window: plain TypeScript, HTML and CSS from src-renderer/, built to dist/renderer/ and served by the main
// process from app://severa-sync/. Relative asset paths, no inline scripts (the CSP allows 'self' only).
export default defineConfig({
  root: 'src-renderer',
  base: './',
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'chrome130',
    modulePreload: false,
    assetsInlineLimit: 0,
  },
});
