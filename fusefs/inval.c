/*
 * fusefs/inval.c: keep the kernel's caches honest about host changes.
 *
 * A disk store can change under the mount: another process writes in
 * HOSTDIR directly. The kernel would go on serving cached entries and
 * attributes until their timeouts ran out. Here a watcher follows each
 * disk store recursively (the library reports host changes from inotify)
 * and, for every event, tells the kernel to drop what it caches:
 *
 *   - delete, moved-from, moved-to: the entry (parent, name), which
 *     also drops the parent's attributes; create too, when absent names
 *     are cached (negative_timeout above 0; vfsmount makes it 0 for disk
 *     stores unless told otherwise);
 *   - modify, attrib: the inode's attributes and pages. (Close-write
 *     adds nothing to modify: every descriptor that closes after a
 *     change has sent one; creating an empty file sends only
 *     close-write, and the kernel already knows its attributes.)
 *
 * Nodes the kernel does not know are skipped by the kernel itself
 * (-ENOENT), so resolving a node only to learn its nodeid is harmless:
 * a node's nodeid is its address for as long as it is referenced, and
 * the reference we hold while notifying keeps it valid.
 *
 * Events from the mount's own requests arrive too; invalidating what the
 * kernel has just learnt costs one more lookup or getattr, and the events
 * of one read batch are coalesced, so a burst of writes to one file costs
 * one notification.
 *
 * Watching is best effort: a tree with more directories than the
 * watcher may follow is not watched (a message says so) and the
 * timeouts cover it. The watches are in place before the mount appears, so
 * no change made after it is missed; the thread that notifies starts once
 * the session is mounted.
 */
#include "fusefs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INVAL_MASK                                                             \
	(VFS_EV_CREATE | VFS_EV_DELETE | VFS_EV_MOVED_FROM | VFS_EV_MOVED_TO | \
	 VFS_EV_MODIFY | VFS_EV_ATTRIB)
#define INVAL_ENTRY_MASK                                                       \
	(VFS_EV_CREATE | VFS_EV_DELETE | VFS_EV_MOVED_FROM | VFS_EV_MOVED_TO)
#define INVAL_BUF_SIZE (64 * 1024)
#define INVAL_BATCH    256 /* distinct changes coalesced per batch */

struct fusefs_inval {
	fusefs *fs;
	struct fuse_session *se;
	vfs_watcher *w;
	char **paths; /* VPATHs to watch; index = position in wds */
	int *wds;
	size_t npaths;
	int stop[2]; /* a pipe: writing to it ends the thread */
	pthread_t thread;
	bool started;
	atomic_bool stopping;
};

/* One notification to send, coalesced per batch. */
typedef struct inval_item {
	char *path; /* absolute virtual path */
	bool entry; /* the entry changed (else only the inode) */
} inval_item;

static const vfs_cred inval_root_cred = {.uid = 0, .gid = 0};

/* Drop the kernel's entry for path, or its inode's cached data. */
static void inval_send(fusefs_inval *iv, const inval_item *it)
{
	vfs *v = iv->fs->v;
	vfs_node *n = NULL;
	char *slash;

	if (it->entry) {
		slash = strrchr(it->path, '/');
		if (slash == NULL || slash[1] == '\0')
			return;
		*slash = '\0';
		if (vfs_node_resolve(v, &inval_root_cred,
		                     slash == it->path ? "/" : it->path, 0,
		                     &n) == 0) {
			fuse_lowlevel_notify_inval_entry(
			        iv->se, fusefs_ino_of(iv->fs, n), slash + 1,
			        strlen(slash + 1));
			vfs_node_put(v, n, 1);
		}
		*slash = '/';
		return;
	}
	if (vfs_node_resolve(v, &inval_root_cred, it->path, VFS_NOFOLLOW, &n) ==
	    0) {
		fuse_lowlevel_notify_inval_inode(
		        iv->se, fusefs_ino_of(iv->fs, n), 0, 0);
		vfs_node_put(v, n, 1);
	}
}

/* Queue path for this batch unless it is there already. */
static void inval_queue(inval_item *items, size_t *n, const char *base,
                        const char *name, bool entry)
{
	size_t blen = strlen(base);
	char *p;

	p = malloc(blen + strlen(name) + 2);
	if (p == NULL)
		return;
	sprintf(p, "%s%s%s", base,
	        (blen > 0 && base[blen - 1] == '/') ? "" : "/", name);
	for (size_t i = 0; i < *n; i++) {
		if (items[i].entry == entry && strcmp(items[i].path, p) == 0) {
			free(p);
			return;
		}
	}
	items[*n].path = p;
	items[*n].entry = entry;
	(*n)++;
}

static const char *inval_base(const fusefs_inval *iv, int wd)
{
	for (size_t i = 0; i < iv->npaths; i++)
		if (iv->wds[i] == wd)
			return iv->paths[i];
	return NULL;
}

/* Notify the batch's changes and empty it. */
static void inval_flush(fusefs_inval *iv, inval_item *items, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		if (!atomic_load(&iv->stopping))
			inval_send(iv, &items[i]);
		free(items[i].path);
	}
	*n = 0;
}

/* Read every pending record, then notify once per distinct change (a
 * full batch is sent as it fills). */
static void inval_drain(fusefs_inval *iv, char *buf, inval_item *items)
{
	int64_t got;
	size_t n = 0;

	while ((got = vfs_watcher_read(iv->w, buf, INVAL_BUF_SIZE)) > 0) {
		for (int64_t off = 0; off < got;) {
			const vfs_event *e = (const vfs_event *)(buf + off);
			const char *base = inval_base(iv, e->wd);

			off += (int64_t)(sizeof *e + e->len);
			if (base == NULL || e->len == 0 ||
			    !(e->mask & INVAL_MASK))
				continue;
			/* A new name needs dropping only where the kernel
			 * may cache its absence. */
			if ((e->mask & VFS_EV_CREATE) &&
			    iv->fs->negative_timeout == 0)
				continue;
			if (n == INVAL_BATCH)
				inval_flush(iv, items, &n);
			inval_queue(items, &n, base, e->name,
			            (e->mask & INVAL_ENTRY_MASK) != 0);
		}
	}
	inval_flush(iv, items, &n);
}

static void *inval_main(void *arg)
{
	fusefs_inval *iv = arg;
	char *buf = malloc(INVAL_BUF_SIZE);
	inval_item *items = calloc(INVAL_BATCH, sizeof *items);
	struct pollfd pfd[2];

	if (buf == NULL || items == NULL)
		goto out;
	pfd[0].fd = vfs_watcher_fd(iv->w);
	pfd[0].events = POLLIN;
	pfd[1].fd = iv->stop[0];
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents != 0)
			break;
		if (pfd[0].revents != 0)
			inval_drain(iv, buf, items);
	}
out:
	free(items);
	free(buf);
	return NULL;
}

void fusefs_inval_stop(fusefs_inval *iv)
{
	char c = 0;

	if (iv == NULL || atomic_exchange(&iv->stopping, true))
		return;
	if (iv->stop[1] >= 0 && write(iv->stop[1], &c, 1) != 1) {
		/* a pipe with room never fails here */
	}
}

void fusefs_inval_free(fusefs_inval *iv)
{
	if (iv == NULL)
		return;
	fusefs_inval_stop(iv);
	if (iv->started)
		pthread_join(iv->thread, NULL);
	vfs_watcher_free(iv->w);
	if (iv->stop[0] >= 0) {
		close(iv->stop[0]);
		close(iv->stop[1]);
	}
	for (size_t i = 0; i < iv->npaths; i++)
		free(iv->paths[i]);
	free(iv->paths);
	free(iv->wds);
	free(iv);
}

int fusefs_inval_new(fusefs *fs, const char *const *paths, size_t npaths,
                     fusefs_inval **out)
{
	fusefs_inval *iv = calloc(1, sizeof *iv);
	int rc = -ENOMEM;

	*out = NULL;
	if (iv == NULL)
		return -ENOMEM;
	iv->fs = fs;
	iv->stop[0] = iv->stop[1] = -1;
	iv->paths = calloc(npaths, sizeof *iv->paths);
	iv->wds = calloc(npaths, sizeof *iv->wds);
	if (iv->paths == NULL || iv->wds == NULL)
		goto fail;
	for (; iv->npaths < npaths; iv->npaths++) {
		iv->paths[iv->npaths] = strdup(paths[iv->npaths]);
		if (iv->paths[iv->npaths] == NULL)
			goto fail;
		iv->wds[iv->npaths] = -1;
	}
	rc = vfs_watcher_new(fs->v, &iv->w, NULL);
	if (rc < 0)
		goto fail;
	if (pipe2(iv->stop, O_CLOEXEC) < 0) {
		rc = -errno;
		iv->stop[0] = iv->stop[1] = -1;
		goto fail;
	}
	for (size_t i = 0; i < iv->npaths; i++) {
		iv->wds[i] = vfs_watch_add(iv->w, iv->paths[i], INVAL_MASK,
		                           VFS_WATCH_RECURSIVE);
		if (iv->wds[i] < 0)
			fprintf(stderr,
			        "vfsmount: watching %s for host changes: %s; "
			        "the cache timeouts apply\n",
			        iv->paths[i], vfs_strerror(iv->wds[i]));
	}
	*out = iv;
	return 0;
fail:
	fusefs_inval_free(iv);
	return rc;
}

int fusefs_inval_run(fusefs_inval *iv, struct fuse_session *se)
{
	int rc;

	iv->se = se;
	rc = -pthread_create(&iv->thread, NULL, inval_main, iv);
	if (rc == 0)
		iv->started = true;
	return rc;
}
