/* EVOCLAW_SPAWN_TRACE=1 makes sandbox creation print how long each stage
 * took, parent and child side, to stderr: the tool behind the stage
 * numbers in docs/benchmarks.md. Stages are stamped into a shared page so
 * the child needs no I/O to report them; when tracing is off every call
 * is a single NULL check. */
#ifndef EVOCLAW_RUNTIME_LOCAL_SPAWN_TRACE_H
#define EVOCLAW_RUNTIME_LOCAL_SPAWN_TRACE_H

/* Start a trace if EVOCLAW_SPAWN_TRACE=1 (call before clone). */
void spawn_trace_begin(void);
/* Stamp the end of a stage; async-signal-safe. stage must be a literal. */
void spawn_trace_mark(const char *stage);
/* Print the stages of the current trace. */
void spawn_trace_report(void);

#endif
