import { describe, expect, it } from 'vitest';
import { queueOrder } from '../../src/verify';
import { MAX_FILE, contentDisposition, fitWithin, jpegName, kindOf, planUpload, refusal, sizeParts } from '../../src/evidence';

describe('evidence uploads', () => {
  it('sends JPEG, PNG and PDF as they are, by type or by extension', () => {
    expect(planUpload('a.jpg', 'image/jpeg', 1000)).toEqual({ action: 'send', type: 'image/jpeg' });
    expect(planUpload('a.PNG', '', 1000)).toEqual({ action: 'send', type: 'image/png' });
    expect(planUpload('programme.pdf', 'application/pdf', MAX_FILE)).toEqual({ action: 'send', type: 'application/pdf' });
    expect(kindOf('scan.jpeg', '')).toBe('image/jpeg');
  });

  it('draws HEIC, WebP and photos over 10 MiB into a JPEG first', () => {
    expect(planUpload('IMG_0001.HEIC', 'image/heic', 2_000_000)).toEqual({ action: 'reencode' });
    expect(planUpload('IMG_0001.heic', '', 2_000_000)).toEqual({ action: 'reencode' });
    expect(planUpload('a.webp', 'image/webp', 10)).toEqual({ action: 'reencode' });
    expect(planUpload('big.jpg', 'image/jpeg', MAX_FILE + 1)).toEqual({ action: 'reencode' });
  });

  it('refuses what it cannot send: another type, a PDF over 10 MiB', () => {
    expect(planUpload('notes.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 10)).toEqual({ action: 'refuse', reason: 'type' });
    expect(planUpload('noname', '', 10)).toEqual({ action: 'refuse', reason: 'type' });
    expect(planUpload('big.pdf', 'application/pdf', MAX_FILE + 1)).toEqual({ action: 'refuse', reason: 'size' });
  });

  it('scales the longest side down to the limit, keeping the shape', () => {
    expect(fitWithin(4032, 3024, 4096)).toEqual({ width: 4032, height: 3024 });
    expect(fitWithin(8000, 6000, 4000)).toEqual({ width: 4000, height: 3000 });
    expect(fitWithin(3000, 9000, 3000)).toEqual({ width: 1000, height: 3000 });
  });

  it('names a re-encoded photo .jpg', () => {
    expect(jpegName('IMG_0001.HEIC')).toBe('IMG_0001.jpg');
    expect(jpegName('тіркеу парағы.webp')).toBe('тіркеу парағы.jpg');
    expect(jpegName('.heic')).toBe('photo.jpg');
  });

  it("writes the file's name as RFC 5987 filename*, every non-attr-char percent-encoded", () => {
    expect(contentDisposition('photo.jpg')).toBe("attachment; filename*=UTF-8''photo.jpg");
    expect(contentDisposition('тіркеу парағы.jpg')).toBe(
      "attachment; filename*=UTF-8''%D1%82%D1%96%D1%80%D0%BA%D0%B5%D1%83%20%D0%BF%D0%B0%D1%80%D0%B0%D2%93%D1%8B.jpg",
    );
    expect(contentDisposition("it's (1)*.png")).toBe("attachment; filename*=UTF-8''it%27s%20%281%29%2A.png");
    expect(decodeURIComponent(contentDisposition('a;b"c.pdf').split("''")[1] ?? '')).toBe('a;b"c.pdf');
  });

  it('says why the API refused: too large, wrong type, the 20-piece limit', () => {
    expect(refusal(413, null)).toBe('evidence.error.too_large');
    expect(refusal(415, null)).toBe('evidence.error.type');
    expect(refusal(422, { errors: [{ field: 'evidence', code: 'limit' }] })).toBe('evidence.error.limit');
    expect(refusal(422, { errors: [{ field: 'verification', code: 'verified' }] })).toBe('evidence.error.verified');
    expect(refusal(422, { errors: [{ field: 'url', code: 'format' }] })).toBeNull();
    expect(refusal(500, null)).toBeNull();
  });

  it('gives sizes in KB and MB', () => {
    expect(sizeParts(2048)).toEqual({ key: 'evidence.kb', n: 2 });
    expect(sizeParts(2.5 * 1024 * 1024)).toEqual({ key: 'evidence.mb', n: 2.5 });
  });
});

describe('the verification queue', () => {
  it('puts flagged events first, more flags before fewer, keeping the order within', () => {
    const e = (id: string, flags: string[]) => ({ id, flags });
    const order = queueOrder([e('a', []), e('b', ['no_evidence']), e('c', []), e('d', ['estimate_only', 'logged_late']), e('f', ['logged_late'])]);
    expect(order.map((x) => x.id)).toEqual(['d', 'b', 'f', 'a', 'c']);
  });
});
