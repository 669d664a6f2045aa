/*
 * libvfs store interface: what a store (backend) implements.
 *
 * A store keeps a tree of nodes and knows nothing of paths, mounts,
 * symlink resolution, credentials or permission checks: the core walks
 * paths one component at a time and calls the store with (directory node,
 * name) pairs. The built-in memory, disk and SQLite stores use exactly this
 * interface.
 *
 * Nodes are named by 64-bit ids the store chooses. Every call that returns
 * a node id (root, lookup, mknod) adds one to that node's lookup count;
 * forget() subtracts. A store keeps a node (and its data) alive while its
 * lookup count is above zero, even after its last name is removed: that is
 * how open-but-unlinked files keep working. The core only passes ids whose
 * lookup count it holds above zero.
 *
 * Input guarantees, for every member below:
 * - `name` is one component: never empty, never "." or "..", never
 *   containing '/', at most VFS_NAME_MAX bytes, NUL-terminated.
 * - directory arguments were last seen by the core as directories (the
 *   store must still check: another thread may have changed the tree).
 * - offsets and sizes are non-negative, off + size never overflows and
 *   never exceeds VFS_FILE_SIZE_MAX.
 * - mutating calls never reach a store mounted read-only.
 *
 * Every member returns 0 (or a count) or a negative errno. A failed call
 * must leave the store exactly as it was.
 *
 * Timestamps: a store keeps atime/mtime/ctime by POSIX rules for its own
 * operations: creating or removing an entry updates the directory's mtime
 * and ctime; write updates mtime and ctime; link/unlink/rename update the
 * ctime of the node whose link count or parent changed; setattr updates
 * ctime. The core passes explicit times for setattr.
 *
 * Thread safety: the core calls a store from many threads at once; a store
 * does its own locking.
 */
#ifndef VFS_BACKEND_H
#define VFS_BACKEND_H

#include <vfs/vfs.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VFS_BACKEND_VERSION 1

/** A new node for mknod(). */
typedef struct vfs_newnode {
	uint32_t mode;      /**< S_IFMT type plus permission bits, final */
	uint32_t uid, gid;  /**< owner, already decided by the core */
	uint64_t rdev;      /**< for S_IFCHR and S_IFBLK */
	const char *target; /**< for S_IFLNK: 1..VFS_PATH_MAX-1 bytes */
	size_t target_len;  /**< bytes in target */
} vfs_newnode;

/**
 * Called by readdir() for each entry. `next_cookie` is the value that,
 * passed back to readdir(), resumes after this entry: never 0, below 2^63
 * (any host directory offset fits).
 * @return 0 to continue; nonzero to stop, in which case this entry was not
 *         taken and will be offered again when resuming at the previous
 *         cookie.
 */
typedef int (*vfs_fill_fn)(void *ctx, const char *name, size_t namelen,
                           uint64_t ino, uint32_t type, uint64_t next_cookie);

/** Flag for write(): write at the end of file (O_APPEND). */
#define VFS_WRITE_APPEND (1u << 0)

/**
 * The store vtable. Zero-initialise, set version = VFS_BACKEND_VERSION and
 * size = sizeof(vfs_backend_ops), then fill members. The core copies the
 * table using `size`, so a store built against an older header sees NULL
 * for members added since.
 */
typedef struct vfs_backend_ops {
	uint32_t version; /**< VFS_BACKEND_VERSION the store was built with */
	uint32_t size; /**< sizeof(vfs_backend_ops) the store was built with */
	const char *name; /**< short kind name, "memory" */

	/* Version 1 */

	/** Required. Free the store. Called once, at unmount or
	 *  vfs_store_free(), after every node was forgotten. */
	void (*destroy)(void *store);

	/** Required. The root directory's id (+1 lookup) and attributes. */
	int (*root)(void *store, uint64_t *out, vfs_attr *attr);

	/** Required. Find name in dir: -ENOENT, -ENOTDIR.
	 *  On success +1 lookup on *out and its attributes in *attr. */
	int (*lookup)(void *store, uint64_t dir, const char *name,
	              uint64_t *out, vfs_attr *attr);

	/** Required. Drop nlookup lookups; at zero, with no links left, the
	 *  node's storage is freed. Never fails. */
	void (*forget)(void *store, uint64_t node, uint64_t nlookup);

	/** Required. Attributes. attr->ino is the store's inode number, unique
	 *  in the store; attr->dev is ignored (the core sets it). */
	int (*getattr)(void *store, uint64_t node, vfs_attr *out);

	/** Required. Apply set->valid (VFS_SET_MODE, _UID, _GID, _SIZE, _ATIME,
	 *  _MTIME; the core turns the _NOW bits into explicit times and has
	 *  checked size against limits it knows). -EISDIR for a size change on
	 *  a directory, -EINVAL on other non-regular files, -EFBIG/-ENOSPC for
	 *  the store's limits; ctime becomes the current time. _SIZE cuts the
	 *  file as tmpfs does: a new size, or the same size on a file holding
	 *  data, sets mtime and ctime to the current time (over an explicit
	 *  mtime); _SIZE alone to the size of an empty or all-hole file
	 *  changes nothing, ctime included (truncate(2) on tmpfs). *out
	 *  receives the new attributes. */
	int (*setattr)(void *store, uint64_t node, const vfs_setattr *set,
	               vfs_attr *out);

	/** Required. Create a node of type nn->mode & S_IFMT in dir: -EEXIST
	 *  if the name exists (whatever it is), -ENOSPC, -EPERM (a type the
	 *  store refuses). +1 lookup on *out. */
	int (*mknod)(void *store, uint64_t dir, const char *name,
	             const vfs_newnode *nn, uint64_t *out, vfs_attr *attr);

	/** Required. Add a name for node (never a directory: the core checks)
	 *  in dir: -EEXIST, -EMLINK, -ENOENT (node has no links left).
	 *  *attr receives the node's new attributes. */
	int (*link)(void *store, uint64_t node, uint64_t dir, const char *name,
	            vfs_attr *attr);

	/** Required. Remove a non-directory name: -ENOENT, -EISDIR. */
	int (*unlink)(void *store, uint64_t dir, const char *name);

	/** Required. Remove an empty directory: -ENOENT, -ENOTDIR,
	 *  -ENOTEMPTY. */
	int (*rmdir)(void *store, uint64_t dir, const char *name);

	/** Required. rename(2)/renameat2(2) within the store, flags 0,
	 *  VFS_RENAME_NOREPLACE or VFS_RENAME_EXCHANGE (never both):
	 *  -ENOENT (source, or target with EXCHANGE), -EEXIST (NOREPLACE),
	 *  -ENOTDIR (directory over non-directory), -EISDIR (non-directory over
	 *  directory), -ENOTEMPTY, -EINVAL (a directory into its own subtree).
	 *  Source and target naming the same node: success, nothing changes.
	 *  A replaced node loses a link as with unlink. */
	int (*rename)(void *store, uint64_t olddir, const char *oldname,
	              uint64_t newdir, const char *newname, unsigned flags);

	/** Required. Copy up to size bytes of the symlink target into buf (no
	 *  NUL) and return the target's full length; -EINVAL if not a link. */
	int (*readlink)(void *store, uint64_t node, char *buf, size_t size);

	/** Required. Call fill for each entry after cookie (0: from the first),
	 *  in a stable order, without "." and "..". Entries that exist for the
	 *  whole of an iteration are passed exactly once, however the directory
	 *  changes between calls. Returns 0 at the end or when fill stopped. */
	int (*readdir)(void *store, uint64_t dir, uint64_t cookie,
	               vfs_fill_fn fill, void *ctx);

	/** Optional; if NULL, *fh is NULL and every open succeeds. Open a
	 *  regular file or directory for I/O. flags is O_RDONLY, O_WRONLY or
	 *  O_RDWR (truncation and append are done by the core). */
	int (*open)(void *store, uint64_t node, int flags, void **fh);

	/** Optional. Close what open() returned. Never fails. */
	void (*release)(void *store, uint64_t node, void *fh);

	/** Required. Read up to size bytes at off: the count (0 at or past end
	 *  of file), -EISDIR. */
	int64_t (*read)(void *store, uint64_t node, void *fh, void *buf,
	                size_t size, int64_t off);

	/** Required. Write size bytes at *off, or at the end of file with
	 *  VFS_WRITE_APPEND (then *off receives where the data landed).
	 *  All or nothing: -EFBIG or -ENOSPC leave the file unchanged. For
	 *  an append the core cannot know the end of file, so the store
	 *  checks that the new end stays within VFS_FILE_SIZE_MAX (-EFBIG).
	 *  Updates mtime and ctime. Returns size. */
	int64_t (*write)(void *store, uint64_t node, void *fh, const void *buf,
	                 size_t size, int64_t *off, unsigned flags);

	/** Optional; if NULL, fsync succeeds. Make the node's data durable. */
	int (*fsync)(void *store, uint64_t node, void *fh, int datasync);

	/** Required. Store statistics (flags is set by the core). */
	int (*statfs)(void *store, vfs_statvfs *out);

	/** Optional. Make everything durable (unmount, vfs_free). */
	int (*sync)(void *store);

	/** Optional; if NULL the core calls mknod(), then open(), and
	 *  unlink() if open() failed. Create a regular file (nn->mode is
	 *  S_IFREG) and open it with flags (as open()) in one step, all or
	 *  nothing: -EEXIST when the name exists. +1 lookup on *out. */
	int (*create)(void *store, uint64_t dir, const char *name,
	              const vfs_newnode *nn, int flags, uint64_t *out,
	              vfs_attr *attr, void **fh);

	/** Optional, for stores backed by a host directory. A new O_PATH
	 *  descriptor of the node's host inode (the caller closes it). When
	 *  a store has it, change events for its tree come from inotify on
	 *  the host, which also sees changes made by other processes, and
	 *  the core reports none of its own. */
	int (*host_fd)(void *store, uint64_t node);
} vfs_backend_ops;

/**
 * Wrap a store's vtable and state in a vfs_store handle that
 * vfs_mount_add() accepts. The table is copied (`ops->size` bytes).
 * On success the handle owns `state` (destroy() frees it).
 * @return 0; -EINVAL (NULL, a version newer than this library, or a
 *         required member missing); -ENOMEM.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_store_new(vfs_store **out, const vfs_backend_ops *ops,
                             void *state, unsigned mount_flags);

#ifdef __cplusplus
}
#endif
#endif /* VFS_BACKEND_H */
