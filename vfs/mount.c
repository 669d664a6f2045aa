/*
 * The mount table and crossing mount points.
 *
 * Mounts hang off a trie of path components rooted at "/". A walk knows,
 * for each directory it passes, the trie node of that directory (kept in
 * vfs_node.mt), so crossing a mount point costs one short list scan of
 * that node's children and no path strings are compared. Trie nodes are
 * never freed before the instance: unmounting only clears `mount` and
 * decrements `active`, and real nodes pointing at inactive trie nodes are
 * cleared, so a held node never dangles.
 *
 * A trie child with no mount of its own (an ancestor of a mount point)
 * is the store's directory of that name when the store has one, and a
 * read-only virtual directory when it does not: that is how a mount point
 * shows up as a directory even where the parent store lacks it.
 *
 * Contents: trie helpers, vfs__step(), mount and unmount.
 */
#include "core_int.h"
#include "../watch/watch_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct vfs_mtree *mt_find(const struct vfs_mtree *mt, const char *name,
                                 size_t len)
{
	for (struct vfs_mtree *c = mt->child; c != NULL; c = c->next)
		if (c->namelen == len && memcmp(c->name, name, len) == 0)
			return c;
	return NULL;
}

struct vfs_mtree *vfs__mt_child(const struct vfs_mtree *mt, const char *name,
                                size_t len)
{
	struct vfs_mtree *c = mt->child ? mt_find(mt, name, len) : NULL;

	return c != NULL && c->active > 0 ? c : NULL;
}

static struct vfs_mtree *mt_new(vfs *v, struct vfs_mtree *parent,
                                const char *name, size_t len)
{
	struct vfs_mtree *c = calloc(1, sizeof(*c) + len + 1);
	struct vfs_mtree **pp;

	if (c == NULL)
		return NULL;
	memcpy(c->name, name, len);
	c->namelen = (uint32_t)len;
	c->serial = ++v->mt_serial;
	c->parent = parent;
	if (parent != NULL) {
		/* Append, so that readdir's index into the list is stable. */
		for (pp = &parent->child; *pp != NULL; pp = &(*pp)->next)
			;
		*pp = c;
	}
	return c;
}

void vfs__mt_free(struct vfs_mtree *mt);
void vfs__mt_free(struct vfs_mtree *mt)
{
	while (mt != NULL) {
		struct vfs_mtree *next = mt->next;

		vfs__mt_free(mt->child);
		free(mt);
		mt = next;
	}
}

bool vfs__readonly(const vfs_node *n)
{
	return n->mnt == NULL || (n->mnt->flags & VFS_MOUNT_RDONLY) != 0;
}

bool vfs__is_mount_path(vfs_node *dir, const char *name)
{
	return dir->mt != NULL &&
	       vfs__mt_child(dir->mt, name, strlen(name)) != NULL;
}

bool vfs__is_mount_point(vfs_node *dir, const char *name)
{
	struct vfs_mtree *c =
	        dir->mt != NULL ? vfs__mt_child(dir->mt, name, strlen(name))
	                        : NULL;

	return c != NULL && c->mount != NULL;
}

int vfs__root(vfs *v, vfs_node **out)
{
	if (v->mroot->mount != NULL) {
		vfs__node_hold(v, v->mroot->mount->root);
		*out = v->mroot->mount->root;
		return 0;
	}
	return vfs__node_virtual(v, v->mroot, out);
}

static int step_mount_root(vfs *v, struct vfs_mount *m, vfs_node **out,
                           vfs_attr *attr)
{
	int rc = vfs__node_getattr(v, m->root, attr);

	if (rc < 0)
		return rc;
	vfs__node_hold(v, m->root);
	*out = m->root;
	return 0;
}

int vfs__step(vfs *v, vfs_node *dir, const char *name, vfs_node **out,
              vfs_attr *attr)
{
	struct vfs_mtree *c = NULL;
	uint64_t id;
	int rc;

	if (dir->mt != NULL)
		c = vfs__mt_child(dir->mt, name, strlen(name));
	if (c != NULL) {
		if (c->mount != NULL)
			return step_mount_root(v, c->mount, out, attr);
		if (dir->mnt != NULL) {
			vfs_store *s = dir->mnt->store;

			rc = s->ops.lookup(s->state, dir->id, name, &id, attr);
			if (rc == 0 && S_ISDIR(attr->mode)) {
				vfs__attr_fix(dir->mnt, attr);
				return vfs__node_get(v, dir->mnt, id, S_IFDIR,
				                     c, out);
			}
			if (rc == 0)
				s->ops.forget(s->state, id, 1);
			else if (rc != -ENOENT)
				return rc;
		}
		vfs__virtual_attr(c, attr);
		return vfs__node_virtual(v, c, out);
	}
	if (dir->mnt == NULL)
		return -ENOENT;
	rc = dir->mnt->store->ops.lookup(dir->mnt->store->state, dir->id, name,
	                                 &id, attr);
	if (rc < 0)
		return rc;
	vfs__attr_fix(dir->mnt, attr);
	return vfs__node_get(v, dir->mnt, id, attr->mode, NULL, out);
}

/* ---- mount and unmount ---------------------------------------------- */

static int mount_index_alloc(vfs *v, struct vfs_mount *m)
{
	uint32_t i;

	for (i = 0; i < v->nmounts_alloc; i++)
		if (v->mounts[i] == NULL)
			break;
	if (i == v->nmounts_alloc) {
		uint32_t n = v->nmounts_alloc ? v->nmounts_alloc * 2 : 8;
		struct vfs_mount **mounts;

		if (n > VFS__MAX_MOUNTS)
			n = VFS__MAX_MOUNTS;
		if (i >= n)
			return -ENOSPC;
		mounts = realloc(v->mounts, n * sizeof(*mounts));
		if (mounts == NULL)
			return -ENOMEM;
		memset(mounts + v->nmounts_alloc, 0,
		       (n - v->nmounts_alloc) * sizeof(*mounts));
		v->mounts = mounts;
		v->nmounts_alloc = n;
	}
	v->mounts[i] = m;
	m->index = i;
	return 0;
}

/* The trie node for the walk's canonical top followed by the names in
 * `missing` (components that do not exist in any store), created as
 * needed. "." and ".." cannot be resolved below a missing directory. */
static int mount_trie_path(vfs *v, struct vfs_walk *w, const char *missing,
                           struct vfs_mtree **out)
{
	struct vfs_mtree *mt = v->mroot, *c;
	const char *p = missing;

	for (size_t i = 1; i < w->depth; i++) {
		const char *name = w->names + w->stack[i].name_off;
		size_t len = w->stack[i].name_len;

		c = mt_find(mt, name, len);
		if (c == NULL && (c = mt_new(v, mt, name, len)) == NULL)
			return -ENOMEM;
		mt = c;
	}
	while (p != NULL && *p != '\0') {
		const char *start;
		size_t len;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != '/')
			p++;
		len = (size_t)(p - start);
		if (start[0] == '.' &&
		    (len == 1 || (len == 2 && start[1] == '.')))
			return -ENOENT;
		c = mt_find(mt, start, len);
		if (c == NULL && (c = mt_new(v, mt, start, len)) == NULL)
			return -ENOMEM;
		mt = c;
	}
	*out = mt;
	return 0;
}

static void mount_set_active(struct vfs_mtree *mt, int delta)
{
	for (; mt != NULL; mt = mt->parent)
		mt->active = (uint32_t)((int)mt->active + delta);
}

VFS_EXTERN int vfs_mount_add(vfs *v, const char *path, vfs_store *store,
                             unsigned flags)
{
	struct vfs_ctx c;
	struct vfs_walk w;
	struct vfs_mtree *mt;
	struct vfs_mount *m = NULL;
	vfs_attr attr;
	uint64_t id;
	int rc;

	if (v == NULL || store == NULL || (flags & ~VFS_MOUNT_RDONLY) != 0)
		return -EINVAL;
	rc = vfs__path_check(path);
	if (rc < 0)
		return rc;
	pthread_rwlock_wrlock(&v->mlock);
	vfs__ctx_path(v, &c);
	vfs__walk_init(&w, &c);
	/* Mount points need not exist: walk as far as the stores go and
	 * take the rest of the path as names. */
	rc = vfs__walk(&w, path, VFS__WALK_NOFOLLOW | VFS__WALK_MISSING_OK);
	if (rc < 0)
		goto out;
	if (!S_ISDIR(vfs__walk_top(&w)->type)) {
		rc = -ENOTDIR;
		goto out;
	}
	rc = mount_trie_path(v, &w, w.missing, &mt);
	if (rc < 0)
		goto out;
	if (mt->mount != NULL) {
		rc = -EBUSY;
		goto out;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = mount_index_alloc(v, m);
	if (rc < 0)
		goto out;
	m->v = v;
	m->store = store;
	m->host_events = store->ops.host_fd != NULL;
	m->flags = flags | store->mount_flags;
	m->mt = mt;
	rc = store->ops.root(store->state, &id, &attr);
	if (rc == 0 && !S_ISDIR(attr.mode)) {
		store->ops.forget(store->state, id, 1);
		rc = -ENOTDIR;
	}
	if (rc == 0)
		rc = vfs__node_get(v, m, id, S_IFDIR, mt, &m->root);
	if (rc < 0) {
		v->mounts[m->index] = NULL;
		goto out;
	}
	mt->mount = m;
	mount_set_active(mt, 1);
	/* Directories already in the node table along the path now lead
	 * to the mount: give them their trie node. */
	{
		struct vfs_mtree *t = mt;

		for (const char *p = w.missing; p != NULL && *p != '\0'; p++)
			if (*p != '/' && (p[1] == '/' || p[1] == '\0'))
				t = t->parent; /* one per missing name */
		for (size_t i = w.depth; i-- > 0; t = t->parent)
			if (w.stack[i].node->mnt != NULL)
				w.stack[i].node->mt = t;
	}
	m = NULL;
out:
	free(m);
	vfs__walk_done(&w);
	vfs__ctx_done(&c);
	pthread_rwlock_unlock(&v->mlock);
	return rc;
}

static void mount_destroy(vfs *v, struct vfs_mount *m)
{
	vfs_store *s = m->store;

	if (s->ops.sync != NULL && !(m->flags & VFS_MOUNT_RDONLY))
		s->ops.sync(s->state);
	vfs_store_free(s);
	v->mounts[m->index] = NULL;
	free(m);
}

VFS_EXTERN int vfs_mount_remove(vfs *v, const char *path)
{
	struct vfs_ctx c;
	struct vfs_walk w;
	struct vfs_mount *m;
	vfs_node *top;
	int rc;

	if (v == NULL)
		return -EINVAL;
	rc = vfs__path_check(path);
	if (rc < 0)
		return rc;
	pthread_rwlock_wrlock(&v->mlock);
	vfs__ctx_path(v, &c);
	vfs__walk_init(&w, &c);
	rc = vfs__walk(&w, path, VFS__WALK_NOFOLLOW);
	top = rc == 0 ? vfs__walk_top(&w) : NULL;
	m = top != NULL ? top->mnt : NULL;
	vfs__walk_done(&w);
	vfs__ctx_done(&c);
	if (rc < 0)
		goto out;
	if (m == NULL || m->root != top) {
		rc = -EINVAL;
		goto out;
	}
	/* Busy: a mount below, or any reference beyond the mount's own
	 * (open handles and frontends hold node references). */
	if (m->mt->active > 1 ||
	    vfs__node_count_mount(v, m) >
	            1 + (uint64_t)atomic_load(&m->watch_refs)) {
		rc = -EBUSY;
		goto out;
	}
	vfs__watch_unmount(v, m);
	m->mt->mount = NULL;
	mount_set_active(m->mt, -1);
	vfs__node_clear_inactive_mt(v);
	vfs__node_put(v, m->root);
	mount_destroy(v, m);
out:
	pthread_rwlock_unlock(&v->mlock);
	return rc;
}

/* vfs_free(): every handle is closed and every node forgotten before the
 * stores are flushed and destroyed. Caller holds mlock for writing. */
void vfs__mount_destroy_all(vfs *v);
void vfs__mount_destroy_all(vfs *v)
{
	/* Watches first: they hold node references. */
	for (uint32_t i = 0; i < v->nmounts_alloc; i++)
		if (v->mounts[i] != NULL)
			vfs__watch_unmount(v, v->mounts[i]);
	vfs__node_drop_all(v, NULL);
	for (uint32_t i = 0; i < v->nmounts_alloc; i++)
		if (v->mounts[i] != NULL)
			mount_destroy(v, v->mounts[i]);
	free(v->mounts);
	v->mounts = NULL;
	vfs__mt_free(v->mroot);
	v->mroot = NULL;
}
