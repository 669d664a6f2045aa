/*
 * The core's own structures: the instance, the mount trie, nodes, open
 * handles and the walk. Shared by the files of vfs/ only.
 *
 * Locks, always taken in this order:
 *   v->mlock   rwlock; read for every operation, write to change mounts.
 *   h->lock    one open handle's position and directory buffer.
 *   v->hlock   the handle table.
 *   v->nlock   the node table and every node's reference counts.
 *   v->clock   the credential pointer.
 *   v->wlock   the watcher list, then each watcher's lock (watch/).
 * A store's own locks come after all of these.
 */
#ifndef VFS_CORE_INT_H
#define VFS_CORE_INT_H

#include "vfs_int.h"

#include <stdatomic.h>

/* Index reserved for virtual directories (mount-trie nodes with no store
 * behind them) in st_ino and st_dev. */
#define VFS__VIRT_INDEX 0xFFFFu
#define VFS__MAX_MOUNTS 0xFFFFu

/* One node of the mount trie: a component of a path at or above which
 * something is mounted. Trie nodes are never freed before the instance,
 * so a vfs_node may point at one without counting; `active` says whether
 * any mount still needs it. */
struct vfs_mtree {
	struct vfs_mtree *parent;
	struct vfs_mtree *child; /* first child */
	struct vfs_mtree *next;  /* next sibling, in creation order */
	struct vfs_mount *mount; /* mounted here, or NULL */
	uint32_t active;         /* mounts at or below this node */
	uint32_t serial;         /* for a virtual directory's st_ino */
	uint32_t namelen;
	char name[]; /* not NUL-terminated for the root ("") */
};                   /* all fields protected by v->mlock */

struct vfs_mount {
	vfs *v;
	vfs_store *store;
	unsigned flags; /* VFS_MOUNT_RDONLY */
	uint32_t index; /* st_dev - 1, high bits of st_ino */
	struct vfs_mtree *mt;
	vfs_node *root;    /* one reference held by the mount */
	atomic_long nopen; /* open handles */
	bool host_events;  /* events come from inotify (store has host_fd) */
	atomic_long watch_refs; /* node references held by inotify watches */
};

struct vfs_node {
	struct vfs_mount *mnt; /* NULL for a virtual directory */
	uint64_t id;           /* the store's id; for virtual: the trie */
	uint32_t type;         /* S_IFMT, never changes */
	struct vfs_mtree *mt;  /* trie node of this directory, if any;
	                          protected by v->mlock */
	uint64_t refs;         /* protected by v->nlock */
	uint64_t lookups;      /* store lookups to forget; v->nlock */
	vfs_node *hnext;       /* hash chain; v->nlock */
};

/* Immutable credentials, swapped whole by vfs_cred_set(). */
struct vfs_credset {
	atomic_long refs;
	vfs_cred cred;
	uint32_t groups[];
};

#define VFS__DIRBUF 32

struct vfs_direntry {
	uint64_t ino;
	uint64_t off;
	uint32_t type;
	uint32_t namelen;
	char name[VFS_NAME_MAX + 1];
};

struct vfs_handle {
	vfs_node *node;      /* one reference */
	void *fh;            /* the store's, from open() */
	int flags;           /* open flags */
	uint64_t parent_ino; /* for "..": the directory's parent, if known */
	uint64_t ev_dir;     /* where it was opened, for events (ctx) */
	char *ev_name;       /* its name there, or NULL */
	atomic_long refs;    /* table slot + calls in progress */
	pthread_mutex_t lock;
	int64_t pos; /* protected by lock */
	/* Directory reading, protected by lock. */
	uint64_t dir_off;          /* offset of the next entry to return */
	struct vfs_direntry *dbuf; /* buffered entries, lazily allocated */
	unsigned dbuf_len, dbuf_pos;
};

struct vfs {
	uint32_t flags; /* VFS_CHECK_PERMISSIONS */
	atomic_uint umask;

	pthread_rwlock_t mlock;
	struct vfs_mtree *mroot;   /* protected by mlock */
	struct vfs_mount **mounts; /* by index; protected by mlock */
	uint32_t nmounts_alloc;    /* protected by mlock */
	uint32_t mt_serial;        /* protected by mlock */

	pthread_mutex_t nlock;
	vfs_node **ntab;              /* protected by nlock */
	size_t ntab_size, ntab_count; /* protected by nlock */

	pthread_mutex_t hlock;
	struct vfs_handle **htab; /* protected by hlock */
	uint32_t htab_size;       /* protected by hlock */
	uint32_t max_handles;
	uint32_t hfree_hint; /* protected by hlock */

	pthread_mutex_t clock;
	struct vfs_credset *creds; /* protected by clock */

	pthread_mutex_t wlock;
	struct vfs_watcher *watchers; /* protected by wlock */
	atomic_int nwatchers;         /* watchers alive: the fast check */
	atomic_uint cookie;           /* last rename cookie */
	struct vfs_inotify *inotify;  /* created on first use; wlock */
};

/* ---- node.c ------------------------------------------------------------ */

/* Take the node for (mnt, id) after a store call that added one lookup
 * (or, for virtual nodes, nothing). Returns it with one reference.
 * On -ENOMEM the store lookup is forgotten. Caller holds mlock. */
int vfs__node_get(vfs *v, struct vfs_mount *mnt, uint64_t id, uint32_t type,
                  struct vfs_mtree *mt, vfs_node **out);
/* The virtual node for a trie node, with one reference. */
int vfs__node_virtual(vfs *v, struct vfs_mtree *mt, vfs_node **out);
void vfs__node_hold(vfs *v, vfs_node *n);
/* Drop a reference; caller holds mlock (read or write). */
void vfs__node_put(vfs *v, vfs_node *n);
void vfs__node_put_n(vfs *v, vfs_node *n, uint64_t count);
/* Attributes with VFS-wide st_ino and st_dev. */
int vfs__node_getattr(vfs *v, vfs_node *n, vfs_attr *out);
void vfs__attr_fix(const struct vfs_mount *mnt, vfs_attr *a);
uint64_t vfs__ino(const struct vfs_mount *mnt, uint64_t ino);
void vfs__virtual_attr(const struct vfs_mtree *mt, vfs_attr *out);
/* Count references held on nodes of a mount (for unmount). */
uint64_t vfs__node_count_mount(vfs *v, const struct vfs_mount *mnt);
/* Forget every node of a mount, or of all mounts (mnt NULL). */
void vfs__node_drop_all(vfs *v, const struct vfs_mount *mnt);
/* Clear mt of real nodes whose trie node is no longer active. */
void vfs__node_clear_inactive_mt(vfs *v);

/* ---- mount.c ----------------------------------------------------------- */

/* The active trie child of mt named name, or NULL. */
struct vfs_mtree *vfs__mt_child(const struct vfs_mtree *mt, const char *name,
                                size_t len);
/* The root node of the namespace with one reference. */
int vfs__root(vfs *v, vfs_node **out);
/* Step from directory dir to its child name, crossing mounts. Returns the
 * child with one reference and its attributes (VFS-wide ino). */
int vfs__step(vfs *v, vfs_node *dir, const char *name, vfs_node **out,
              vfs_attr *attr);
/* Whether name in dir is a mount point or holds one (EBUSY cases). */
bool vfs__is_mount_path(vfs_node *dir, const char *name);
/* Whether name in dir is exactly a mount point. */
bool vfs__is_mount_point(vfs_node *dir, const char *name);
/* Whether n's mount is read-only, or n is virtual (nothing to write to). */
bool vfs__readonly(const vfs_node *n);

/* ---- cred and permission checks (ops.c) -------------------------------- */

struct vfs_ctx {
	vfs *v;
	const vfs_cred *cred;
	bool check;             /* mode-bit checks on */
	struct vfs_credset *cs; /* to release, path API only */
	/* Where the node being changed is named, for change events: set by
	 * path calls from their walk (ev_dir is the store id of the parent
	 * directory in the same mount), else UINT64_MAX / NULL. */
	uint64_t ev_dir;
	const char *ev_name;
};

void vfs__ctx_path(vfs *v, struct vfs_ctx *c);
void vfs__ctx_node(vfs *v, const vfs_cred *cred, struct vfs_ctx *c);
void vfs__ctx_done(struct vfs_ctx *c);
#define VFS__MAY_READ  4
#define VFS__MAY_WRITE 2
#define VFS__MAY_EXEC  1
int vfs__permission(const struct vfs_ctx *c, const vfs_attr *a, int mask);
bool vfs__in_group(const vfs_cred *cred, uint32_t gid);

/* ---- walk.c ------------------------------------------------------------ */

enum vfs_last_type {
	VFS__LAST_NORM,
	VFS__LAST_ROOT,
	VFS__LAST_DOT,
	VFS__LAST_DOTDOT
};

struct vfs_frame {
	vfs_node *node;
	uint32_t name_off, name_len; /* in walk.names */
};

struct vfs_walk {
	struct vfs_ctx *c;
	struct vfs_frame *stack;
	size_t depth, cap;
	char *names;
	size_t names_len, names_cap;
	unsigned links;
	char *buf; /* path text after symlink expansion */
	/* Set by a WALK_PARENT walk: the final component. */
	enum vfs_last_type last_type;
	char last[VFS_NAME_MAX + 1];
	size_t last_len;
	bool trailing_slash;
	/* Set by a WALK_MISSING_OK walk that met a missing name: the text
	 * from that name on (inside the path or buf), else NULL. */
	const char *missing;
};

#define VFS__WALK_NOFOLLOW   (1u << 0)
#define VFS__WALK_PARENT     (1u << 1)
#define VFS__WALK_MISSING_OK (1u << 2) /* stop quietly at a missing name */

void vfs__walk_init(struct vfs_walk *w, struct vfs_ctx *c);
void vfs__walk_done(struct vfs_walk *w);
/* Resolve path from the root (absolute and relative alike). Without
 * WALK_PARENT the result is vfs__walk_top(). With WALK_PARENT the top is
 * the parent directory and last/last_type describe the final component. */
int vfs__walk(struct vfs_walk *w, const char *path, unsigned flags);
/* Continue a WALK_PARENT walk through the symlink `link` found as its final
 * component: resolves the target relative to the current top. */
int vfs__walk_follow_last(struct vfs_walk *w, vfs_node *link, unsigned flags);
static inline vfs_node *vfs__walk_top(const struct vfs_walk *w)
{
	return w->stack[w->depth - 1].node;
}
/* Inode number of the directory above the top (for ".."). */
uint64_t vfs__walk_parent_ino(struct vfs_walk *w);
/* Canonical path of the top into buf. */
int vfs__walk_path(const struct vfs_walk *w, char *buf, size_t size);
/* Whether node is on the walk's stack: the top or one of its ancestors. */
bool vfs__walk_holds(const struct vfs_walk *w, const vfs_node *node);

/* ---- path.c ------------------------------------------------------------ */

/* Check a NUL-terminated path: -EFAULT (NULL), -ENOENT (empty),
 * -ENAMETOOLONG. */
int vfs__path_check(const char *path);
/* Check one name for the node API: -EINVAL, -ENAMETOOLONG. */
int vfs__name_check(const char *name);

/* ---- file.c ------------------------------------------------------------ */

/* Open node (found by a walk or a frontend) and return a descriptor. */
int vfs__open_node(struct vfs_ctx *c, vfs_node *node, int flags,
                   uint64_t parent_ino);
/* Create a regular file name in dir and open it; on failure nothing is
 * left behind. *out receives the node with one reference. */
int vfs__create_open(struct vfs_ctx *c, vfs_node *dir, const char *name,
                     uint32_t mode, int flags, uint64_t parent_ino,
                     vfs_node **out, vfs_attr *attr);
int vfs__handle_get(vfs *v, int fd, struct vfs_handle **out);
void vfs__handle_put(vfs *v, struct vfs_handle *h);
void vfs__handles_close_all(vfs *v);
int64_t vfs__file_pwrite(struct vfs_ctx *c, struct vfs_handle *h,
                         const void *buf, size_t count, int64_t off,
                         bool use_pos);

/* ---- ops.c ------------------------------------------------------------- */

/* Internal vfs_setattr.valid bits, never passed to a store. */
#define VFS__SET_FROM_FD (1u << 30) /* ftruncate: no permission check */
#define VFS__SET_TOUCH   (1u << 31) /* utimens(NULL): owner or writer */

int vfs__do_setattr(struct vfs_ctx *c, vfs_node *n, const vfs_setattr *set,
                    vfs_attr *out);
/* Check that name may be created in dir with mode and fill nn with its
 * owner, group and final mode (setgid-directory rule included). */
int vfs__mknod_prepare(struct vfs_ctx *c, vfs_node *dir, const char *name,
                       uint32_t mode, uint64_t rdev, const char *target,
                       vfs_newnode *nn);
int vfs__do_mknod(struct vfs_ctx *c, vfs_node *dir, const char *name,
                  uint32_t mode, uint64_t rdev, const char *target,
                  vfs_node **out, vfs_attr *attr);
int vfs__do_unlink(struct vfs_ctx *c, vfs_node *dir, const char *name);

#endif /* VFS_CORE_INT_H */
