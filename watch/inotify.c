/*
 * The inotify bridge: change events for stores backed by a host directory.
 *
 * A store with host_fd() (the disk store) gets its events from the
 * kernel, which also sees changes made by other processes directly on the
 * host. Each node a watch covers (a watched node, and every directory in a
 * recursive watch's map) gets one inotify watch, added through
 * /proc/self/fd/N of an O_PATH descriptor the store opened safely: that
 * magic link leads to the inode the descriptor holds, not to a path, so a
 * watch never follows a symlink planted in the host tree. (IN_DONT_FOLLOW
 * would stop at the magic link itself.)
 *
 * A watched directory is pinned: the bridge holds its node, so that the
 * names inotify reports can be looked up in it and new subdirectories
 * scanned. A pinned directory keeps its host inode referenced, and the
 * kernel sends IN_DELETE_SELF only when the last reference goes, so the
 * bridge reports a pinned directory's removal itself: when a directory
 * entry of that mount is deleted or moved away, pinned directories whose
 * link count fell to zero are reported gone. Files are not pinned, and
 * the kernel reports their removal as it does for any watcher. The
 * bridge holds a node reference for each (counted apart, so a watched
 * mount can still be unmounted), and counts users so two watches on one
 * directory share an inotify watch.
 *
 * One inotify instance per vfs instance, created on first use, read by
 * one thread. The thread holds the namespace read lock while it turns a
 * batch of kernel records into vfs events, so a mount cannot go away
 * under it; IN_Q_OVERFLOW becomes VFS_EV_OVERFLOW for every watcher.
 * The records lost may be those that kept recursive maps and pinned
 * directories right, so the maps are then rescanned and pinned directories
 * without a link reported gone.
 *
 * Contents: the table of inotify watches, watch/unwatch, the thread.
 */
#include "watch_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define IW_BUCKETS 512
#define IW_MASK                                                                \
	(IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM |              \
	 IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)

struct iw {
	struct iw *next;
	int wd;
	bool dead;   /* the kernel dropped it (IN_IGNORED) */
	bool reaped; /* reported gone by iw_reap */
	uint32_t users;
	struct vfs_mount *mnt;
	uint64_t id;
	vfs_node *node; /* one reference for a directory, else NULL */
};

struct vfs_inotify {
	vfs *v;
	int fd;
	int stopfd;
	pthread_t thread;
	bool running;
	pthread_mutex_t read_lock; /* one reader at a time, in order */
	pthread_mutex_t lock;
	struct iw *by_wd[IW_BUCKETS]; /* protected by lock */
};

static struct iw **iw_slot(struct vfs_inotify *in, int wd)
{
	return &in->by_wd[(unsigned)wd % IW_BUCKETS];
}

static struct iw *iw_by_wd(struct vfs_inotify *in, int wd)
{
	for (struct iw *e = *iw_slot(in, wd); e != NULL; e = e->next)
		if (e->wd == wd)
			return e;
	return NULL;
}

static struct iw *iw_by_node(struct vfs_inotify *in, struct vfs_mount *mnt,
                             uint64_t id)
{
	for (size_t i = 0; i < IW_BUCKETS; i++)
		for (struct iw *e = in->by_wd[i]; e != NULL; e = e->next)
			if (e->mnt == mnt && e->id == id)
				return e;
	return NULL;
}

static void iw_unlink(struct vfs_inotify *in, struct iw *e)
{
	struct iw **pp = iw_slot(in, e->wd);

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
}

/* ---- the thread -------------------------------------------------------- */

static uint32_t iw_translate(uint32_t m)
{
	static const struct {
		uint32_t in, ev;
	} map[] = {
	        {IN_MODIFY, VFS_EV_MODIFY},
	        {IN_ATTRIB, VFS_EV_ATTRIB},
	        {IN_CLOSE_WRITE, VFS_EV_CLOSE_WRITE},
	        {IN_MOVED_FROM, VFS_EV_MOVED_FROM},
	        {IN_MOVED_TO, VFS_EV_MOVED_TO},
	        {IN_CREATE, VFS_EV_CREATE},
	        {IN_DELETE, VFS_EV_DELETE},
	        {IN_DELETE_SELF, VFS_EV_DELETE_SELF},
	        {IN_MOVE_SELF, VFS_EV_MOVE_SELF},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (m & map[i].in)
			return map[i].ev;
	return 0;
}

/* Report pinned directories of mnt (of every mount: NULL) that have no
 * link left. */
static void iw_reap(struct vfs_inotify *in, struct vfs_mount *mnt)
{
	for (;;) {
		struct vfs_mount *gone_mnt = NULL;
		uint64_t gone = VFS__NOID;

		pthread_mutex_lock(&in->lock);
		for (size_t i = 0; i < IW_BUCKETS && gone == VFS__NOID; i++) {
			for (struct iw *e = in->by_wd[i]; e != NULL;
			     e = e->next) {
				vfs_store *s = e->mnt->store;
				vfs_attr a;

				if ((mnt != NULL && e->mnt != mnt) ||
				    e->node == NULL || e->reaped)
					continue;
				if (s->ops.getattr(s->state, e->id, &a) == 0 &&
				    a.nlink == 0) {
					e->reaped = true;
					gone_mnt = e->mnt;
					gone = e->id;
					break;
				}
			}
		}
		pthread_mutex_unlock(&in->lock);
		if (gone == VFS__NOID)
			return;
		vfs__watch_deliver_gone(in->v, gone_mnt, gone);
	}
}

static void iw_dispatch(struct vfs_inotify *in, const struct inotify_event *ie)
{
	vfs *v = in->v;
	struct vfs_ev e = {.dir = VFS__NOID, .node = VFS__NOID};
	struct iw *w;
	uint32_t kind;

	if (ie->mask & IN_Q_OVERFLOW) {
		/* Lost records may include removals of pinned directories. */
		vfs__watch_overflow(v);
		iw_reap(in, NULL);
		return;
	}
	pthread_mutex_lock(&in->lock);
	w = iw_by_wd(in, ie->wd);
	if (w != NULL && (ie->mask & IN_IGNORED))
		w->dead = true;
	if (w != NULL) {
		e.mnt = w->mnt;
		e.node = w->id;
	}
	pthread_mutex_unlock(&in->lock);
	kind = iw_translate(ie->mask);
	if (w == NULL || kind == 0)
		return;
	e.mask = kind | ((ie->mask & IN_ISDIR) ? VFS_EV_ISDIR : 0);
	e.cookie = ie->cookie;
	if (ie->len > 0 && ie->name[0] != '\0') {
		vfs_store *s = e.mnt->store;
		uint64_t child;
		vfs_attr a;

		if (memchr(ie->name, '/', strnlen(ie->name, ie->len)) != NULL)
			return;
		e.dir = e.node;
		e.name = ie->name;
		e.node = VFS__NOID;
		/* Name the child for those events that still have one. */
		if (!(kind & (VFS_EV_DELETE | VFS_EV_MOVED_FROM)) &&
		    s->ops.lookup(s->state, e.dir, ie->name, &child, &a) == 0) {
			e.node = child;
			vfs__watch_deliver(v, &e);
			s->ops.forget(s->state, child, 1);
			return;
		}
		vfs__watch_deliver(v, &e);
		if ((kind & (VFS_EV_DELETE | VFS_EV_MOVED_FROM)) &&
		    (e.mask & VFS_EV_ISDIR))
			iw_reap(in, e.mnt);
		return;
	}
	if (kind == VFS_EV_DELETE_SELF)
		vfs__watch_deliver_gone(v, e.mnt, e.node);
	else
		vfs__watch_deliver(v, &e);
}

/* Read and dispatch whatever the kernel has queued. Caller holds mlock
 * for reading. */
static void iw_drain(struct vfs_inotify *in)
{
	_Alignas(struct inotify_event) char buf[16 * 1024];
	ssize_t n;

	pthread_mutex_lock(&in->read_lock);
	while ((n = read(in->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0;
		     off + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *ie =
			        (const void *)(buf + off);

			iw_dispatch(in, ie);
			off += (ssize_t)sizeof(*ie) + ie->len;
		}
	}
	pthread_mutex_unlock(&in->read_lock);
}

static void *iw_thread(void *arg)
{
	struct vfs_inotify *in = arg;

	for (;;) {
		struct pollfd p[2] = {{in->fd, POLLIN, 0},
		                      {in->stopfd, POLLIN, 0}};

		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			break;
		pthread_rwlock_rdlock(&in->v->mlock);
		iw_drain(in);
		pthread_rwlock_unlock(&in->v->mlock);
	}
	return NULL;
}

/*
 * v->inotify is set once, under wlock, while threads changing a store may
 * already look at it without that lock (vfs__inotify_sync): it is
 * published with release and read with acquire, so whoever sees the
 * pointer sees the structure complete.
 */
static struct vfs_inotify *iw_get(vfs *v)
{
	return __atomic_load_n(&v->inotify, __ATOMIC_ACQUIRE);
}

void vfs__inotify_sync(vfs *v)
{
	struct vfs_inotify *in = iw_get(v);

	/* The kernel queues the records of a system call before it
	 * returns; reading them here, in the thread that made the change,
	 * keeps events in the order of the operations, and a directory
	 * just made is watched before the next operation runs in it. */
	if (in != NULL)
		iw_drain(in);
}

/* ---- watch and unwatch ------------------------------------------------- */

static int iw_start(vfs *v)
{
	struct vfs_inotify *in;

	if (v->inotify != NULL)
		return 0;
	in = calloc(1, sizeof(*in));
	if (in == NULL)
		return -ENOMEM;
	in->v = v;
	in->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	in->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (in->fd < 0 || in->stopfd < 0) {
		int rc = -errno;

		if (in->fd >= 0)
			close(in->fd);
		if (in->stopfd >= 0)
			close(in->stopfd);
		free(in);
		return rc;
	}
	pthread_mutex_init(&in->lock, NULL);
	pthread_mutex_init(&in->read_lock, NULL);
	if (pthread_create(&in->thread, NULL, iw_thread, in) != 0) {
		close(in->fd);
		close(in->stopfd);
		pthread_mutex_destroy(&in->lock);
		pthread_mutex_destroy(&in->read_lock);
		free(in);
		return -EAGAIN;
	}
	in->running = true;
	__atomic_store_n(&v->inotify, in, __ATOMIC_RELEASE);
	return 0;
}

int vfs__inotify_watch(vfs *v, vfs_node *node)
{
	struct vfs_mount *mnt = node->mnt;
	struct vfs_inotify *in;
	char path[64];
	struct iw *e;
	int rc, fd, wd;

	rc = iw_start(v);
	if (rc < 0)
		return rc;
	in = v->inotify;
	pthread_mutex_lock(&in->lock);
	e = iw_by_node(in, mnt, node->id);
	if (e != NULL) {
		e->users++;
		pthread_mutex_unlock(&in->lock);
		return 0;
	}
	pthread_mutex_unlock(&in->lock);
	fd = mnt->store->ops.host_fd(mnt->store->state, node->id);
	if (fd < 0)
		return fd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	wd = inotify_add_watch(
	        in->fd, path, IW_MASK | (S_ISDIR(node->type) ? IN_ONLYDIR : 0));
	rc = wd < 0 ? -errno : 0;
	close(fd);
	if (rc < 0)
		return rc;
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		inotify_rm_watch(in->fd, wd);
		return -ENOMEM;
	}
	e->wd = wd;
	e->users = 1;
	e->mnt = mnt;
	e->id = node->id;
	if (S_ISDIR(node->type)) {
		e->node = node;
		vfs__node_hold(v, node);
		atomic_fetch_add(&mnt->watch_refs, 1);
	}
	pthread_mutex_lock(&in->lock);
	e->next = *iw_slot(in, wd);
	*iw_slot(in, wd) = e;
	pthread_mutex_unlock(&in->lock);
	return 0;
}

void vfs__inotify_unwatch(vfs *v, struct vfs_mount *mnt, uint64_t id)
{
	struct vfs_inotify *in = v->inotify;
	struct iw *e;

	if (in == NULL)
		return;
	pthread_mutex_lock(&in->lock);
	e = iw_by_node(in, mnt, id);
	if (e == NULL || --e->users > 0) {
		pthread_mutex_unlock(&in->lock);
		return;
	}
	iw_unlink(in, e);
	if (!e->dead)
		inotify_rm_watch(in->fd, e->wd);
	pthread_mutex_unlock(&in->lock);
	if (e->node != NULL) {
		atomic_fetch_sub(&mnt->watch_refs, 1);
		vfs__node_put(v, e->node);
	}
	free(e);
}

void vfs__inotify_stop(vfs *v)
{
	struct vfs_inotify *in = v->inotify;
	uint64_t one = 1;

	if (in == NULL || !in->running)
		return;
	if (write(in->stopfd, &one, sizeof(one)) == sizeof(one))
		pthread_join(in->thread, NULL);
	in->running = false;
}

void vfs__inotify_free(vfs *v)
{
	struct vfs_inotify *in = v->inotify;

	if (in == NULL)
		return;
	vfs__inotify_stop(v);
	for (size_t i = 0; i < IW_BUCKETS; i++) {
		struct iw *e = in->by_wd[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	close(in->fd);
	close(in->stopfd);
	pthread_mutex_destroy(&in->lock);
	pthread_mutex_destroy(&in->read_lock);
	free(in);
	v->inotify = NULL;
}
