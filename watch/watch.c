/*
 * Watchers: event queues, watches and delivery.
 *
 * The core reports each mutation it performs (vfs__watch_emit and
 * friends, called after the store succeeded); this file matches it
 * against every watcher's watches and queues inotify-shaped records.
 *
 * A watch is keyed by (mount, store id) of the node it was added on, never
 * by path, so renames do not break it. A recursive watch also keeps a map
 * from each directory below it (same mount; mount points are not
 * crossed) to that directory's path relative to the watch; the map is
 * filled by scanning when the watch is added or a directory is created or
 * moved in, rewritten when a directory moves inside the tree, and pruned
 * when one is removed or moved out. A directory created under a recursive
 * watch is scanned at once and every entry found is reported as created,
 * so nothing made in it before the map knew it is lost. Maps follow every
 * event, queued or not, so a full queue does not leave them behind; when
 * the kernel drops records of a host-backed store, they are rescanned.
 *
 * Queues are bounded: at the limit one VFS_EV_OVERFLOW record is queued
 * and later events are dropped until the reader catches up. Identical
 * consecutive records are merged while unread, as inotify does. The
 * watcher's eventfd is readable exactly while records are queued. Adding
 * or removing a watch, and unmounting, first read what the kernel holds,
 * so the records of earlier changes go to the watches of that time.
 *
 * Contents: records and queue, recursive maps, delivery, the public API.
 */
#include "watch_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAX_EVENTS  16384
#define DEFAULT_MAX_WATCHES 8192

struct wrec {
	struct wrec *next;
	uint32_t size;                    /* sizeof(vfs_event) + len */
	_Alignas(8) unsigned char data[]; /* a vfs_event, then the name */
};

#define REC(r) ((vfs_event *)(void *)(r)->data)

struct wentry {
	uint64_t id; /* VFS__NOID: empty slot */
	char *rel;   /* path below the watch, "" for its root */
	bool hw;     /* has an inotify watch (host-backed stores) */
	bool seen;   /* found by the latest map_resync() */
};

struct watch {
	struct watch *next;
	int wd;
	uint32_t mask;
	unsigned flags;
	struct vfs_mount *mnt;
	uint64_t id;
	bool isdir;
	bool hw;            /* the node has an inotify watch (not via map) */
	struct wentry *map; /* recursive watches: directories below */
	size_t map_size, map_count;
	char *move_from; /* host-backed: a directory's MOVED_FROM, until the
	                    next record (see move_settle) */
	uint32_t move_cookie;
};

struct vfs_watcher {
	vfs *v;
	struct vfs_watcher *next; /* protected by v->wlock */
	int efd;
	uint32_t max_events, max_watches;
	pthread_mutex_t lock;
	/* All below protected by lock. */
	struct wrec *head, *tail;
	struct wrec *ovf; /* the overflow record while not queued */
	uint32_t count;
	bool overflowed;
	struct watch *watches;
	uint32_t nentries; /* watches plus map entries, against max_watches */
	int next_wd;
};

/* ---- records ----------------------------------------------------------- */

static void queue_push(struct vfs_watcher *w, int wd, uint32_t mask,
                       uint32_t cookie, const char *name);

/* Events are about to be lost: queue the one overflow record (if it is not
 * queued already), so that the consumer knows to rescan. Nothing is ever
 * dropped without it. Caller holds w->lock. */
static void queue_lost(struct vfs_watcher *w)
{
	if (!w->overflowed) {
		w->overflowed = true;
		queue_push(w, -1, VFS_EV_OVERFLOW, 0, NULL);
	}
}

static void queue_push(struct vfs_watcher *w, int wd, uint32_t mask,
                       uint32_t cookie, const char *name)
{
	size_t nlen = name != NULL ? strlen(name) : 0;
	uint32_t len = nlen ? (uint32_t)((nlen + 1 + 7) & ~(size_t)7) : 0;
	struct wrec *r;

	if (nlen >= VFS_PATH_MAX) {
		queue_lost(w); /* cannot be named within the limits */
		return;
	}
	if (w->tail != NULL && !(mask & VFS_EV_OVERFLOW) &&
	    REC(w->tail)->wd == wd && REC(w->tail)->mask == mask &&
	    REC(w->tail)->cookie == cookie &&
	    (REC(w->tail)->len == 0 ? nlen == 0
	                            : strcmp(REC(w->tail)->name,
	                                     name != NULL ? name : "") == 0))
		return; /* merged with the identical unread record */
	if (mask & VFS_EV_OVERFLOW) {
		/* Preallocated, so that even out of memory it is queued. */
		r = w->ovf;
		w->ovf = NULL;
		if (r == NULL)
			return;
		goto link;
	}
	if (w->count >= w->max_events) {
		queue_lost(w);
		return;
	}
	r = calloc(1, sizeof(*r) + sizeof(vfs_event) + len);
	if (r == NULL) {
		queue_lost(w); /* out of memory is an overflow too */
		return;
	}
	REC(r)->wd = wd;
	REC(r)->mask = mask;
	REC(r)->cookie = cookie;
	REC(r)->len = len;
	if (nlen)
		memcpy(REC(r)->name, name, nlen);
	r->size = (uint32_t)sizeof(vfs_event) + len;
link:
	r->next = NULL;
	if (w->tail != NULL) {
		w->tail->next = r;
	} else {
		uint64_t one = 1;

		w->head = r;
		if (write(w->efd, &one, sizeof(one)) < 0) {
			/* The counter cannot overflow with one write per empty
			 * to non-empty transition. */
		}
	}
	w->tail = r;
	w->count++;
}

/* ---- recursive maps ---------------------------------------------------- */

static size_t map_slot(const struct watch *wt, uint64_t id)
{
	uint64_t h = id * UINT64_C(0x9E3779B97F4A7C15);

	return (size_t)(h >> 17) & (wt->map_size - 1);
}

static struct wentry *map_find(const struct watch *wt, uint64_t id)
{
	if (wt->map_size == 0)
		return NULL;
	for (size_t i = map_slot(wt, id);; i = (i + 1) & (wt->map_size - 1)) {
		if (wt->map[i].id == id)
			return &wt->map[i];
		if (wt->map[i].id == VFS__NOID)
			return NULL;
	}
}

static int map_grow(struct watch *wt)
{
	size_t nsize = wt->map_size ? wt->map_size * 2 : 64;
	struct wentry *old = wt->map, *map;
	size_t osize = wt->map_size;

	map = malloc(nsize * sizeof(*map));
	if (map == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < nsize; i++)
		map[i].id = VFS__NOID;
	wt->map = map;
	wt->map_size = nsize;
	for (size_t i = 0; i < osize; i++) {
		if (old[i].id != VFS__NOID) {
			size_t j = map_slot(wt, old[i].id);

			while (map[j].id != VFS__NOID)
				j = (j + 1) & (nsize - 1);
			map[j] = old[i];
		}
	}
	free(old);
	return 0;
}

static int map_add(struct vfs_watcher *w, struct watch *wt, uint64_t id,
                   const char *rel)
{
	struct wentry *e = map_find(wt, id);
	char *copy;
	size_t i;

	if (e != NULL) {
		copy = strdup(rel);
		if (copy == NULL)
			return -ENOMEM;
		free(e->rel);
		e->rel = copy;
		e->seen = true;
		return 0;
	}
	if (w->nentries >= w->max_watches)
		return -ENOSPC;
	if ((wt->map_count + 1) * 2 > wt->map_size && map_grow(wt) < 0)
		return -ENOMEM;
	copy = strdup(rel);
	if (copy == NULL)
		return -ENOMEM;
	for (i = map_slot(wt, id); wt->map[i].id != VFS__NOID;
	     i = (i + 1) & (wt->map_size - 1))
		;
	wt->map[i].id = id;
	wt->map[i].rel = copy;
	wt->map[i].hw = false;
	wt->map[i].seen = true;
	wt->map_count++;
	w->nentries++;
	return 1;
}

/* Remove one entry, re-placing the ones after it in its probe run. */
static void map_del_at(struct vfs_watcher *w, struct watch *wt, size_t i)
{
	size_t mask = wt->map_size - 1;

	if (wt->map[i].hw)
		vfs__inotify_unwatch(w->v, wt->mnt, wt->map[i].id);
	free(wt->map[i].rel);
	wt->map[i].id = VFS__NOID;
	wt->map_count--;
	w->nentries--;
	for (size_t j = (i + 1) & mask; wt->map[j].id != VFS__NOID;
	     j = (j + 1) & mask) {
		struct wentry e = wt->map[j];
		size_t k;

		wt->map[j].id = VFS__NOID;
		for (k = map_slot(wt, e.id); wt->map[k].id != VFS__NOID;
		     k = (k + 1) & mask)
			;
		wt->map[k] = e;
	}
}

static bool rel_under(const char *rel, const char *prefix, size_t plen)
{
	return strncmp(rel, prefix, plen) == 0 &&
	       (rel[plen] == '\0' || rel[plen] == '/');
}

/* Drop every entry for which drop(entry, arg) holds. */
static void map_drop_if(struct vfs_watcher *w, struct watch *wt,
                        bool (*drop)(const struct wentry *, const void *),
                        const void *arg)
{
	bool again = true;

	while (again) {
		again = false;
		for (size_t i = 0; i < wt->map_size; i++) {
			if (wt->map[i].id != VFS__NOID &&
			    drop(&wt->map[i], arg)) {
				map_del_at(w, wt, i);
				again = true; /* entries may have shifted */
				break;
			}
		}
	}
}

static bool map_is_below(const struct wentry *e, const void *rel)
{
	return rel_under(e->rel, rel, strlen(rel));
}

/* Drop the directory at rel and everything below it. */
static void map_prune(struct vfs_watcher *w, struct watch *wt, const char *rel)
{
	char *prefix = strdup(rel);

	if (prefix == NULL)
		return;
	map_drop_if(w, wt, map_is_below, prefix);
	free(prefix);
}

/* Rename the directory at from (and everything below) to to. */
static void map_move(struct watch *wt, const char *from, const char *to)
{
	size_t flen = strlen(from), tlen = strlen(to);

	for (size_t i = 0; i < wt->map_size; i++) {
		struct wentry *e = &wt->map[i];
		size_t rest;
		char *n;

		if (e->id == VFS__NOID || !rel_under(e->rel, from, flen))
			continue;
		rest = strlen(e->rel + flen);
		n = malloc(tlen + rest + 1);
		if (n == NULL)
			continue;
		memcpy(n, to, tlen);
		memcpy(n + tlen, e->rel + flen, rest + 1);
		free(e->rel);
		e->rel = n;
	}
}

static char *rel_join(const char *rel, const char *name)
{
	size_t rl = strlen(rel), nl = strlen(name);
	char *p = malloc(rl + nl + 2);

	if (p == NULL)
		return NULL;
	if (rl == 0) {
		memcpy(p, name, nl + 1);
	} else {
		memcpy(p, rel, rl);
		p[rl] = '/';
		memcpy(p + rl + 1, name, nl + 1);
	}
	return p;
}

struct scan_list {
	char **names;
	uint32_t *types;
	size_t n, cap;
};

static int scan_fill(void *ctx, const char *name, size_t namelen, uint64_t ino,
                     uint32_t type, uint64_t next)
{
	struct scan_list *l = ctx;
	char *copy;

	if (namelen == 0 || namelen > VFS_NAME_MAX ||
	    memchr(name, '/', namelen) || memchr(name, '\0', namelen))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		char **names = realloc(l->names, cap * sizeof(*names));
		uint32_t *types;

		if (names == NULL)
			return 1;
		l->names = names;
		types = realloc(l->types, cap * sizeof(*types));
		if (types == NULL)
			return 1;
		l->types = types;
		l->cap = cap;
	}
	copy = malloc(namelen + 1);
	if (copy == NULL)
		return 1;
	memcpy(copy, name, namelen);
	copy[namelen] = '\0';
	l->names[l->n] = copy;
	l->types[l->n++] = type & S_IFMT;
	return 0;
}

static int map_enter(struct vfs_watcher *w, struct watch *wt, uint64_t dir,
                     const char *name, const char *rel, bool synth);

/* Map every directory below dir (at rel) and, with synth, report each
 * entry found as created. Bounded by the path length. */
static int map_scan(struct vfs_watcher *w, struct watch *wt, uint64_t dir,
                    const char *rel, bool synth)
{
	vfs_store *s = wt->mnt->store;
	struct scan_list l = {0};
	int rc;

	if (strlen(rel) >= VFS_PATH_MAX - VFS_NAME_MAX - 2)
		return 0;
	rc = s->ops.readdir(s->state, dir, 0, scan_fill, &l);
	for (size_t i = 0; i < l.n; i++) {
		char *child = rel_join(rel, l.names[i]);

		if (child == NULL) {
			rc = -ENOMEM;
			continue;
		}
		if (synth && (wt->mask & VFS_EV_CREATE))
			queue_push(w, wt->wd,
			           VFS_EV_CREATE |
			                   (l.types[i] == S_IFDIR ? VFS_EV_ISDIR
			                                          : 0),
			           0, child);
		if (l.types[i] == S_IFDIR && rc == 0)
			rc = map_enter(w, wt, dir, l.names[i], child, synth);
		free(child);
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.names[i]);
	free(l.names);
	free(l.types);
	return rc;
}

/* Give an entry of a host-backed store its inotify watch. */
static int map_host_watch(struct vfs_watcher *w, struct watch *wt, uint64_t id,
                          uint64_t lookups)
{
	struct wentry *e = map_find(wt, id);
	vfs_node *n;
	int rc;

	/* The node takes over the store lookup the caller made. */
	rc = vfs__node_get(w->v, wt->mnt, id, S_IFDIR, NULL, &n);
	if (rc < 0)
		return rc;
	(void)lookups;
	rc = e->hw ? 0 : vfs__inotify_watch(w->v, n);
	if (rc == 0)
		e->hw = true;
	vfs__node_put(w->v, n);
	return rc;
}

/* Enter directory name (in dir) into wt's map at rel, then scan it. */
static int map_enter(struct vfs_watcher *w, struct watch *wt, uint64_t dir,
                     const char *name, const char *rel, bool synth)
{
	vfs_store *s = wt->mnt->store;
	uint64_t id;
	vfs_attr a;
	int rc = s->ops.lookup(s->state, dir, name, &id, &a);

	if (rc < 0)
		return rc == -ENOENT ? 0 : rc; /* gone again meanwhile */
	if (!S_ISDIR(a.mode)) {
		s->ops.forget(s->state, id, 1);
		return 0;
	}
	rc = map_add(w, wt, id, rel);
	if (rc >= 0 && wt->mnt->host_events) {
		/* The inotify watch now holds the node. */
		rc = map_host_watch(w, wt, id, 1);
		if (rc >= 0)
			rc = map_scan(w, wt, id, rel, synth);
		return rc;
	}
	/* Keep the lookup while scanning: a store may drop an unreferenced
	 * node. */
	if (rc >= 0)
		rc = map_scan(w, wt, id, rel, synth);
	s->ops.forget(s->state, id, 1);
	return rc;
}

/* map_enter() for a directory that appeared under a recursive watch. One
 * that cannot be followed (max_watches reached, no memory or descriptor
 * left) would lose every event below it: that is an overflow. */
static void map_follow(struct vfs_watcher *w, struct watch *wt, uint64_t dir,
                       const char *name, const char *rel, bool synth)
{
	if (map_enter(w, wt, dir, name, rel, synth) < 0)
		queue_lost(w);
}

static bool map_not_seen(const struct wentry *e, const void *arg)
{
	(void)arg;
	return !e->seen;
}

/*
 * Map a recursive watch's tree afresh, after the kernel dropped records
 * on a host-backed store: directories made or moved in meanwhile are
 * entered and watched, moved ones renamed, and those no longer in the
 * tree forgotten. Nothing is reported; the OVERFLOW record tells the
 * consumer to rescan.
 */
static void map_resync(struct vfs_watcher *w, struct watch *wt)
{
	free(wt->move_from);
	wt->move_from = NULL;
	for (size_t i = 0; i < wt->map_size; i++)
		wt->map[i].seen = wt->map[i].id == wt->id;
	if (map_scan(w, wt, wt->id, "", false) < 0)
		return; /* keep what cannot be checked */
	map_drop_if(w, wt, map_not_seen, NULL);
}

static void watch_free(struct vfs_watcher *w, struct watch *wt)
{
	for (size_t i = 0; i < wt->map_size; i++) {
		if (wt->map[i].id == VFS__NOID)
			continue;
		if (wt->map[i].hw)
			vfs__inotify_unwatch(w->v, wt->mnt, wt->map[i].id);
		free(wt->map[i].rel);
	}
	if (wt->hw)
		vfs__inotify_unwatch(w->v, wt->mnt, wt->id);
	free(wt->map);
	free(wt->move_from);
	free(wt);
}

/* Queue IGNORED for a watch and drop it. Caller holds w->lock. */
static void watch_drop(struct vfs_watcher *w, struct watch *wt)
{
	struct watch **pp = &w->watches;

	while (*pp != wt)
		pp = &(*pp)->next;
	*pp = wt->next;
	w->nentries -= 1 + (uint32_t)wt->map_count;
	queue_push(w, wt->wd, VFS_EV_IGNORED, 0, NULL);
	watch_free(w, wt);
}

/* ---- delivery ---------------------------------------------------------- */

#define SELF_EVENTS                                                            \
	(VFS_EV_MODIFY | VFS_EV_ATTRIB | VFS_EV_CLOSE_WRITE |                  \
	 VFS_EV_DELETE_SELF | VFS_EV_MOVE_SELF)

/* The name of `name` in directory dir as seen from watch wt, or NULL when
 * dir is not watched by it. *alloc is set when the result is allocated. */
static const char *watch_name(const struct watch *wt, uint64_t dir,
                              const char *name, char **alloc)
{
	const struct wentry *e;

	*alloc = NULL;
	if (dir == VFS__NOID || name == NULL)
		return NULL;
	if (!(wt->flags & VFS_WATCH_RECURSIVE))
		return wt->id == dir ? name : NULL;
	e = map_find(wt, dir);
	if (e == NULL)
		return NULL;
	if (e->rel[0] == '\0')
		return name;
	*alloc = rel_join(e->rel, name);
	return *alloc;
}

static void deliver(struct vfs_watcher *w, const struct vfs_ev *e)
{
	uint32_t kind = e->mask & ~VFS_EV_ISDIR;
	struct watch *wt, *next;

	for (wt = w->watches; wt != NULL; wt = next) {
		const char *name;
		char *alloc;

		next = wt->next;
		if (wt->mnt != e->mnt || !(wt->mask & kind))
			continue;
		name = watch_name(wt, e->dir, e->name, &alloc);
		if (name != NULL)
			queue_push(w, wt->wd, e->mask, e->cookie, name);
		free(alloc);
		/* Self events; from inotify they come on the node's own
		 * watch, apart from the directory's record. */
		if (e->node != VFS__NOID && wt->id == e->node &&
		    (kind & SELF_EVENTS) &&
		    (name == NULL || e->dir == e->node) &&
		    (e->dir == VFS__NOID || !e->mnt->host_events))
			queue_push(w, wt->wd, e->mask, e->cookie, NULL);
	}
}

/*
 * inotify reports a directory's move as two records: MOVED_FROM on the
 * old parent and, when the new parent is watched, MOVED_TO with the same
 * cookie right after it. A recursive watch on a host-backed store keeps
 * the MOVED_FROM's path until the next record. If that is the MOVED_TO
 * into its tree, track() moves the map entries, which keep their inotify
 * watches: records the kernel already queued under them, for changes made
 * after the move, come out under the new name. Any other record means the
 * directory left the tree.
 */
static void move_settle(struct vfs_watcher *w, const struct vfs_ev *e)
{
	for (struct watch *wt = w->watches; wt != NULL; wt = wt->next) {
		if (wt->move_from == NULL)
			continue;
		if (e->mnt == wt->mnt &&
		    e->mask == (VFS_EV_MOVED_TO | VFS_EV_ISDIR) &&
		    e->cookie == wt->move_cookie && e->name != NULL &&
		    map_find(wt, e->dir) != NULL)
			continue;
		map_prune(w, wt, wt->move_from);
		free(wt->move_from);
		wt->move_from = NULL;
	}
}

/* Map maintenance for a recursive watch after a directory event. */
static void track(struct vfs_watcher *w, const struct vfs_ev *e)
{
	uint32_t kind = e->mask & ~VFS_EV_ISDIR;

	if (!(e->mask & VFS_EV_ISDIR) || e->name == NULL)
		return;
	for (struct watch *wt = w->watches; wt != NULL; wt = wt->next) {
		const struct wentry *d;
		char *rel;

		if (wt->mnt != e->mnt || !(wt->flags & VFS_WATCH_RECURSIVE))
			continue;
		d = map_find(wt, e->dir);
		if (d == NULL)
			continue;
		rel = rel_join(d->rel, e->name);
		if (rel == NULL)
			continue;
		if (kind == VFS_EV_CREATE) {
			map_follow(w, wt, e->dir, e->name, rel, true);
		} else if (kind == VFS_EV_DELETE) {
			map_prune(w, wt, rel);
		} else if (wt->mnt->host_events && kind == VFS_EV_MOVED_FROM) {
			free(wt->move_from); /* see move_settle() */
			wt->move_from = rel;
			wt->move_cookie = e->cookie;
			rel = NULL;
		} else if (wt->mnt->host_events && kind == VFS_EV_MOVED_TO) {
			const struct wentry *t = e->node != VFS__NOID
			                                 ? map_find(wt, e->node)
			                                 : NULL;

			/* After an overflow, the rescan may have mapped it
			 * there already. */
			if (t == NULL || strcmp(t->rel, rel) != 0) {
				/* a directory replaced there */
				map_prune(w, wt, rel);
				if (wt->move_from != NULL)
					map_move(wt, wt->move_from, rel);
				else
					map_follow(w, wt, e->dir, e->name, rel,
					           false);
			}
			free(wt->move_from);
			wt->move_from = NULL;
		}
		free(rel);
	}
}

void vfs__watch_deliver(vfs *v, const struct vfs_ev *e)
{
	if (!vfs__watching(v) || e->mnt == NULL)
		return;
	pthread_mutex_lock(&v->wlock);
	for (struct vfs_watcher *w = v->watchers; w != NULL; w = w->next) {
		pthread_mutex_lock(&w->lock);
		move_settle(w, e);
		deliver(w, e);
		track(w, e);
		pthread_mutex_unlock(&w->lock);
	}
	pthread_mutex_unlock(&v->wlock);
}

void vfs__watch_emit(vfs *v, const struct vfs_ev *e)
{
	if (!vfs__watching(v) || e->mnt == NULL)
		return;
	/* Host-backed stores report through inotify instead. */
	if (e->mnt->host_events)
		vfs__inotify_sync(v);
	else
		vfs__watch_deliver(v, e);
}

void vfs__watch_overflow(vfs *v)
{
	if (!vfs__watching(v))
		return;
	pthread_mutex_lock(&v->wlock);
	for (struct vfs_watcher *w = v->watchers; w != NULL; w = w->next) {
		pthread_mutex_lock(&w->lock);
		queue_lost(w);
		/* The records that kept the maps right may be among those
		 * lost. */
		for (struct watch *wt = w->watches; wt != NULL; wt = wt->next)
			if ((wt->flags & VFS_WATCH_RECURSIVE) &&
			    wt->mnt != NULL && wt->mnt->host_events)
				map_resync(w, wt);
		pthread_mutex_unlock(&w->lock);
	}
	pthread_mutex_unlock(&v->wlock);
}

void vfs__watch_gone(vfs *v, struct vfs_mount *mnt, uint64_t node, bool isdir)
{
	if (!vfs__watching(v) || mnt == NULL)
		return;
	if (mnt->host_events) {
		vfs__inotify_sync(v);
		/* The kernel holds back IN_DELETE_SELF of a directory the
		 * bridge pins; report it here, after the DELETE. */
		if (!isdir)
			return;
	}
	vfs__watch_deliver_gone(v, mnt, node);
}

void vfs__watch_deliver_gone(vfs *v, struct vfs_mount *mnt, uint64_t node)
{
	struct vfs_ev e = {.mnt = mnt,
	                   .dir = VFS__NOID,
	                   .node = node,
	                   .mask = VFS_EV_DELETE_SELF};

	if (!vfs__watching(v))
		return;
	pthread_mutex_lock(&v->wlock);
	for (struct vfs_watcher *w = v->watchers; w != NULL; w = w->next) {
		struct watch *wt, *next;

		pthread_mutex_lock(&w->lock);
		deliver(w, &e);
		for (wt = w->watches; wt != NULL; wt = next) {
			next = wt->next;
			if (wt->mnt == mnt && wt->id == node)
				watch_drop(w, wt);
		}
		pthread_mutex_unlock(&w->lock);
	}
	pthread_mutex_unlock(&v->wlock);
}

void vfs__watch_rename(vfs *v, struct vfs_mount *mnt, uint64_t olddir,
                       const char *oldname, uint64_t newdir,
                       const char *newname, uint64_t node, bool isdir,
                       uint64_t replaced, bool replaced_isdir,
                       bool replaced_gone)
{
	uint32_t d = isdir ? VFS_EV_ISDIR : 0;
	uint32_t cookie;

	if (!vfs__watching(v))
		return;
	if (mnt->host_events) {
		vfs__inotify_sync(v);
		return;
	}
	cookie = atomic_fetch_add(&v->cookie, 1) + 1;
	if (cookie == 0)
		cookie = atomic_fetch_add(&v->cookie, 1) + 1;
	pthread_mutex_lock(&v->wlock);
	for (struct vfs_watcher *w = v->watchers; w != NULL; w = w->next) {
		struct vfs_ev from = {mnt,
		                      olddir,
		                      oldname,
		                      VFS__NOID,
		                      VFS_EV_MOVED_FROM | d,
		                      cookie};
		struct vfs_ev to = {
		        mnt,   newdir, newname, VFS__NOID, VFS_EV_MOVED_TO | d,
		        cookie};
		/* inotify sets no IN_ISDIR on a self event. */
		struct vfs_ev self = {.mnt = mnt,
		                      .dir = VFS__NOID,
		                      .node = node,
		                      .mask = VFS_EV_MOVE_SELF};

		pthread_mutex_lock(&w->lock);
		deliver(w, &from);
		deliver(w, &to);
		deliver(w, &self);
		if (isdir) {
			/* Keep recursive maps right: the directory moved within
			 * a tree, into one, or out of one. */
			for (struct watch *wt = w->watches; wt != NULL;
			     wt = wt->next) {
				const struct wentry *od, *nd;
				char *orel = NULL, *nrel = NULL;

				if (wt->mnt != mnt ||
				    !(wt->flags & VFS_WATCH_RECURSIVE))
					continue;
				od = map_find(wt, olddir);
				nd = map_find(wt, newdir);
				if (od != NULL)
					orel = rel_join(od->rel, oldname);
				if (nd != NULL)
					nrel = rel_join(nd->rel, newname);
				if (nrel != NULL && replaced != VFS__NOID &&
				    replaced_isdir)
					map_prune(w, wt, nrel);
				if (orel != NULL && nrel != NULL)
					map_move(wt, orel, nrel);
				else if (orel != NULL)
					map_prune(w, wt, orel);
				else if (nrel != NULL)
					map_follow(w, wt, newdir, newname, nrel,
					           false);
				free(orel);
				free(nrel);
			}
		}
		pthread_mutex_unlock(&w->lock);
	}
	pthread_mutex_unlock(&v->wlock);
	if (replaced != VFS__NOID && replaced_gone)
		vfs__watch_gone(v, mnt, replaced, replaced_isdir);
}

void vfs__watch_unmount(vfs *v, struct vfs_mount *mnt)
{
	if (!vfs__watching(v))
		return;
	if (mnt->host_events)
		vfs__inotify_sync(v); /* what happened before, first */
	pthread_mutex_lock(&v->wlock);
	for (struct vfs_watcher *w = v->watchers; w != NULL; w = w->next) {
		struct watch *wt, *next;

		pthread_mutex_lock(&w->lock);
		for (wt = w->watches; wt != NULL; wt = next) {
			next = wt->next;
			if (wt->mnt == mnt)
				watch_drop(w, wt);
		}
		pthread_mutex_unlock(&w->lock);
	}
	pthread_mutex_unlock(&v->wlock);
}

/* ---- the public API ---------------------------------------------------- */

VFS_EXTERN int vfs_watcher_new(vfs *v, vfs_watcher **out,
                               const vfs_watcher_options *opts)
{
	struct vfs_watcher *w;

	if (v == NULL || out == NULL ||
	    (opts != NULL && (opts->version == 0 ||
	                      opts->version > VFS_WATCHER_OPTIONS_VERSION)))
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		int rc = -errno;

		free(w);
		return rc;
	}
	w->v = v;
	w->max_events = opts != NULL && opts->max_events ? opts->max_events
	                                                 : DEFAULT_MAX_EVENTS;
	w->max_watches = opts != NULL && opts->max_watches
	                         ? opts->max_watches
	                         : DEFAULT_MAX_WATCHES;
	w->next_wd = 1;
	w->ovf = calloc(1, sizeof(*w->ovf) + sizeof(vfs_event));
	if (w->ovf == NULL) {
		close(w->efd);
		free(w);
		return -ENOMEM;
	}
	REC(w->ovf)->wd = -1;
	REC(w->ovf)->mask = VFS_EV_OVERFLOW;
	w->ovf->size = sizeof(vfs_event);
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_lock(&v->wlock);
	w->next = v->watchers;
	v->watchers = w;
	atomic_fetch_add(&v->nwatchers, 1);
	pthread_mutex_unlock(&v->wlock);
	*out = w;
	return 0;
}

VFS_EXTERN void vfs_watcher_free(vfs_watcher *w)
{
	vfs *v;

	if (w == NULL)
		return;
	v = w->v;
	pthread_rwlock_rdlock(&v->mlock);
	pthread_mutex_lock(&v->wlock);
	for (struct vfs_watcher **pp = &v->watchers; *pp != NULL;
	     pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	atomic_fetch_sub(&v->nwatchers, 1);
	while (w->watches != NULL) {
		struct watch *wt = w->watches;

		w->watches = wt->next;
		watch_free(w, wt);
	}
	pthread_mutex_unlock(&v->wlock);
	pthread_rwlock_unlock(&v->mlock);
	while (w->head != NULL) {
		struct wrec *r = w->head;

		w->head = r->next;
		free(r);
	}
	free(w->ovf);
	close(w->efd);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

VFS_EXTERN int vfs_watcher_fd(vfs_watcher *w)
{
	return w != NULL ? w->efd : -EINVAL;
}

/* Register the watched node itself: its map entry for a recursive watch,
 * its inotify watch on a host-backed store. */
static int watch_root(struct vfs_watcher *w, struct watch *wt, vfs_node *n)
{
	int rc;

	if (wt->flags & VFS_WATCH_RECURSIVE) {
		rc = map_add(w, wt, n->id, "");
		if (rc > 0 && wt->mnt->host_events) {
			rc = vfs__inotify_watch(w->v, n);
			if (rc == 0)
				map_find(wt, n->id)->hw = true;
		}
		return rc < 0 ? rc : map_scan(w, wt, n->id, "", false);
	}
	if (wt->mnt->host_events && !wt->hw) {
		rc = vfs__inotify_watch(w->v, n);
		if (rc < 0)
			return rc;
		wt->hw = true;
	}
	return 0;
}

VFS_EXTERN int vfs_watch_add(vfs_watcher *w, const char *path, uint32_t mask,
                             unsigned flags)
{
	struct vfs_ctx c;
	struct vfs_walk wk;
	struct watch *wt;
	vfs_node *n;
	vfs *v;
	int rc;

	if (w == NULL || mask == 0 || (mask & ~VFS_EV_ALL) != 0 ||
	    (flags & ~VFS_WATCH_RECURSIVE) != 0)
		return -EINVAL;
	v = w->v;
	pthread_rwlock_rdlock(&v->mlock);
	vfs__ctx_path(v, &c);
	vfs__walk_init(&wk, &c);
	rc = vfs__walk(&wk, path, 0);
	if (rc < 0)
		goto out;
	n = vfs__walk_top(&wk);
	if ((flags & VFS_WATCH_RECURSIVE) && !S_ISDIR(n->type)) {
		rc = -ENOTDIR;
		goto out;
	}
	/* Records the kernel holds from before are not the new watch's. */
	vfs__inotify_sync(v);
	pthread_mutex_lock(&v->wlock);
	pthread_mutex_lock(&w->lock);
	for (wt = w->watches; wt != NULL; wt = wt->next)
		if (wt->mnt == n->mnt && wt->id == n->id)
			break;
	if (wt != NULL) {
		/* Same node: a new mask and flags for the same watch. */
		wt->mask = mask;
		if ((flags & VFS_WATCH_RECURSIVE) &&
		    !(wt->flags & VFS_WATCH_RECURSIVE) && n->mnt != NULL) {
			wt->flags = flags;
			rc = watch_root(w, wt, n);
		}
		rc = rc < 0 ? rc : wt->wd;
	} else if (w->nentries >= w->max_watches) {
		rc = -ENOSPC;
	} else if ((wt = calloc(1, sizeof(*wt))) == NULL) {
		rc = -ENOMEM;
	} else {
		wt->wd = w->next_wd++;
		wt->mask = mask;
		wt->flags = flags;
		wt->mnt = n->mnt;
		wt->id = n->mnt != NULL ? n->id : VFS__NOID;
		wt->isdir = S_ISDIR(n->type);
		w->nentries++;
		rc = n->mnt != NULL ? watch_root(w, wt, n) : 0;
		if (rc < 0) {
			w->nentries -= 1 + (uint32_t)wt->map_count;
			watch_free(w, wt);
		} else {
			wt->next = w->watches;
			w->watches = wt;
			rc = wt->wd;
		}
	}
	pthread_mutex_unlock(&w->lock);
	pthread_mutex_unlock(&v->wlock);
out:
	vfs__walk_done(&wk);
	vfs__ctx_done(&c);
	pthread_rwlock_unlock(&v->mlock);
	return rc;
}

VFS_EXTERN int vfs_watch_remove(vfs_watcher *w, int wd)
{
	struct watch *wt;
	int rc = -EINVAL;

	if (w == NULL)
		return -EINVAL;
	pthread_rwlock_rdlock(&w->v->mlock);
	/* Records of changes made before the removal come before IGNORED,
	 * also those the kernel holds for a host-backed store. */
	vfs__inotify_sync(w->v);
	pthread_mutex_lock(&w->v->wlock);
	pthread_mutex_lock(&w->lock);
	for (wt = w->watches; wt != NULL; wt = wt->next) {
		if (wt->wd == wd) {
			watch_drop(w, wt);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&w->lock);
	pthread_mutex_unlock(&w->v->wlock);
	pthread_rwlock_unlock(&w->v->mlock);
	return rc;
}

VFS_EXTERN int64_t vfs_watcher_read(vfs_watcher *w, void *buf, size_t size)
{
	size_t used = 0;
	uint64_t junk;

	if (w == NULL || buf == NULL)
		return -EINVAL;
	pthread_mutex_lock(&w->lock);
	while (w->head != NULL && used + w->head->size <= size) {
		struct wrec *r = w->head;

		memcpy((char *)buf + used, r->data, r->size);
		used += r->size;
		w->head = r->next;
		if (w->head == NULL)
			w->tail = NULL;
		w->count--;
		if (REC(r)->mask & VFS_EV_OVERFLOW)
			w->ovf = r;
		else
			free(r);
	}
	if (w->count < w->max_events)
		w->overflowed = false;
	if (w->head == NULL && read(w->efd, &junk, sizeof(junk)) < 0) {
		/* Already clear. */
	}
	if (used == 0 && w->head != NULL) {
		pthread_mutex_unlock(&w->lock);
		return -EINVAL;
	}
	pthread_mutex_unlock(&w->lock);
	return (int64_t)used;
}
