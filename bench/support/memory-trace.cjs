// Preloaded into the worker child (node --require) when BENCH_WORKER_MEMORY_TRACE=1:
// prints process.memoryUsage() every 100 ms to stderr, to see what its RSS is made of.
const timer = setInterval(() => {
  const m = process.memoryUsage();
  const mb = (v) => Math.round(v / 1048576);
  process.stderr.write(`memory rss=${mb(m.rss)} heapTotal=${mb(m.heapTotal)} heapUsed=${mb(m.heapUsed)} external=${mb(m.external)} arrayBuffers=${mb(m.arrayBuffers)}\n`);
}, 100);
timer.unref();
