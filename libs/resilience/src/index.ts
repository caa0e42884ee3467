export {
  createTargetPolicy,
  type TargetPolicy,
  type TargetPolicyOptions,
  type BreakerStateName,
} from './target-policy';
export { isTransient, countsAgainstBreaker } from './classify';
