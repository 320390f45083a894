import { strict as assert } from 'node:assert';
import { RouteT2IError } from '../../src/router/errors';
import { checkImageHeader } from '../../src/runtime/images';
import { imageSize, isCompleteImage, sniffImage } from '../../src/shared/images';
import { solidImage } from '../support/images';
import { claimedSizePng, makePng } from '../support/png';

describe('the image reader', () => {
  it('reads the size from the header of PNG, JPEG, WebP and GIF', async () => {
    assert.deepEqual(imageSize(makePng(7, 5)), { width: 7, height: 5 });
    for (const format of ['png', 'jpeg', 'webp'] as const) {
      const bytes = await solidImage([10, 200, 30], 48, 32, format);
      assert.equal(sniffImage(bytes)?.format, format);
      assert.deepEqual(imageSize(bytes), { width: 48, height: 32 }, format);
      assert.equal(isCompleteImage(bytes), true, format);
    }
    const gif = Buffer.from([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x20, 0x00, 0x10, 0x00, 0, 0, 0, 0x3b]);
    assert.deepEqual(imageSize(gif), { width: 32, height: 16 });
  });

  it('refuses an image of too many pixels from its header, before any decoding', () => {
    assert.throws(
      () => checkImageHeader(claimedSizePng(16_000, 16_000), 'bomb.png'),
      (e: RouteT2IError) =>
        e.code === 'image-too-large' && /^bomb\.png: 16000×16000 is 256\.0 megapixels/.test(e.message),
    );
    assert.equal(checkImageHeader(claimedSizePng(8192, 8192), 'ok.png'), 'png');
  });

  it('refuses a header cut short and a format it does not score', () => {
    assert.throws(
      () => checkImageHeader(makePng(4, 4).subarray(0, 20), 'cut.png'),
      /cut\.png: the PNG header is truncated or corrupt/,
    );
    assert.throws(() => checkImageHeader(Buffer.from('GIF89a'), 'a.gif'), /a\.gif is not a PNG, JPEG or WebP image/);
    assert.throws(() => checkImageHeader(new Uint8Array(0), 'e.png'), /e\.png is empty/);
  });
});
