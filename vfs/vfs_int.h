/*
 * Internal declarations shared by the core (vfs/), the built-in stores
 * (backends/) and the tests. Never installed.
 */
#ifndef VFS_VFS_INT_H
#define VFS_VFS_INT_H

#include <vfs/backend.h>

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

/* ---- Store specs (vfs/store.c) ----------------------------------------- */

/** One ",key=value" option of a SPEC (value is "" for a bare key). */
typedef struct vfs__kv {
	const char *key;
	const char *val;
} vfs__kv;

/**
 * Constructor of a built-in store kind from its SPEC. `arg` is the text
 * after "kind:" (NULL when absent); `kv` holds the options other than "ro".
 * On failure writes a one-line message to err naming the bad part.
 */
typedef int (*vfs__store_ctor)(vfs_store **out, const char *arg,
                               const vfs__kv *kv, size_t nkv,
                               unsigned mount_flags, char *err, size_t errlen);

int vfs__memory_open(vfs_store **out, const char *arg, const vfs__kv *kv,
                     size_t nkv, unsigned mount_flags, char *err,
                     size_t errlen);
int vfs__disk_open(vfs_store **out, const char *arg, const vfs__kv *kv,
                   size_t nkv, unsigned mount_flags, char *err, size_t errlen);
int vfs__sqlite_open(vfs_store **out, const char *arg, const vfs__kv *kv,
                     size_t nkv, unsigned mount_flags, char *err,
                     size_t errlen);

/** Parse a size with an optional K, M, G or T suffix (powers of 1024).
 *  @return 0, -EINVAL (malformed), -ERANGE (overflow). */
int vfs__parse_size(const char *s, uint64_t *out);

/** printf into err (if not NULL) and return rc. */
int vfs__err(char *err, size_t errlen, int rc, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/** The current time (CLOCK_REALTIME). */
struct timespec vfs__now(void);

/* ---- Store handles (vfs/store.c) --------------------------------------- */

struct vfs_store {
	vfs_backend_ops ops; /* copied with the caller's size; rest zero */
	void *state;
	unsigned mount_flags; /* VFS_MOUNT_RDONLY from the SPEC */
};

#endif /* VFS_VFS_INT_H */
