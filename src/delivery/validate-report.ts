import { SidecarError } from '../errors.js';
import { CompactReport } from './compact-report.js';
import type { FailureReport } from './failure-report.js';

/** SWF's limits for RespondActivityTaskFailed, in characters. */
export const SWF_LIMITS = {
  taskTokenMaxChars: 1024,
  reasonMaxChars: 256,
  detailsMaxChars: 32_768,
} as const;

/**
 * Checks a report against SWF's limits before anything is queued, because the SDK does not and
 * SWF would only say ValidationException after a quota token was spent.
 *
 * Characters are counted as UTF-16 code units (JavaScript's `length`, Java's `String.length()`
 * that SWF's service is built on): a character outside the Basic Multilingual Plane, such as an
 * emoji, counts as 2. That is the stricter of the two ways to count, so nothing that passes here
 * can fail SWF's own length check.
 */
export function validateReport(report: FailureReport): SidecarError | undefined {
  const tokenLength = report.taskToken.length;
  if (tokenLength === 0) {
    return new SidecarError('invalid-argument', 'task_token is required (got an empty string)');
  }
  if (tokenLength > SWF_LIMITS.taskTokenMaxChars) {
    return tooLong('task_token', tokenLength, SWF_LIMITS.taskTokenMaxChars);
  }
  // A CompactReport knows its lengths without decoding its bytes into strings.
  const compact = report instanceof CompactReport;
  const reasonLength = compact ? report.reasonLength : (report.reason?.length ?? -1);
  const detailsLength = compact ? report.detailsLength : (report.details?.length ?? -1);
  if (reasonLength > SWF_LIMITS.reasonMaxChars) return tooLong('reason', reasonLength, SWF_LIMITS.reasonMaxChars);
  if (detailsLength > SWF_LIMITS.detailsMaxChars) {
    return tooLong('details', detailsLength, SWF_LIMITS.detailsMaxChars);
  }
  return undefined;
}

function tooLong(field: string, length: number, limit: number): SidecarError {
  return new SidecarError(
    'invalid-argument',
    `${field} is ${length} characters long; the limit is ${limit} (UTF-16 code units)`,
  );
}
