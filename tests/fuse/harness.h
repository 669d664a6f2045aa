/*
 * tests/fuse/harness.h: starting, watching and always stopping a vfsmount
 * daemon for the end-to-end tests. The daemon is a child of the test
 * process with its own fresh mkdtemp mount point; stopping it unmounts
 * (fusermount3 -u, then a lazy umount as fallback), reaps it with a
 * deadline (SIGKILL after it) and removes the mount point.
 */
#ifndef VFS_TESTS_FUSE_HARNESS_H
#define VFS_TESTS_FUSE_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

/* FUSE_SUPER_MAGIC from <linux/magic.h>. */
#define HARNESS_FUSE_MAGIC 0x65735546

typedef struct harness_daemon {
	pid_t pid;       /* -1 when not running */
	char mnt[256];   /* the mount point, "" when none */
	char store[256]; /* backing directory for disk/sqlite, "" when none */
} harness_daemon;

/* Exit 77 (skip) unless /dev/fuse and fusermount3 are usable. */
void harness_require_fuse(void);

/* Start argv[0] (the vfsmount path) with argv[1..] and then a fresh mount
 * point as the last argument; wait (bounded) until the mount is live.
 * stderr_fd: where the daemon's stderr goes (-1: inherit).
 * Returns 0, or -1 if the daemon exited or the mount never appeared
 * (everything is cleaned up then). */
int harness_start(harness_daemon *d, const char *const *argv, int stderr_fd);

/* Unmount (fusermount3 -u, then umount -l) and reap the daemon, pass or
 * fail. Returns the daemon's wait status, or -1 if it had to be killed. */
int harness_stop(harness_daemon *d);

/* Is path a mount point in /proc/self/mountinfo? */
bool harness_mounted(const char *path);

/* Run argv to completion (bounded by timeout_ms, then SIGKILL); capture
 * stdout and stderr into the buffers (NUL-terminated, may be NULL).
 * Returns the wait status, or -1. */
int harness_run(const char *const *argv, char *out, size_t outlen, char *err,
                size_t errlen, int timeout_ms);

/* waitpid with a deadline; 0 and *status on exit, -1 on timeout. */
int harness_wait(pid_t pid, int *status, int timeout_ms);

/* Make a fresh temporary directory; returns 0 or -1. */
int harness_tmpdir(char *buf, size_t len, const char *tag);

/* Remove a directory tree on the host (not through any mount). */
void harness_rmtree(const char *path);

#endif /* VFS_TESTS_FUSE_HARNESS_H */
