import { describe, expect, it } from 'vitest';
import { isInlineImage, mediaType } from '../src/index.js';

// The admin API serves a blob `inline` and the console previews it only for these types: the two must
// agree, and a type that can run script (SVG, HTML) must never be shown.
describe('isInlineImage', () => {
  it('takes the four raster image types, whatever their case and parameters', () => {
    for (const type of ['image/png', 'IMAGE/JPEG', 'image/gif; charset=binary', ' image/webp ']) {
      expect(isInlineImage(type), type).toBe(true);
    }
  });

  it('refuses everything else, SVG and HTML included', () => {
    for (const type of ['image/svg+xml', 'text/html', 'image/png+xml', 'application/octet-stream', '', ';']) {
      expect(isInlineImage(type), type).toBe(false);
    }
    expect(mediaType('Text/HTML; charset=utf-8')).toBe('text/html');
  });
});
