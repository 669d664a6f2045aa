/*
 * fusefs/fuse.c: the libfuse3 low-level adapter. Each kernel request
 * becomes one call of the node API in vfs/vfs.h; no path string ever
 * passes between the kernel and the stores.
 *
 * The file holds, in order: node ids and credentials, attribute and entry
 * replies, lookup and lifetime (lookup, forget), attributes (getattr,
 * setattr), names (mknod, mkdir, symlink, link, unlink, rmdir, rename,
 * readlink), files (create, open, read, write, flush, fsync, release),
 * directories (opendir, readdir, readdirplus, fsyncdir, releasedir), the
 * rest (statfs, access, xattrs), init, and the operation table.
 *
 * Node ids. The kernel's nodeid is a vfs_node pointer, except that
 * FUSE_ROOT_ID stands for fs->root. Every reply that gives the kernel a
 * nodeid (entry, create, readdirplus) hands it one node reference, which
 * forget gives back. The session holds its own reference to the root, so
 * a reply naming the root drops the reference it was given and forgets of
 * FUSE_ROOT_ID are ignored. If a reply cannot be delivered (the request
 * was interrupted), the reference and any descriptor it carried are given
 * back at once, since the kernel will never forget or release them.
 *
 * Errors. The core returns negative errno values; the sign flips exactly
 * once, at fuse_reply_err(req, -rc).
 *
 * Permissions. vfsmount always mounts with default_permissions, so the
 * kernel checks modes with the caller's full credentials before a request
 * reaches us. The core's own checks stay off (it would see only the groups
 * /proc reports). Credentials still go with every call: they decide the
 * owner of new files and the setuid/setgid clearing rules.
 */
#include "fusefs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* ---- Node ids and credentials ------------------------------------------- */

static fusefs *fusefs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static vfs_node *fusefs_node(fusefs *fs, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return fs->root;
	return (vfs_node *)(uintptr_t)ino;
}

/* The nodeid for a node whose reference the kernel is about to own. */
static fuse_ino_t fusefs_ino_give(fusefs *fs, vfs_node *n)
{
	/* The session holds the root for good: no reference to hand over. */
	if (n == fs->root)
		vfs_node_put(fs->v, n, 1);
	return fusefs_ino_of(fs, n);
}

static void fusefs_ino_forget(fusefs *fs, fuse_ino_t ino, uint64_t nlookup)
{
	if (ino == FUSE_ROOT_ID || ino == 0)
		return;
	vfs_node_put(fs->v, (vfs_node *)(uintptr_t)ino, nlookup);
}

/*
 * Supplementary groups cost an open and a read of /proc/PID/status, so
 * they are fetched only where the core consults them with its own
 * permission checks off: whether a caller other than root may keep or
 * set S_ISGID on a mode it asks for (chmod, mknod, create). Everything
 * else about groups the kernel has already decided.
 */
#define FUSEFS_GROUPS_INLINE 32
#define FUSEFS_GROUPS_MAX    65536

typedef struct fusefs_cred {
	vfs_cred cred;
	uint32_t inline_groups[FUSEFS_GROUPS_INLINE];
	uint32_t *heap;
} fusefs_cred;

static void fusefs_cred_get(fuse_req_t req, fusefs_cred *c, bool groups)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	gid_t list[FUSEFS_GROUPS_INLINE];
	gid_t *big = NULL;
	int n;

	c->cred.uid = ctx->uid;
	c->cred.gid = ctx->gid;
	c->cred.ngroups = 0;
	c->cred.groups = NULL;
	c->heap = NULL;
	if (!groups)
		return;
	n = fuse_req_getgroups(req, FUSEFS_GROUPS_INLINE, list);
	if (n <= 0)
		return; /* unknown (-ENOSYS, the caller exited): no groups */
	if (n > FUSEFS_GROUPS_INLINE) {
		int want = n > FUSEFS_GROUPS_MAX ? FUSEFS_GROUPS_MAX : n;

		big = malloc((size_t)want * sizeof *big);
		c->heap = malloc((size_t)want * sizeof *c->heap);
		if (big == NULL || c->heap == NULL) {
			free(big);
			free(c->heap);
			c->heap = NULL;
			return;
		}
		n = fuse_req_getgroups(req, want, big);
		if (n > want)
			n = want;
		for (int i = 0; i < n; i++)
			c->heap[i] = big[i];
		free(big);
		c->cred.groups = c->heap;
	} else {
		for (int i = 0; i < n; i++)
			c->inline_groups[i] = list[i];
		c->cred.groups = c->inline_groups;
	}
	c->cred.ngroups = n > 0 ? (uint32_t)n : 0;
}

/* Does a request setting `mode` need the caller's groups? */
static bool fusefs_mode_needs_groups(fuse_req_t req, uint32_t mode)
{
	return (mode & S_ISGID) && fuse_req_ctx(req)->uid != 0;
}

static void fusefs_cred_put(fusefs_cred *c)
{
	free(c->heap);
	c->heap = NULL;
}

/* The kernel forwards names of any length up to its own limit (more than
 * 1024 bytes on current kernels); refuse them before they go further. The
 * core checks again, along with "", ".", ".." and '/'. */
static int fusefs_name_check(const char *name)
{
	if (strnlen(name, VFS_NAME_MAX + 1) > VFS_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* ---- Attribute and entry replies ---------------------------------------- */

static void fusefs_stat_fill(struct stat *st, const vfs_attr *a)
{
	memset(st, 0, sizeof *st);
	st->st_ino = (ino_t)a->ino;
	st->st_dev = (dev_t)a->dev;
	st->st_mode = (mode_t)a->mode;
	st->st_nlink = (nlink_t)a->nlink;
	st->st_uid = (uid_t)a->uid;
	st->st_gid = (gid_t)a->gid;
	st->st_rdev = (dev_t)a->rdev;
	st->st_size = (off_t)a->size;
	st->st_blocks = (blkcnt_t)a->blocks;
	st->st_blksize = (blksize_t)a->blksize;
	st->st_atim = a->atime;
	st->st_mtim = a->mtime;
	st->st_ctim = a->ctime;
}

/* Fill e for node n, whose one reference passes to the kernel with it. */
static void fusefs_entry_fill(fusefs *fs, struct fuse_entry_param *e,
                              vfs_node *n, const vfs_attr *a)
{
	memset(e, 0, sizeof *e);
	e->ino = fusefs_ino_give(fs, n);
	e->generation = 0;
	fusefs_stat_fill(&e->attr, a);
	e->attr_timeout = fs->attr_timeout;
	e->entry_timeout = fs->entry_timeout;
}

static void fusefs_reply_entry(fusefs *fs, fuse_req_t req, vfs_node *n,
                               const vfs_attr *a)
{
	struct fuse_entry_param e;

	fusefs_entry_fill(fs, &e, n, a);
	if (fuse_reply_entry(req, &e) != 0)
		fusefs_ino_forget(fs, e.ino, 1);
}

static void fusefs_reply_attr(fusefs *fs, fuse_req_t req, const vfs_attr *a)
{
	struct stat st;

	fusefs_stat_fill(&st, a);
	fuse_reply_attr(req, &st, fs->attr_timeout);
}

/* ---- Lookup and lifetime ------------------------------------------------ */

static void fusefs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fusefs *fs = fusefs_of(req);
	fusefs_cred c;
	vfs_node *n = NULL;
	vfs_attr a;
	int rc;

	rc = fusefs_name_check(name);
	if (rc == 0) {
		fusefs_cred_get(req, &c, false);
		rc = vfs_node_lookup(fs->v, &c.cred, fusefs_node(fs, parent),
		                     name, &n, &a);
		fusefs_cred_put(&c);
	}
	if (rc == -ENOENT && fs->negative_timeout > 0) {
		/* A negative entry: the kernel remembers the name is absent
		 * and drops that memory itself when it creates the name. */
		struct fuse_entry_param e;

		memset(&e, 0, sizeof e);
		e.entry_timeout = fs->negative_timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fusefs_reply_entry(fs, req, n, &a);
}

static void fusefs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	fusefs_ino_forget(fusefs_of(req), ino, nlookup);
	fuse_reply_none(req);
}

static void fusefs_forget_multi(fuse_req_t req, size_t count,
                                struct fuse_forget_data *forgets)
{
	fusefs *fs = fusefs_of(req);

	for (size_t i = 0; i < count; i++)
		fusefs_ino_forget(fs, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/* ---- Attributes --------------------------------------------------------- */

static void fusefs_getattr(fuse_req_t req, fuse_ino_t ino,
                           struct fuse_file_info *fi)
{
	fusefs *fs = fusefs_of(req);
	vfs_attr a;
	int rc;

	rc = vfs_node_getattr(fs->v, fusefs_node(fs, ino), &a);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fusefs_reply_attr(fs, req, &a);
}

static void fusefs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
                           int to_set, struct fuse_file_info *fi)
{
	fusefs *fs = fusefs_of(req);
	vfs_node *node = fusefs_node(fs, ino);
	vfs_setattr set;
	fusefs_cred c;
	vfs_attr a;
	int rc;

	memset(&set, 0, sizeof set);
	if (to_set & FUSE_SET_ATTR_MODE) {
		set.valid |= VFS_SET_MODE;
		set.mode = (uint32_t)attr->st_mode & 07777;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		set.valid |= VFS_SET_UID;
		set.uid = (uint32_t)attr->st_uid;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		set.valid |= VFS_SET_GID;
		set.gid = (uint32_t)attr->st_gid;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (attr->st_size < 0) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		set.valid |= VFS_SET_SIZE;
		set.size = (int64_t)attr->st_size;
	}
	if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
		set.valid |= VFS_SET_ATIME_NOW;
	} else if (to_set & FUSE_SET_ATTR_ATIME) {
		set.valid |= VFS_SET_ATIME;
		set.atime = attr->st_atim;
	}
	if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
		set.valid |= VFS_SET_MTIME_NOW;
	} else if (to_set & FUSE_SET_ATTR_MTIME) {
		set.valid |= VFS_SET_MTIME;
		set.mtime = attr->st_mtim;
	}

	/* ftruncate(2) arrives with the descriptor: truncate through it so
	 * the open file's rules apply (it keeps working after chmod). */
	if ((set.valid & VFS_SET_SIZE) && fi != NULL) {
		rc = vfs_ftruncate(fs->v, (int)fi->fh, set.size);
		if (rc < 0) {
			fuse_reply_err(req, -rc);
			return;
		}
		set.valid &= ~VFS_SET_SIZE;
	}
	if (set.valid != 0) {
		fusefs_cred_get(
		        req, &c,
		        (set.valid & VFS_SET_MODE) &&
		                fusefs_mode_needs_groups(req, set.mode));
		rc = vfs_node_setattr(fs->v, &c.cred, node, &set, &a);
		fusefs_cred_put(&c);
	} else {
		rc = vfs_node_getattr(fs->v, node, &a);
	}
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fusefs_reply_attr(fs, req, &a);
}

/* ---- Names -------------------------------------------------------------- */

static void fusefs_make(fuse_req_t req, fuse_ino_t parent, const char *name,
                        uint32_t mode, uint64_t rdev, const char *target)
{
	fusefs *fs = fusefs_of(req);
	fusefs_cred c;
	vfs_node *n = NULL;
	vfs_attr a;
	int rc;

	rc = fusefs_name_check(name);
	if (rc == 0) {
		fusefs_cred_get(req, &c, fusefs_mode_needs_groups(req, mode));
		rc = vfs_node_mknod(fs->v, &c.cred, fusefs_node(fs, parent),
		                    name, mode, rdev, target, &n, &a);
		fusefs_cred_put(&c);
	}
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fusefs_reply_entry(fs, req, n, &a);
}

static void fusefs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
                         mode_t mode, dev_t rdev)
{
	fusefs_make(req, parent, name, (uint32_t)mode, (uint64_t)rdev, NULL);
}

static void fusefs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
                         mode_t mode)
{
	fusefs_make(req, parent, name, S_IFDIR | ((uint32_t)mode & 07777), 0,
	            NULL);
}

static void fusefs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
                           const char *name)
{
	fusefs_make(req, parent, name, S_IFLNK | 0777, 0, link);
}

static void fusefs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
                        const char *newname)
{
	fusefs *fs = fusefs_of(req);
	vfs_node *node = fusefs_node(fs, ino);
	fusefs_cred c;
	vfs_attr a;
	int rc;

	rc = fusefs_name_check(newname);
	if (rc == 0) {
		fusefs_cred_get(req, &c, false);
		rc = vfs_node_link(fs->v, &c.cred, node,
		                   fusefs_node(fs, newparent), newname, &a);
		fusefs_cred_put(&c);
	}
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	/* The entry reply hands the kernel one more reference to the node
	 * it already knows by ino. */
	vfs_node_hold(fs->v, node, 1);
	fusefs_reply_entry(fs, req, node, &a);
}

/* unlink and rmdir: the same request shape, one core call each. */
static void fusefs_remove(fuse_req_t req, fuse_ino_t parent, const char *name,
                          bool dir)
{
	fusefs *fs = fusefs_of(req);
	fusefs_cred c;
	int rc;

	rc = fusefs_name_check(name);
	if (rc == 0) {
		fusefs_cred_get(req, &c, false);
		rc = (dir ? vfs_node_rmdir : vfs_node_unlink)(
		        fs->v, &c.cred, fusefs_node(fs, parent), name);
		fusefs_cred_put(&c);
	}
	fuse_reply_err(req, -rc);
}

static void fusefs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fusefs_remove(req, parent, name, false);
}

static void fusefs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fusefs_remove(req, parent, name, true);
}

static void fusefs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
                          fuse_ino_t newparent, const char *newname,
                          unsigned int flags)
{
	fusefs *fs = fusefs_of(req);
	fusefs_cred c;
	int rc;

	rc = fusefs_name_check(name);
	if (rc == 0)
		rc = fusefs_name_check(newname);
	if (rc == 0) {
		/* The flags pass through untouched: the core implements
		 * RENAME_NOREPLACE and RENAME_EXCHANGE and refuses any other
		 * bit with EINVAL, so none is ever silently ignored. */
		fusefs_cred_get(req, &c, false);
		rc = vfs_node_rename(fs->v, &c.cred, fusefs_node(fs, parent),
		                     name, fusefs_node(fs, newparent), newname,
		                     flags);
		fusefs_cred_put(&c);
	}
	fuse_reply_err(req, -rc);
}

static void fusefs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	fusefs *fs = fusefs_of(req);
	char buf[VFS_PATH_MAX + 1];
	int rc;

	rc = vfs_node_readlink(fs->v, fusefs_node(fs, ino), buf, VFS_PATH_MAX);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	buf[rc] = '\0';
	fuse_reply_readlink(req, buf);
}

/* ---- Files -------------------------------------------------------------- */

/* Open flags the core acts on; the kernel has already resolved the path
 * (O_NOFOLLOW, O_DIRECTORY) and O_CREAT/O_EXCL only mean something in
 * create. */
static int fusefs_open_flags(int flags)
{
	return flags & (O_ACCMODE | O_APPEND | O_TRUNC);
}

/* What an open or create reply tells the kernel about the new handle.
 * FLUSH would be a no-op (every write has reached the store, and the
 * kernel keeps POSIX locks itself), so the kernel is told to skip it: one
 * round trip less on every close. */
static void fusefs_fill_open(fusefs *fs, struct fuse_file_info *fi, int fd)
{
	fi->fh = (uint64_t)fd;
	fi->keep_cache = fs->keep_cache ? 1 : 0;
	fi->noflush = 1;
}

static void fusefs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
                          mode_t mode, struct fuse_file_info *fi)
{
	fusefs *fs = fusefs_of(req);
	struct fuse_entry_param e;
	fusefs_cred c;
	vfs_node *n = NULL;
	vfs_attr a;
	int fd;

	fd = fusefs_name_check(name);
	if (fd == 0) {
		fusefs_cred_get(req, &c,
		                fusefs_mode_needs_groups(req, (uint32_t)mode));
		fd = vfs_node_create(
		        fs->v, &c.cred, fusefs_node(fs, parent), name,
		        fusefs_open_flags(fi->flags) | (fi->flags & O_EXCL),
		        (uint32_t)mode & 07777, &n, &a);
		fusefs_cred_put(&c);
	}
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	fusefs_fill_open(fs, fi, fd);
	fusefs_entry_fill(fs, &e, n, &a);
	if (fuse_reply_create(req, &e, fi) != 0) {
		vfs_close(fs->v, fd);
		fusefs_ino_forget(fs, e.ino, 1);
	}
}

static void fusefs_open(fuse_req_t req, fuse_ino_t ino,
                        struct fuse_file_info *fi)
{
	fusefs *fs = fusefs_of(req);
	fusefs_cred c;
	int fd;

	fusefs_cred_get(req, &c, false);
	fd = vfs_node_open(fs->v, &c.cred, fusefs_node(fs, ino),
	                   fusefs_open_flags(fi->flags));
	fusefs_cred_put(&c);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	fusefs_fill_open(fs, fi, fd);
	if (fuse_reply_open(req, fi) != 0)
		vfs_close(fs->v, fd);
}

static void fusefs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                        struct fuse_file_info *fi)
{
	fusefs *fs = fusefs_of(req);
	char *buf;
	int64_t n;

	if (size > FUSEFS_IO_MAX)
		size = FUSEFS_IO_MAX;
	if (off < 0 || (int64_t)size > INT64_MAX - (int64_t)off) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	buf = malloc(size > 0 ? size : 1);
	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = vfs_pread(fs->v, (int)fi->fh, buf, size, (int64_t)off);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void fusefs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
                         size_t size, off_t off, struct fuse_file_info *fi)
{
	fusefs *fs = fusefs_of(req);
	fusefs_cred c;
	int64_t n;

	if (off < 0 || size > (size_t)INT64_MAX ||
	    (int64_t)size > INT64_MAX - (int64_t)off) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	fusefs_cred_get(req, &c, false);
	n = vfs_pwrite_as(fs->v, &c.cred, (int)fi->fh, buf, size, (int64_t)off);
	fusefs_cred_put(&c);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

/* Called at every close(2) of a descriptor; the core buffers nothing, so
 * there is nothing to push out. */
static void fusefs_flush(fuse_req_t req, fuse_ino_t ino,
                         struct fuse_file_info *fi)
{
	fuse_reply_err(req, 0);
}

static void fusefs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
                         struct fuse_file_info *fi)
{
	fusefs *fs = fusefs_of(req);
	int rc;

	if (datasync)
		rc = vfs_fdatasync(fs->v, (int)fi->fh);
	else
		rc = vfs_fsync(fs->v, (int)fi->fh);
	fuse_reply_err(req, -rc);
}

static void fusefs_release(fuse_req_t req, fuse_ino_t ino,
                           struct fuse_file_info *fi)
{
	fusefs *fs = fusefs_of(req);

	fuse_reply_err(req, -vfs_close(fs->v, (int)fi->fh));
}

/* ---- Directories -------------------------------------------------------- */

/*
 * An open directory. The kernel keeps a directory position in a signed
 * loff_t and refuses to lseek (seekdir) to a negative one, and 32-bit
 * callers cannot hold more than 31 bits; the core's cookies are opaque
 * 64-bit values with no such promise. So the kernel is given small
 * offsets instead: FUSE offset k (k >= 1) means "after the entry whose
 * core cookie is cookies[k - 1]", and 0 means the start. Re-reading a
 * stretch already seen reuses its offsets, so the table grows only with
 * entries this descriptor has met (8 bytes each).
 */
#define FUSEFS_DIR_OFFSETS_MAX ((size_t)1 << 24)

typedef struct fusefs_dir {
	int fd;               /* the vfs descriptor */
	pthread_mutex_t lock; /* serialises readdir on this descriptor */
	uint64_t *cookies;    /* protected by lock */
	size_t n, cap;        /* protected by lock */
} fusefs_dir;

static fusefs_dir *fusefs_dir_of(struct fuse_file_info *fi)
{
	return (fusefs_dir *)(uintptr_t)fi->fh;
}

static void fusefs_dir_free(fusefs *fs, fusefs_dir *d)
{
	pthread_mutex_destroy(&d->lock);
	free(d->cookies);
	free(d);
}

static void fusefs_opendir(fuse_req_t req, fuse_ino_t ino,
                           struct fuse_file_info *fi)
{
	fusefs *fs = fusefs_of(req);
	fusefs_dir *d;
	fusefs_cred c;
	int fd;

	d = calloc(1, sizeof *d);
	if (d == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fusefs_cred_get(req, &c, false);
	fd = vfs_node_open(fs->v, &c.cred, fusefs_node(fs, ino),
	                   O_RDONLY | O_DIRECTORY);
	fusefs_cred_put(&c);
	if (fd < 0) {
		free(d);
		fuse_reply_err(req, -fd);
		return;
	}
	d->fd = fd;
	pthread_mutex_init(&d->lock, NULL);
	fi->fh = (uint64_t)(uintptr_t)d;
	if (fuse_reply_open(req, fi) != 0) {
		vfs_close(fs->v, fd);
		fusefs_dir_free(fs, d);
	}
}

/* The FUSE offset for the entry with core cookie `cookie` that follows
 * FUSE offset `cur`, or 0 if the table is full. Caller holds d->lock. */
static uint64_t fusefs_dir_offset(fusefs_dir *d, uint64_t cur, uint64_t cookie)
{
	if (cur < d->n && d->cookies[cur] == cookie)
		return cur + 1;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		uint64_t *grown;

		if (cap > FUSEFS_DIR_OFFSETS_MAX)
			return 0;
		grown = realloc(d->cookies, cap * sizeof *grown);
		if (grown == NULL)
			return 0;
		d->cookies = grown;
		d->cap = cap;
	}
	d->cookies[d->n++] = cookie;
	return d->n;
}

static bool fusefs_is_dot(const vfs_dirent *d)
{
	return (d->namelen == 1 && d->name[0] == '.') ||
	       (d->namelen == 2 && d->name[0] == '.' && d->name[1] == '.');
}

/*
 * readdir and readdirplus. The kernel passes the offset of the last entry
 * it kept, so each call seeks there first: an entry that did not fit the
 * buffer last time is read again. For readdirplus every entry but "." and
 * ".." is looked up and carries one node reference to the kernel; the
 * kernel takes no reference for "." and "..", so those go out with nodeid
 * 0 (attributes only for d_ino and d_type).
 */
static void fusefs_readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size,
                                  off_t off, struct fuse_file_info *fi,
                                  bool plus)
{
	fusefs *fs = fusefs_of(req);
	fusefs_dir *dir = fusefs_dir_of(fi);
	fuse_ino_t *given = NULL;
	size_t ngiven = 0, pos = 0;
	uint64_t cur;
	fusefs_cred c;
	char *buf = NULL;
	int rc;

	if (size > FUSEFS_IO_MAX)
		size = FUSEFS_IO_MAX;
	buf = malloc(size > 0 ? size : 1);
	if (plus) /* every direntplus record is larger than 128 bytes */
		given = malloc((size / 128 + 1) * sizeof *given);
	if (buf == NULL || (plus && given == NULL)) {
		free(buf);
		free(given);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (plus)
		fusefs_cred_get(req, &c, false);
	pthread_mutex_lock(&dir->lock);
	if (off < 0 || (uint64_t)off > dir->n) {
		rc = -EINVAL; /* never an offset we gave out */
		goto out;
	}
	cur = (uint64_t)off;
	rc = vfs_dir_seek(fs->v, dir->fd, cur == 0 ? 0 : dir->cookies[cur - 1]);
	if (rc < 0)
		goto out;
	for (;;) {
		struct fuse_entry_param e;
		vfs_node *n = NULL;
		vfs_attr a;
		vfs_dirent d;
		uint64_t next;
		size_t need;

		rc = vfs_readdir(fs->v, dir->fd, &d);
		if (rc <= 0)
			break;
		if (plus)
			need = fuse_add_direntry_plus(req, NULL, 0, d.name,
			                              NULL, 0);
		else
			need = fuse_add_direntry(req, NULL, 0, d.name, NULL, 0);
		if (need > size - pos)
			break;
		next = fusefs_dir_offset(dir, cur, d.off);
		if (next == 0) {
			rc = -EOVERFLOW;
			break;
		}
		cur = next;
		memset(&e, 0, sizeof e);
		if (plus && !fusefs_is_dot(&d) &&
		    vfs_node_lookup(fs->v, &c.cred, fusefs_node(fs, ino),
		                    d.name, &n, &a) == 0) {
			fusefs_entry_fill(fs, &e, n, &a);
			given[ngiven++] = e.ino;
		} else {
			/* readdir; or "." and "..", or a name removed since
			 * it was listed: no node, just d_ino and d_type. */
			e.attr.st_ino = (ino_t)d.ino;
			e.attr.st_mode = (mode_t)d.type;
		}
		if (plus)
			fuse_add_direntry_plus(req, buf + pos, size - pos,
			                       d.name, &e, (off_t)cur);
		else
			fuse_add_direntry(req, buf + pos, size - pos, d.name,
			                  &e.attr, (off_t)cur);
		pos += need;
	}
	/* An error after some entries: return those; the next call resumes
	 * after them and meets the error again. */
	if (rc < 0 && pos > 0)
		rc = 0;
out:
	pthread_mutex_unlock(&dir->lock);
	if (plus)
		fusefs_cred_put(&c);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
	} else if (fuse_reply_buf(req, buf, pos) != 0) {
		for (size_t i = 0; i < ngiven; i++)
			fusefs_ino_forget(fs, given[i], 1);
	}
	free(given);
	free(buf);
}

static void fusefs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
                           off_t off, struct fuse_file_info *fi)
{
	fusefs_readdir_common(req, ino, size, off, fi, false);
}

static void fusefs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
                               off_t off, struct fuse_file_info *fi)
{
	fusefs_readdir_common(req, ino, size, off, fi, true);
}

static void fusefs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
                            struct fuse_file_info *fi)
{
	fusefs *fs = fusefs_of(req);
	fusefs_dir *d = fusefs_dir_of(fi);

	fuse_reply_err(req, -(datasync ? vfs_fdatasync(fs->v, d->fd)
	                               : vfs_fsync(fs->v, d->fd)));
}

static void fusefs_releasedir(fuse_req_t req, fuse_ino_t ino,
                              struct fuse_file_info *fi)
{
	fusefs *fs = fusefs_of(req);
	fusefs_dir *d = fusefs_dir_of(fi);
	int rc = vfs_close(fs->v, d->fd);

	fusefs_dir_free(fs, d);
	fuse_reply_err(req, -rc);
}

/* ---- The rest ----------------------------------------------------------- */

static void fusefs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	fusefs *fs = fusefs_of(req);
	struct statvfs sv;
	vfs_statvfs s;
	int rc;

	rc = vfs_node_statfs(fs->v, fusefs_node(fs, ino), &s);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	memset(&sv, 0, sizeof sv);
	sv.f_bsize = (unsigned long)s.bsize;
	sv.f_frsize = (unsigned long)s.bsize;
	sv.f_blocks = (fsblkcnt_t)s.blocks;
	sv.f_bfree = (fsblkcnt_t)s.bfree;
	sv.f_bavail = (fsblkcnt_t)s.bavail;
	sv.f_files = (fsfilcnt_t)s.files;
	sv.f_ffree = (fsfilcnt_t)s.ffree;
	sv.f_favail = (fsfilcnt_t)s.ffree;
	sv.f_namemax = (unsigned long)s.namemax;
	sv.f_flag = (s.flags & VFS_MOUNT_RDONLY) ? ST_RDONLY : 0;
	fuse_reply_statfs(req, &sv);
}

/*
 * With default_permissions (always on) the kernel answers access(2)
 * itself and never sends this; should it come (a future mount without
 * default_permissions), the node must exist and a read-only store refuses
 * W_OK. Mode bits are the kernel's business.
 */
static void fusefs_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	fusefs *fs = fusefs_of(req);
	vfs_node *node = fusefs_node(fs, ino);
	vfs_statvfs s;
	vfs_attr a;
	int rc;

	rc = vfs_node_getattr(fs->v, node, &a);
	if (rc == 0 && (mask & W_OK)) {
		rc = vfs_node_statfs(fs->v, node, &s);
		if (rc == 0 && (s.flags & VFS_MOUNT_RDONLY))
			rc = -EROFS;
	}
	fuse_reply_err(req, -rc);
}

/*
 * Extended attributes: the core has none yet. We answer ENOSYS, not
 * ENOTSUP: the kernel turns ENOSYS into EOPNOTSUPP (== ENOTSUP) for the
 * caller and stops asking for the rest of the mount. Otherwise every
 * write(2) would cost a round trip, because the kernel looks for
 * "security.capability" before each write to a file it cannot mark as
 * having no privileges.
 */
static void fusefs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                            const char *value, size_t size, int flags)
{
	fuse_reply_err(req, ENOSYS);
}

static void fusefs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                            size_t size)
{
	fuse_reply_err(req, ENOSYS);
}

static void fusefs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	fuse_reply_err(req, ENOSYS);
}

static void fusefs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	fuse_reply_err(req, ENOSYS);
}

/* ---- Init --------------------------------------------------------------- */

static void fusefs_init(void *userdata, struct fuse_conn_info *conn)
{
	conn->max_write = FUSEFS_IO_MAX;
	if (conn->max_readahead > FUSEFS_IO_MAX)
		conn->max_readahead = FUSEFS_IO_MAX;
	if (conn->max_background < 64)
		conn->max_background = 64;

	/*
	 * Capabilities libfuse turns on by default that we turn off, for
	 * tmpfs-exact semantics:
	 * - HANDLE_KILLPRIV: with it the kernel leaves clearing setuid and
	 *   setgid on write, truncate and chown to us, and with
	 *   ATOMIC_O_TRUNC it skips clearing them on open(O_TRUNC) entirely.
	 *   Without it the kernel sends an explicit SETATTR of the mode,
	 *   computed by its own rules (CAP_FSETID, group membership), which
	 *   we apply as told.
	 * - ATOMIC_O_TRUNC: see above; O_TRUNC then arrives as a SETATTR of
	 *   the size, one more round trip per truncating open.
	 * - WRITEBACK_CACHE is never requested: it moves O_APPEND and
	 *   setuid clearing into the kernel's page cache, away from us.
	 * - SPLICE_READ only helps a write_buf handler, which we lack.
	 */
	conn->want &=
	        ~(unsigned)(FUSE_CAP_HANDLE_KILLPRIV | FUSE_CAP_ATOMIC_O_TRUNC |
	                    FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_SPLICE_READ);
	/* The core is thread-safe: let lookups and readdirs in one directory
	 * run in parallel. Reads may be asynchronous (readahead). */
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	/* Drop cached pages when a file's mtime or size changes behind the
	 * kernel's back (a disk store edited from the host). */
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	conn->time_gran = 1;
}

/* ---- The operation table ------------------------------------------------ */

const struct fuse_lowlevel_ops fusefs_ll_ops = {
        .init = fusefs_init,
        .lookup = fusefs_lookup,
        .forget = fusefs_forget,
        .forget_multi = fusefs_forget_multi,
        .getattr = fusefs_getattr,
        .setattr = fusefs_setattr,
        .readlink = fusefs_readlink,
        .mknod = fusefs_mknod,
        .mkdir = fusefs_mkdir,
        .unlink = fusefs_unlink,
        .rmdir = fusefs_rmdir,
        .symlink = fusefs_symlink,
        .rename = fusefs_rename,
        .link = fusefs_link,
        .open = fusefs_open,
        .read = fusefs_read,
        .write = fusefs_write,
        .flush = fusefs_flush,
        .release = fusefs_release,
        .fsync = fusefs_fsync,
        .opendir = fusefs_opendir,
        .readdir = fusefs_readdir,
        .readdirplus = fusefs_readdirplus,
        .releasedir = fusefs_releasedir,
        .fsyncdir = fusefs_fsyncdir,
        .statfs = fusefs_statfs,
        .access = fusefs_access,
        .create = fusefs_create,
        .setxattr = fusefs_setxattr,
        .getxattr = fusefs_getxattr,
        .listxattr = fusefs_listxattr,
        .removexattr = fusefs_removexattr,
};
