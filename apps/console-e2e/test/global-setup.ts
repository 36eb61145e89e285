import { CHROMIUM_PATH } from './support/browser.js';
import { ensureChromium } from './support/ensure-chromium.js';

/** Installs Chromium when it is missing, or fails the run with the reason (never skips). */
export default function setup(): void {
  ensureChromium(CHROMIUM_PATH);
}
