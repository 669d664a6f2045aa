/*
 * Open handles: the descriptor table, data I/O, positions and directory
 * reading.
 *
 * A descriptor indexes v->htab. A handle is counted: the table slot holds
 * one reference and every call using it holds another, so vfs_close() in
 * one thread never frees a handle another thread is reading through. The
 * handle holds a node reference, which keeps an unlinked file alive in its
 * store until the last close, and makes unmount see it as busy.
 *
 * Directory offsets (vfs_dirent.off) encode where reading resumes: 0 and 1
 * for "." and "..", then the mount-trie phase (mount points below this
 * directory) with an index into the trie's child list, then the store's
 * own cookies. Each phase keeps its own order stable, so an entry that
 * exists throughout an iteration is returned once. The same offsets are a
 * directory descriptor's lseek() positions.
 */
#include "core_int.h"
#include "../watch/watch_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest single transfer, as Linux's MAX_RW_COUNT. */
#define RW_MAX ((size_t)0x7ffff000)

/*
 * Store cookies may use 63 bits (any non-negative host off_t), yet lseek()
 * can only report offsets below 2^63. So offsets are
 *   0, 1          before ".", before "..";
 *   2^61 + i      the mount-trie phase, after its first i children;
 *   2^62 + c      the store's cookie c, when c < 2^62;
 *   2^63 + c      the store's cookie c otherwise;
 * which keeps every offset of the memory and sqlite stores, and of a disk
 * store on tmpfs, within an off_t (ext4's hash cookies may not be). The
 * values from 2 to 2^61 name no position: reading there finds the end.
 */
#define OFF_TRIE       (UINT64_C(1) << 61)
#define OFF_STORE      (UINT64_C(1) << 62)
#define OFF_STORE_HIGH (UINT64_C(1) << 63)

static uint64_t off_of_cookie(uint64_t cookie)
{
	return cookie < OFF_STORE ? OFF_STORE | cookie
	                          : OFF_STORE_HIGH | cookie;
}

static uint64_t off_cookie(uint64_t off)
{
	return off & ~(off >= OFF_STORE_HIGH ? OFF_STORE_HIGH : OFF_STORE);
}

/* ---- the descriptor table -------------------------------------------- */

/* Marks a slot reserved by an open in progress: no call sees it. */
static struct vfs_handle handle_reserved;

/* Reserve the lowest free descriptor first, as the kernel does, so that
 * -EMFILE comes before anything is created or opened. */
static int handle_reserve(vfs *v)
{
	uint32_t i;

	pthread_mutex_lock(&v->hlock);
	for (i = v->hfree_hint; i < v->htab_size; i++)
		if (v->htab[i] == NULL)
			goto found;
	for (i = 0; i < v->hfree_hint && i < v->htab_size; i++)
		if (v->htab[i] == NULL)
			goto found;
	if (v->htab_size >= v->max_handles) {
		pthread_mutex_unlock(&v->hlock);
		return -EMFILE;
	}
	{
		uint32_t n = v->htab_size ? v->htab_size * 2 : 64;
		struct vfs_handle **t;

		if (n > v->max_handles)
			n = v->max_handles;
		t = realloc(v->htab, n * sizeof(*t));
		if (t == NULL) {
			pthread_mutex_unlock(&v->hlock);
			return -ENOMEM;
		}
		memset(t + v->htab_size, 0, (n - v->htab_size) * sizeof(*t));
		i = v->htab_size;
		v->htab = t;
		v->htab_size = n;
	}
found:
	v->htab[i] = &handle_reserved;
	v->hfree_hint = i + 1;
	pthread_mutex_unlock(&v->hlock);
	return (int)i;
}

static void handle_fill(vfs *v, int fd, struct vfs_handle *h)
{
	pthread_mutex_lock(&v->hlock);
	v->htab[fd] = h;
	pthread_mutex_unlock(&v->hlock);
}

static void handle_unreserve(vfs *v, int fd)
{
	pthread_mutex_lock(&v->hlock);
	v->htab[fd] = NULL;
	if ((uint32_t)fd < v->hfree_hint)
		v->hfree_hint = (uint32_t)fd;
	pthread_mutex_unlock(&v->hlock);
}

int vfs__handle_get(vfs *v, int fd, struct vfs_handle **out)
{
	struct vfs_handle *h = NULL;

	pthread_mutex_lock(&v->hlock);
	if (fd >= 0 && (uint32_t)fd < v->htab_size)
		h = v->htab[fd];
	if (h == &handle_reserved)
		h = NULL;
	if (h != NULL)
		atomic_fetch_add(&h->refs, 1);
	pthread_mutex_unlock(&v->hlock);
	*out = h;
	return h != NULL ? 0 : -EBADF;
}

static void handle_free(vfs *v, struct vfs_handle *h)
{
	vfs_node *n = h->node;

	if (n->mnt != NULL && (h->flags & O_ACCMODE) != O_RDONLY) {
		struct vfs_ev e = {n->mnt, h->ev_dir,          h->ev_name,
		                   n->id,  VFS_EV_CLOSE_WRITE, 0};

		vfs__watch_emit(v, &e);
	}
	if (n->mnt != NULL) {
		if (n->mnt->store->ops.release != NULL)
			n->mnt->store->ops.release(n->mnt->store->state, n->id,
			                           h->fh);
		atomic_fetch_sub(&n->mnt->nopen, 1);
	}
	vfs__node_put(v, n);
	pthread_mutex_destroy(&h->lock);
	free(h->dbuf);
	free(h->ev_name);
	free(h);
}

void vfs__handle_put(vfs *v, struct vfs_handle *h)
{
	if (atomic_fetch_sub(&h->refs, 1) == 1)
		handle_free(v, h);
}

void vfs__handles_close_all(vfs *v)
{
	for (uint32_t i = 0; i < v->htab_size; i++) {
		if (v->htab[i] != NULL && v->htab[i] != &handle_reserved)
			handle_free(v, v->htab[i]);
		v->htab[i] = NULL;
	}
	free(v->htab);
	v->htab = NULL;
	v->htab_size = 0;
}

/* ---- open ------------------------------------------------------------- */

/* A handle for an opened node, taking over the store's fh; NULL when out
 * of memory (the caller then releases fh). */
static struct vfs_handle *handle_new(struct vfs_ctx *c, vfs_node *node,
                                     void *fh, int flags, uint64_t parent_ino)
{
	struct vfs_handle *h = calloc(1, sizeof(*h));
	vfs *v = c->v;

	if (h == NULL)
		return NULL;
	h->ev_dir = c->ev_dir;
	if (c->ev_name != NULL && (h->ev_name = strdup(c->ev_name)) == NULL) {
		free(h);
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	vfs__node_hold(v, node);
	h->node = node;
	h->fh = fh;
	h->flags = flags;
	h->parent_ino = parent_ino;
	atomic_init(&h->refs, 1);
	if (node->mnt != NULL)
		atomic_fetch_add(&node->mnt->nopen, 1);
	return h;
}

static void store_release(vfs_node *node, void *fh)
{
	vfs_store *s = node->mnt != NULL ? node->mnt->store : NULL;

	if (s != NULL && s->ops.release != NULL)
		s->ops.release(s->state, node->id, fh);
}

/* May node, with attributes a, be opened with flags? */
static int open_check(struct vfs_ctx *c, vfs_node *node, const vfs_attr *a,
                      int flags)
{
	int acc = flags & O_ACCMODE, mask = 0;
	bool trunc = (flags & O_TRUNC) && S_ISREG(a->mode);

	/* Linux checks O_DIRECTORY first; O_TRUNC counts as writing. */
	if ((flags & O_DIRECTORY) && !S_ISDIR(a->mode))
		return -ENOTDIR;
	switch (a->mode & S_IFMT) {
	case S_IFDIR:
		if (acc != O_RDONLY || (flags & O_TRUNC))
			return -EISDIR;
		break;
	case S_IFREG:
		break;
	case S_IFLNK:
		return -ELOOP;
	default:
		/* FIFOs, sockets and devices exist as metadata only. */
		return -ENXIO;
	}
	if ((acc != O_RDONLY || trunc) && vfs__readonly(node))
		return -EROFS;
	if (acc != O_WRONLY)
		mask |= VFS__MAY_READ;
	if (acc != O_RDONLY || trunc)
		mask |= VFS__MAY_WRITE;
	return vfs__permission(c, a, mask);
}

int vfs__open_node(struct vfs_ctx *c, vfs_node *node, int flags,
                   uint64_t parent_ino)
{
	struct vfs_handle *h;
	vfs_store *s = node->mnt != NULL ? node->mnt->store : NULL;
	void *fh = NULL;
	vfs_attr a;
	int rc, fd;

	if ((flags & O_ACCMODE) == O_ACCMODE)
		return -EINVAL;
	fd = handle_reserve(c->v);
	if (fd < 0)
		return fd;
	rc = vfs__node_getattr(c->v, node, &a);
	if (rc == 0)
		rc = open_check(c, node, &a, flags);
	if (rc < 0)
		goto fail;
	if (s != NULL && s->ops.open != NULL) {
		rc = s->ops.open(s->state, node->id, flags & O_ACCMODE, &fh);
		if (rc < 0)
			goto fail;
	}
	if ((flags & O_TRUNC) && S_ISREG(a.mode)) {
		vfs_setattr set = {.valid = VFS_SET_SIZE | VFS_SET_MTIME_NOW |
		                            VFS__SET_FROM_FD,
		                   .size = 0};

		rc = vfs__do_setattr(c, node, &set, NULL);
		if (rc < 0)
			goto fail_release;
	}
	h = handle_new(c, node, fh, flags, parent_ino);
	if (h == NULL) {
		rc = -ENOMEM;
		goto fail_release;
	}
	handle_fill(c->v, fd, h);
	return fd;
fail_release:
	store_release(node, fh);
fail:
	handle_unreserve(c->v, fd);
	return rc;
}

int vfs__create_open(struct vfs_ctx *c, vfs_node *dir, const char *name,
                     uint32_t mode, int flags, uint64_t parent_ino,
                     vfs_node **out, vfs_attr *attr)
{
	vfs_store *s = dir->mnt != NULL ? dir->mnt->store : NULL;
	int acc = flags & O_ACCMODE;
	struct vfs_handle *h;
	vfs_node *node = NULL;
	vfs_newnode nn;
	void *fh = NULL;
	uint64_t id;
	int rc, fd;

	if (acc == O_ACCMODE)
		return -EINVAL;
	fd = handle_reserve(c->v);
	if (fd < 0)
		return fd;
	rc = vfs__mknod_prepare(c, dir, name, S_IFREG | (mode & 07777), 0, NULL,
	                        &nn);
	if (rc < 0)
		goto fail;
	if (s->ops.create != NULL) {
		/* The store creates and opens in one step: all or nothing. */
		rc = s->ops.create(s->state, dir->id, name, &nn, acc, &id, attr,
		                   &fh);
		if (rc < 0)
			goto fail;
		rc = vfs__node_get(c->v, dir->mnt, id, S_IFREG, NULL, &node);
		if (rc < 0) {
			s->ops.release(s->state, id, fh);
			goto fail;
		}
	} else {
		vfs_attr pa;
		bool have_pa = s->ops.getattr(s->state, dir->id, &pa) == 0;

		rc = s->ops.mknod(s->state, dir->id, name, &nn, &id, attr);
		if (rc == 0)
			rc = vfs__node_get(c->v, dir->mnt, id, S_IFREG, NULL,
			                   &node);
		if (rc == 0 && s->ops.open != NULL)
			rc = s->ops.open(s->state, id, acc, &fh);
		if (rc < 0 && node != NULL) {
			/* Take the new name away again, and give the directory
			 * back its times (only ctime shows it was touched). */
			s->ops.unlink(s->state, dir->id, name);
			if (have_pa) {
				vfs_setattr back = {.valid = VFS_SET_ATIME |
				                             VFS_SET_MTIME,
				                    .atime = pa.atime,
				                    .mtime = pa.mtime};

				s->ops.setattr(s->state, dir->id, &back, &pa);
			}
		}
		if (rc < 0)
			goto fail;
	}
	vfs__attr_fix(dir->mnt, attr);
	{
		struct vfs_ev e = {dir->mnt, dir->id,       name,
		                   id,       VFS_EV_CREATE, 0};

		vfs__watch_emit(c->v, &e);
	}
	c->ev_dir = dir->id;
	c->ev_name = name;
	h = handle_new(c, node, fh, flags, parent_ino);
	if (h == NULL) {
		store_release(node, fh);
		s->ops.unlink(s->state, dir->id, name);
		rc = -ENOMEM;
		goto fail;
	}
	handle_fill(c->v, fd, h);
	*out = node;
	return fd;
fail:
	vfs__node_put(c->v, node);
	handle_unreserve(c->v, fd);
	return rc;
}

/* ---- data I/O ---------------------------------------------------------- */

/* Run f with the descriptor's handle under the namespace read lock. */
#define WITH_HANDLE(v, fd, h, rc)                                              \
	struct vfs_handle *h;                                                  \
	if ((v) == NULL)                                                       \
		return -EINVAL;                                                \
	pthread_rwlock_rdlock(&(v)->mlock);                                    \
	rc = vfs__handle_get((v), (fd), &h);                                   \
	if (rc < 0) {                                                          \
		pthread_rwlock_unlock(&(v)->mlock);                            \
		return rc;                                                     \
	}

#define END_HANDLE(v, h)                                                       \
	vfs__handle_put((v), h);                                               \
	pthread_rwlock_unlock(&(v)->mlock);

static int64_t file_pread(vfs *v, struct vfs_handle *h, void *buf, size_t count,
                          int64_t off)
{
	vfs_node *n = h->node;

	/* Linux's order: the access mode, then the range (rw_verify_area),
	 * and only then the directory's own read (EISDIR). */
	if ((h->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	if ((uint64_t)count > (uint64_t)(INT64_MAX - off))
		return -EINVAL; /* offset + count overflows, as Linux says */
	if (S_ISDIR(n->type))
		return -EISDIR;
	if (count > RW_MAX)
		count = RW_MAX;
	if (off >= VFS_FILE_SIZE_MAX || count == 0)
		return 0;
	if ((uint64_t)count > (uint64_t)(VFS_FILE_SIZE_MAX - off))
		count = (size_t)(VFS_FILE_SIZE_MAX - off);
	return n->mnt->store->ops.read(n->mnt->store->state, n->id, h->fh, buf,
	                               count, off);
}

/* pread and pwrite check the offset before the descriptor, as Linux's
 * ksys_pread64() and ksys_pwrite64() do. */
VFS_EXTERN int64_t vfs_pread(vfs *v, int fd, void *buf, size_t count,
                             int64_t offset)
{
	int64_t rc;

	if (offset < 0)
		return -EINVAL;
	WITH_HANDLE(v, fd, h, rc)
	rc = file_pread(v, h, buf, count, offset);
	END_HANDLE(v, h)
	return rc;
}

VFS_EXTERN int64_t vfs_read(vfs *v, int fd, void *buf, size_t count)
{
	int64_t rc;
	WITH_HANDLE(v, fd, h, rc)
	pthread_mutex_lock(&h->lock);
	rc = file_pread(v, h, buf, count, h->pos);
	if (rc > 0)
		h->pos += rc;
	pthread_mutex_unlock(&h->lock);
	END_HANDLE(v, h)
	return rc;
}

/* Clear setuid/setgid before data changes, as the kernel does for callers
 * without CAP_FSETID (here: anyone but uid 0). */
static int file_kill_suid(struct vfs_ctx *c, vfs_node *n)
{
	vfs_attr a;
	uint32_t mode;
	int rc;

	if (c->cred->uid == 0)
		return 0;
	rc = vfs__node_getattr(c->v, n, &a);
	if (rc < 0)
		return rc;
	mode = a.mode & 07777;
	if (mode & S_ISUID)
		mode &= ~(uint32_t)S_ISUID;
	if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		mode &= ~(uint32_t)S_ISGID;
	if (mode == (a.mode & 07777))
		return 0;
	{
		vfs_setattr set = {.valid = VFS_SET_MODE, .mode = mode};
		vfs_store *s = n->mnt->store;

		return s->ops.setattr(s->state, n->id, &set, &a);
	}
}

/* off is never negative: callers refuse that before the descriptor. */
int64_t vfs__file_pwrite(struct vfs_ctx *c, struct vfs_handle *h,
                         const void *buf, size_t count, int64_t off,
                         bool use_pos)
{
	vfs_node *n = h->node;
	bool append = (h->flags & O_APPEND) != 0;
	vfs_store *s;
	int64_t rc;

	if ((h->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (S_ISDIR(n->type))
		return -EISDIR;
	if (use_pos)
		pthread_mutex_lock(&h->lock);
	if (use_pos)
		off = h->pos;
	if ((uint64_t)count > (uint64_t)(INT64_MAX - off)) {
		rc = -EINVAL; /* offset + count overflows, as Linux says */
		goto out;
	}
	if (count > RW_MAX)
		count = RW_MAX;
	if (!append) {
		/* At the size limit a write fails; across it, it is cut
		 * short there (Linux's s_maxbytes rule). */
		if (off >= VFS_FILE_SIZE_MAX) {
			rc = -EFBIG;
			goto out;
		}
		if (off + (int64_t)count > VFS_FILE_SIZE_MAX)
			count = (size_t)(VFS_FILE_SIZE_MAX - off);
	}
	rc = 0;
	if (count == 0)
		goto out;
	s = n->mnt->store;
	rc = file_kill_suid(c, n);
	if (rc < 0)
		goto out;
	rc = s->ops.write(s->state, n->id, h->fh, buf, count, &off,
	                  append ? VFS_WRITE_APPEND : 0);
	if (rc > 0 && use_pos)
		h->pos = off + rc;
	if (rc > 0) {
		struct vfs_ev e = {n->mnt, h->ev_dir,     h->ev_name,
		                   n->id,  VFS_EV_MODIFY, 0};

		vfs__watch_emit(c->v, &e);
	}
out:
	if (use_pos)
		pthread_mutex_unlock(&h->lock);
	return rc;
}

VFS_EXTERN int64_t vfs_pwrite_as(vfs *v, const vfs_cred *cred, int fd,
                                 const void *buf, size_t count, int64_t offset)
{
	struct vfs_ctx c;
	int64_t rc;

	if (cred == NULL || offset < 0)
		return -EINVAL;
	WITH_HANDLE(v, fd, h, rc)
	vfs__ctx_node(v, cred, &c);
	rc = vfs__file_pwrite(&c, h, buf, count, offset, false);
	END_HANDLE(v, h)
	return rc;
}

static int64_t file_write(vfs *v, int fd, const void *buf, size_t count,
                          int64_t offset, bool use_pos)
{
	struct vfs_ctx c;
	int64_t rc;

	if (offset < 0)
		return -EINVAL;
	WITH_HANDLE(v, fd, h, rc)
	vfs__ctx_path(v, &c);
	rc = vfs__file_pwrite(&c, h, buf, count, offset, use_pos);
	vfs__ctx_done(&c);
	END_HANDLE(v, h)
	return rc;
}

VFS_EXTERN int64_t vfs_pwrite(vfs *v, int fd, const void *buf, size_t count,
                              int64_t offset)
{
	return file_write(v, fd, buf, count, offset, false);
}

VFS_EXTERN int64_t vfs_write(vfs *v, int fd, const void *buf, size_t count)
{
	return file_write(v, fd, buf, count, 0, true);
}

/* lseek() on a directory, as tmpfs does it (offset_dir_llseek()): SEEK_SET
 * and SEEK_CUR only, to any position that is not negative, which is where
 * vfs_readdir() goes on, as after vfs_dir_seek(). A current offset of
 * 2^63 or more cannot be told: EOVERFLOW. Caller holds h->lock. */
static int64_t dir_lseek(struct vfs_handle *h, int64_t offset, int whence)
{
	int64_t pos;

	switch (whence) {
	case SEEK_SET:
		pos = offset;
		break;
	case SEEK_CUR:
		if (h->dir_off > (uint64_t)INT64_MAX)
			return -EOVERFLOW;
		pos = (int64_t)h->dir_off;
		if (offset > INT64_MAX - pos)
			return -EINVAL;
		pos += offset;
		break;
	default:
		return -EINVAL;
	}
	if (pos < 0)
		return -EINVAL;
	if ((uint64_t)pos != h->dir_off) {
		h->dir_off = (uint64_t)pos;
		h->dbuf_len = h->dbuf_pos = 0;
	}
	return pos;
}

VFS_EXTERN int64_t vfs_lseek(vfs *v, int fd, int64_t offset, int whence)
{
	int64_t rc, base = 0;
	vfs_attr a;
	WITH_HANDLE(v, fd, h, rc)
	pthread_mutex_lock(&h->lock);
	if (S_ISDIR(h->node->type)) {
		rc = dir_lseek(h, offset, whence);
		goto out;
	}
	switch (whence) {
	case SEEK_SET:
		break;
	case SEEK_CUR:
		base = h->pos;
		break;
	case SEEK_END:
	case SEEK_DATA:
	case SEEK_HOLE:
		rc = vfs__node_getattr(v, h->node, &a);
		if (rc < 0)
			goto out;
		base = a.size;
		break;
	default:
		rc = -EINVAL;
		goto out;
	}
	if (whence == SEEK_DATA || whence == SEEK_HOLE) {
		/* Holes are not reported: data runs to the end of file. */
		if (offset < 0 || offset >= base) {
			rc = -ENXIO;
			goto out;
		}
		rc = h->pos = whence == SEEK_DATA ? offset : base;
		goto out;
	}
	/* As a Linux filesystem whose s_maxbytes is VFS_FILE_SIZE_MAX:
	 * positions outside [0, max] are EINVAL, overflow included. */
	if ((offset > 0 && base > VFS_FILE_SIZE_MAX - offset) ||
	    base + offset < 0) {
		rc = -EINVAL;
		goto out;
	}
	rc = h->pos = base + offset;
out:
	pthread_mutex_unlock(&h->lock);
	END_HANDLE(v, h)
	return rc;
}

VFS_EXTERN int vfs_ftruncate(vfs *v, int fd, int64_t size)
{
	struct vfs_ctx c;
	int rc;

	if (size < 0)
		return -EINVAL;
	WITH_HANDLE(v, fd, h, rc)
	if ((h->flags & O_ACCMODE) == O_RDONLY || !S_ISREG(h->node->type)) {
		rc = -EINVAL;
	} else {
		vfs_setattr set = {.valid = VFS_SET_SIZE | VFS_SET_MTIME_NOW |
		                            VFS__SET_FROM_FD,
		                   .size = size};

		vfs__ctx_path(v, &c);
		rc = vfs__do_setattr(&c, h->node, &set, NULL);
		vfs__ctx_done(&c);
	}
	END_HANDLE(v, h)
	return rc;
}

static int file_fsync(vfs *v, int fd, int datasync)
{
	int rc;
	WITH_HANDLE(v, fd, h, rc)
	{
		vfs_node *n = h->node;

		if (n->mnt != NULL && n->mnt->store->ops.fsync != NULL)
			rc = n->mnt->store->ops.fsync(n->mnt->store->state,
			                              n->id, h->fh, datasync);
	}
	END_HANDLE(v, h)
	return rc;
}

VFS_EXTERN int vfs_fsync(vfs *v, int fd)
{
	return file_fsync(v, fd, 0);
}

VFS_EXTERN int vfs_fdatasync(vfs *v, int fd)
{
	return file_fsync(v, fd, 1);
}

VFS_EXTERN int vfs_fstat(vfs *v, int fd, vfs_attr *out)
{
	int rc;

	if (out == NULL)
		return -EFAULT;
	WITH_HANDLE(v, fd, h, rc)
	rc = vfs__node_getattr(v, h->node, out);
	END_HANDLE(v, h)
	return rc;
}

VFS_EXTERN int vfs_close(vfs *v, int fd)
{
	struct vfs_handle *h = NULL;

	if (v == NULL)
		return -EINVAL;
	pthread_rwlock_rdlock(&v->mlock);
	pthread_mutex_lock(&v->hlock);
	if (fd >= 0 && (uint32_t)fd < v->htab_size &&
	    v->htab[fd] != &handle_reserved) {
		h = v->htab[fd];
		v->htab[fd] = NULL;
		if ((uint32_t)fd < v->hfree_hint)
			v->hfree_hint = (uint32_t)fd;
	}
	pthread_mutex_unlock(&v->hlock);
	if (h != NULL)
		vfs__handle_put(v, h);
	pthread_rwlock_unlock(&v->mlock);
	return h != NULL ? 0 : -EBADF;
}

VFS_EXTERN int vfs_fd_node(vfs *v, int fd, vfs_node **out)
{
	int rc;

	if (out == NULL)
		return -EFAULT;
	WITH_HANDLE(v, fd, h, rc)
	vfs__node_hold(v, h->node);
	*out = h->node;
	END_HANDLE(v, h)
	return rc;
}

/* ---- directories ------------------------------------------------------- */

struct dir_fill {
	struct vfs_handle *h;
	const struct vfs_mount *mnt;
	const struct vfs_mtree *mt; /* skip store names shadowed by mounts */
};

static int dir_emit(struct vfs_handle *h, const char *name, size_t len,
                    uint64_t ino, uint32_t type, uint64_t off)
{
	struct vfs_direntry *e;

	if (h->dbuf_len == VFS__DIRBUF)
		return 1;
	e = &h->dbuf[h->dbuf_len++];
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->namelen = (uint32_t)len;
	e->ino = ino;
	e->type = type & S_IFMT;
	e->off = off;
	return 0;
}

static int dir_fill_store(void *ctx, const char *name, size_t len, uint64_t ino,
                          uint32_t type, uint64_t next)
{
	struct dir_fill *f = ctx;

	if (len == 0 || len > VFS_NAME_MAX || next >= OFF_STORE_HIGH)
		return 0; /* a damaged store: skip what cannot be right */
	if (f->mt != NULL && vfs__mt_child(f->mt, name, len) != NULL)
		return 0;
	return dir_emit(f->h, name, len, vfs__ino(f->mnt, ino), type,
	                off_of_cookie(next));
}

/* Refill h->dbuf from h->dir_off. Caller holds h->lock and mlock. */
static int dir_refill(vfs *v, struct vfs_handle *h)
{
	vfs_node *n = h->node;
	uint64_t off = h->dir_off;
	vfs_attr a;
	int rc;

	h->dbuf_len = h->dbuf_pos = 0;
	if (h->dbuf == NULL) {
		h->dbuf = malloc(VFS__DIRBUF * sizeof(*h->dbuf));
		if (h->dbuf == NULL)
			return -ENOMEM;
	}
	if (off < 2) {
		rc = vfs__node_getattr(v, n, &a);
		if (rc < 0)
			return rc;
		if (off == 0)
			dir_emit(h, ".", 1, a.ino, S_IFDIR, 1);
		dir_emit(h, "..", 2, h->parent_ino ? h->parent_ino : a.ino,
		         S_IFDIR, OFF_TRIE);
		off = OFF_TRIE;
	}
	if (off >= OFF_TRIE && off < OFF_STORE) {
		uint64_t i = 0, from = off - OFF_TRIE;
		const struct vfs_mtree *c = n->mt ? n->mt->child : NULL;

		for (; c != NULL; c = c->next, i++) {
			vfs_node *child;

			if (i < from || c->active == 0)
				continue;
			if (vfs__step(v, n, c->name, &child, &a) < 0)
				continue;
			vfs__node_put(v, child);
			if (dir_emit(h, c->name, c->namelen, a.ino, S_IFDIR,
			             OFF_TRIE | (i + 1)))
				return 0;
		}
		off = OFF_STORE;
	}
	if (off >= OFF_STORE && n->mnt != NULL) {
		struct dir_fill f = {.h = h, .mnt = n->mnt, .mt = n->mt};
		vfs_store *s = n->mnt->store;

		rc = s->ops.readdir(s->state, n->id, off_cookie(off),
		                    dir_fill_store, &f);
		if (rc < 0)
			return rc;
	}
	return 0;
}

VFS_EXTERN int vfs_readdir(vfs *v, int fd, vfs_dirent *out)
{
	int rc;

	if (out == NULL)
		return -EFAULT;
	WITH_HANDLE(v, fd, h, rc)
	pthread_mutex_lock(&h->lock);
	if (!S_ISDIR(h->node->type)) {
		rc = -ENOTDIR;
	} else {
		if (h->dbuf_pos == h->dbuf_len)
			rc = dir_refill(v, h);
		if (rc == 0 && h->dbuf_pos < h->dbuf_len) {
			const struct vfs_direntry *e = &h->dbuf[h->dbuf_pos++];

			out->ino = e->ino;
			out->off = e->off;
			out->type = e->type;
			out->namelen = e->namelen;
			memcpy(out->name, e->name, e->namelen + 1);
			h->dir_off = e->off;
			rc = 1;
		}
	}
	pthread_mutex_unlock(&h->lock);
	END_HANDLE(v, h)
	return rc;
}

VFS_EXTERN int vfs_dir_seek(vfs *v, int fd, uint64_t off)
{
	int rc;
	WITH_HANDLE(v, fd, h, rc)
	pthread_mutex_lock(&h->lock);
	if (!S_ISDIR(h->node->type)) {
		rc = -ENOTDIR;
	} else {
		h->dir_off = off;
		h->dbuf_len = h->dbuf_pos = 0;
	}
	pthread_mutex_unlock(&h->lock);
	END_HANDLE(v, h)
	return rc;
}
