import { UnsupportedError } from '../../base/errors';
import { blockIndex } from '../../model/block-index';

/**
 * Per-block coefficients for task vectors, set by hand (aTLAS-style anisotropic scaling: one λ per
 * block or parameter group instead of one for the whole model). A rule matches a tensor by a
 * regular expression on its name (a string, so rules survive JSON, URLs and the command line) or
 * by the block number lib/model/block-index finds in its name; the first matching rule wins, and
 * tensors no rule matches keep the method's global λ.
 */
export interface BlockLambdaRule {
  /** Regular expression source, tested against the full tensor name. */
  pattern?: string;
  /** Block number as blockIndex() reads it from the name (`layers.3.…` is block 3). */
  block?: number;
  lambda: number;
}

export function lambdaForTensor(name: string, rules: readonly BlockLambdaRule[] | undefined, globalLambda: number): number {
  if (!rules) return globalLambda;
  for (const rule of rules) {
    if (rule.pattern !== undefined) {
      let re: RegExp;
      try {
        re = new RegExp(rule.pattern);
      } catch {
        throw new UnsupportedError('bad-block-rule', `block coefficients: "${rule.pattern}" is not a valid regular expression`);
      }
      if (re.test(name)) return rule.lambda;
    } else if (rule.block !== undefined) {
      if (blockIndex(name).block === rule.block) return rule.lambda;
    }
  }
  return globalLambda;
}
