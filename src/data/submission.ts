/**
 * A Kaggle digit-recognizer submission: `ImageId,Label`, then one row per image of the unlabelled
 * test.csv, in file order, ImageId counting from 1. Pure: the caller writes the string where it likes
 * (e.g. with writeAllAtomic). `pred` is one predicted digit per image, e.g. the argmax of a trainer's
 * predictions on Dataset.unlabelled.
 */
export function submissionCsv(pred: Uint8Array): string {
  const rows = new Array<string>(pred.length + 1);
  rows[0] = 'ImageId,Label';
  for (let i = 0; i < pred.length; i++) {
    if (pred[i] > 9) throw new RangeError(`submissionCsv: prediction ${pred[i]} for image ${i + 1} is not a digit 0..9`);
    rows[i + 1] = `${i + 1},${pred[i]}`;
  }
  return rows.join('\n') + '\n';
}
