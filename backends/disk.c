/*
 * The disk store: a host directory that the namespace can use but never
 * leave.
 *
 * This file holds, in order:
 *   1. the data structures: nodes, synthetic inode numbers, open files and
 *      the store itself;
 *   2. the node table (by id and by host identity) and the table of
 *      synthetic inode numbers;
 *   3. host helpers: one-component lookup, attributes, reopening a node
 *      for I/O, chmod without following symlinks;
 *   4. the vtable members (vfs_backend_ops, see vfs/backend.h);
 *   5. the SPEC constructor: "disk:HOSTDIR[,ro][,devices][,suid][,xdev]
 *      [,noatime]".
 *
 * Confinement. HOSTDIR is opened once (O_PATH | O_DIRECTORY). Every node
 * holds an O_PATH descriptor of its host inode, and every lookup is
 * openat(parent descriptor, one name, O_PATH | O_NOFOLLOW): the kernel
 * never follows a symlink for us and never sees a path of more than one
 * component, so a symlink (even one swapped in by another process a
 * moment ago) comes back as a symlink node that the core resolves in the
 * virtual namespace. Every mutation is an *at() call on the parent's
 * descriptor with the final name (mkdirat, mknodat, symlinkat, unlinkat,
 * renameat2, linkat); attribute changes work on the node's own
 * descriptor (fchownat and utimensat with AT_EMPTY_PATH, fchmodat2 with
 * AT_EMPTY_PATH or chmod through /proc/self/fd/N). Data I/O reopens the
 * node's descriptor through /proc/self/fd/N, a magic link bound to the
 * inode, not to a path; the result is checked with fstat to be the same
 * regular file. Directories are read through openat(descriptor, ".").
 *
 * Special files. FIFOs, sockets and device nodes found in the tree can be
 * listed and stat'ed, never opened: open() gives -ENXIO before any host
 * call (the type of an inode never changes, and the core refuses them as
 * well). Creating a character or block device gives -EPERM unless the
 * store has the `devices` option. setuid is never set on a host file, and
 * setgid never on a non-directory, unless the store has `suid`: mknod,
 * mkdir and chmod silently drop those bits. setgid on a directory only
 * makes new entries inherit its group and grants nothing, so it is kept.
 * FIFOs and sockets may be created.
 *
 * Host mount points. Another host filesystem mounted inside HOSTDIR (also
 * a bind mount of the same filesystem, detected by mount id) is not
 * crossed: it appears as an empty directory (mode 0555, two links) that
 * refuses every change with -EROFS. With `xdev` it is crossed.
 *
 * Node ids and inode numbers are one value. For an inode of HOSTDIR's
 * own filesystem it is the host st_ino, so an id stays the same for as
 * long as the inode lives, whether or not the core still references the
 * node (watches and frontends keep ids), and hard links share it. Inodes
 * of other filesystems (with `xdev`), the empty directories standing for
 * mount points, and the rare inode numbered 0 or at or above 2^47 get
 * synthetic numbers, 2^47 plus a counter, remembered for the store's
 * lifetime: ids are unique in the store and stable. A host inode number
 * may come back for a new file after the old one was deleted on the
 * host, as on any filesystem.
 *
 * Descriptors. A node keeps its descriptor while the core holds a lookup
 * on it and closes it when the count reaches zero, so the store holds as
 * many host descriptors as the core (or a FUSE kernel) references nodes,
 * plus one per open file. A walk references at most the directories of
 * one path.
 *
 * Read-only stores (",ro") never write to the host: no mutating call is
 * made, and files and directories are opened with O_NOATIME. `noatime`
 * asks for the same on a writable store.
 *
 * Limits, as with any program working in a host directory:
 *   - a hard link placed in the tree by someone who can write to it
 *     reaches its target wherever it lies (no resolver can tell); so can
 *     a directory moved out of the tree by such a person while a node
 *     for it is referenced, and a bind mount with `xdev`;
 *   - O_NOATIME needs the process to own the file or hold CAP_FOWNER;
 *     otherwise reads follow the host mount's atime policy, and readlink
 *     always does (Linux has no way to read a symlink without it);
 *   - /proc must be mounted (the store refuses to start otherwise);
 *   - durability is fsync's: unmount does not sync the host filesystem;
 *   - ownership asked by the core is applied when the process may chown
 *     (root); otherwise new files belong to the process;
 *   - chmod of a symlink gives -EOPNOTSUPP, as on Linux.
 *
 * Locking: one mutex per store guards the tables. Host calls run outside
 * it: a node's descriptor stays open while the core holds a lookup on it,
 * which it does for the whole of any call naming the node.
 */
#include "vfs/vfs_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- 1. Data structures ----------------------------------------------- */

#define DISKFS_PROC_MAGIC 0x9fa0
#define DISKFS_XINO_BASE  ((uint64_t)1 << 47)

typedef struct diskfs_node {
	struct diskfs_node *idnext;  /* chain by id */
	struct diskfs_node *keynext; /* chain by (dev, ino, barrier) */
	uint64_t id;                 /* also attr.ino */
	uint64_t nlookup;            /* protected by the store lock */
	uint64_t dev, ino;
	uint32_t type; /* S_IFMT; an inode's type never changes */
	bool barrier;  /* stands for a host mount point not crossed */
	bool foreign;  /* on another filesystem than HOSTDIR (xdev) */
	int fd;        /* O_PATH, owned */
} diskfs_node;

/* A synthetic inode number, kept for the store's lifetime. */
typedef struct diskfs_xino {
	struct diskfs_xino *next;
	uint64_t dev, ino;
	uint64_t vino;
	bool barrier;
} diskfs_xino;

/* What open() hands to the core. */
typedef struct diskfs_file {
	int fd;
	pthread_mutex_t lock; /* serialises appends to learn their offset */
} diskfs_file;

typedef struct diskfs_store {
	pthread_mutex_t lock;
	diskfs_node **ids;   /* protected by lock */
	diskfs_node **keys;  /* protected by lock */
	size_t nbuckets;     /* protected by lock; a power of two */
	size_t count;        /* protected by lock */
	diskfs_xino **xinos; /* protected by lock */
	size_t nxbuckets;    /* protected by lock; a power of two */
	size_t nxinos;       /* protected by lock */
	uint64_t next_xino;  /* protected by lock */
	diskfs_node *root;   /* fixed */
	uint64_t root_dev;   /* fixed from here on */
	uint64_t root_mnt;   /* mount id, 0 if the kernel has none */
	bool ro, noatime;    /* ro: ",ro"; noatime: ro or ",noatime" */
	bool devices, suid, xdev;
} diskfs_store;

/* ---- 2. Tables -------------------------------------------------------- */

static size_t diskfs_hash(uint64_t a, uint64_t b, size_t nb)
{
	uint64_t h = a * UINT64_C(0x9E3779B97F4A7C15) ^ b;

	h ^= h >> 31;
	h *= UINT64_C(0xBF58476D1CE4E5B9);
	h ^= h >> 29;
	return (size_t)(h & (nb - 1));
}

static diskfs_node *diskfs_id_get(diskfs_store *st, uint64_t id)
{
	diskfs_node *n = st->ids[diskfs_hash(id, 0, st->nbuckets)];

	while (n && n->id != id)
		n = n->idnext;
	return n;
}

static diskfs_node *diskfs_key_get(diskfs_store *st, uint64_t dev, uint64_t ino,
                                   bool barrier)
{
	diskfs_node *n = st->keys[diskfs_hash(dev, ino, st->nbuckets)];

	while (n && (n->dev != dev || n->ino != ino || n->barrier != barrier))
		n = n->keynext;
	return n;
}

/* Doubling is opportunistic: if it fails the chains only grow longer. */
static void diskfs_table_grow(diskfs_store *st)
{
	size_t nb = st->nbuckets * 2;
	diskfs_node **ids, **keys;

	if (st->count < st->nbuckets || nb < st->nbuckets)
		return;
	ids = calloc(nb, sizeof(*ids));
	keys = calloc(nb, sizeof(*keys));
	if (!ids || !keys) {
		free(ids);
		free(keys);
		return;
	}
	for (size_t i = 0; i < st->nbuckets; i++) {
		diskfs_node *n, *next;

		for (n = st->ids[i]; n; n = next) {
			size_t h = diskfs_hash(n->id, 0, nb);
			next = n->idnext;
			n->idnext = ids[h];
			ids[h] = n;
		}
		for (n = st->keys[i]; n; n = next) {
			size_t h = diskfs_hash(n->dev, n->ino, nb);
			next = n->keynext;
			n->keynext = keys[h];
			keys[h] = n;
		}
	}
	free(st->ids);
	free(st->keys);
	st->ids = ids;
	st->keys = keys;
	st->nbuckets = nb;
}

static void diskfs_table_insert(diskfs_store *st, diskfs_node *n)
{
	size_t h;

	diskfs_table_grow(st);
	h = diskfs_hash(n->id, 0, st->nbuckets);
	n->idnext = st->ids[h];
	st->ids[h] = n;
	h = diskfs_hash(n->dev, n->ino, st->nbuckets);
	n->keynext = st->keys[h];
	st->keys[h] = n;
	st->count++;
}

static void diskfs_table_remove(diskfs_store *st, diskfs_node *n)
{
	diskfs_node **p = &st->ids[diskfs_hash(n->id, 0, st->nbuckets)];

	while (*p && *p != n)
		p = &(*p)->idnext;
	if (*p)
		*p = n->idnext;
	p = &st->keys[diskfs_hash(n->dev, n->ino, st->nbuckets)];
	while (*p && *p != n)
		p = &(*p)->keynext;
	if (*p)
		*p = n->keynext;
	st->count--;
}

/* The synthetic inode number of (dev, ino, barrier), made on first use.
 * Caller holds the lock. */
static int diskfs_xino_get(diskfs_store *st, uint64_t dev, uint64_t ino,
                           bool barrier, uint64_t *out)
{
	diskfs_xino *x;
	size_t h;

	h = diskfs_hash(dev, ino, st->nxbuckets);
	for (x = st->xinos[h]; x; x = x->next) {
		if (x->dev == dev && x->ino == ino && x->barrier == barrier) {
			*out = x->vino;
			return 0;
		}
	}
	if (st->nxinos >= st->nxbuckets) {
		size_t nb = st->nxbuckets * 2;
		diskfs_xino **t = calloc(nb, sizeof(*t));

		if (t) {
			for (size_t i = 0; i < st->nxbuckets; i++) {
				diskfs_xino *next;
				for (x = st->xinos[i]; x; x = next) {
					size_t k =
					        diskfs_hash(x->dev, x->ino, nb);
					next = x->next;
					x->next = t[k];
					t[k] = x;
				}
			}
			free(st->xinos);
			st->xinos = t;
			st->nxbuckets = nb;
			h = diskfs_hash(dev, ino, nb);
		}
	}
	x = malloc(sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->dev = dev;
	x->ino = ino;
	x->barrier = barrier;
	x->vino = DISKFS_XINO_BASE | st->next_xino++;
	x->next = st->xinos[h];
	st->xinos[h] = x;
	st->nxinos++;
	*out = x->vino;
	return 0;
}

/* The id (and attr.ino) of a host inode: its own number on HOSTDIR's
 * filesystem, so that it stays the same for as long as the inode lives
 * whether or not the core keeps referencing it (watches and frontends
 * keep ids); a synthetic one for every other case. Caller holds the lock
 * (or is the constructor). */
static int diskfs_id_for(diskfs_store *st, uint64_t dev, uint64_t ino,
                         bool barrier, uint64_t *out)
{
	if (!barrier && dev == st->root_dev && ino != 0 &&
	    ino < DISKFS_XINO_BASE) {
		*out = ino;
		return 0;
	}
	return diskfs_xino_get(st, dev, ino, barrier, out);
}

/* The node with this id; the core holds a lookup on it for the whole of
 * the call, so the pointer and its descriptor stay valid after unlock. */
static int diskfs_get(diskfs_store *st, uint64_t id, diskfs_node **out)
{
	diskfs_node *n;

	pthread_mutex_lock(&st->lock);
	n = diskfs_id_get(st, id);
	pthread_mutex_unlock(&st->lock);
	if (!n)
		return -ESTALE;
	*out = n;
	return 0;
}

/* A directory node that may be changed: -ENOTDIR, -EROFS (read-only
 * store, or a mount point standing in as an empty directory). */
static int diskfs_get_wdir(diskfs_store *st, uint64_t id, diskfs_node **out)
{
	int rc;

	if (st->ro)
		return -EROFS;
	rc = diskfs_get(st, id, out);
	if (rc < 0)
		return rc;
	if ((*out)->type != S_IFDIR)
		return -ENOTDIR;
	if ((*out)->barrier)
		return -EROFS;
	return 0;
}

/* ---- 3. Host helpers -------------------------------------------------- */

/* The core promises one component; check again, it is cheap. */
static int diskfs_name_ok(const char *name)
{
	if (name[0] == '\0' || strchr(name, '/') ||
	    (name[0] == '.' &&
	     (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))))
		return -EINVAL;
	if (strlen(name) > VFS_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static int diskfs_statx(int fd, struct statx *sx)
{
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
	          STATX_BASIC_STATS | STATX_MNT_ID, sx) < 0)
		return -errno;
	return 0;
}

static uint64_t diskfs_sx_dev(const struct statx *sx)
{
	return makedev(sx->stx_dev_major, sx->stx_dev_minor);
}

static struct timespec diskfs_ts(struct statx_timestamp t)
{
	struct timespec ts = {.tv_sec = t.tv_sec, .tv_nsec = t.tv_nsec};
	return ts;
}

static void diskfs_fill_attr(const diskfs_node *n, const struct statx *sx,
                             vfs_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = n->id;
	a->mode = sx->stx_mode;
	a->nlink = sx->stx_nlink;
	a->uid = sx->stx_uid;
	a->gid = sx->stx_gid;
	a->rdev = makedev(sx->stx_rdev_major, sx->stx_rdev_minor);
	a->size = (int64_t)sx->stx_size;
	a->blocks = (int64_t)sx->stx_blocks;
	a->blksize = sx->stx_blksize;
	a->atime = diskfs_ts(sx->stx_atime);
	a->mtime = diskfs_ts(sx->stx_mtime);
	a->ctime = diskfs_ts(sx->stx_ctime);
	if (n->barrier) {
		/* An empty read-only directory: nothing of the other
		 * filesystem shows but its root's owner and times. */
		a->mode = S_IFDIR | 0555;
		a->nlink = 2;
		a->rdev = 0;
		a->size = 0;
		a->blocks = 0;
	}
}

/* Whether an inode lies on a mount other than HOSTDIR's. */
static bool diskfs_other_mount(const diskfs_store *st, const struct statx *sx)
{
	if (st->root_mnt != 0 && (sx->stx_mask & STATX_MNT_ID))
		return sx->stx_mnt_id != st->root_mnt;
	return diskfs_sx_dev(sx) != st->root_dev;
}

/*
 * Make fd (an O_PATH descriptor just opened, owned by this call) a node
 * with one more lookup: the existing node of the same host inode if there
 * is one (fd is then closed), else a new one. *attr receives attributes.
 */
static int diskfs_adopt(diskfs_store *st, int fd, uint64_t *out, vfs_attr *attr)
{
	struct statx sx;
	diskfs_node *n;
	uint64_t dev, vino;
	bool barrier;
	int rc;

	rc = diskfs_statx(fd, &sx);
	if (rc < 0)
		goto fail;
	dev = diskfs_sx_dev(&sx);
	barrier = !st->xdev && diskfs_other_mount(st, &sx);
	pthread_mutex_lock(&st->lock);
	n = diskfs_key_get(st, dev, sx.stx_ino, barrier);
	if (n) {
		n->nlookup++;
		*out = n->id;
		if (attr)
			diskfs_fill_attr(n, &sx, attr);
		pthread_mutex_unlock(&st->lock);
		close(fd);
		return 0;
	}
	rc = diskfs_id_for(st, dev, sx.stx_ino, barrier, &vino);
	if (rc < 0) {
		pthread_mutex_unlock(&st->lock);
		goto fail;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		pthread_mutex_unlock(&st->lock);
		rc = -ENOMEM;
		goto fail;
	}
	n->id = vino;
	n->nlookup = 1;
	n->dev = dev;
	n->ino = sx.stx_ino;
	n->type = barrier ? S_IFDIR : (uint32_t)(sx.stx_mode & S_IFMT);
	n->barrier = barrier;
	n->foreign = dev != st->root_dev;
	n->fd = fd;
	diskfs_table_insert(st, n);
	*out = n->id;
	if (attr)
		diskfs_fill_attr(n, &sx, attr);
	pthread_mutex_unlock(&st->lock);
	return 0;
fail:
	close(fd);
	return rc;
}

/* One component below a directory descriptor, never following a symlink
 * and never a path: the heart of the confinement. */
static int diskfs_open_child(int dirfd, const char *name, int extra)
{
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC | extra);

	return fd < 0 ? -errno : fd;
}

static void diskfs_proc_path(int fd, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
}

/*
 * Open node n for I/O (O_RDONLY, O_WRONLY or O_RDWR) through its own
 * descriptor. Only regular files are reopened, through the magic link of
 * the O_PATH descriptor (bound to the inode, not to any path), and the
 * result must be that same inode; directories are opened with ".".
 */
static int diskfs_reopen(diskfs_store *st, const diskfs_node *n, int flags)
{
	int extra = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	char path[48];
	struct stat sb;
	int fd = -1, rc;

	if (n->barrier)
		return -EACCES;
	if (n->type == S_IFDIR) {
		if (st->noatime)
			fd = openat(n->fd, ".",
			            O_RDONLY | O_DIRECTORY | extra | O_NOATIME);
		if (fd < 0)
			fd = openat(n->fd, ".", O_RDONLY | O_DIRECTORY | extra);
	} else if (n->type == S_IFREG) {
		diskfs_proc_path(n->fd, path, sizeof(path));
		if (st->noatime)
			fd = open(path, flags | extra | O_NOATIME);
		if (fd < 0)
			fd = open(path, flags | extra);
	} else {
		return n->type == S_IFLNK ? -ELOOP : -ENXIO;
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		rc = -errno;
		goto fail;
	}
	if ((sb.st_mode & S_IFMT) != n->type || sb.st_ino != n->ino ||
	    sb.st_dev != n->dev) {
		rc = -ESTALE;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return rc;
}

/* chmod the inode behind an O_PATH descriptor, never a symlink's target. */
static int diskfs_chmod(uint32_t type, int fd, uint32_t mode)
{
	char path[48];

	if (type == S_IFLNK)
		return -EOPNOTSUPP;
#ifdef SYS_fchmodat2
	if (syscall(SYS_fchmodat2, fd, "", (unsigned)mode, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return -errno;
#endif
	diskfs_proc_path(fd, path, sizeof(path));
	if (fchmodat(AT_FDCWD, path, mode, 0) < 0)
		return -errno;
	return 0;
}

/* Mode bits the store lets onto the host. */
static uint32_t diskfs_allowed_mode(const diskfs_store *st, uint32_t type,
                                    uint32_t mode)
{
	mode &= 07777;
	if (!st->suid) {
		mode &= ~(uint32_t)S_ISUID;
		if (type != S_IFDIR)
			mode &= ~(uint32_t)S_ISGID;
	}
	return mode;
}

/* ---- 4. Vtable members ------------------------------------------------ */

static void diskfs_destroy(void *store)
{
	diskfs_store *st = store;

	if (!st)
		return;
	for (size_t i = 0; st->ids && i < st->nbuckets; i++) {
		diskfs_node *n = st->ids[i], *next;
		for (; n; n = next) {
			next = n->idnext;
			close(n->fd);
			free(n);
		}
	}
	for (size_t i = 0; st->xinos && i < st->nxbuckets; i++) {
		diskfs_xino *x = st->xinos[i], *next;
		for (; x; x = next) {
			next = x->next;
			free(x);
		}
	}
	free(st->ids);
	free(st->keys);
	free(st->xinos);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static int diskfs_root(void *store, uint64_t *out, vfs_attr *attr)
{
	diskfs_store *st = store;
	struct statx sx;
	int rc;

	rc = diskfs_statx(st->root->fd, &sx);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&st->lock);
	st->root->nlookup++;
	pthread_mutex_unlock(&st->lock);
	*out = st->root->id;
	if (attr)
		diskfs_fill_attr(st->root, &sx, attr);
	return 0;
}

static int diskfs_lookup(void *store, uint64_t dirid, const char *name,
                         uint64_t *out, vfs_attr *attr)
{
	diskfs_store *st = store;
	diskfs_node *dir;
	int fd, rc;

	rc = diskfs_name_ok(name);
	if (rc < 0)
		return rc;
	rc = diskfs_get(st, dirid, &dir);
	if (rc < 0)
		return rc;
	if (dir->type != S_IFDIR)
		return -ENOTDIR;
	if (dir->barrier)
		return -ENOENT;
	fd = diskfs_open_child(dir->fd, name, 0);
	if (fd < 0)
		return fd;
	return diskfs_adopt(st, fd, out, attr);
}

static void diskfs_forget(void *store, uint64_t id, uint64_t nlookup)
{
	diskfs_store *st = store;
	diskfs_node *n;
	int fd = -1;

	pthread_mutex_lock(&st->lock);
	n = diskfs_id_get(st, id);
	if (n) {
		n->nlookup = nlookup < n->nlookup ? n->nlookup - nlookup : 0;
		if (n->nlookup == 0 && n != st->root) {
			diskfs_table_remove(st, n);
			fd = n->fd;
			free(n);
		}
	}
	pthread_mutex_unlock(&st->lock);
	if (fd >= 0)
		close(fd);
}

static int diskfs_getattr(void *store, uint64_t id, vfs_attr *out)
{
	diskfs_store *st = store;
	diskfs_node *n;
	struct statx sx;
	int rc;

	rc = diskfs_get(st, id, &n);
	if (rc < 0)
		return rc;
	rc = diskfs_statx(n->fd, &sx);
	if (rc < 0)
		return rc;
	diskfs_fill_attr(n, &sx, out);
	return 0;
}

static int diskfs_truncate(diskfs_store *st, const diskfs_node *n, int64_t size)
{
	char path[64];

	/* truncate(2) through the magic link: the inode the node holds,
	 * and no open/close of the file (which inotify would report as a
	 * CLOSE_WRITE no other store shows). The core only truncates
	 * regular files. */
	(void)st;
	if (n->type != S_IFREG)
		return -EINVAL;
	diskfs_proc_path(n->fd, path, sizeof(path));
	return truncate(path, size) < 0 ? -errno : 0;
}

static int diskfs_utimes(int fd, const struct timespec *atime,
                         const struct timespec *mtime)
{
	struct timespec ts[2];

	ts[0] = atime ? *atime : (struct timespec){.tv_nsec = UTIME_OMIT};
	ts[1] = mtime ? *mtime : (struct timespec){.tv_nsec = UTIME_OMIT};
	if (utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

/*
 * Changes are applied in the order owner, mode, times, size: every step
 * but the last can be undone from the attributes read first, and the
 * size (which may drop data) only changes once the others succeeded.
 */
static int diskfs_setattr(void *store, uint64_t id, const vfs_setattr *set,
                          vfs_attr *out)
{
	diskfs_store *st = store;
	uint32_t valid = set->valid;
	struct statx old;
	diskfs_node *n;
	bool owner = false, moded = false, timed = false;
	int rc;

	if (st->ro)
		return -EROFS;
	rc = diskfs_get(st, id, &n);
	if (rc < 0)
		return rc;
	if (n->barrier)
		return -EROFS;
	if (valid & VFS_SET_SIZE) {
		if (n->type == S_IFDIR)
			return -EISDIR;
		if (n->type != S_IFREG || set->size < 0)
			return -EINVAL;
		if (set->size > VFS_FILE_SIZE_MAX)
			return -EFBIG;
	}
	if ((valid & VFS_SET_MODE) && n->type == S_IFLNK)
		return -EOPNOTSUPP;
	rc = diskfs_statx(n->fd, &old);
	if (rc < 0)
		return rc;

	if (valid & (VFS_SET_UID | VFS_SET_GID) ||
	    !(valid &
	      (VFS_SET_MODE | VFS_SET_SIZE | VFS_SET_ATIME | VFS_SET_MTIME |
	       VFS_SET_ATIME_NOW | VFS_SET_MTIME_NOW))) {
		/* chown(-1, -1) with nothing else still updates ctime. */
		uid_t uid = (valid & VFS_SET_UID) ? set->uid : (uid_t)-1;
		gid_t gid = (valid & VFS_SET_GID) ? set->gid : (gid_t)-1;

		if (fchownat(n->fd, "", uid, gid,
		             AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
			rc = -errno;
			goto undo;
		}
		owner = true;
	}
	if (valid & VFS_SET_MODE) {
		rc = diskfs_chmod(n->type, n->fd,
		                  diskfs_allowed_mode(st, n->type, set->mode));
		if (rc < 0)
			goto undo;
		moded = true;
	}
	if (valid & (VFS_SET_ATIME | VFS_SET_MTIME | VFS_SET_ATIME_NOW |
	             VFS_SET_MTIME_NOW)) {
		struct timespec now = {.tv_nsec = UTIME_NOW};
		const struct timespec *at = NULL, *mt = NULL;

		if (valid & VFS_SET_ATIME_NOW)
			at = &now;
		else if (valid & VFS_SET_ATIME)
			at = &set->atime;
		if (valid & VFS_SET_MTIME_NOW)
			mt = &now;
		else if (valid & VFS_SET_MTIME)
			mt = &set->mtime;
		rc = diskfs_utimes(n->fd, at, mt);
		if (rc < 0)
			goto undo;
		timed = true;
	}
	if (valid & VFS_SET_SIZE) {
		rc = diskfs_truncate(st, n, set->size);
		if (rc < 0)
			goto undo;
	}
	if (out)
		rc = diskfs_getattr(st, id, out);
	return rc;

undo:
	/* Best effort: put back what was changed before the failure. */
	if (timed) {
		struct timespec at = diskfs_ts(old.stx_atime);
		struct timespec mt = diskfs_ts(old.stx_mtime);
		diskfs_utimes(n->fd, &at, &mt);
	}
	if (moded)
		diskfs_chmod(n->type, n->fd, old.stx_mode & 07777);
	if (owner) {
		if (fchownat(n->fd, "", old.stx_uid, old.stx_gid,
		             AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 &&
		    n->type != S_IFLNK)
			diskfs_chmod(n->type, n->fd, old.stx_mode & 07777);
	}
	return rc;
}

/* Remove name from dir if it still names the inode behind fd. */
static void diskfs_undo_create(int dirfd, const char *name, int fd,
                               uint32_t type)
{
	struct stat a, b;

	if (fstat(fd, &a) == 0 &&
	    fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		unlinkat(dirfd, name, type == S_IFDIR ? AT_REMOVEDIR : 0);
}

/* Create the host object; returns its O_PATH descriptor. */
static int diskfs_create(diskfs_store *st, int dirfd, const char *name,
                         const vfs_newnode *nn, uint32_t type, uint32_t mode)
{
	char *target = NULL;
	char path[48];
	int fd, pfd, rc;

	switch (type) {
	case S_IFREG:
		fd = openat(dirfd, name,
		            O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		                    O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		            (mode_t)(mode & 0777));
		if (fd < 0)
			return -errno;
		/* Keep an O_PATH descriptor like every other node. */
		diskfs_proc_path(fd, path, sizeof(path));
		pfd = open(path, O_PATH | O_CLOEXEC);
		rc = pfd < 0 ? -errno : pfd;
		if (pfd < 0)
			diskfs_undo_create(dirfd, name, fd, type);
		close(fd);
		return rc;
	case S_IFDIR:
		if (mkdirat(dirfd, name, (mode_t)(mode & 0777)) < 0)
			return -errno;
		break;
	case S_IFLNK:
		if (!nn->target || nn->target_len == 0 ||
		    nn->target_len >= VFS_PATH_MAX ||
		    memchr(nn->target, '\0', nn->target_len))
			return -EINVAL;
		target = malloc(nn->target_len + 1);
		if (!target)
			return -ENOMEM;
		memcpy(target, nn->target, nn->target_len);
		target[nn->target_len] = '\0';
		rc = symlinkat(target, dirfd, name);
		free(target);
		if (rc < 0)
			return -errno;
		break;
	default:
		if (mknodat(dirfd, name, (mode_t)(type | (mode & 0777)),
		            (dev_t)nn->rdev) < 0)
			return -errno;
		break;
	}
	/* Another process may have replaced the name meanwhile: whatever
	 * we get is inside the tree, and the caller checks its type. */
	fd = diskfs_open_child(dirfd, name, 0);
	return fd == -ENOTDIR ? -ENOENT : fd;
}

static int diskfs_mknod(void *store, uint64_t dirid, const char *name,
                        const vfs_newnode *nn, uint64_t *out, vfs_attr *attr)
{
	diskfs_store *st = store;
	uint32_t type = nn->mode & S_IFMT;
	uint32_t mode;
	diskfs_node *dir;
	struct statx sx;
	int fd = -1, rc;

	switch (type) {
	case S_IFCHR:
	case S_IFBLK:
		if (!st->devices)
			return -EPERM;
		break;
	case S_IFREG:
	case S_IFDIR:
	case S_IFLNK:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	default:
		return -EINVAL;
	}
	rc = diskfs_name_ok(name);
	if (rc < 0)
		return rc;
	rc = diskfs_get_wdir(st, dirid, &dir);
	if (rc < 0)
		return rc;
	mode = diskfs_allowed_mode(st, type, nn->mode);
	/* Only a regular file is created and opened in one step. Another
	 * type can be removed or replaced by another thread or process
	 * between its creation and our open: then we create it again, so
	 * that our call takes effect at the last creation. */
	for (int tries = 0;; tries++) {
		fd = diskfs_create(st, dir->fd, name, nn, type, mode);
		if (fd == -ENOENT && type != S_IFREG && tries < 8)
			continue;
		if (fd < 0)
			return fd;
		rc = diskfs_statx(fd, &sx);
		if (rc < 0)
			goto undo;
		if ((sx.stx_mode & S_IFMT) == type)
			break;
		close(fd);
		if (tries == 8)
			return -EEXIST;
	}
	if (nn->uid != sx.stx_uid || nn->gid != sx.stx_gid) {
		/* Without the right to chown, the file stays the process's. */
		if (fchownat(fd, "", nn->uid, nn->gid,
		             AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno != EPERM) {
			rc = -errno;
			goto undo;
		}
		rc = diskfs_statx(fd, &sx);
		if (rc < 0)
			goto undo;
	}
	/* The process umask, default ACLs or a chown may have changed the
	 * bits: set exactly what the core decided. */
	if (type != S_IFLNK && (sx.stx_mode & 07777) != mode) {
		rc = diskfs_chmod(type, fd, mode);
		if (rc < 0)
			goto undo;
	}
	return diskfs_adopt(st, fd, out, attr);
undo:
	diskfs_undo_create(dir->fd, name, fd, type);
	close(fd);
	return rc;
}

static int diskfs_link(void *store, uint64_t id, uint64_t dirid,
                       const char *name, vfs_attr *attr)
{
	diskfs_store *st = store;
	diskfs_node *n, *dir;
	char path[48];
	int rc;

	rc = diskfs_name_ok(name);
	if (rc < 0)
		return rc;
	rc = diskfs_get_wdir(st, dirid, &dir);
	if (rc < 0)
		return rc;
	rc = diskfs_get(st, id, &n);
	if (rc < 0)
		return rc;
	if (n->type == S_IFDIR)
		return -EPERM;
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the magic link does
	 * not, and links the inode itself, even a symlink. */
	if (linkat(n->fd, "", dir->fd, name, AT_EMPTY_PATH) < 0) {
		if (errno != ENOENT && errno != EPERM)
			return -errno;
		diskfs_proc_path(n->fd, path, sizeof(path));
		if (linkat(AT_FDCWD, path, dir->fd, name, AT_SYMLINK_FOLLOW) <
		    0)
			return -errno;
	}
	if (attr)
		return diskfs_getattr(st, id, attr);
	return 0;
}

/* unlink and rmdir: unlinkat() with flags, relative to the directory. */
static int diskfs_remove(void *store, uint64_t dirid, const char *name,
                         int flags)
{
	diskfs_store *st = store;
	diskfs_node *dir;
	int rc;

	rc = diskfs_name_ok(name);
	if (rc < 0)
		return rc;
	rc = diskfs_get_wdir(st, dirid, &dir);
	if (rc < 0)
		return rc;
	if (unlinkat(dir->fd, name, flags) < 0)
		return -errno;
	return 0;
}

static int diskfs_unlink(void *store, uint64_t dirid, const char *name)
{
	return diskfs_remove(store, dirid, name, 0);
}

static int diskfs_rmdir(void *store, uint64_t dirid, const char *name)
{
	return diskfs_remove(store, dirid, name, AT_REMOVEDIR);
}

static int diskfs_rename(void *store, uint64_t olddirid, const char *oldname,
                         uint64_t newdirid, const char *newname, unsigned flags)
{
	diskfs_store *st = store;
	diskfs_node *od, *nd;
	int rc;

	if ((flags & ~(VFS_RENAME_NOREPLACE | VFS_RENAME_EXCHANGE)) ||
	    flags == (VFS_RENAME_NOREPLACE | VFS_RENAME_EXCHANGE))
		return -EINVAL;
	rc = diskfs_name_ok(oldname);
	if (rc == 0)
		rc = diskfs_name_ok(newname);
	if (rc < 0)
		return rc;
	rc = diskfs_get_wdir(st, olddirid, &od);
	if (rc == 0)
		rc = diskfs_get_wdir(st, newdirid, &nd);
	if (rc < 0)
		return rc;
	/* The flag values are Linux's own; the kernel gives renameat2's
	 * semantics, including "same inode: nothing happens". */
	if (renameat2(od->fd, oldname, nd->fd, newname, flags) < 0)
		return -errno;
	return 0;
}

static int diskfs_readlink(void *store, uint64_t id, char *buf, size_t size)
{
	diskfs_store *st = store;
	char target[VFS_PATH_MAX];
	diskfs_node *n;
	ssize_t len;
	int rc;

	rc = diskfs_get(st, id, &n);
	if (rc < 0)
		return rc;
	if (n->type != S_IFLNK)
		return -EINVAL;
	len = readlinkat(n->fd, "", target, sizeof(target));
	if (len < 0)
		return -errno;
	if ((size_t)len >= sizeof(target))
		return -ENAMETOOLONG;
	memcpy(buf, target, (size_t)len < size ? (size_t)len : size);
	return (int)len;
}

static uint32_t diskfs_dtype(unsigned char d_type)
{
	switch (d_type) {
	case DT_REG:
		return S_IFREG;
	case DT_DIR:
		return S_IFDIR;
	case DT_LNK:
		return S_IFLNK;
	case DT_FIFO:
		return S_IFIFO;
	case DT_SOCK:
		return S_IFSOCK;
	case DT_CHR:
		return S_IFCHR;
	case DT_BLK:
		return S_IFBLK;
	default:
		return 0;
	}
}

/*
 * The host's directory offsets are the cookies: ext4 and tmpfs keep them
 * stable across opens and under concurrent change, so resuming after one
 * returns each remaining entry once. The store keeps no state between
 * calls; each call opens the directory afresh.
 */
static int diskfs_readdir(void *store, uint64_t dirid, uint64_t cookie,
                          vfs_fill_fn fill, void *ctx)
{
	diskfs_store *st = store;
	union {
		struct dirent64 d;
		char bytes[8192];
	} buf;
	diskfs_node *dir;
	int dfd, rc;

	rc = diskfs_get(st, dirid, &dir);
	if (rc < 0)
		return rc;
	if (dir->type != S_IFDIR)
		return -ENOTDIR;
	if (dir->barrier)
		return 0;
	if (cookie >= (uint64_t)1 << 63)
		return -EINVAL;
	dfd = diskfs_reopen(st, dir, O_RDONLY);
	if (dfd < 0)
		return dfd;
	if (cookie != 0 && lseek(dfd, (off_t)cookie, SEEK_SET) < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		ssize_t got = getdents64(dfd, buf.bytes, sizeof(buf.bytes));
		size_t pos = 0;

		if (got < 0) {
			rc = -errno;
			goto out;
		}
		if (got == 0)
			break;
		while (pos < (size_t)got) {
			struct dirent64 *d =
			        (struct dirent64 *)(buf.bytes + pos);
			const char *nm = d->d_name;
			size_t len = strlen(nm);
			uint32_t type = diskfs_dtype(d->d_type);
			uint64_t ino = d->d_ino;

			pos += d->d_reclen;
			if (nm[0] == '.' &&
			    (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
				continue;
			if (d->d_off <= 0) {
				rc = -EOVERFLOW; /* no cookie to resume at */
				goto out;
			}
			if (type == 0) {
				struct stat sb;
				if (fstatat(dfd, nm, &sb, AT_SYMLINK_NOFOLLOW) <
				    0)
					continue; /* gone meanwhile */
				type = sb.st_mode & S_IFMT;
			}
			if (dir->foreign || ino == 0 ||
			    ino >= DISKFS_XINO_BASE) {
				pthread_mutex_lock(&st->lock);
				rc = diskfs_id_for(st, dir->dev, ino, false,
				                   &ino);
				pthread_mutex_unlock(&st->lock);
				if (rc < 0)
					goto out;
			}
			if (fill(ctx, nm, len, ino, type, (uint64_t)d->d_off))
				goto out;
		}
	}
out:
	close(dfd);
	return rc;
}

static int diskfs_open(void *store, uint64_t id, int flags, void **fh)
{
	diskfs_store *st = store;
	diskfs_file *f;
	diskfs_node *n;
	int fd, rc;

	*fh = NULL;
	rc = diskfs_get(st, id, &n);
	if (rc < 0)
		return rc;
	if (n->type == S_IFDIR)
		return 0; /* readdir opens the directory itself */
	if (n->type == S_IFLNK)
		return -ELOOP;
	if (n->type != S_IFREG)
		return -ENXIO; /* FIFOs, sockets and devices: never opened */
	if (st->ro && (flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	f = malloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	fd = diskfs_reopen(st, n, flags & O_ACCMODE);
	if (fd < 0) {
		free(f);
		return fd;
	}
	f->fd = fd;
	pthread_mutex_init(&f->lock, NULL);
	*fh = f;
	return 0;
}

static void diskfs_release(void *store, uint64_t id, void *fh)
{
	diskfs_file *f = fh;

	if (!f)
		return;
	close(f->fd);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* The descriptor to do I/O with: the open file's, or a temporary one. */
static int diskfs_io_fd(diskfs_store *st, uint64_t id, void *fh, int flags,
                        bool *temp)
{
	diskfs_node *n;
	int rc;

	*temp = false;
	if (fh)
		return ((diskfs_file *)fh)->fd;
	rc = diskfs_get(st, id, &n);
	if (rc < 0)
		return rc;
	if (n->type == S_IFDIR)
		return -EISDIR;
	if (n->type != S_IFREG)
		return -EINVAL;
	*temp = true;
	return diskfs_reopen(st, n, flags);
}

static int64_t diskfs_read(void *store, uint64_t id, void *fh, void *buf,
                           size_t size, int64_t off)
{
	diskfs_store *st = store;
	size_t done = 0;
	bool temp;
	int64_t rc = 0;
	int fd;

	if (off < 0)
		return -EINVAL;
	fd = diskfs_io_fd(st, id, fh, O_RDONLY, &temp);
	if (fd < 0)
		return fd;
	while (done < size) {
		ssize_t got = pread(fd, (char *)buf + done, size - done,
		                    (off_t)(off + (int64_t)done));
		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (got == 0)
			break;
		done += (size_t)got;
	}
	if (temp)
		close(fd);
	return done > 0 ? (int64_t)done : rc;
}

/* pwrite all of buf; on failure after a partial write, cut the file back
 * to old_size so that the write leaves no trace beyond the old end. */
static int64_t diskfs_write_all(int fd, const char *buf, size_t size,
                                int64_t off, bool append, int64_t old_size,
                                int64_t *landed)
{
	size_t done = 0;

	while (done < size) {
		struct iovec iov = {.iov_base = (void *)(buf + done),
		                    .iov_len = size - done};
		ssize_t put;

		if (append && done == 0)
			put = pwritev2(fd, &iov, 1, -1, RWF_APPEND);
		else
			put = pwrite(fd, iov.iov_base, iov.iov_len,
			             (off_t)(off + (int64_t)done));
		if (put < 0) {
			int err = errno;
			if (err == EINTR)
				continue;
			/* Take back what the partial write appended (data
			 * it overwrote inside the file cannot come back). */
			if (done > 0 && off + (int64_t)done > old_size)
				(void)!ftruncate(fd, old_size);
			return -err;
		}
		if (append && done == 0) {
			off_t end = lseek(fd, 0, SEEK_CUR);
			if (end < 0)
				return -errno;
			off = (int64_t)end - (int64_t)put;
			*landed = off;
		}
		done += (size_t)put;
	}
	return (int64_t)size;
}

static int64_t diskfs_write(void *store, uint64_t id, void *fh, const void *buf,
                            size_t size, int64_t *off, unsigned flags)
{
	diskfs_store *st = store;
	diskfs_file *f = fh;
	bool append = flags & VFS_WRITE_APPEND;
	struct stat sb;
	int64_t rc, landed = *off;
	bool temp;
	int fd;

	if (st->ro)
		return -EROFS;
	fd = diskfs_io_fd(st, id, fh, O_WRONLY, &temp);
	if (fd < 0)
		return fd;
	if (f && append)
		pthread_mutex_lock(&f->lock);
	if (fstat(fd, &sb) < 0) {
		rc = -errno;
		goto out;
	}
	if (!append && *off < 0) {
		rc = -EINVAL;
		goto out;
	}
	if (size == 0) {
		if (append)
			*off = (int64_t)sb.st_size;
		rc = 0;
		goto out;
	}
	/* The core cuts other writes at VFS_FILE_SIZE_MAX; an append is
	 * cut here, as Linux cuts one crossing s_maxbytes, from the end of
	 * file seen just before (another process may still move it). */
	if (append) {
		if ((int64_t)sb.st_size >= VFS_FILE_SIZE_MAX) {
			rc = -EFBIG;
			goto out;
		}
		if (size > (uint64_t)(VFS_FILE_SIZE_MAX - (int64_t)sb.st_size))
			size = (size_t)(VFS_FILE_SIZE_MAX -
			                (int64_t)sb.st_size);
	}
	rc = diskfs_write_all(fd, buf, size, *off, append, (int64_t)sb.st_size,
	                      &landed);
	if (rc >= 0)
		*off = landed;
out:
	if (f && append)
		pthread_mutex_unlock(&f->lock);
	if (temp)
		close(fd);
	return rc;
}

static int diskfs_fsync(void *store, uint64_t id, void *fh, int datasync)
{
	diskfs_store *st = store;
	bool temp;
	int fd, rc = 0;

	if (!fh) {
		diskfs_node *n;
		rc = diskfs_get(st, id, &n);
		if (rc < 0)
			return rc;
		if (n->type != S_IFDIR)
			return 0;
		/* A directory: make its entries durable. */
		fd = diskfs_reopen(st, n, O_RDONLY);
		temp = true;
	} else {
		fd = diskfs_io_fd(st, id, fh, O_RDONLY, &temp);
	}
	if (fd < 0)
		return fd;
	if ((datasync ? fdatasync(fd) : fsync(fd)) < 0)
		rc = -errno;
	if (temp)
		close(fd);
	return rc;
}

static int diskfs_statfs(void *store, vfs_statvfs *out)
{
	diskfs_store *st = store;
	struct statfs sf;

	if (fstatfs(st->root->fd, &sf) < 0)
		return -errno;
	memset(out, 0, sizeof(*out));
	out->bsize = (uint64_t)(sf.f_frsize ? sf.f_frsize : sf.f_bsize);
	out->blocks = sf.f_blocks;
	out->bfree = sf.f_bfree;
	out->bavail = sf.f_bavail;
	out->files = sf.f_files;
	out->ffree = sf.f_ffree;
	out->namemax = sf.f_namelen > 0 && sf.f_namelen < VFS_NAME_MAX
	                       ? (uint64_t)sf.f_namelen
	                       : VFS_NAME_MAX;
	return 0;
}

/* For the core's inotify bridge: a descriptor of the node's inode, which
 * inotify then watches without following any symlink. */
static int diskfs_host_fd(void *store, uint64_t id)
{
	diskfs_node *n;
	int fd, rc = diskfs_get(store, id, &n);

	if (rc < 0)
		return rc;
	if (n->barrier)
		return -EXDEV; /* stands for a host mount point not crossed */
	fd = fcntl(n->fd, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

static const vfs_backend_ops diskfs_ops = {
        .version = VFS_BACKEND_VERSION,
        .size = sizeof(vfs_backend_ops),
        .name = "disk",
        .destroy = diskfs_destroy,
        .root = diskfs_root,
        .lookup = diskfs_lookup,
        .forget = diskfs_forget,
        .getattr = diskfs_getattr,
        .setattr = diskfs_setattr,
        .mknod = diskfs_mknod,
        .link = diskfs_link,
        .unlink = diskfs_unlink,
        .rmdir = diskfs_rmdir,
        .rename = diskfs_rename,
        .readlink = diskfs_readlink,
        .readdir = diskfs_readdir,
        .open = diskfs_open,
        .release = diskfs_release,
        .read = diskfs_read,
        .write = diskfs_write,
        .fsync = diskfs_fsync,
        .statfs = diskfs_statfs,
        .host_fd = diskfs_host_fd,
};

/* ---- 5. The SPEC constructor ------------------------------------------ */

static int diskfs_options(diskfs_store *st, const vfs__kv *kv, size_t nkv,
                          char *err, size_t errlen)
{
	for (size_t i = 0; i < nkv; i++) {
		bool *flag;

		if (strcmp(kv[i].key, "devices") == 0)
			flag = &st->devices;
		else if (strcmp(kv[i].key, "suid") == 0)
			flag = &st->suid;
		else if (strcmp(kv[i].key, "xdev") == 0)
			flag = &st->xdev;
		else if (strcmp(kv[i].key, "noatime") == 0)
			flag = &st->noatime;
		else
			return vfs__err(err, errlen, -EINVAL,
			                "disk: unknown option \"%s\"",
			                kv[i].key);
		if (kv[i].val[0] != '\0')
			return vfs__err(err, errlen, -EINVAL,
			                "disk: option %s takes no value",
			                kv[i].key);
		*flag = true;
	}
	return 0;
}

int vfs__disk_open(vfs_store **out, const char *arg, const vfs__kv *kv,
                   size_t nkv, unsigned mount_flags, char *err, size_t errlen)
{
	diskfs_store *st;
	struct statfs sf;
	struct statx sx;
	diskfs_node *root = NULL;
	int fd = -1, rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!arg || arg[0] == '\0')
		return vfs__err(err, errlen, -EINVAL,
		                "disk: no host directory (use disk:HOSTDIR)");
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	pthread_mutex_init(&st->lock, NULL);
	rc = diskfs_options(st, kv, nkv, err, errlen);
	if (rc < 0)
		goto fail;
	st->ro = (mount_flags & VFS_MOUNT_RDONLY) != 0;
	st->noatime = st->noatime || st->ro;

	/* Data I/O reopens descriptors through /proc/self/fd: it must be
	 * the real procfs, not whatever happens to be at that path. */
	if (statfs("/proc/self/fd", &sf) < 0 ||
	    sf.f_type != DISKFS_PROC_MAGIC) {
		rc = vfs__err(err, errlen, -EOPNOTSUPP,
		              "disk: /proc is not mounted (the disk store "
		              "reopens files through /proc/self/fd)");
		goto fail;
	}
	fd = open(arg, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		vfs__err(err, errlen, rc, "disk: cannot open directory %s: %s",
		         arg, vfs_strerror(rc));
		goto fail;
	}
	rc = diskfs_statx(fd, &sx);
	if (rc < 0) {
		vfs__err(err, errlen, rc, "disk: cannot stat %s: %s", arg,
		         vfs_strerror(rc));
		goto fail;
	}
	st->root_dev = diskfs_sx_dev(&sx);
	st->root_mnt = (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0;

	rc = -ENOMEM;
	st->nbuckets = 64;
	st->nxbuckets = 16;
	st->ids = calloc(st->nbuckets, sizeof(*st->ids));
	st->keys = calloc(st->nbuckets, sizeof(*st->keys));
	st->xinos = calloc(st->nxbuckets, sizeof(*st->xinos));
	root = calloc(1, sizeof(*root));
	if (!st->ids || !st->keys || !st->xinos || !root)
		goto fail;
	rc = diskfs_id_for(st, st->root_dev, sx.stx_ino, false, &root->id);
	if (rc < 0)
		goto fail;
	root->dev = st->root_dev;
	root->ino = sx.stx_ino;
	root->type = S_IFDIR;
	root->fd = fd;
	fd = -1;
	st->root = root;
	diskfs_table_insert(st, root);
	root = NULL;

	rc = vfs_store_new(out, &diskfs_ops, st, mount_flags);
	if (rc < 0) {
		vfs__err(err, errlen, rc, "disk: cannot create store: %s",
		         vfs_strerror(rc));
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(root);
	diskfs_destroy(st);
	return rc;
}
