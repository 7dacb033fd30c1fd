/** Placeholder until the CLI lands (issue 4): says so instead of pretending. */
export async function respondActivityTaskFailed(_args: readonly string[]): Promise<number> {
  process.stderr.write('swf-sidecar: respond-activity-task-failed is not built yet\n');
  return 255;
}
