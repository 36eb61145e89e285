// Run as a child process by the tail tests: appends <count> numbered lines `<prefix>-<i>` to <path>, about two
// per millisecond, renaming the file away (to <path>.<n>) and creating a new one every <rotateEvery> lines
// or, with a trailing `ms`, every that many milliseconds (0: never). Ends with an unterminated line
// `<prefix>-unterminated` when asked. Prints `done` at the end. With `copy` before <rotateEvery>
// (`copy100ms`), rotation is logrotate's copytruncate instead: the file is copied to <path>.<n>, then
// truncated in place (the writer's descriptor appends, so it goes on at the new end).
// Usage: node --import tsx tail-writer-child.ts <path> <prefix> <count> <[copy]rotateEvery[ms]> [unterminated]
import { closeSync, copyFileSync, ftruncateSync, openSync, renameSync, writeSync } from 'node:fs';

const [path, prefix, countText, rotateArg = '0', unterminated] = process.argv.slice(2);
const count = Number(countText);
const copytruncate = rotateArg.startsWith('copy');
const rotateText = copytruncate ? rotateArg.slice('copy'.length) : rotateArg;
const byTime = rotateText.endsWith('ms');
const rotateEvery = Number.parseInt(rotateText, 10);
let fd = openSync(path!, 'a');
let rotations = 0;
let lastRotation = performance.now();
const rotate = (): void => {
  rotations += 1;
  if (copytruncate) {
    copyFileSync(path!, `${path}.${rotations}`);
    ftruncateSync(fd, 0);
    lastRotation = performance.now();
    return;
  }
  renameSync(path!, `${path}.${rotations}`);
  closeSync(fd);
  fd = openSync(path!, 'a');
  lastRotation = performance.now();
};
for (let i = 0; i < count; i += 1) {
  writeSync(fd, `${prefix}-${i} ${'y'.repeat(i % 41)}\n`);
  if (rotateEvery > 0 && !byTime && (i + 1) % rotateEvery === 0) rotate();
  if (rotateEvery > 0 && byTime && performance.now() - lastRotation >= rotateEvery) rotate();
  if (i % 2 === 1) await new Promise((resolve) => setTimeout(resolve, 1));
}
if (unterminated === 'unterminated') writeSync(fd, `${prefix}-unterminated`);
closeSync(fd);
process.stdout.write(`done ${rotations}\n`);
