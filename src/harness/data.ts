/** The data a plan trains and tests on: the data set, cut to the plan's limits. (No training code here.) */
import type { Dataset } from '../data/index.ts';
import { limitBatch } from '../data/index.ts';

export function planData(plan: { limit?: number; testLimit?: number }, data: Dataset): Dataset {
  return {
    ...data,
    train: plan.limit ? limitBatch(data.train, plan.limit) : data.train,
    test: plan.testLimit ? limitBatch(data.test, plan.testLimit) : data.test,
  };
}
