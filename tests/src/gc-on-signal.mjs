// Preloaded into the gateway by the fuzz suite (node --expose-gc --import): SIGUSR2 runs a full garbage collection,
// so the heap measured before and after the fuzzing is what is really retained, not garbage not yet collected.
process.on('SIGUSR2', () => globalThis.gc?.());
