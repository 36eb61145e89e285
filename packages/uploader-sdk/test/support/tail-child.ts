// Run as a child process by the tail crash tests: an uploader on <directory> and a tailer of <path> (a file,
// or with `dir` a directory) that runs until it is killed. Prints `ready` once the tailer started.
// Usage: node --import tsx tail-child.ts <directory> <endpoint> <path> [file|dir] [rotateWaitMs]
import { createUploader, tailDirectory, tailFile } from '../../src/index.js';

const [directory, endpoint, path, kind = 'file', rotateWaitMs = '300'] = process.argv.slice(2);
const uploader = await createUploader({
  endpoint: endpoint!,
  apiKey: 'test-key',
  directory: directory!,
  maxBatchDelayMs: 20,
});
const options = {
  uploader,
  pollIntervalMs: 20,
  rotateWaitMs: Number(rotateWaitMs),
  checkpointIntervalMs: 50,
};
const tail = kind === 'dir' ? tailDirectory(path!, options) : tailFile(path!, options);
tail.on('error', (error) => process.stderr.write(`tail error: ${error.message}\n`));
process.stdout.write('ready\n');
