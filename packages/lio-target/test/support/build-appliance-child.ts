// Builds the LIO appliance into the cache folder argv[2] in a process of its own,
// so a test can kill it with SIGKILL mid-way, as an interrupted first run would be.
import { buildAppliance } from '../../src/lib/appliance/build-appliance';

buildAppliance({ cacheDir: process.argv[2], log: (line) => console.log(line) }).then(
  (image) => console.log(`BUILT ${image.dir}`),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
