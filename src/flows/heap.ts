// How V8 should size the heap of a process that keeps a flow engine over a whole capture.

import { setFlagsFromString } from 'node:v8';

/**
 * The flow engine's state is most of the heap and stays live until the input ends. After each full
 * collection V8 lets the old generation grow to about twice what stayed live before collecting
 * again: a 30% step bounds that (the engine's ~90 MB live on the bench capture is cheap to mark).
 * The young generation stays at its first size (V8 otherwise grows it to 2 x 16 MB): what the
 * engine allocates per packet dies young. Measured on the bench capture: the export to DuckDB
 * peaks at ~300 MB instead of ~405; the TUI, loaded and filtered, at 239-244 MB instead of 273-311,
 * for about 1 s more CPU in its load (benchmarks.md). Process-wide and for good: call it where a command starts.
 */
export function boundHeapGrowth(): void {
  setFlagsFromString('--heap-growing-percent=30');
  setFlagsFromString('--semi-space-growth-factor=1');
}
