/*
 * What the core tells the watch layer. The core calls these after each
 * mutation it performed; they cost one atomic load when no watcher
 * exists.
 */
#ifndef VFS_WATCH_INT_H
#define VFS_WATCH_INT_H

#include "../vfs/core_int.h"

#define VFS__NOID UINT64_MAX

/* One event: `name` in directory `dir`, about node `node` (either side
 * may be absent: VFS__NOID / NULL). */
struct vfs_ev {
	struct vfs_mount *mnt;
	uint64_t dir;
	const char *name;
	uint64_t node;
	uint32_t mask; /* one VFS_EV_* bit, maybe with VFS_EV_ISDIR */
	uint32_t cookie;
};

static inline bool vfs__watching(vfs *v)
{
	return atomic_load_explicit(&v->nwatchers, memory_order_relaxed) > 0;
}

void vfs__watch_emit(vfs *v, const struct vfs_ev *e);
/* A rename done: moved node `node` (a directory if isdir) from
 * olddir/oldname to newdir/newname; `replaced` is the node that was at
 * the target (VFS__NOID if none), `replaced_gone` whether its last link
 * went with it. */
void vfs__watch_rename(vfs *v, struct vfs_mount *mnt, uint64_t olddir,
                       const char *oldname, uint64_t newdir,
                       const char *newname, uint64_t node, bool isdir,
                       uint64_t replaced, bool replaced_isdir,
                       bool replaced_gone);
/* A node's last link is gone: DELETE_SELF and IGNORED for its watches. */
void vfs__watch_gone(vfs *v, struct vfs_mount *mnt, uint64_t node, bool isdir);
/* A mount is going away: IGNORED for every watch in it. */
void vfs__watch_unmount(vfs *v, struct vfs_mount *mnt);

/* Delivery without the host-events filter, for the inotify bridge. */
void vfs__watch_deliver(vfs *v, const struct vfs_ev *e);
void vfs__watch_deliver_gone(vfs *v, struct vfs_mount *mnt, uint64_t node);
/* Tell every watcher events were lost (inotify queue overflow). */
void vfs__watch_overflow(vfs *v);

/* watch/inotify.c: one inotify watch per node of a host-backed store
 * (mnt->host_events), counted; caller holds mlock and wlock. */
int vfs__inotify_watch(vfs *v, vfs_node *node);
void vfs__inotify_unwatch(vfs *v, struct vfs_mount *mnt, uint64_t id);
/* Stop the reader thread (vfs_free, before taking mlock), then free. */
void vfs__inotify_stop(vfs *v);
/* Dispatch the inotify records already queued, in the calling thread,
 * which holds mlock (called after each change to a host-backed store). */
void vfs__inotify_sync(vfs *v);
void vfs__inotify_free(vfs *v);

#endif /* VFS_WATCH_INT_H */
