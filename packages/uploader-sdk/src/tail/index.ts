export { DEFAULT_TAIL_OPTIONS, type TailDirectoryOptions, type TailOptions } from './options.js';
export type { LinePosition } from './record-sink.js';
export type { TailEvents, TailListener } from './tail-events.js';
export { type Tail, type TailFileStats, type TailStats, tailDirectory, tailFile } from './tailer.js';
