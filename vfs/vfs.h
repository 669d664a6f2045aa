/*
 * libvfs: one virtual filesystem namespace built from mounts.
 *
 * This header is the user's reference. It holds, in order: conventions and
 * thread safety, instance creation and credentials, stores and mounts, the
 * path API (POSIX-shaped calls on paths and descriptors), directories, and
 * the node API used by frontends such as the FUSE adapter.
 *
 * Conventions
 * - Every call returns 0, a count, or a negative errno value (-ENOENT ...).
 *   There is no global or thread-local error state. vfs_strerror() gives
 *   the text for humans.
 * - Paths are byte strings ending at their first NUL. They name entries in
 *   the VFS namespace only: an absolute path and a relative path both start
 *   at the VFS root, and ".." at the root stays at the root. Bindings that
 *   hold strings with a length should call vfs_path_check() first, which
 *   refuses embedded NUL bytes with -EINVAL instead of letting the C string
 *   silently end early.
 * - Limits: a path of VFS_PATH_MAX (4096) bytes or more, or a component of
 *   more than VFS_NAME_MAX (255) bytes, gives -ENAMETOOLONG; an empty path
 *   gives -ENOENT; more than 40 symbolic links in one resolution give
 *   -ELOOP.
 * - Flags and mode bits use the host's <fcntl.h> and <sys/stat.h> values
 *   (O_CREAT, S_IFREG, ...). Descriptors are small integers private to one
 *   vfs instance; they are not host file descriptors.
 *
 * Thread safety: every function in this header may be called from any
 * number of threads at once on the same instance. Two instances share no
 * state. A descriptor's file position is shared by every thread using that
 * descriptor, as with POSIX descriptors.
 */
#ifndef VFS_VFS_H
#define VFS_VFS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VFS_BUILDING) && defined(__GNUC__)
#define VFS_EXTERN __attribute__((visibility("default")))
#else
#define VFS_EXTERN
#endif

#define VFS_VERSION_MAJOR  0
#define VFS_VERSION_MINOR  1
#define VFS_VERSION_PATCH  0
#define VFS_VERSION_STRING "0.1.0"

/** Longest path accepted, including the terminating NUL (as PATH_MAX). */
#define VFS_PATH_MAX 4096
/** Longest single component in bytes (as NAME_MAX). */
#define VFS_NAME_MAX 255
/** Symbolic links followed in one resolution before -ELOOP. */
#define VFS_SYMLINK_MAX 40
/** Largest file size or offset any store accepts (2^62); beyond: -EFBIG. */
#define VFS_FILE_SIZE_MAX ((int64_t)1 << 62)

/** Rename flags (the values of Linux renameat2). */
#define VFS_RENAME_NOREPLACE (1u << 0)
#define VFS_RENAME_EXCHANGE  (1u << 1)

/** vfs_utimens() and vfs_node_*: do not follow a final symlink. */
#define VFS_NOFOLLOW 0x100
/** Special nanosecond values for vfs_utimens() (the values of Linux). */
#define VFS_UTIME_NOW  ((1l << 30) - 1l)
#define VFS_UTIME_OMIT ((1l << 30) - 2l)

typedef struct vfs vfs;
typedef struct vfs_store vfs_store;
typedef struct vfs_node vfs_node;

/** File attributes, as struct stat. */
typedef struct vfs_attr {
	uint64_t ino;     /**< unique in the VFS, stable while the node lives */
	uint64_t dev;     /**< identifies the mount the node belongs to */
	uint32_t mode;    /**< S_IFMT type bits and permission bits */
	uint32_t nlink;   /**< hard links */
	uint32_t uid;     /**< owner */
	uint32_t gid;     /**< group */
	uint64_t rdev;    /**< device number of a device node */
	int64_t size;     /**< bytes (for a symlink: target length) */
	int64_t blocks;   /**< 512-byte units allocated */
	uint32_t blksize; /**< preferred I/O size */
	struct timespec atime, mtime, ctime;
} vfs_attr;

/** Filesystem statistics, as struct statvfs. */
typedef struct vfs_statvfs {
	uint64_t bsize;   /**< block size */
	uint64_t blocks;  /**< total blocks */
	uint64_t bfree;   /**< free blocks */
	uint64_t bavail;  /**< free blocks for unprivileged users */
	uint64_t files;   /**< total inodes */
	uint64_t ffree;   /**< free inodes */
	uint64_t namemax; /**< longest name */
	uint32_t flags;   /**< VFS_MOUNT_RDONLY when read-only */
} vfs_statvfs;

/** Caller credentials: who performs an operation. */
typedef struct vfs_cred {
	uint32_t uid;
	uint32_t gid;
	uint32_t ngroups;       /**< entries in groups (at most 65536) */
	const uint32_t *groups; /**< supplementary groups, may be NULL */
} vfs_cred;

/* ---------------------------------------------------------------------- */
/* Instances                                                              */
/* ---------------------------------------------------------------------- */

#define VFS_OPTIONS_VERSION 1

/** Check mode bits on every operation, as the kernel does (off by
 *  default: a runtime whose process is the only user needs no checks). */
#define VFS_CHECK_PERMISSIONS (1u << 0)

/** Options for vfs_new(). Zero-initialise, then set version. */
typedef struct vfs_options {
	uint32_t version; /**< VFS_OPTIONS_VERSION */
	/* Version 1 */
	uint32_t flags;       /**< VFS_CHECK_PERMISSIONS */
	uint32_t max_handles; /**< open descriptors; 0 means 65536 */
} vfs_options;

/**
 * Create an empty namespace. Until something is mounted at "/", the root
 * is an empty read-only directory; mounts elsewhere appear in it.
 * The path API runs with the process's effective uid and gid and umask
 * 022 until vfs_cred_set()/vfs_umask() change them.
 *
 * @param out   receives the instance
 * @param opts  NULL for defaults
 * @return 0, -EINVAL (unknown options version), -ENOMEM.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_new(vfs **out, const vfs_options *opts);

/**
 * Unmount everything (flushing each store) and free the instance. Open
 * descriptors are closed. Accepts NULL.
 * Thread safety: no other call may use the instance during or after this.
 */
VFS_EXTERN void vfs_free(vfs *v);

/**
 * Set the credentials the path API uses from now on (copied).
 * @return 0, -EINVAL (ngroups too large or groups NULL with ngroups > 0),
 *         -ENOMEM.
 * Thread safety: safe; calls already running use the previous credentials.
 */
VFS_EXTERN int vfs_cred_set(vfs *v, const vfs_cred *cred);

/**
 * Set the file mode creation mask for the path API; returns the old one.
 * Thread safety: safe.
 */
VFS_EXTERN uint32_t vfs_umask(vfs *v, uint32_t mask);

/* ---------------------------------------------------------------------- */
/* Stores and mounts                                                      */
/* ---------------------------------------------------------------------- */

/** Mount flags. */
#define VFS_MOUNT_RDONLY (1u << 0)

#define VFS_MEMORY_OPTIONS_VERSION 1

/** Limits for a memory store. Zero means "no limit" for each field. */
typedef struct vfs_memory_options {
	uint32_t version; /**< VFS_MEMORY_OPTIONS_VERSION */
	/* Version 1 */
	uint64_t max_bytes;     /**< data bytes allocated; beyond: -ENOSPC */
	uint64_t max_inodes;    /**< inodes, the root included; -ENOSPC */
	uint64_t max_file_size; /**< per file; beyond: -EFBIG */
} vfs_memory_options;

/**
 * Create a memory store (a tree in RAM, like tmpfs).
 * @param opts NULL for no limits.
 * @return 0, -EINVAL, -ENOMEM.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_memory_new(vfs_store **out, const vfs_memory_options *opts);

/**
 * Create a store from a SPEC string: "memory", "disk:HOSTDIR" or
 * "sqlite:DBFILE", optionally followed by ",ro" and ",key=value" options
 * (memory: size=64M, inodes=100000, maxfile=1G). ",ro" makes every mount
 * of the store read-only.
 *
 * @param err     receives a one-line message naming the bad part on
 *                failure (may be NULL)
 * @return 0; -EINVAL for a malformed spec or unknown option;
 *         -EPROTONOSUPPORT for a store kind not built into this library;
 *         or the store's own error (-ENOENT for a missing HOSTDIR ...).
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_store_open(vfs_store **out, const char *spec, char *err,
                              size_t errlen);

/** Destroy a store that was never mounted. Accepts NULL. */
VFS_EXTERN void vfs_store_free(vfs_store *s);

/**
 * Mount a store at path. On success the VFS owns the store and destroys it
 * at unmount; on failure the caller still owns it. The path need not exist
 * in the store underneath: a mount point shows up as a directory in its
 * parent either way. A mount over an existing mount point is -EBUSY.
 *
 * @param path  absolute or relative path, resolved without following
 *              symlinks in its final component
 * @param flags VFS_MOUNT_RDONLY
 * @return 0, -EBUSY, -ENOTDIR (a component is a file), -ENOSPC (too many
 *         mounts), -EINVAL (bad flags), path errors, or the store's error
 *         from fetching its root.
 * Thread safety: safe; waits for running calls on the namespace.
 */
VFS_EXTERN int vfs_mount_add(vfs *v, const char *path, vfs_store *store,
                             unsigned flags);

/**
 * vfs_store_open() then vfs_mount_add() in one call.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_mount_spec(vfs *v, const char *path, const char *spec,
                              char *err, size_t errlen);

/**
 * Unmount the store mounted exactly at path, flush and destroy it.
 * @return 0; -EINVAL (nothing mounted there); -ENOENT (no such path);
 *         -EBUSY (open descriptors,
 *         referenced nodes, or mounts nested below it).
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_mount_remove(vfs *v, const char *path);

/* ---------------------------------------------------------------------- */
/* Path API                                                               */
/* ---------------------------------------------------------------------- */

/**
 * Check a path held with a length, for bindings whose strings may contain
 * NUL bytes. @return 0, -EINVAL (a NUL byte inside), -ENOENT (empty),
 * -ENAMETOOLONG.
 * Thread safety: safe (pure).
 */
VFS_EXTERN int vfs_path_check(const char *path, size_t len);

/**
 * Open or create a file, as open(2). Supported flags: O_RDONLY, O_WRONLY,
 * O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, O_NOFOLLOW;
 * others are ignored. A dangling symlink with O_CREAT creates its target.
 *
 * @return a descriptor >= 0; -EEXIST (O_CREAT | O_EXCL on an existing
 *         name, "." ".." and "/" included), -ENOENT, -ENOTDIR, -EISDIR (a
 *         directory opened for writing, O_CREAT without O_EXCL on a
 *         directory, or a trailing slash with O_CREAT),
 *         -ELOOP (O_NOFOLLOW on a symlink, or too many links), -ENXIO
 *         (a FIFO, socket or device node: stores keep them as metadata
 *         only), -EROFS, -EACCES, -EMFILE, -ENOSPC, -EINVAL (bad access
 *         mode, or O_CREAT with O_DIRECTORY, as on Linux 6.4 and later),
 *         path errors.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_open(vfs *v, const char *path, int flags, uint32_t mode);

/** Close a descriptor. @return 0, -EBADF. Thread safety: safe. */
VFS_EXTERN int vfs_close(vfs *v, int fd);

/**
 * Read or write at the descriptor's position and advance it; O_APPEND
 * writes always land at the end of the file.
 * @return bytes transferred; -EBADF (bad descriptor, or not open for
 *         that direction), -EISDIR, -EFBIG (beyond the size limit),
 *         -ENOSPC, -EINVAL (count above INT64_MAX / position overflow).
 * Thread safety: safe.
 */
VFS_EXTERN int64_t vfs_read(vfs *v, int fd, void *buf, size_t count);
VFS_EXTERN int64_t vfs_write(vfs *v, int fd, const void *buf, size_t count);

/**
 * Read or write at an offset without moving the position. As on Linux,
 * pwrite on an O_APPEND descriptor appends.
 * @return as vfs_read(); -EINVAL for a negative offset (before any other
 *         check, -EBADF included, as on Linux) or offset + count
 *         overflowing (before -EISDIR).
 * Thread safety: safe.
 */
VFS_EXTERN int64_t vfs_pread(vfs *v, int fd, void *buf, size_t count,
                             int64_t offset);
VFS_EXTERN int64_t vfs_pwrite(vfs *v, int fd, const void *buf, size_t count,
                              int64_t offset);

/**
 * Move the position (SEEK_SET, SEEK_CUR, SEEK_END).
 * @return the new position; -EINVAL (bad whence or negative result),
 *         -EBADF. Positions above VFS_FILE_SIZE_MAX are -EINVAL.
 *
 * On a directory, as on tmpfs: SEEK_SET and SEEK_CUR only (others are
 * -EINVAL), to any position that is not negative. Positions are the
 * offsets of vfs_dirent.off: lseek(fd, 0, SEEK_CUR) after vfs_readdir()
 * gives the entry's off, and lseek(fd, off, SEEK_SET) goes on after that
 * entry, as vfs_dir_seek() does. -EOVERFLOW when the position is 2^63 or
 * more, which only a disk store on a filesystem with 63-bit directory
 * cookies (ext4) can reach.
 * Thread safety: safe.
 */
VFS_EXTERN int64_t vfs_lseek(vfs *v, int fd, int64_t offset, int whence);

/**
 * Change a file's size. Holes read as zeros. mtime and ctime change as on
 * Linux's tmpfs: ftruncate always sets them; truncate sets them when the
 * size changes or the file holds data, so an empty or all-hole file
 * truncated to its own size keeps them (a disk store does what its host
 * filesystem does: ext4 always sets them).
 * @return 0; -EINVAL (negative size, or descriptor not open for writing),
 *         -EFBIG, -ENOSPC, -EISDIR, -EROFS, -EBADF.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_ftruncate(vfs *v, int fd, int64_t size);
VFS_EXTERN int vfs_truncate(vfs *v, const char *path, int64_t size);

/** Make the file's data (and for fsync, metadata) durable.
 *  @return 0, -EBADF, -EIO. Thread safety: safe. */
VFS_EXTERN int vfs_fsync(vfs *v, int fd);
VFS_EXTERN int vfs_fdatasync(vfs *v, int fd);

/** Attributes of an open file, of a path (following a final symlink), or
 *  of a path without following it. Thread safety: safe. */
VFS_EXTERN int vfs_fstat(vfs *v, int fd, vfs_attr *out);
VFS_EXTERN int vfs_stat(vfs *v, const char *path, vfs_attr *out);
VFS_EXTERN int vfs_lstat(vfs *v, const char *path, vfs_attr *out);

/**
 * Create a directory. A trailing slash is allowed.
 * @return 0, -EEXIST (also for "." ".." "/" and a dangling symlink),
 *         -ENOENT, -ENOTDIR, -EROFS, -ENOSPC, -EACCES.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_mkdir(vfs *v, const char *path, uint32_t mode);

/**
 * Remove an empty directory.
 * @return 0, -ENOTEMPTY, -ENOTDIR, -EINVAL (final "."), -EBUSY (the root
 *         or a mount point), -EROFS, -ENOENT.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_rmdir(vfs *v, const char *path);

/**
 * Remove a name (a symlink itself, never its target). An open file stays
 * usable until its last descriptor closes.
 * @return 0, -EISDIR, -ENOENT, -ENOTDIR, -EROFS, -EBUSY (a mount point).
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_unlink(vfs *v, const char *path);

/**
 * Rename, as renameat2(2). flags: 0, VFS_RENAME_NOREPLACE or
 * VFS_RENAME_EXCHANGE. Renaming a name onto itself or onto another link of
 * the same file does nothing and succeeds.
 * @return 0; -EINVAL (unknown or conflicting flags, a directory into its
 *         own subtree); -EEXIST (NOREPLACE); -ENOENT; -ENOTDIR; -EISDIR;
 *         -ENOTEMPTY; -EXDEV (across mounts); -EBUSY ("." or ".." as either
 *         final component, a mount point, or a directory holding one);
 *         -EROFS. When several apply, the one Linux's renameat2() checks
 *         first: e.g. NOREPLACE's -EEXIST and EXCHANGE's missing target
 *         come before a trailing slash on a file (-ENOTDIR), and that
 *         before renaming a file onto itself.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_rename(vfs *v, const char *oldpath, const char *newpath,
                          unsigned flags);

/**
 * Create a hard link (the final component of oldpath is not followed).
 * @return 0, -EEXIST, -EPERM (a directory), -EXDEV, -ENOENT, -EROFS,
 *         -EMLINK.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_link(vfs *v, const char *oldpath, const char *newpath);

/**
 * Create a symbolic link at linkpath holding target (resolved inside the
 * VFS when followed; an absolute target starts at the VFS root).
 * @return 0, -ENOENT (empty target), -ENAMETOOLONG (target of 4096 bytes
 *         or more), -EEXIST, -EROFS.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_symlink(vfs *v, const char *target, const char *linkpath);

/**
 * Read a symlink's target into buf, as readlink(2): no NUL is added and a
 * target longer than size is cut to size bytes.
 * @return bytes placed in buf; -EINVAL (not a symlink), -ENOENT.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_readlink(vfs *v, const char *path, char *buf, size_t size);

/**
 * Create a regular file, FIFO, socket or device node. Memory and SQLite
 * stores keep FIFOs, sockets and device nodes as metadata only.
 * @return 0, -EEXIST, -EINVAL (a directory or unknown type), -EPERM (the
 *         store refuses device nodes), -EROFS.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_mknod(vfs *v, const char *path, uint32_t mode, uint64_t dev);

/** Change permission bits (07777), following a final symlink.
 *  @return 0, -EPERM (not the owner, with permission checks), -EROFS.
 *  Thread safety: safe. */
VFS_EXTERN int vfs_chmod(vfs *v, const char *path, uint32_t mode);
VFS_EXTERN int vfs_fchmod(vfs *v, int fd, uint32_t mode);

/** Change owner and group; (uint32_t)-1 leaves one unchanged. chown
 *  follows a final symlink, lchown does not.
 *  @return 0, -EPERM, -EROFS. Thread safety: safe. */
VFS_EXTERN int vfs_chown(vfs *v, const char *path, uint32_t uid, uint32_t gid);
VFS_EXTERN int vfs_lchown(vfs *v, const char *path, uint32_t uid, uint32_t gid);
VFS_EXTERN int vfs_fchown(vfs *v, int fd, uint32_t uid, uint32_t gid);

/**
 * Set access and modification times, as utimensat(2). times may be NULL
 * (both now); tv_nsec may be VFS_UTIME_NOW or VFS_UTIME_OMIT.
 * flags: 0 or VFS_NOFOLLOW.
 * @return 0, -EINVAL (bad nanoseconds or flags), -EPERM, -EACCES, -EROFS.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_utimens(vfs *v, const char *path,
                           const struct timespec times[2], int flags);
VFS_EXTERN int vfs_futimens(vfs *v, int fd, const struct timespec times[2]);

/** Statistics of the store holding path. Thread safety: safe. */
VFS_EXTERN int vfs_statfs(vfs *v, const char *path, vfs_statvfs *out);

/**
 * Canonical absolute path of path within the VFS: no symlinks, ".", ".."
 * or repeated slashes. The result is NUL-terminated.
 * @return its length; -ERANGE (buf too small), path errors.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_realpath(vfs *v, const char *path, char *buf, size_t size);

/** Text for a negative (or positive) errno value; never NULL.
 *  Thread safety: safe. */
VFS_EXTERN const char *vfs_strerror(int err);

/* ---------------------------------------------------------------------- */
/* Directories                                                            */
/* ---------------------------------------------------------------------- */

/** One directory entry. */
typedef struct vfs_dirent {
	uint64_t ino;                /**< as vfs_attr.ino */
	uint64_t off;                /**< pass to vfs_dir_seek (or lseek) to
	                                  resume after this entry */
	uint32_t type;               /**< S_IFMT bits of the entry */
	uint32_t namelen;            /**< bytes in name */
	char name[VFS_NAME_MAX + 1]; /**< NUL-terminated */
} vfs_dirent;

/** Open a directory for reading: vfs_open(path, O_RDONLY|O_DIRECTORY).
 *  Thread safety: safe. */
VFS_EXTERN int vfs_opendir(vfs *v, const char *path);

/**
 * Read the next entry, "." and ".." first. Entries that exist throughout
 * an iteration are returned exactly once however the directory changes
 * meanwhile; mount points below the directory appear as directories.
 * @return 1 with *out filled, 0 at the end, -EBADF, -ENOTDIR.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_readdir(vfs *v, int fd, vfs_dirent *out);

/** Continue reading after the entry whose off is given (0: from the
 *  start). Thread safety: safe. */
VFS_EXTERN int vfs_dir_seek(vfs *v, int fd, uint64_t off);

/* ---------------------------------------------------------------------- */
/* Node API, for frontends (FUSE, servers)                                */
/* ---------------------------------------------------------------------- */
/*
 * Nodes are counted references to files and directories, as the kernel's
 * inodes are to FUSE. Each call that hands out a node adds one reference
 * the caller must give back with vfs_node_put(). Names are single
 * components: never empty, ".", "..", containing '/', or longer than
 * VFS_NAME_MAX (each gives -EINVAL or -ENAMETOOLONG). Each call takes the
 * credentials of the caller it acts for; the instance's credentials and
 * umask are not used. Mount points are crossed as in the path API.
 */

/** The namespace root. Thread safety: safe. */
VFS_EXTERN int vfs_node_root(vfs *v, vfs_node **out);

/** Resolve a path to a node (following a final symlink unless flags has
 *  VFS_NOFOLLOW). Thread safety: safe. */
VFS_EXTERN int vfs_node_resolve(vfs *v, const vfs_cred *cred, const char *path,
                                int flags, vfs_node **out);

/** Add n references (a FUSE lookup reply adds one). */
VFS_EXTERN void vfs_node_hold(vfs *v, vfs_node *node, uint64_t n);

/** Drop n references (FUSE forget). Accepts NULL. Thread safety: safe. */
VFS_EXTERN void vfs_node_put(vfs *v, vfs_node *node, uint64_t n);

/** Look up one name in a directory node. Thread safety: safe. */
VFS_EXTERN int vfs_node_lookup(vfs *v, const vfs_cred *cred, vfs_node *dir,
                               const char *name, vfs_node **out,
                               vfs_attr *attr);

VFS_EXTERN int vfs_node_getattr(vfs *v, vfs_node *node, vfs_attr *out);

/** What vfs_node_setattr() changes. */
#define VFS_SET_MODE      (1u << 0)
#define VFS_SET_UID       (1u << 1)
#define VFS_SET_GID       (1u << 2)
#define VFS_SET_SIZE      (1u << 3)
#define VFS_SET_ATIME     (1u << 4) /**< to atime */
#define VFS_SET_MTIME     (1u << 5) /**< to mtime */
#define VFS_SET_ATIME_NOW (1u << 6) /**< to the current time */
#define VFS_SET_MTIME_NOW (1u << 7)

/** Attribute changes. */
typedef struct vfs_setattr {
	uint32_t valid; /**< VFS_SET_* */
	uint32_t mode;  /**< permission bits 07777 */
	uint32_t uid, gid;
	int64_t size;
	struct timespec atime, mtime;
} vfs_setattr;

/**
 * Change attributes with POSIX rules: only the owner (or uid 0) may chmod
 * or set explicit times when permission checks are on; chown of a
 * non-directory clears setuid and setgid; a size change updates mtime and
 * ctime; every change updates ctime.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_node_setattr(vfs *v, const vfs_cred *cred, vfs_node *node,
                                const vfs_setattr *set, vfs_attr *out);

/**
 * Create a node of any type in dir: mode's S_IFMT selects S_IFREG, S_IFDIR,
 * S_IFLNK (target names the link's target), S_IFIFO, S_IFSOCK, S_IFCHR or
 * S_IFBLK (rdev). No umask is applied. Thread safety: safe.
 */
VFS_EXTERN int vfs_node_mknod(vfs *v, const vfs_cred *cred, vfs_node *dir,
                              const char *name, uint32_t mode, uint64_t rdev,
                              const char *target, vfs_node **out,
                              vfs_attr *attr);

VFS_EXTERN int vfs_node_link(vfs *v, const vfs_cred *cred, vfs_node *node,
                             vfs_node *newdir, const char *newname,
                             vfs_attr *attr);
VFS_EXTERN int vfs_node_unlink(vfs *v, const vfs_cred *cred, vfs_node *dir,
                               const char *name);
VFS_EXTERN int vfs_node_rmdir(vfs *v, const vfs_cred *cred, vfs_node *dir,
                              const char *name);
VFS_EXTERN int vfs_node_rename(vfs *v, const vfs_cred *cred, vfs_node *olddir,
                               const char *oldname, vfs_node *newdir,
                               const char *newname, unsigned flags);
VFS_EXTERN int vfs_node_readlink(vfs *v, vfs_node *node, char *buf,
                                 size_t size);
VFS_EXTERN int vfs_node_statfs(vfs *v, vfs_node *node, vfs_statvfs *out);

/**
 * Open a node and return a descriptor usable with every descriptor call
 * above (vfs_pread, vfs_readdir, vfs_close ...). flags as vfs_open();
 * O_CREAT and O_EXCL are ignored here. Thread safety: safe.
 */
VFS_EXTERN int vfs_node_open(vfs *v, const vfs_cred *cred, vfs_node *node,
                             int flags);

/**
 * Create a regular file named name in dir and open it (atomic O_CREAT).
 * With O_EXCL an existing name gives -EEXIST; without it an existing file
 * is opened. The new node is returned with one reference.
 * @return a descriptor; -EINVAL for O_DIRECTORY (O_CREAT is implied) or a
 *         bad access mode. Thread safety: safe.
 */
VFS_EXTERN int vfs_node_create(vfs *v, const vfs_cred *cred, vfs_node *dir,
                               const char *name, int flags, uint32_t mode,
                               vfs_node **out, vfs_attr *attr);

/** The node an open descriptor refers to, with one added reference. */
VFS_EXTERN int vfs_fd_node(vfs *v, int fd, vfs_node **out);

/** Write through a descriptor on behalf of cred (setuid/setgid bits are
 *  cleared as the kernel does for callers other than uid 0). */
VFS_EXTERN int64_t vfs_pwrite_as(vfs *v, const vfs_cred *cred, int fd,
                                 const void *buf, size_t count, int64_t offset);

/* ---------------------------------------------------------------------- */
/* SQLite store                                                           */
/* ---------------------------------------------------------------------- */

/** vfs_sqlite_fsck(): fix what can be fixed (delete dangling entries and
 *  stray blocks, correct link counts, sizes and allocation totals, reclaim
 *  orphaned inodes). */
#define VFS_FSCK_REPAIR (1u << 0)

/**
 * Check an SQLite store's database file: SQLite's integrity_check, the
 * schema, inode rows, names, dangling directory entries, link counts
 * against entries, blocks against file sizes, and orphaned inodes. The
 * store may be mounted by other processes meanwhile (repair then waits for
 * the write lock like any writer).
 *
 * @param report  receives one line per problem, NUL-terminated and cut to
 *                len bytes (may be NULL)
 * @return 0 when clean; the number of problems found (fixed, with
 *         VFS_FSCK_REPAIR, except integrity errors); -ENOENT (no file),
 *         -EINVAL (bad flags, or not a libvfs store), -ENOTSUP (a newer
 *         store version), -EIO (SQLite reports damage it cannot repair),
 *         -EBUSY (locked by another process for too long), -ENOMEM.
 * Thread safety: safe; it opens its own connection.
 */
VFS_EXTERN int vfs_sqlite_fsck(const char *dbfile, unsigned flags, char *report,
                               size_t len);

/* ---------------------------------------------------------------------- */
/* Watches: change events, shaped like inotify                            */
/* ---------------------------------------------------------------------- */
/*
 * A watcher holds a bounded queue of events and a file descriptor that
 * is readable while events are pending (for poll, epoll or libuv). Watches
 * are added on paths; the same operations produce the same events on
 * every store. Records are read like inotify's: a vfs_event header
 * followed by `len` bytes of NUL-padded name.
 *
 * Overflow: when the queue is full, the events already queued are kept,
 * one VFS_EV_OVERFLOW record (wd -1) is queued, and later events are
 * dropped until the queue is read below its limit again; nothing else is
 * lost silently. A consumer that sees VFS_EV_OVERFLOW must rescan the
 * trees it watches, as with inotify's IN_Q_OVERFLOW.
 *
 * Thread safety: every call may be made from any thread; a watch may be
 * removed while another thread reads.
 */

/* Event bits (the values of inotify). */
#define VFS_EV_ACCESS      0x00000001u
#define VFS_EV_MODIFY      0x00000002u
#define VFS_EV_ATTRIB      0x00000004u
#define VFS_EV_CLOSE_WRITE 0x00000008u
#define VFS_EV_MOVED_FROM  0x00000040u
#define VFS_EV_MOVED_TO    0x00000080u
#define VFS_EV_CREATE      0x00000100u
#define VFS_EV_DELETE      0x00000200u
#define VFS_EV_DELETE_SELF 0x00000400u
#define VFS_EV_MOVE_SELF   0x00000800u
#define VFS_EV_OVERFLOW    0x00004000u /**< queue overflow, wd -1 */
#define VFS_EV_IGNORED     0x00008000u /**< the watch is gone */
#define VFS_EV_ISDIR       0x40000000u /**< the subject is a directory */
#define VFS_EV_ALL                                                             \
	(VFS_EV_MODIFY | VFS_EV_ATTRIB | VFS_EV_CLOSE_WRITE |                  \
	 VFS_EV_MOVED_FROM | VFS_EV_MOVED_TO | VFS_EV_CREATE | VFS_EV_DELETE | \
	 VFS_EV_DELETE_SELF | VFS_EV_MOVE_SELF)

/** vfs_watch_add() flag: also watch every directory below, now and as
 *  they are created or moved in; names are then paths relative to the
 *  watched directory ("a/b/file"). */
#define VFS_WATCH_RECURSIVE (1u << 0)

typedef struct vfs_watcher vfs_watcher;

/** One event record, followed by len bytes of name (NUL-padded). */
typedef struct vfs_event {
	int32_t wd;      /**< the watch, or -1 for VFS_EV_OVERFLOW */
	uint32_t mask;   /**< one VFS_EV_* bit, plus VFS_EV_ISDIR */
	uint32_t cookie; /**< pairs a MOVED_FROM with its MOVED_TO; else 0 */
	uint32_t len;    /**< bytes of name that follow, 0 when none */
	char name[];
} vfs_event;

#define VFS_WATCHER_OPTIONS_VERSION 1

typedef struct vfs_watcher_options {
	uint32_t version; /**< VFS_WATCHER_OPTIONS_VERSION */
	/* Version 1 */
	uint32_t max_events;  /**< queue limit; 0 means 16384 */
	uint32_t max_watches; /**< 0 means 8192; beyond: -ENOSPC */
} vfs_watcher_options;

/**
 * Create a watcher on the namespace. The watcher must be freed before the
 * instance. @return 0, -EINVAL, -ENOMEM, -EMFILE (no descriptor left).
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_watcher_new(vfs *v, vfs_watcher **out,
                               const vfs_watcher_options *opts);

/** Remove every watch and free the watcher. Accepts NULL. */
VFS_EXTERN void vfs_watcher_free(vfs_watcher *w);

/** A descriptor that polls readable while events are pending. Owned by
 *  the watcher; do not close it. Thread safety: safe. */
VFS_EXTERN int vfs_watcher_fd(vfs_watcher *w);

/**
 * Watch the directory or file at path (following a final symlink) for
 * the events in mask. Adding a watch on a node already watched by this
 * watcher replaces its mask and flags and returns the same wd.
 * @return a watch descriptor >= 1; -ENOENT, -ENOTDIR (RECURSIVE on a
 *         non-directory), -EINVAL (empty mask or unknown bits), -ENOSPC
 *         (max_watches), path errors.
 * Thread safety: safe.
 */
VFS_EXTERN int vfs_watch_add(vfs_watcher *w, const char *path, uint32_t mask,
                             unsigned flags);

/** Remove a watch; a VFS_EV_IGNORED record follows.
 *  @return 0, -EINVAL (no such watch). Thread safety: safe. */
VFS_EXTERN int vfs_watch_remove(vfs_watcher *w, int wd);

/**
 * Move pending records into buf, as read(2) on an inotify descriptor,
 * without blocking. @return bytes placed (0: nothing pending), -EINVAL
 * (buf too small for the next record: sizeof(vfs_event) + VFS_PATH_MAX
 * always suffices).
 * Thread safety: safe.
 */
VFS_EXTERN int64_t vfs_watcher_read(vfs_watcher *w, void *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* VFS_VFS_H */
