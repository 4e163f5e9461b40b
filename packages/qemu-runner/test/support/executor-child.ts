// Child process for the fault tests: runs the boot-vm executor the way Nx
// would (same process, console output) with the options given as JSON in
// argv[2], and prints its result on a line of its own.
import bootVm from '../../src/executors/boot-vm/executor';

void bootVm(JSON.parse(process.argv[2]), { root: process.cwd(), projectName: 'faults', cwd: process.cwd(), isVerbose: false } as never).then(
  (result) => console.log(`executor finished: ${JSON.stringify(result)}`),
  (error) => console.log(`executor threw: ${(error as Error).stack}`),
);
