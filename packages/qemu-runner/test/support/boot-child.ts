// Child process for the interrupt test: runs the boot-vm executor the way Nx
// would (same process, console output), on the script given in argv[2].
import bootVm from '../../src/executors/boot-vm/executor';

void bootVm(
  // verbose: the test waits for the script's own "waiting" line on the console.
  { script: process.argv[2], outputPath: process.argv[3], probe: false, deadlineSeconds: 300, verbose: true },
  { root: process.cwd(), projectName: 'interrupt-test', cwd: process.cwd(), isVerbose: false } as never,
).then((result) => {
  console.log(`executor finished: ${JSON.stringify(result)}`);
});
