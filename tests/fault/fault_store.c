/*
 * The fault-injection store (see fault_store.h).
 *
 * This file holds the control state and the counting gate, then one
 * forwarding member per vtable entry, then the constructor. Each
 * forwarding member asks the gate first; the gate counts the call and
 * says whether this one is the call to fail. Optional inner members that
 * are NULL are given the behaviour backend.h documents for NULL.
 */
#include "fault_store.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct fault_store {
	vfs_store *inner;
	pthread_mutex_t lock;
	uint64_t calls;         /* protected by lock; counted calls since arm */
	uint64_t target;        /* protected by lock; 0 when disarmed */
	unsigned members;       /* protected by lock */
	int err;                /* protected by lock; negative */
	bool hit;               /* protected by lock */
	const char *hit_member; /* protected by lock */
};

/* Count a call of member (name for reports); nonzero: fail it with that. */
static int faultst_gate(fault_store *f, unsigned member, const char *name)
{
	int rc = 0;

	pthread_mutex_lock(&f->lock);
	if (f->members & member) {
		f->calls++;
		if (f->target && f->calls == f->target) {
			rc = f->err;
			f->hit = true;
			f->hit_member = name;
		}
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

#define INNER(f)  ((f)->inner->ops)
#define ISTATE(f) ((f)->inner->state)
#define GATE(f, m)                                                             \
	do {                                                                   \
		int gate_rc_ = faultst_gate((f), FAULT_##m, #m);               \
		if (gate_rc_)                                                  \
			return gate_rc_;                                       \
	} while (0)

static void faultst_destroy(void *store)
{
	fault_store *f = store;

	vfs_store_free(f->inner);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static int faultst_root(void *store, uint64_t *out, vfs_attr *attr)
{
	fault_store *f = store;
	GATE(f, ROOT);
	return INNER(f).root(ISTATE(f), out, attr);
}

static int faultst_lookup(void *store, uint64_t dir, const char *name,
                          uint64_t *out, vfs_attr *attr)
{
	fault_store *f = store;
	GATE(f, LOOKUP);
	return INNER(f).lookup(ISTATE(f), dir, name, out, attr);
}

static void faultst_forget(void *store, uint64_t node, uint64_t nlookup)
{
	fault_store *f = store;
	INNER(f).forget(ISTATE(f), node, nlookup);
}

static int faultst_getattr(void *store, uint64_t node, vfs_attr *out)
{
	fault_store *f = store;
	GATE(f, GETATTR);
	return INNER(f).getattr(ISTATE(f), node, out);
}

static int faultst_setattr(void *store, uint64_t node, const vfs_setattr *set,
                           vfs_attr *out)
{
	fault_store *f = store;
	GATE(f, SETATTR);
	return INNER(f).setattr(ISTATE(f), node, set, out);
}

static int faultst_mknod(void *store, uint64_t dir, const char *name,
                         const vfs_newnode *nn, uint64_t *out, vfs_attr *attr)
{
	fault_store *f = store;
	GATE(f, MKNOD);
	return INNER(f).mknod(ISTATE(f), dir, name, nn, out, attr);
}

static int faultst_link(void *store, uint64_t node, uint64_t dir,
                        const char *name, vfs_attr *attr)
{
	fault_store *f = store;
	GATE(f, LINK);
	return INNER(f).link(ISTATE(f), node, dir, name, attr);
}

static int faultst_unlink(void *store, uint64_t dir, const char *name)
{
	fault_store *f = store;
	GATE(f, UNLINK);
	return INNER(f).unlink(ISTATE(f), dir, name);
}

static int faultst_rmdir(void *store, uint64_t dir, const char *name)
{
	fault_store *f = store;
	GATE(f, RMDIR);
	return INNER(f).rmdir(ISTATE(f), dir, name);
}

static int faultst_rename(void *store, uint64_t olddir, const char *oldname,
                          uint64_t newdir, const char *newname, unsigned flags)
{
	fault_store *f = store;
	GATE(f, RENAME);
	return INNER(f).rename(ISTATE(f), olddir, oldname, newdir, newname,
	                       flags);
}

static int faultst_readlink(void *store, uint64_t node, char *buf, size_t size)
{
	fault_store *f = store;
	GATE(f, READLINK);
	return INNER(f).readlink(ISTATE(f), node, buf, size);
}

static int faultst_readdir(void *store, uint64_t dir, uint64_t cookie,
                           vfs_fill_fn fill, void *ctx)
{
	fault_store *f = store;
	GATE(f, READDIR);
	return INNER(f).readdir(ISTATE(f), dir, cookie, fill, ctx);
}

static int faultst_open(void *store, uint64_t node, int flags, void **fh)
{
	fault_store *f = store;
	GATE(f, OPEN);
	if (!INNER(f).open) {
		*fh = NULL;
		return 0;
	}
	return INNER(f).open(ISTATE(f), node, flags, fh);
}

static void faultst_release(void *store, uint64_t node, void *fh)
{
	fault_store *f = store;
	if (INNER(f).release)
		INNER(f).release(ISTATE(f), node, fh);
}

static int64_t faultst_read(void *store, uint64_t node, void *fh, void *buf,
                            size_t size, int64_t off)
{
	fault_store *f = store;
	GATE(f, READ);
	return INNER(f).read(ISTATE(f), node, fh, buf, size, off);
}

static int64_t faultst_write(void *store, uint64_t node, void *fh,
                             const void *buf, size_t size, int64_t *off,
                             unsigned flags)
{
	fault_store *f = store;
	GATE(f, WRITE);
	return INNER(f).write(ISTATE(f), node, fh, buf, size, off, flags);
}

static int faultst_fsync(void *store, uint64_t node, void *fh, int datasync)
{
	fault_store *f = store;
	GATE(f, FSYNC);
	if (!INNER(f).fsync)
		return 0;
	return INNER(f).fsync(ISTATE(f), node, fh, datasync);
}

static int faultst_statfs(void *store, vfs_statvfs *out)
{
	fault_store *f = store;
	GATE(f, STATFS);
	return INNER(f).statfs(ISTATE(f), out);
}

static int faultst_sync(void *store)
{
	fault_store *f = store;
	GATE(f, SYNC);
	if (!INNER(f).sync)
		return 0;
	return INNER(f).sync(ISTATE(f));
}

static int faultst_create(void *store, uint64_t dir, const char *name,
                          const vfs_newnode *nn, int flags, uint64_t *out,
                          vfs_attr *attr, void **fh)
{
	fault_store *f = store;
	GATE(f, CREATE);
	return INNER(f).create(ISTATE(f), dir, name, nn, flags, out, attr, fh);
}

static const vfs_backend_ops faultst_ops = {
        .version = VFS_BACKEND_VERSION,
        .size = sizeof(vfs_backend_ops),
        .name = "fault",
        .destroy = faultst_destroy,
        .root = faultst_root,
        .lookup = faultst_lookup,
        .forget = faultst_forget,
        .getattr = faultst_getattr,
        .setattr = faultst_setattr,
        .mknod = faultst_mknod,
        .link = faultst_link,
        .unlink = faultst_unlink,
        .rmdir = faultst_rmdir,
        .rename = faultst_rename,
        .readlink = faultst_readlink,
        .readdir = faultst_readdir,
        .open = faultst_open,
        .release = faultst_release,
        .read = faultst_read,
        .write = faultst_write,
        .fsync = faultst_fsync,
        .statfs = faultst_statfs,
        .sync = faultst_sync,
        .create = faultst_create,
};

int fault_store_new(vfs_store **out, fault_store **ctl, vfs_store *inner)
{
	fault_store *f = calloc(1, sizeof(*f));
	int rc;

	if (!f)
		return -ENOMEM;
	if (pthread_mutex_init(&f->lock, NULL) != 0) {
		free(f);
		return -ENOMEM;
	}
	f->inner = inner;
	f->hit_member = "";
	rc = vfs_store_new(out, &faultst_ops, f, inner->mount_flags);
	if (rc < 0) {
		pthread_mutex_destroy(&f->lock);
		free(f);
		return rc;
	}
	/* Offer create() only where the inner store has it, so the core
	 * takes the same path it takes with the inner store alone. */
	if (!inner->ops.create)
		(*out)->ops.create = NULL;
	*ctl = f;
	return 0;
}

void fault_store_arm(fault_store *f, uint64_t n, int err, unsigned members)
{
	pthread_mutex_lock(&f->lock);
	f->calls = 0;
	f->target = n;
	f->err = err < 0 ? err : -err;
	f->members = members;
	f->hit = false;
	f->hit_member = "";
	pthread_mutex_unlock(&f->lock);
}

void fault_store_disarm(fault_store *f)
{
	pthread_mutex_lock(&f->lock);
	f->target = 0;
	pthread_mutex_unlock(&f->lock);
}

bool fault_store_hit(fault_store *f)
{
	bool hit;

	pthread_mutex_lock(&f->lock);
	hit = f->hit;
	pthread_mutex_unlock(&f->lock);
	return hit;
}

uint64_t fault_store_calls(fault_store *f)
{
	uint64_t n;

	pthread_mutex_lock(&f->lock);
	n = f->calls;
	pthread_mutex_unlock(&f->lock);
	return n;
}

const char *fault_store_hit_member(fault_store *f)
{
	const char *s;

	pthread_mutex_lock(&f->lock);
	s = f->hit_member;
	pthread_mutex_unlock(&f->lock);
	return s;
}
