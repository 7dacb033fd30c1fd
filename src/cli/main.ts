/** Exit code for bad command syntax, as the AWS CLI v2 uses it. */
const EXIT_USAGE = 252;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const { serve } = await import('./serve.js');
      return serve();
    }
    case 'respond-activity-task-failed': {
      const { respondActivityTaskFailed } = await import('./respond-activity-task-failed.js');
      return respondActivityTaskFailed(rest);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h': {
      // Loaded only here: it pulls in the config module, which a client call does not need.
      const { helpText } = await import('./help.js');
      process.stdout.write(helpText());
      return command === undefined ? EXIT_USAGE : 0;
    }
    default:
      process.stderr.write(`swf-sidecar: unknown command ${JSON.stringify(command)}; try --help\n`);
      return EXIT_USAGE;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`swf-sidecar: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
