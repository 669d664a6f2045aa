/*
 * The node table: one vfs_node per (mount, store id) in use, counted.
 *
 * A node exists while something references it: a walk in progress, an
 * open handle, a mount's root, or a frontend (the FUSE kernel's lookup
 * count). Each store lookup that produced the node is remembered in
 * `lookups` and handed back to the store's forget() when the last
 * reference goes, so the store sees exactly as many forgets as lookups.
 *
 * The file also composes VFS-wide inode numbers: the mount's index in the
 * top 16 bits and the store's inode number in the low 48, so that
 * (st_dev, st_ino) pairs and plain st_ino values are unique across the
 * namespace and hard links keep one number.
 */
#include "core_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define INO_BITS 48
#define INO_MASK ((UINT64_C(1) << INO_BITS) - 1)

uint64_t vfs__ino(const struct vfs_mount *mnt, uint64_t ino)
{
	uint64_t index = mnt != NULL ? mnt->index : VFS__VIRT_INDEX;

	/* Stores with inode numbers above 2^48 (rare: some host filesystems)
	 * have the high bits folded in; they may then collide. */
	if (ino > INO_MASK)
		ino = (ino ^ (ino >> INO_BITS)) & INO_MASK;
	return (index << INO_BITS) | ino;
}

void vfs__attr_fix(const struct vfs_mount *mnt, vfs_attr *a)
{
	a->ino = vfs__ino(mnt, a->ino);
	a->dev = (mnt != NULL ? mnt->index : VFS__VIRT_INDEX) + 1;
}

void vfs__virtual_attr(const struct vfs_mtree *mt, vfs_attr *out)
{
	uint32_t subdirs = 0;

	for (const struct vfs_mtree *c = mt->child; c != NULL; c = c->next)
		subdirs += c->active > 0;
	memset(out, 0, sizeof(*out));
	out->ino = mt->serial;
	out->mode = S_IFDIR | 0555;
	out->nlink = 2 + subdirs;
	out->size = 0;
	out->blksize = 4096;
	vfs__attr_fix(NULL, out);
}

static size_t node_hash(const struct vfs_mount *mnt, uint64_t id, size_t size)
{
	uint64_t h = id * UINT64_C(0x9E3779B97F4A7C15) ^ (uintptr_t)mnt;

	h ^= h >> 29;
	return (size_t)(h & (size - 1));
}

/* Grow the table when it is three-quarters full. Caller holds nlock. */
static int node_grow(vfs *v)
{
	size_t nsize = v->ntab_size ? v->ntab_size * 2 : 256;
	vfs_node **ntab;

	if (v->ntab_count * 4 < v->ntab_size * 3)
		return 0;
	ntab = calloc(nsize, sizeof(*ntab));
	if (ntab == NULL)
		return v->ntab_size ? 0 : -ENOMEM; /* keep the old chains */
	for (size_t i = 0; i < v->ntab_size; i++) {
		vfs_node *n = v->ntab[i], *next;

		for (; n != NULL; n = next) {
			size_t h = node_hash(n->mnt, n->id, nsize);

			next = n->hnext;
			n->hnext = ntab[h];
			ntab[h] = n;
		}
	}
	free(v->ntab);
	v->ntab = ntab;
	v->ntab_size = nsize;
	return 0;
}

static int node_lookup_or_add(vfs *v, struct vfs_mount *mnt, uint64_t id,
                              uint32_t type, struct vfs_mtree *mt,
                              uint64_t lookups, vfs_node **out)
{
	vfs_node *n;
	size_t h;

	pthread_mutex_lock(&v->nlock);
	if (v->ntab_size > 0) {
		h = node_hash(mnt, id, v->ntab_size);
		for (n = v->ntab[h]; n != NULL; n = n->hnext) {
			if (n->mnt == mnt && n->id == id) {
				n->refs++;
				n->lookups += lookups;
				pthread_mutex_unlock(&v->nlock);
				*out = n;
				return 0;
			}
		}
	}
	if (node_grow(v) < 0 || (n = calloc(1, sizeof(*n))) == NULL) {
		pthread_mutex_unlock(&v->nlock);
		return -ENOMEM;
	}
	n->mnt = mnt;
	n->id = id;
	n->type = type;
	n->mt = mt;
	n->refs = 1;
	n->lookups = lookups;
	h = node_hash(mnt, id, v->ntab_size);
	n->hnext = v->ntab[h];
	v->ntab[h] = n;
	v->ntab_count++;
	pthread_mutex_unlock(&v->nlock);
	*out = n;
	return 0;
}

int vfs__node_get(vfs *v, struct vfs_mount *mnt, uint64_t id, uint32_t type,
                  struct vfs_mtree *mt, vfs_node **out)
{
	int rc = node_lookup_or_add(v, mnt, id, type & S_IFMT, mt, 1, out);

	if (rc < 0)
		mnt->store->ops.forget(mnt->store->state, id, 1);
	return rc;
}

int vfs__node_virtual(vfs *v, struct vfs_mtree *mt, vfs_node **out)
{
	return node_lookup_or_add(v, NULL, (uintptr_t)mt, S_IFDIR, mt, 0, out);
}

void vfs__node_hold(vfs *v, vfs_node *n)
{
	pthread_mutex_lock(&v->nlock);
	n->refs++;
	pthread_mutex_unlock(&v->nlock);
}

/* Unlink n from its chain. Caller holds nlock. */
static void node_unhash(vfs *v, vfs_node *n)
{
	vfs_node **pp = &v->ntab[node_hash(n->mnt, n->id, v->ntab_size)];

	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	v->ntab_count--;
}

static void node_free(vfs_node *n)
{
	if (n->mnt != NULL && n->lookups > 0)
		n->mnt->store->ops.forget(n->mnt->store->state, n->id,
		                          n->lookups);
	free(n);
}

void vfs__node_put_n(vfs *v, vfs_node *n, uint64_t count)
{
	if (n == NULL || count == 0)
		return;
	pthread_mutex_lock(&v->nlock);
	if (count > n->refs)
		count = n->refs; /* a frontend bug must not free twice */
	n->refs -= count;
	if (n->refs > 0) {
		pthread_mutex_unlock(&v->nlock);
		return;
	}
	node_unhash(v, n);
	pthread_mutex_unlock(&v->nlock);
	/* The store's forget runs outside nlock; the mount cannot go away
	 * meanwhile because the caller holds mlock for reading. */
	node_free(n);
}

void vfs__node_put(vfs *v, vfs_node *n)
{
	vfs__node_put_n(v, n, 1);
}

int vfs__node_getattr(vfs *v, vfs_node *n, vfs_attr *out)
{
	int rc;

	if (n->mnt == NULL) {
		vfs__virtual_attr(n->mt, out);
		return 0;
	}
	rc = n->mnt->store->ops.getattr(n->mnt->store->state, n->id, out);
	if (rc == 0)
		vfs__attr_fix(n->mnt, out);
	return rc;
}

uint64_t vfs__node_count_mount(vfs *v, const struct vfs_mount *mnt)
{
	uint64_t refs = 0;

	pthread_mutex_lock(&v->nlock);
	for (size_t i = 0; i < v->ntab_size; i++)
		for (vfs_node *n = v->ntab[i]; n != NULL; n = n->hnext)
			if (n->mnt == mnt)
				refs += n->refs;
	pthread_mutex_unlock(&v->nlock);
	return refs;
}

void vfs__node_drop_all(vfs *v, const struct vfs_mount *mnt)
{
	pthread_mutex_lock(&v->nlock);
	for (size_t i = 0; i < v->ntab_size; i++) {
		vfs_node **pp = &v->ntab[i];

		while (*pp != NULL) {
			vfs_node *n = *pp;

			if (mnt == NULL || n->mnt == mnt) {
				*pp = n->hnext;
				v->ntab_count--;
				node_free(n);
			} else {
				pp = &n->hnext;
			}
		}
	}
	pthread_mutex_unlock(&v->nlock);
}

void vfs__node_clear_inactive_mt(vfs *v)
{
	pthread_mutex_lock(&v->nlock);
	for (size_t i = 0; i < v->ntab_size; i++)
		for (vfs_node *n = v->ntab[i]; n != NULL; n = n->hnext)
			if (n->mnt != NULL && n->mt != NULL &&
			    n->mt->active == 0 && n->mt->mount == NULL)
				n->mt = NULL;
	pthread_mutex_unlock(&v->nlock);
}
