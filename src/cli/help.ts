import { SETTINGS } from '../config.js';

export function helpText(): string {
  const settings = SETTINGS.map(
    (setting) => `  ${setting.env.padEnd(40)} ${String(setting.default).padEnd(16)} ${setting.help}`,
  );
  return `swf-sidecar: a gRPC sidecar that reports Amazon SWF activity task failures for workers in any language.

Usage:
  swf-sidecar serve                          run the sidecar (configured by the environment below)
  swf-sidecar respond-activity-task-failed   report one failure to a running sidecar
                                             (the options of 'aws swf respond-activity-task-failed';
                                             'swf-sidecar respond-activity-task-failed --help' lists them)
  swf-sidecar --help                         this text

Environment (serve):
  ${'NAME'.padEnd(40)} ${'DEFAULT'.padEnd(16)} MEANING
${settings.join('\n')}

AWS settings are the SDK's own: AWS_REGION, AWS_ENDPOINT_URL_SWF, and the default credential chain
(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, IRSA, EKS Pod Identity).
`;
}
