export {
  DomainError,
  duplicate,
  invalid,
  missing,
  refused,
  type DomainErrorKind,
  type ErrorDetails,
} from './domain-error';
export {
  byCodePoint,
  ID,
  ID_PATTERN,
  lineProblems,
  MAX_LINES,
  MAX_QUANTITY,
  mergeLines,
  type Line,
} from './order-lines';
