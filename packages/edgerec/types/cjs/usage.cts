// A CommonJS consumer: `tsc --noEmit` over this file checks that `require('edgerec')` and
// `require('edgerec/slim')` resolve to declarations a CommonJS module may use (the `.d.cts`
// files; with only the ES module's `.d.ts`, Node16 resolution rejects the require). Not run.
import edgerec = require('edgerec');
import slim = require('edgerec/slim');

export function topIds(bytes: Uint8Array): string[] {
  const rec: edgerec.Recommender = edgerec.Recommender.fromBytesSync(bytes);
  const resp: edgerec.GetRecommendationsResponse = rec.getRecommendations({
    recommender: 'recommended-for-you',
    userId: 'u-42',
    numResults: 10,
  });
  const ids = resp.itemList.map((p: edgerec.PredictedItem) => p.itemId);
  rec.free();
  return ids;
}

export async function slimReady(wasm: Uint8Array): Promise<boolean> {
  await slim.init({ baseline: wasm });
  const simd: boolean = slim.simdSupported();
  return slim.isReady() && typeof simd === 'boolean';
}

export function errorCode(e: unknown): edgerec.ErrorCode | undefined {
  return (e as edgerec.EdgerecError).code;
}
