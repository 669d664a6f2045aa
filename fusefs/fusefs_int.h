/*
 * fusefs/fusefs_int.h: what fuse.c (the libfuse3 low-level adapter) and
 * vfsmount.c (the program) share. Never installed.
 *
 * The adapter's state is one `fusefs` per mounted session; vfsmount.c
 * fills it in before the session starts and tears it down after the loop
 * returns.
 */
#ifndef VFS_FUSEFS_INT_H
#define VFS_FUSEFS_INT_H

#define FUSE_USE_VERSION 35

#include <fuse_lowlevel.h>
#include <stdint.h>
#include <vfs/vfs.h>

/* The largest single read or write we ask the kernel for, and the largest
 * buffer any request can make us allocate. */
#define FUSEFS_IO_MAX (1u << 20)

typedef struct fusefs {
	vfs *v;
	vfs_node *root; /* one reference held for the whole session; it is
	                   the node behind FUSE_ROOT_ID */
	/* Kernel cache lifetimes in seconds. The daemon is the only writer
	 * of memory and sqlite stores, so caching is safe there; a disk store
	 * can change under us, which is why these are tunable. */
	double entry_timeout;
	double attr_timeout;
	double negative_timeout;
	int keep_cache; /* keep the page cache across opens */
} fusefs;

/* The nodeid the kernel knows node n by: its address, except the root's
 * FUSE_ROOT_ID. Valid while n is referenced. */
static inline fuse_ino_t fusefs_ino_of(const fusefs *fs, const vfs_node *n)
{
	return n == fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

/* The request handlers, in fuse.c. The session's userdata is a fusefs *. */
extern const struct fuse_lowlevel_ops fusefs_ll_ops;

/*
 * inval.c: watch the given VPATHs (disk stores) and drop the kernel's
 * cached entries and attributes as the host changes them. _new adds the
 * watches (before mounting, so no change is missed); _run starts the
 * thread that notifies the mounted session. At the end, _stop before
 * unmounting and _free after: a notification waiting in the kernel on a
 * request the stopped loop will never answer is released by the unmount,
 * so the thread can always be joined. Both accept NULL.
 */
typedef struct fusefs_inval fusefs_inval;

int fusefs_inval_new(fusefs *fs, const char *const *paths, size_t npaths,
                     fusefs_inval **out);
int fusefs_inval_run(fusefs_inval *iv, struct fuse_session *se);
void fusefs_inval_stop(fusefs_inval *iv);
void fusefs_inval_free(fusefs_inval *iv);

#endif /* VFS_FUSEFS_INT_H */
