// Shared by the black-box tests: the fixture paths and small request builders.
import fs from 'node:fs';
import path from 'node:path';

export const goldenDir = process.env.EDGEREC_GOLDEN_DIR ?? path.resolve('../../../tests/fixtures/golden');

/** The golden model and its expected answers, read at test time (the fixture is regenerated with the format). */
export function golden() {
  const bytes = fs.readFileSync(path.join(goldenDir, 'model-v1.erm'));
  const cases = JSON.parse(fs.readFileSync(path.join(goldenDir, 'model-v1.expected.json'), 'utf8'));
  return { bytes: new Uint8Array(bytes), cases };
}

export function withoutRecommendationId(resp) {
  const { recommendationId, ...rest } = resp;
  return rest;
}

export function ids(resp) {
  return (resp.itemList ?? resp.personalizedRanking).map((p) => p.itemId);
}

export function views(sessionId, itemIds, extra = {}) {
  return {
    sessionId,
    eventList: itemIds.map((itemId, k) => ({ eventType: 'view', itemId, sentAt: 1_700_000_000 + k })),
    ...extra,
  };
}
