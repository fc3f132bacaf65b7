/* evoclaw-init: PID 1 inside a sandbox. One single-threaded epoll loop
 * serves the host's requests from the channel on fd 3 (see
 * common/proto.h and docs/init-protocol.md), runs processes, streams their
 * output and does file operations.
 *
 *   init_main.c      command line, process-wide setup, main()
 *   init_loop.c      the event loop: channel I/O, the outgoing queue and
 *                    its backpressure, signals, shutdown
 *   init_dispatch.c  one record -> a decoded request -> its handler
 *   init_request.c   frame -> struct init_request, with validation
 *   init_process.c   processes: start, pipes, stdin, signals, reaping
 *   init_child.c     what a child does between fork and exec
 *   init_files.c     file requests
 *   init_passwd.c    uid -> name, home, gid from /etc/passwd
 */
#ifndef EVOCLAW_GUEST_INIT_H
#define EVOCLAW_GUEST_INIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/passwd.h"

#include "common/error.h"
#include "common/proto.h"

/* Backpressure on the outgoing queue: above HIGH, process pipes and file
 * reads are no longer read (the producers block in write()); they resume
 * once the host has drained the queue below LOW. Above INPUT_LIMIT init
 * also stops reading requests, which bounds what replies can pile up. */
#define INIT_QUEUE_HIGH (4u << 20)
#define INIT_QUEUE_LOW (1u << 20)
#define INIT_QUEUE_INPUT_LIMIT (16u << 20)
/* Unwritten stdin a process may have queued before PROC_STDIN is refused. */
#define INIT_STDIN_LIMIT (8u << 20)
/* FILE_LIST limits: deeper or larger listings are refused, not truncated. */
#define INIT_LIST_MAX_DEPTH 64u
#define INIT_LIST_MAX_ENTRIES 100000u
/* Seconds a shutting-down init waits for the host to take queued frames. */
#define INIT_EXIT_FLUSH_SECONDS 10

/* ---- requests (init_request.c) ------------------------------------------ */

/* A decoded, validated request. Which optional fields were present is in
 * `present`, one bit per enum evo_field_tag (test with INIT_HAS). Strings
 * are owned by the request; data points into the received record. */
struct init_request {
	uint32_t stream;
	uint8_t type;
	uint8_t flags;
	uint64_t present;
	char **argv; /* NULL-terminated, argc entries */
	size_t argc;
	char **env;  /* NULL-terminated, envc entries */
	size_t envc;
	char **xattrs; /* NULL-terminated "user.NAME=VALUE", nxattrs entries */
	size_t nxattrs;
	char *cwd;
	char *tag;
	char *path;
	char *new_path;
	uint32_t uid, gid, pid, mode, depth;
	uint8_t stdin_pipe;
	int32_t signal;
	uint64_t offset, length;
	const uint8_t *data;
	uint32_t data_len;
};

#define INIT_HAS(req, tag) ((((req)->present) >> (tag)) & 1u)

/* True for the message types init serves (PROC_START .. FILE_UNWATCH). */
bool init_request_type_known(uint8_t type);

/* Decode and validate frame f (already parsed) into req. Fields a message
 * does not use are ignored; missing required fields, wrong sizes, repeated
 * single fields, undefined flags and relative paths fail with err naming
 * the field. On failure req holds nothing to free. */
int init_request_decode(const struct evo_frame *f, struct init_request *req,
			struct evo_error *err);

/* Free what req owns; fields a handler stole are NULL and skipped. */
void init_request_free(struct init_request *req);

/* ---- dispatch (init_dispatch.c) ------------------------------------------ */

/* A request handler appends its replies (OK, PROC_STARTED...) to out, or
 * returns -1 with err set; dispatch then answers ERROR on the request's
 * stream. Handlers may steal owned pointers from req. */
typedef int init_handler_fn(void *ctx, struct init_request *req, struct evo_buf *out,
			    struct evo_error *err);

struct init_handlers {
	init_handler_fn *handle[EVO_MSG_INIT_REQUEST_LAST + 1];
};

/* Handle one received record of len bytes: parse, decode, call the
 * handler for its type, and append every reply frame to out. Malformed
 * input is answered with an ERROR frame, never anything worse. */
void init_dispatch_record(const struct init_handlers *h, void *ctx, const uint8_t *rec,
			  size_t len, struct evo_buf *out);

/* The errno an ERROR frame carries for err: its errnum, else one derived
 * from its kind. */
int init_error_errno(const struct evo_error *err);

/* Append ENTRY fields (concatenated ENTRY TLVs in entries) as the reply to
 * a listing: ENTRIES frames while they do not fit one frame, then OK. */
void init_reply_entries(struct evo_buf *out, uint32_t stream, const struct evo_buf *entries);

/* ---- the event loop (init_loop.c) ---------------------------------------- */

enum init_watch_kind {
	INIT_WATCH_CHANNEL,
	INIT_WATCH_SIGNALS,
	INIT_WATCH_STDOUT,
	INIT_WATCH_STDERR,
	INIT_WATCH_STDIN,
	INIT_WATCH_DIR, /* an inotify instance of a FILE_WATCH */
};

/* What an epoll event points at. fd is -1 once closed, which is how an
 * event already fetched for a closed pipe is recognised and skipped. */
struct init_watch {
	enum init_watch_kind kind;
	int fd;
	bool registered;
	struct init_process *proc;
	struct init_dir_watch *dir;
};

struct init_out_frame;
struct init_process;
struct init_file_read;
struct init_dir_watch;

struct init_loop {
	int epoll_fd;
	struct init_watch channel;
	struct init_watch signals;
	uint32_t channel_events;        /* what the channel is registered for */
	struct init_out_frame *out_head;
	struct init_out_frame **out_tail;
	size_t out_bytes;
	bool pipes_paused;              /* queue above INIT_QUEUE_HIGH */
	struct init_process *procs;     /* started and not yet reaped */
	struct init_process *graveyard; /* finished, freed after the event batch */
	struct init_file_read *reads;   /* FILE_READs still streaming */
	struct init_dir_watch *dir_watches; /* FILE_WATCHes until FILE_UNWATCH */
	struct init_dir_watch *dir_graveyard; /* ended, freed after the event batch */
	bool exit_with_entrypoint;
	bool exiting;
	bool channel_lost;
	int exit_status;
	int64_t exit_deadline_ms;
	uint8_t *record;                /* one received record */
	uint8_t *chunk;                 /* one pipe or file read */
	bool is_pid1;           /* PID 1 of a sandbox, not run by hand or tests */
};

/* Set up l around the channel fd: epoll, the signalfd (the signals must be
 * blocked already), buffers. */
int init_loop_init(struct init_loop *l, int channel_fd, struct evo_error *err);

/* Run until init should exit; returns the exit status. */
int init_loop_run(struct init_loop *l);

/* Release everything l holds, killing any process still running. */
void init_loop_free(struct init_loop *l);

/* Move the complete frames in frames (emptied) to the outgoing queue. */
void init_loop_queue(struct init_loop *l, struct evo_buf *frames);

/* Whether the queue is too full for producers to add more. */
bool init_loop_congested(const struct init_loop *l);

/* Whether stream is held by a process or a streaming FILE_READ. */
bool init_loop_stream_busy(const struct init_loop *l, uint32_t stream);

/* Register w (fd must be set) for events, or change its events; and the
 * reverse. Can't fail short of the kernel refusing memory, which aborts. */
int init_loop_watch(struct init_loop *l, struct init_watch *w, uint32_t events);
void init_loop_unwatch(struct init_loop *l, struct init_watch *w);

/* Stop serving: kill every process, then exit with status once the queue
 * has been flushed (or the host is gone, or the flush deadline passed). */
void init_loop_shutdown(struct init_loop *l, int status);

/* Monotonic milliseconds. */
int64_t init_now_ms(void);

/* ---- processes (init_process.c) ------------------------------------------ */

/* Start req's process on req->stream; queue PROC_STARTED on out. The
 * entrypoint is the process signals are forwarded to. */
int init_process_spawn(struct init_loop *l, struct init_request *req, bool entrypoint,
		       struct evo_buf *out, struct evo_error *err);

init_handler_fn init_process_start;
init_handler_fn init_process_stdin;
init_handler_fn init_process_close_stdin;
init_handler_fn init_process_signal;
init_handler_fn init_process_list;

/* A pipe of a process is ready. */
void init_process_event(struct init_loop *l, struct init_watch *w, uint32_t events);
/* SIGCHLD: reap every exited child; known ones get their PROC_EXIT. */
void init_process_reap(struct init_loop *l);
/* Stop (pause) or restart reading every process's output pipes. */
void init_process_pause_output(struct init_loop *l, bool pause);
/* Forward sig to the entrypoint's process group; false if none runs. */
bool init_process_forward_signal(struct init_loop *l, int sig);
/* SIGKILL every started process group, reap the processes, free them. */
void init_process_kill_all(struct init_loop *l);
bool init_process_stream_busy(const struct init_loop *l, uint32_t stream);
/* Free processes finished during the last batch of events. */
void init_process_free_graveyard(struct init_loop *l);

/* ---- children (init_child.c) ---------------------------------------------- */

struct init_child_spec {
	char *const *argv;
	char *const *envp;
	const char *cwd;  /* NULL: home if it exists, else / */
	const char *home;
	uid_t uid;
	gid_t gid;
	int stdin_fd;     /* -1: /dev/null */
	int stdout_fd;
	int stderr_fd;
	int report_fd;    /* CLOEXEC pipe: an init_child_report on failure */
};

/* Where a child failed before its program ran. */
enum init_child_step {
	INIT_STEP_SESSION = 1,
	INIT_STEP_STDIO,
	INIT_STEP_CAPS,
	INIT_STEP_GROUPS,
	INIT_STEP_GID,
	INIT_STEP_UID,
	INIT_STEP_CWD,
	INIT_STEP_EXEC,
};

struct init_child_report {
	int32_t step;
	int32_t errnum;
};

/* In the child after fork: set up session, stdio, credentials, no
 * capabilities, cwd, and exec. Never returns: on failure it writes an
 * init_child_report to report_fd and exits 127. */
_Noreturn void init_child_exec(const struct init_child_spec *spec);

/* Once, at init's start: reset every signal disposition init inherited
 * (a shell may have left SIGINT ignored) and note which capabilities the
 * bounding set holds, so starting each process later costs a handful of
 * system calls instead of ~150. */
void init_child_prepare(void);

/* ---- files (init_files.c) ------------------------------------------------- */

init_handler_fn init_files_read;
init_handler_fn init_files_write;
init_handler_fn init_files_list;
init_handler_fn init_files_stat;
init_handler_fn init_files_mkdir;
init_handler_fn init_files_remove;
init_handler_fn init_files_rename;

/* Produce FILE_DATA for streaming reads while the queue has room. Returns
 * true while reads remain (the loop must come back without sleeping). */
bool init_files_pump(struct init_loop *l);
bool init_files_stream_busy(const struct init_loop *l, uint32_t stream);
void init_files_free_all(struct init_loop *l);

/* ---- /etc/passwd (init_passwd.c) ------------------------------------------ */

/* Look uid up in /etc/passwd (no NSS: init is static). 0 and pw filled, or
 * -1 when there is no such entry or no readable file. */
int init_passwd_lookup(uid_t uid, struct passwd_entry *pw);

/* Read /etc/passwd now, for lookups until init_passwd_forget: call it only
 * while nothing can have changed the file since the sandbox was built. */
void init_passwd_preload(void);

/* From now on look each uid up in the file itself: call it once anything
 * could change the file (a process started, a request served). */
void init_passwd_forget(void);

/* An ENTRY field holding the stat fields of path (lstat), appended to b;
 * false (nothing appended) when it cannot be stat'ed. */
bool init_files_add_entry(struct evo_buf *b, const char *path);

/* ---- directory watches (init_watch.c) ------------------------------------ */

/* FILE_WATCH: inotify on PATH (and, with RECURSIVE, every directory below
 * it, including ones created later); FILE_WATCHING, then a FILE_EVENT per
 * change until FILE_UNWATCH on the stream ends it with OK. */
int init_watch_start(void *ctx, struct init_request *req, struct evo_buf *out,
		     struct evo_error *err);
int init_watch_stop(void *ctx, struct init_request *req, struct evo_buf *out,
		    struct evo_error *err);
/* Its inotify descriptor is readable. */
void init_watch_event(struct init_loop *l, struct init_watch *w);
bool init_watch_stream_busy(const struct init_loop *l, uint32_t stream);
/* Free ended watches (an event of this batch may still name one). */
void init_watch_free_graveyard(struct init_loop *l);
void init_watch_free_all(struct init_loop *l);

#endif
