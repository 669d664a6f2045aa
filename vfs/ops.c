/*
 * Namespace operations: the instance, credentials and permission checks,
 * then each operation in two layers.
 *
 * The lower layer (vfs__do_*, node_*) acts on (directory node, name) and
 * holds every rule that does not depend on how the node was found: mount
 * points are busy, read-only mounts refuse, ownership and the setgid
 * directory rule, setuid clearing, permission checks. The node API used by
 * frontends calls it directly. The path API above it resolves paths with
 * the walk and adds what only a path has: "." / ".." / "/" as the final
 * component and trailing slashes, each with the errno Linux gives, checked
 * in the order Linux checks them (existence before read-only for the
 * creating calls, read-only before existence for the removing ones).
 */
#include "core_int.h"
#include "../watch/watch_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- instance --------------------------------------------------------- */

static struct vfs_credset *credset_new(const vfs_cred *cred)
{
	struct vfs_credset *cs;

	cs = malloc(sizeof(*cs) + cred->ngroups * sizeof(uint32_t));
	if (cs == NULL)
		return NULL;
	atomic_init(&cs->refs, 1);
	cs->cred = *cred;
	if (cred->ngroups > 0)
		memcpy(cs->groups, cred->groups,
		       cred->ngroups * sizeof(uint32_t));
	cs->cred.groups = cs->groups;
	return cs;
}

static void credset_put(struct vfs_credset *cs)
{
	if (cs != NULL && atomic_fetch_sub(&cs->refs, 1) == 1)
		free(cs);
}

VFS_EXTERN int vfs_new(vfs **out, const vfs_options *opts)
{
	vfs_cred cred = {.uid = (uint32_t)geteuid(),
	                 .gid = (uint32_t)getegid()};
	vfs *v;

	if (out == NULL)
		return -EINVAL;
	if (opts != NULL &&
	    (opts->version == 0 || opts->version > VFS_OPTIONS_VERSION ||
	     (opts->flags & ~VFS_CHECK_PERMISSIONS) != 0))
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	v->flags = opts != NULL ? opts->flags : 0;
	v->max_handles = opts != NULL && opts->max_handles != 0
	                         ? opts->max_handles
	                         : 65536;
	if (v->max_handles > INT32_MAX)
		v->max_handles = INT32_MAX;
	atomic_init(&v->umask, 022);
	v->mroot = calloc(1, sizeof(*v->mroot));
	v->creds = credset_new(&cred);
	if (v->mroot == NULL || v->creds == NULL) {
		free(v->mroot);
		free(v->creds);
		free(v);
		return -ENOMEM;
	}
	v->mroot->serial = ++v->mt_serial;
	{
		/* Writers first: with glibc's default (readers first), a
		 * steady stream of operations could keep vfs_mount_add()
		 * waiting for ever. No thread takes mlock twice. */
		pthread_rwlockattr_t ra;

		pthread_rwlockattr_init(&ra);
		pthread_rwlockattr_setkind_np(
		        &ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&v->mlock, &ra);
		pthread_rwlockattr_destroy(&ra);
	}
	pthread_mutex_init(&v->nlock, NULL);
	pthread_mutex_init(&v->hlock, NULL);
	pthread_mutex_init(&v->clock, NULL);
	pthread_mutex_init(&v->wlock, NULL);
	*out = v;
	return 0;
}

void vfs__mount_destroy_all(vfs *v);

VFS_EXTERN void vfs_free(vfs *v)
{
	if (v == NULL)
		return;
	vfs__inotify_stop(v); /* its thread takes mlock */
	pthread_rwlock_wrlock(&v->mlock);
	vfs__handles_close_all(v);
	vfs__mount_destroy_all(v);
	vfs__inotify_free(v);
	free(v->ntab);
	pthread_rwlock_unlock(&v->mlock);
	pthread_rwlock_destroy(&v->mlock);
	pthread_mutex_destroy(&v->nlock);
	pthread_mutex_destroy(&v->hlock);
	pthread_mutex_destroy(&v->clock);
	pthread_mutex_destroy(&v->wlock);
	credset_put(v->creds);
	free(v);
}

VFS_EXTERN int vfs_cred_set(vfs *v, const vfs_cred *cred)
{
	struct vfs_credset *cs, *old;

	if (v == NULL || cred == NULL || cred->ngroups > 65536 ||
	    (cred->ngroups > 0 && cred->groups == NULL))
		return -EINVAL;
	cs = credset_new(cred);
	if (cs == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&v->clock);
	old = v->creds;
	v->creds = cs;
	pthread_mutex_unlock(&v->clock);
	credset_put(old);
	return 0;
}

VFS_EXTERN uint32_t vfs_umask(vfs *v, uint32_t mask)
{
	return atomic_exchange(&v->umask, mask & 0777);
}

void vfs__ctx_path(vfs *v, struct vfs_ctx *c)
{
	pthread_mutex_lock(&v->clock);
	c->cs = v->creds;
	atomic_fetch_add(&c->cs->refs, 1);
	pthread_mutex_unlock(&v->clock);
	c->v = v;
	c->cred = &c->cs->cred;
	c->check = (v->flags & VFS_CHECK_PERMISSIONS) != 0;
	c->ev_dir = VFS__NOID;
	c->ev_name = NULL;
}

void vfs__ctx_node(vfs *v, const vfs_cred *cred, struct vfs_ctx *c)
{
	c->v = v;
	c->cred = cred;
	c->cs = NULL;
	c->check = (v->flags & VFS_CHECK_PERMISSIONS) != 0;
	c->ev_dir = VFS__NOID;
	c->ev_name = NULL;
}

void vfs__ctx_done(struct vfs_ctx *c)
{
	credset_put(c->cs);
	c->cs = NULL;
}

/* ---- permission checks ------------------------------------------------ */

bool vfs__in_group(const vfs_cred *cred, uint32_t gid)
{
	if (cred->gid == gid)
		return true;
	for (uint32_t i = 0; i < cred->ngroups; i++)
		if (cred->groups[i] == gid)
			return true;
	return false;
}

int vfs__permission(const struct vfs_ctx *c, const vfs_attr *a, int mask)
{
	uint32_t bits;

	if (!c->check || mask == 0)
		return 0;
	if (c->cred->uid == 0) {
		/* Root may execute only what someone may execute. */
		if ((mask & VFS__MAY_EXEC) && !S_ISDIR(a->mode) &&
		    !(a->mode & 0111))
			return -EACCES;
		return 0;
	}
	if (c->cred->uid == a->uid)
		bits = (a->mode >> 6) & 7;
	else if (vfs__in_group(c->cred, a->gid))
		bits = (a->mode >> 3) & 7;
	else
		bits = a->mode & 7;
	return ((int)bits & mask) == mask ? 0 : -EACCES;
}

static bool is_owner(const struct vfs_ctx *c, const vfs_attr *a)
{
	return c->cred->uid == 0 || c->cred->uid == a->uid;
}

/* Write and search permission on dir, for adding or removing entries. */
static int may_modify_dir(struct vfs_ctx *c, vfs_node *dir, vfs_attr *da)
{
	int rc;

	if (!c->check)
		return 0;
	rc = vfs__node_getattr(c->v, dir, da);
	return rc < 0 ? rc
	              : vfs__permission(c, da, VFS__MAY_WRITE | VFS__MAY_EXEC);
}

/* Removing or replacing name in dir: the sticky-directory rule. The
 * child's attributes are looked up only when the rule needs them, unless
 * the caller already has them (known). */
static int may_delete_known(struct vfs_ctx *c, vfs_node *dir, const char *name,
                            const vfs_attr *known)
{
	vfs_attr da, ca;
	vfs_node *child;
	int rc;

	if (!c->check)
		return 0;
	rc = may_modify_dir(c, dir, &da);
	if (rc < 0 || !(da.mode & S_ISVTX) || c->cred->uid == 0 ||
	    c->cred->uid == da.uid)
		return rc;
	if (known == NULL) {
		rc = vfs__step(c->v, dir, name, &child, &ca);
		if (rc < 0)
			return rc == -ENOENT ? 0 : rc;
		vfs__node_put(c->v, child);
		known = &ca;
	}
	return c->cred->uid == known->uid ? 0 : -EPERM;
}

static int may_delete(struct vfs_ctx *c, vfs_node *dir, const char *name)
{
	return may_delete_known(c, dir, name, NULL);
}

/* ---- change events ----------------------------------------------------- */

static void ev_emit(vfs *v, struct vfs_mount *mnt, uint64_t dir,
                    const char *name, uint64_t node, uint32_t mask)
{
	struct vfs_ev e = {mnt, dir, name, node, mask, 0};

	vfs__watch_emit(v, &e);
}

/* The store id and type of name in dir, for the events of a removal or
 * rename (one lookup the caller gives back with ev_forget). */
static uint64_t ev_lookup(vfs_node *dir, const char *name, uint32_t *type)
{
	vfs_store *s = dir->mnt->store;
	uint64_t id;
	vfs_attr a;

	if (s->ops.lookup(s->state, dir->id, name, &id, &a) < 0)
		return VFS__NOID;
	*type = a.mode & S_IFMT;
	return id;
}

static void ev_forget(vfs_node *dir, uint64_t id)
{
	if (id != VFS__NOID)
		dir->mnt->store->ops.forget(dir->mnt->store->state, id, 1);
}

/* Whether node id has no link left (a directory always goes with its
 * name). */
static bool ev_gone(vfs_node *dir, uint64_t id, uint32_t type)
{
	vfs_store *s = dir->mnt->store;
	vfs_attr a;

	return S_ISDIR(type) || s->ops.getattr(s->state, id, &a) < 0 ||
	       a.nlink == 0;
}

/* ---- setattr ------------------------------------------------------------ */

#define SET_ALL                                                                \
	(VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID | VFS_SET_SIZE |             \
	 VFS_SET_ATIME | VFS_SET_MTIME | VFS_SET_ATIME_NOW |                   \
	 VFS_SET_MTIME_NOW)
#define SET_TIMES                                                              \
	(VFS_SET_ATIME | VFS_SET_MTIME | VFS_SET_ATIME_NOW | VFS_SET_MTIME_NOW)

/* Mode after setuid/setgid are cleared as on a write by a non-root. */
static uint32_t kill_suid(uint32_t mode)
{
	mode &= ~(uint32_t)S_ISUID;
	if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		mode &= ~(uint32_t)S_ISGID;
	return mode;
}

int vfs__do_setattr(struct vfs_ctx *c, vfs_node *n, const vfs_setattr *set,
                    vfs_attr *out)
{
	uint32_t valid = set->valid;
	bool from_fd = valid & VFS__SET_FROM_FD;
	bool touch = valid & VFS__SET_TOUCH;
	vfs_setattr s = *set;
	vfs_attr a, tmp;
	vfs_store *st;
	int rc;

	valid &= SET_ALL;
	if ((set->valid & ~(SET_ALL | VFS__SET_FROM_FD | VFS__SET_TOUCH)) != 0)
		return -EINVAL;
	if (vfs__readonly(n))
		return -EROFS;
	rc = vfs__node_getattr(c->v, n, &a);
	if (rc < 0)
		return rc;
	if (valid & VFS_SET_SIZE) {
		if (S_ISDIR(a.mode))
			return -EISDIR;
		if (!S_ISREG(a.mode) || s.size < 0)
			return -EINVAL;
		if (s.size > VFS_FILE_SIZE_MAX)
			return -EFBIG;
		if (!from_fd) {
			rc = vfs__permission(c, &a, VFS__MAY_WRITE);
			if (rc < 0)
				return rc;
		}
		/* The store stamps mtime and ctime when it cuts the file;
		 * ftruncate() and O_TRUNC ask for them besides, as Linux's
		 * do_truncate() callers other than truncate(2) do. */
		if (c->cred->uid != 0 && kill_suid(a.mode) != a.mode) {
			valid |= VFS_SET_MODE;
			s.mode = kill_suid(a.mode) & 07777;
		}
	}
	if ((valid & VFS_SET_UID) && s.uid == (uint32_t)-1)
		s.uid = a.uid;
	if ((valid & VFS_SET_GID) && s.gid == (uint32_t)-1)
		s.gid = a.gid;
	if (valid & (VFS_SET_UID | VFS_SET_GID)) {
		if (c->check && c->cred->uid != 0) {
			if ((valid & VFS_SET_UID) && s.uid != a.uid)
				return -EPERM;
			if ((valid & VFS_SET_GID) && s.gid != a.gid &&
			    (c->cred->uid != a.uid ||
			     !vfs__in_group(c->cred, s.gid)))
				return -EPERM;
		}
		/* chown of a non-directory clears setuid and setgid. */
		if (!S_ISDIR(a.mode)) {
			uint32_t m = (valid & VFS_SET_MODE) ? s.mode : a.mode;

			if (kill_suid(m) != m) {
				valid |= VFS_SET_MODE;
				s.mode = kill_suid(m) & 07777;
			}
		}
	}
	if (set->valid & VFS_SET_MODE) {
		if (c->check && !is_owner(c, &a))
			return -EPERM;
		s.mode = set->mode & 07777;
		/* Only a member of the file's group may keep setgid. */
		if (c->cred->uid != 0 && (s.mode & S_ISGID) &&
		    !vfs__in_group(c->cred,
		                   (valid & VFS_SET_GID) ? s.gid : a.gid))
			s.mode &= ~(uint32_t)S_ISGID;
	}
	if ((valid & SET_TIMES) && !(valid & VFS_SET_SIZE) && c->check &&
	    !is_owner(c, &a)) {
		if (!touch)
			return -EPERM;
		rc = vfs__permission(c, &a, VFS__MAY_WRITE);
		if (rc < 0)
			return rc;
	}
	if (valid & (VFS_SET_ATIME_NOW | VFS_SET_MTIME_NOW)) {
		struct timespec now = vfs__now();

		if (valid & VFS_SET_ATIME_NOW) {
			s.atime = now;
			valid |= VFS_SET_ATIME;
		}
		if (valid & VFS_SET_MTIME_NOW) {
			s.mtime = now;
			valid |= VFS_SET_MTIME;
		}
		valid &= ~(uint32_t)(VFS_SET_ATIME_NOW | VFS_SET_MTIME_NOW);
	}
	s.valid = valid;
	st = n->mnt->store;
	rc = st->ops.setattr(st->state, n->id, &s, out != NULL ? out : &tmp);
	if (rc == 0 && out != NULL)
		vfs__attr_fix(n->mnt, out);
	if (rc == 0 && vfs__watching(c->v)) {
		/* As the kernel's fsnotify_change(): a size change or an
		 * mtime alone is a modification, the rest attributes. */
		uint32_t d = S_ISDIR(a.mode) ? VFS_EV_ISDIR : 0;
		bool both = (valid & VFS_SET_ATIME) && (valid & VFS_SET_MTIME);

		if ((valid & VFS_SET_SIZE) ||
		    ((valid & VFS_SET_MTIME) && !(valid & VFS_SET_ATIME)))
			ev_emit(c->v, n->mnt, c->ev_dir, c->ev_name, n->id,
			        VFS_EV_MODIFY | d);
		if ((valid & (VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID)) ||
		    both)
			ev_emit(c->v, n->mnt, c->ev_dir, c->ev_name, n->id,
			        VFS_EV_ATTRIB | d);
	}
	return rc;
}

/* ---- creating and removing -------------------------------------------- */

int vfs__mknod_prepare(struct vfs_ctx *c, vfs_node *dir, const char *name,
                       uint32_t mode, uint64_t rdev, const char *target,
                       vfs_newnode *nn)
{
	uint32_t type = mode & S_IFMT;
	vfs_attr da;
	int rc;

	if (!S_ISDIR(dir->type))
		return -ENOTDIR;
	if (vfs__is_mount_path(dir, name))
		return -EEXIST;
	if (vfs__readonly(dir))
		return -EROFS;
	rc = vfs__node_getattr(c->v, dir, &da);
	if (rc < 0)
		return rc;
	rc = vfs__permission(c, &da, VFS__MAY_WRITE | VFS__MAY_EXEC);
	if (rc < 0)
		return rc;
	switch (type) {
	case S_IFCHR:
	case S_IFBLK:
		if (c->check && c->cred->uid != 0)
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
	memset(nn, 0, sizeof(*nn));
	nn->uid = c->cred->uid;
	nn->gid = (da.mode & S_ISGID) ? da.gid : c->cred->gid;
	nn->mode = type | (mode & 07777);
	if (type == S_IFDIR) {
		/* mkdir keeps only the sticky bit of the special bits; setgid
		 * comes from the parent. */
		nn->mode = type | (mode & 01777);
		if (da.mode & S_ISGID)
			nn->mode |= S_ISGID;
	} else if (c->cred->uid != 0 &&
	           (nn->mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
	           !vfs__in_group(c->cred, nn->gid)) {
		nn->mode &= ~(uint32_t)S_ISGID;
	}
	if (type == S_IFLNK) {
		nn->mode = S_IFLNK | 0777;
		nn->target = target;
		nn->target_len = strlen(target);
	}
	if (type == S_IFCHR || type == S_IFBLK)
		nn->rdev = rdev;
	return 0;
}

int vfs__do_mknod(struct vfs_ctx *c, vfs_node *dir, const char *name,
                  uint32_t mode, uint64_t rdev, const char *target,
                  vfs_node **out, vfs_attr *attr)
{
	vfs_newnode nn;
	vfs_attr a;
	vfs_store *s;
	uint64_t id;
	int rc = vfs__mknod_prepare(c, dir, name, mode, rdev, target, &nn);

	if (rc < 0)
		return rc;
	s = dir->mnt->store;
	rc = s->ops.mknod(s->state, dir->id, name, &nn, &id,
	                  attr != NULL ? attr : &a);
	if (rc < 0)
		return rc;
	ev_emit(c->v, dir->mnt, dir->id, name, id,
	        VFS_EV_CREATE | (S_ISDIR(mode) ? VFS_EV_ISDIR : 0));
	if (attr != NULL)
		vfs__attr_fix(dir->mnt, attr);
	if (out == NULL) {
		s->ops.forget(s->state, id, 1);
		return 0;
	}
	return vfs__node_get(c->v, dir->mnt, id, mode & S_IFMT, NULL, out);
}

/* A mount point is a directory: unlink says EISDIR, rmdir EBUSY. */
static int check_removable(struct vfs_ctx *c, vfs_node *dir, const char *name,
                           int mount_point_rc)
{
	if (!S_ISDIR(dir->type))
		return -ENOTDIR;
	if (vfs__readonly(dir))
		return -EROFS;
	if (vfs__is_mount_path(dir, name)) {
		/* rmdir of a directory that only holds mount points below
		 * it: not empty, as Linux says for a directory holding one. */
		if (mount_point_rc == -EBUSY && !vfs__is_mount_point(dir, name))
			return -ENOTEMPTY;
		return mount_point_rc;
	}
	return may_delete(c, dir, name);
}

/* unlink or rmdir, then their events: ATTRIB on a file losing a link,
 * DELETE in the directory, DELETE_SELF when the last link went. */
static int do_remove(struct vfs_ctx *c, vfs_node *dir, const char *name,
                     bool is_rmdir)
{
	vfs_store *s;
	uint64_t id = VFS__NOID;
	uint32_t type = 0;
	int rc = check_removable(c, dir, name, is_rmdir ? -EBUSY : -EISDIR);

	if (rc < 0)
		return rc;
	s = dir->mnt->store;
	if (vfs__watching(c->v))
		id = ev_lookup(dir, name, &type);
	rc = is_rmdir ? s->ops.rmdir(s->state, dir->id, name)
	              : s->ops.unlink(s->state, dir->id, name);
	if (rc == 0 && id != VFS__NOID) {
		uint32_t d = S_ISDIR(type) ? VFS_EV_ISDIR : 0;

		if (!d)
			ev_emit(c->v, dir->mnt, VFS__NOID, NULL, id,
			        VFS_EV_ATTRIB);
		ev_emit(c->v, dir->mnt, dir->id, name, id, VFS_EV_DELETE | d);
		if (ev_gone(dir, id, type))
			vfs__watch_gone(c->v, dir->mnt, id, d != 0);
	}
	ev_forget(dir, id);
	return rc;
}

int vfs__do_unlink(struct vfs_ctx *c, vfs_node *dir, const char *name)
{
	return do_remove(c, dir, name, false);
}

static int do_rmdir(struct vfs_ctx *c, vfs_node *dir, const char *name)
{
	return do_remove(c, dir, name, true);
}

static int do_link(struct vfs_ctx *c, vfs_node *n, vfs_node *dir,
                   const char *name, vfs_attr *attr)
{
	vfs_attr da, a;
	vfs_store *s;
	int rc;

	if (!S_ISDIR(dir->type))
		return -ENOTDIR;
	if (n->mnt != dir->mnt)
		return -EXDEV;
	if (S_ISDIR(n->type))
		return -EPERM;
	if (vfs__is_mount_path(dir, name))
		return -EEXIST;
	if (vfs__readonly(dir))
		return -EROFS;
	rc = may_modify_dir(c, dir, &da);
	if (rc < 0)
		return rc;
	s = dir->mnt->store;
	rc = s->ops.link(s->state, n->id, dir->id, name,
	                 attr != NULL ? attr : &a);
	if (rc == 0 && attr != NULL)
		vfs__attr_fix(dir->mnt, attr);
	if (rc == 0) {
		ev_emit(c->v, dir->mnt, VFS__NOID, NULL, n->id, VFS_EV_ATTRIB);
		ev_emit(c->v, dir->mnt, dir->id, name, n->id, VFS_EV_CREATE);
	}
	return rc;
}

/*
 * What Linux's vfs_rename() checks before the filesystem acts, for names
 * that exist as the lookups of do_renameat2() left them: the same file on
 * both sides does nothing (1); may_delete() of the source; may_delete() of
 * the target, with the type rules unless exchanging, or may_create() when
 * there is none; write permission on a directory that gets a new parent.
 */
static int rename_may(struct vfs_ctx *c, vfs_node *odir, const char *oname,
                      vfs_node *ndir, const char *nname, unsigned flags)
{
	bool exchange = flags & VFS_RENAME_EXCHANGE;
	vfs_node *src, *dst = NULL;
	vfs_attr sa, da;
	int rc = vfs__step(c->v, odir, oname, &src, &sa);

	if (rc < 0)
		return rc;
	rc = vfs__step(c->v, ndir, nname, &dst, &da);
	if (rc == -ENOENT && !exchange) {
		dst = NULL;
		rc = 0;
	} else if (rc < 0) {
		dst = NULL;
	} else if (flags & VFS_RENAME_NOREPLACE) {
		rc = -EEXIST;
	} else if (src == dst) {
		rc = 1;
	}
	if (rc == 0)
		rc = may_delete_known(c, odir, oname, &sa);
	if (rc == 0)
		rc = dst != NULL ? may_delete_known(c, ndir, nname, &da)
		                 : may_modify_dir(c, ndir, &da);
	if (rc == 0 && dst != NULL && !exchange &&
	    S_ISDIR(sa.mode) != S_ISDIR(da.mode))
		rc = S_ISDIR(sa.mode) ? -ENOTDIR : -EISDIR;
	/* Moving a directory to a new parent rewrites its "..". */
	if (rc == 0 && c->check && odir != ndir) {
		if (S_ISDIR(sa.mode))
			rc = vfs__permission(c, &sa, VFS__MAY_WRITE);
		if (rc == 0 && exchange && S_ISDIR(da.mode))
			rc = vfs__permission(c, &da, VFS__MAY_WRITE);
	}
	vfs__node_put(c->v, src);
	vfs__node_put(c->v, dst);
	return rc;
}

static int do_rename(struct vfs_ctx *c, vfs_node *odir, const char *oname,
                     vfs_node *ndir, const char *nname, unsigned flags)
{
	vfs_store *s;
	bool busy;
	int rc;

	if ((flags & ~(VFS_RENAME_NOREPLACE | VFS_RENAME_EXCHANGE)) != 0 ||
	    flags == (VFS_RENAME_NOREPLACE | VFS_RENAME_EXCHANGE))
		return -EINVAL;
	if (!S_ISDIR(odir->type) || !S_ISDIR(ndir->type))
		return -ENOTDIR;
	if (odir->mnt != ndir->mnt)
		return -EXDEV;
	if (vfs__readonly(odir))
		return -EROFS;
	/* Mount points, and directories holding one, stay where they are:
	 * EBUSY, which Linux gives for a mount point only after the checks
	 * of rename_may(). */
	busy = vfs__is_mount_path(odir, oname) ||
	       vfs__is_mount_path(ndir, nname);
	if (c->check || busy) {
		rc = rename_may(c, odir, oname, ndir, nname, flags);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	if (busy)
		return -EBUSY;
	s = odir->mnt->store;
	if (!vfs__watching(c->v))
		return s->ops.rename(s->state, odir->id, oname, ndir->id, nname,
		                     flags);
	{
		uint32_t otype = 0, ntype = 0;
		uint64_t oid = ev_lookup(odir, oname, &otype);
		uint64_t nid = ev_lookup(ndir, nname, &ntype);

		rc = s->ops.rename(s->state, odir->id, oname, ndir->id, nname,
		                   flags);
		if (rc == 0 && oid != VFS__NOID && oid != nid) {
			bool exchange = flags & VFS_RENAME_EXCHANGE;

			vfs__watch_rename(c->v, odir->mnt, odir->id, oname,
			                  ndir->id, nname, oid, S_ISDIR(otype),
			                  exchange ? VFS__NOID : nid,
			                  S_ISDIR(ntype),
			                  !exchange && nid != VFS__NOID &&
			                          ev_gone(ndir, nid, ntype));
			if (exchange && nid != VFS__NOID)
				vfs__watch_rename(c->v, odir->mnt, ndir->id,
				                  nname, odir->id, oname, nid,
				                  S_ISDIR(ntype), VFS__NOID,
				                  false, false);
		}
		ev_forget(odir, oid);
		ev_forget(ndir, nid);
		return rc;
	}
}

/* ---- the path API ------------------------------------------------------ */

/* One path call: the namespace read lock, credentials, and one or two
 * walks, released together. */
struct op {
	struct vfs_ctx c;
	struct vfs_walk w, w2;
	char evname[VFS_NAME_MAX + 1];
};

/* Name the walk's result for change events: its parent directory and
 * name, when both are in the same store. */
static void op_ev_context(struct op *o)
{
	const struct vfs_walk *w = &o->w;
	const struct vfs_frame *top, *parent;

	if (w->depth < 2)
		return;
	top = &w->stack[w->depth - 1];
	parent = &w->stack[w->depth - 2];
	if (top->node->mnt == NULL || parent->node->mnt != top->node->mnt)
		return;
	memcpy(o->evname, w->names + top->name_off, top->name_len);
	o->evname[top->name_len] = '\0';
	o->c.ev_dir = parent->node->id;
	o->c.ev_name = o->evname;
}

static int op_begin(vfs *v, struct op *o)
{
	if (v == NULL)
		return -EINVAL;
	pthread_rwlock_rdlock(&v->mlock);
	vfs__ctx_path(v, &o->c);
	vfs__walk_init(&o->w, &o->c);
	vfs__walk_init(&o->w2, &o->c);
	return 0;
}

static int op_end(struct op *o, int rc)
{
	vfs *v = o->c.v;

	vfs__walk_done(&o->w);
	vfs__walk_done(&o->w2);
	vfs__ctx_done(&o->c);
	pthread_rwlock_unlock(&v->mlock);
	return rc;
}

/* Search permission on the directory the final component is looked up
 * in (the walk checked the ones before it). */
static int op_search_ok(struct op *o, vfs_node *dir)
{
	vfs_attr a;
	int rc;

	if (!o->c.check)
		return 0;
	rc = vfs__node_getattr(o->c.v, dir, &a);
	return rc < 0 ? rc : vfs__permission(&o->c, &a, VFS__MAY_EXEC);
}

/* Resolve the parent for creating path's final component, with Linux's
 * order: "." ".." "/" and existing names give EEXIST, a trailing slash on
 * a missing name (except for mkdir) gives ENOENT, then read-only EROFS. */
static int op_create_prepare(struct op *o, struct vfs_walk *w, const char *path,
                             bool is_dir)
{
	vfs_node *dir, *child;
	vfs_attr a;
	int rc = vfs__walk(w, path, VFS__WALK_PARENT);

	if (rc < 0)
		return rc;
	if (w->last_type != VFS__LAST_NORM)
		return -EEXIST;
	dir = vfs__walk_top(w);
	rc = op_search_ok(o, dir);
	if (rc < 0)
		return rc;
	rc = vfs__step(o->c.v, dir, w->last, &child, &a);
	if (rc == 0) {
		vfs__node_put(o->c.v, child);
		return -EEXIST;
	}
	if (rc != -ENOENT)
		return rc;
	if (w->trailing_slash && !is_dir)
		return -ENOENT;
	return vfs__readonly(dir) ? -EROFS : 0;
}

static int op_resolve(struct op *o, const char *path, bool follow,
                      vfs_node **out)
{
	int rc = vfs__walk(&o->w, path, follow ? 0 : VFS__WALK_NOFOLLOW);

	if (rc == 0) {
		*out = vfs__walk_top(&o->w);
		op_ev_context(o);
	}
	return rc;
}

/* open(O_CREAT): look up the final name, following symlinks to create the
 * target of a dangling one, and create it when missing. */
static int op_open_creat(struct op *o, const char *path, int flags,
                         uint32_t mode)
{
	struct vfs_walk *w = &o->w;
	vfs_node *dir, *node;
	vfs_attr a;
	int rc, tries = 0;

	rc = vfs__walk(w, path, VFS__WALK_PARENT);
	for (;;) {
		if (rc < 0)
			return rc;
		dir = vfs__walk_top(w);
		if (w->last_type != VFS__LAST_ROOT) {
			rc = op_search_ok(o, dir);
			if (rc < 0)
				return rc;
		}
		/* "." ".." "/" name a directory that exists: EEXIST with
		 * O_EXCL, EISDIR without (Linux's do_open()). A trailing
		 * slash is EISDIR, existing or not. */
		if (w->last_type != VFS__LAST_NORM)
			return (flags & O_EXCL) ? -EEXIST : -EISDIR;
		if (w->trailing_slash)
			return -EISDIR;
		rc = vfs__step(o->c.v, dir, w->last, &node, &a);
		if (rc == -ENOENT) {
			if (vfs__readonly(dir))
				return -EROFS;
			rc = vfs__create_open(
			        &o->c, dir, w->last,
			        mode & ~atomic_load(&o->c.v->umask), flags,
			        vfs__walk_parent_ino(w), &node, &a);
			/* Lost a race with another creator: look again. */
			if (rc == -EEXIST && !(flags & O_EXCL) && ++tries < 8) {
				rc = 0;
				continue;
			}
			if (rc >= 0)
				vfs__node_put(o->c.v, node);
			return rc;
		}
		if (rc < 0)
			return rc;
		if (flags & O_EXCL) {
			vfs__node_put(o->c.v, node);
			return -EEXIST;
		}
		if (!S_ISLNK(a.mode))
			break;
		if (flags & O_NOFOLLOW) {
			vfs__node_put(o->c.v, node);
			return -ELOOP;
		}
		rc = vfs__walk_follow_last(w, node, 0);
		vfs__node_put(o->c.v, node);
	}
	if (S_ISDIR(a.mode)) {
		vfs__node_put(o->c.v, node);
		return -EISDIR;
	}
	if (node->mnt != NULL && node->mnt == dir->mnt) {
		o->c.ev_dir = dir->id;
		o->c.ev_name = w->last;
	}
	rc = vfs__open_node(&o->c, node, flags, vfs__walk_parent_ino(w));
	vfs__node_put(o->c.v, node);
	return rc;
}

VFS_EXTERN int vfs_open(vfs *v, const char *path, int flags, uint32_t mode)
{
	struct op o;
	vfs_node *n;
	int rc;

	/* Linux (6.4 on) refuses O_CREAT | O_DIRECTORY outright, before any
	 * lookup: the two used to create a regular file. */
	if ((flags & O_ACCMODE) == O_ACCMODE ||
	    (flags & (O_CREAT | O_DIRECTORY)) == (O_CREAT | O_DIRECTORY))
		return -EINVAL;
	rc = op_begin(v, &o);
	if (rc < 0)
		return rc;
	if (flags & O_CREAT) {
		rc = op_open_creat(&o, path, flags, mode);
	} else {
		rc = op_resolve(&o, path, !(flags & O_NOFOLLOW), &n);
		if (rc == 0)
			rc = vfs__open_node(&o.c, n, flags,
			                    vfs__walk_parent_ino(&o.w));
	}
	return op_end(&o, rc);
}

VFS_EXTERN int vfs_opendir(vfs *v, const char *path)
{
	return vfs_open(v, path, O_RDONLY | O_DIRECTORY, 0);
}

static int path_getattr(vfs *v, const char *path, bool follow, vfs_attr *out)
{
	struct op o;
	vfs_node *n;
	int rc;

	if (out == NULL)
		return -EFAULT;
	rc = op_begin(v, &o);
	if (rc < 0)
		return rc;
	rc = op_resolve(&o, path, follow, &n);
	if (rc == 0)
		rc = vfs__node_getattr(v, n, out);
	return op_end(&o, rc);
}

VFS_EXTERN int vfs_stat(vfs *v, const char *path, vfs_attr *out)
{
	return path_getattr(v, path, true, out);
}

VFS_EXTERN int vfs_lstat(vfs *v, const char *path, vfs_attr *out)
{
	return path_getattr(v, path, false, out);
}

static int path_setattr(vfs *v, const char *path, bool follow,
                        const vfs_setattr *set)
{
	struct op o;
	vfs_node *n;
	int rc = op_begin(v, &o);

	if (rc < 0)
		return rc;
	rc = op_resolve(&o, path, follow, &n);
	if (rc == 0)
		rc = vfs__do_setattr(&o.c, n, set, NULL);
	return op_end(&o, rc);
}

static int fd_setattr(vfs *v, int fd, const vfs_setattr *set)
{
	struct vfs_handle *h;
	struct vfs_ctx c;
	int rc;

	if (v == NULL)
		return -EINVAL;
	pthread_rwlock_rdlock(&v->mlock);
	rc = vfs__handle_get(v, fd, &h);
	if (rc == 0) {
		vfs__ctx_path(v, &c);
		rc = vfs__do_setattr(&c, h->node, set, NULL);
		vfs__ctx_done(&c);
		vfs__handle_put(v, h);
	}
	pthread_rwlock_unlock(&v->mlock);
	return rc;
}

VFS_EXTERN int vfs_truncate(vfs *v, const char *path, int64_t size)
{
	vfs_setattr set = {.valid = VFS_SET_SIZE, .size = size};

	if (size < 0)
		return -EINVAL;
	return path_setattr(v, path, true, &set);
}

VFS_EXTERN int vfs_chmod(vfs *v, const char *path, uint32_t mode)
{
	vfs_setattr set = {.valid = VFS_SET_MODE, .mode = mode};

	return path_setattr(v, path, true, &set);
}

VFS_EXTERN int vfs_fchmod(vfs *v, int fd, uint32_t mode)
{
	vfs_setattr set = {.valid = VFS_SET_MODE, .mode = mode};

	return fd_setattr(v, fd, &set);
}

static vfs_setattr chown_set(uint32_t uid, uint32_t gid)
{
	vfs_setattr set = {
	        .valid = VFS_SET_UID | VFS_SET_GID, .uid = uid, .gid = gid};
	return set;
}

VFS_EXTERN int vfs_chown(vfs *v, const char *path, uint32_t uid, uint32_t gid)
{
	vfs_setattr set = chown_set(uid, gid);

	return path_setattr(v, path, true, &set);
}

VFS_EXTERN int vfs_lchown(vfs *v, const char *path, uint32_t uid, uint32_t gid)
{
	vfs_setattr set = chown_set(uid, gid);

	return path_setattr(v, path, false, &set);
}

VFS_EXTERN int vfs_fchown(vfs *v, int fd, uint32_t uid, uint32_t gid)
{
	vfs_setattr set = chown_set(uid, gid);

	return fd_setattr(v, fd, &set);
}

/* Turn utimensat() times into a setattr; 1 means "nothing to do". */
static int utimens_set(const struct timespec times[2], vfs_setattr *set)
{
	static const uint32_t exact[2] = {VFS_SET_ATIME, VFS_SET_MTIME};
	static const uint32_t now[2] = {VFS_SET_ATIME_NOW, VFS_SET_MTIME_NOW};

	memset(set, 0, sizeof(*set));
	if (times == NULL) {
		set->valid =
		        VFS_SET_ATIME_NOW | VFS_SET_MTIME_NOW | VFS__SET_TOUCH;
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		long ns = times[i].tv_nsec;

		if (ns == VFS_UTIME_OMIT)
			continue;
		if (ns == VFS_UTIME_NOW) {
			set->valid |= now[i];
		} else if (ns < 0 || ns > 999999999) {
			return -EINVAL;
		} else {
			set->valid |= exact[i];
			if (i == 0)
				set->atime = times[i];
			else
				set->mtime = times[i];
		}
	}
	if (set->valid == 0)
		return 1; /* both UTIME_OMIT: Linux succeeds at once */
	if (set->valid == (VFS_SET_ATIME_NOW | VFS_SET_MTIME_NOW))
		set->valid |= VFS__SET_TOUCH;
	return 0;
}

VFS_EXTERN int vfs_utimens(vfs *v, const char *path,
                           const struct timespec times[2], int flags)
{
	vfs_setattr set;
	int rc;

	if ((flags & ~VFS_NOFOLLOW) != 0)
		return -EINVAL;
	rc = utimens_set(times, &set);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	return path_setattr(v, path, !(flags & VFS_NOFOLLOW), &set);
}

VFS_EXTERN int vfs_futimens(vfs *v, int fd, const struct timespec times[2])
{
	vfs_setattr set;
	int rc = utimens_set(times, &set);

	if (rc != 0)
		return rc < 0 ? rc : 0;
	return fd_setattr(v, fd, &set);
}

VFS_EXTERN int vfs_mkdir(vfs *v, const char *path, uint32_t mode)
{
	struct op o;
	int rc = op_begin(v, &o);

	if (rc < 0)
		return rc;
	rc = op_create_prepare(&o, &o.w, path, true);
	if (rc == 0)
		rc = vfs__do_mknod(
		        &o.c, vfs__walk_top(&o.w), o.w.last,
		        S_IFDIR | (mode & ~atomic_load(&v->umask) & 07777), 0,
		        NULL, NULL, NULL);
	return op_end(&o, rc);
}

VFS_EXTERN int vfs_mknod(vfs *v, const char *path, uint32_t mode, uint64_t dev)
{
	struct op o;
	int rc;

	switch (mode & S_IFMT) {
	case 0:
		mode |= S_IFREG;
		break;
	case S_IFREG:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	case S_IFDIR:
		return -EPERM;
	default:
		return -EINVAL;
	}
	rc = op_begin(v, &o);
	if (rc < 0)
		return rc;
	rc = op_create_prepare(&o, &o.w, path, false);
	if (rc == 0)
		rc = vfs__do_mknod(
		        &o.c, vfs__walk_top(&o.w), o.w.last,
		        (mode & S_IFMT) |
		                (mode & ~atomic_load(&v->umask) & 07777),
		        dev, NULL, NULL, NULL);
	return op_end(&o, rc);
}

/* A symlink target: a non-empty string shorter than VFS_PATH_MAX. */
static int target_check(const char *target)
{
	size_t len;

	if (target == NULL)
		return -EFAULT;
	len = strnlen(target, VFS_PATH_MAX);
	if (len == 0)
		return -ENOENT;
	return len >= VFS_PATH_MAX ? -ENAMETOOLONG : 0;
}

VFS_EXTERN int vfs_symlink(vfs *v, const char *target, const char *linkpath)
{
	struct op o;
	int rc = target_check(target);

	if (rc < 0)
		return rc;
	rc = op_begin(v, &o);
	if (rc < 0)
		return rc;
	rc = op_create_prepare(&o, &o.w, linkpath, false);
	if (rc == 0)
		rc = vfs__do_mknod(&o.c, vfs__walk_top(&o.w), o.w.last,
		                   S_IFLNK | 0777, 0, target, NULL, NULL);
	return op_end(&o, rc);
}

VFS_EXTERN int vfs_link(vfs *v, const char *oldpath, const char *newpath)
{
	struct op o;
	vfs_node *n;
	int rc = op_begin(v, &o);

	if (rc < 0)
		return rc;
	rc = op_resolve(&o, oldpath, false, &n);
	if (rc == 0)
		rc = op_create_prepare(&o, &o.w2, newpath, false);
	if (rc == 0)
		rc = do_link(&o.c, n, vfs__walk_top(&o.w2), o.w2.last, NULL);
	return op_end(&o, rc);
}

VFS_EXTERN int vfs_unlink(vfs *v, const char *path)
{
	struct op o;
	vfs_node *dir, *child;
	vfs_attr a;
	int rc = op_begin(v, &o);

	if (rc < 0)
		return rc;
	rc = vfs__walk(&o.w, path, VFS__WALK_PARENT);
	if (rc < 0)
		goto out;
	if (o.w.last_type != VFS__LAST_NORM) {
		rc = -EISDIR;
		goto out;
	}
	dir = vfs__walk_top(&o.w);
	if (vfs__readonly(dir)) {
		rc = -EROFS;
		goto out;
	}
	rc = op_search_ok(&o, dir);
	if (rc < 0)
		goto out;
	if (o.w.trailing_slash) {
		/* "name/": a directory is EISDIR, anything else ENOTDIR. */
		rc = vfs__step(v, dir, o.w.last, &child, &a);
		if (rc == 0) {
			vfs__node_put(v, child);
			rc = S_ISDIR(a.mode) ? -EISDIR : -ENOTDIR;
		}
		goto out;
	}
	rc = vfs__do_unlink(&o.c, dir, o.w.last);
out:
	return op_end(&o, rc);
}

VFS_EXTERN int vfs_rmdir(vfs *v, const char *path)
{
	struct op o;
	vfs_node *dir;
	int rc = op_begin(v, &o);

	if (rc < 0)
		return rc;
	rc = vfs__walk(&o.w, path, VFS__WALK_PARENT);
	if (rc < 0)
		goto out;
	switch (o.w.last_type) {
	case VFS__LAST_ROOT:
		rc = -EBUSY;
		goto out;
	case VFS__LAST_DOT:
		rc = -EINVAL;
		goto out;
	case VFS__LAST_DOTDOT:
		rc = -ENOTEMPTY;
		goto out;
	case VFS__LAST_NORM:
		break;
	}
	dir = vfs__walk_top(&o.w);
	if (vfs__readonly(dir)) {
		rc = -EROFS;
		goto out;
	}
	rc = op_search_ok(&o, dir);
	if (rc == 0)
		rc = do_rmdir(&o.c, dir, o.w.last);
out:
	return op_end(&o, rc);
}

/* Walk to path's parent as Linux's filename_parentat() does: the walk
 * checks search permission on every directory it looks a name up in, the
 * one holding the final component included (unless the path is "/"). */
static int op_walk_parent(struct op *o, struct vfs_walk *w, const char *path)
{
	int rc = vfs__walk(w, path, VFS__WALK_PARENT);

	if (rc == 0 && w->last_type != VFS__LAST_ROOT)
		rc = op_search_ok(o, vfs__walk_top(w));
	return rc;
}

/*
 * rename(2) with the checks in the order of Linux's do_renameat2(): the
 * flags; both walks; EXDEV; ".", ".." or "/" as a final component (EBUSY,
 * or EEXIST for the target with NOREPLACE); EROFS; a missing source
 * (ENOENT); NOREPLACE finding the target (EEXIST) or EXCHANGE missing it
 * (ENOENT); trailing slashes on a non-directory (ENOTDIR); a directory
 * into its own subtree (EINVAL) or onto an ancestor of the source
 * (ENOTEMPTY, EINVAL for an exchange); and only then the same file on
 * both sides, which does nothing. do_rename() goes on as vfs_rename().
 */
VFS_EXTERN int vfs_rename(vfs *v, const char *oldpath, const char *newpath,
                          unsigned flags)
{
	bool exchange = flags & VFS_RENAME_EXCHANGE;
	vfs_node *odir, *ndir, *src = NULL, *dst = NULL;
	struct op o;
	vfs_attr sa, da;
	int rc;

	if ((flags & ~(VFS_RENAME_NOREPLACE | VFS_RENAME_EXCHANGE)) != 0 ||
	    flags == (VFS_RENAME_NOREPLACE | VFS_RENAME_EXCHANGE))
		return -EINVAL;
	rc = op_begin(v, &o);
	if (rc < 0)
		return rc;
	rc = op_walk_parent(&o, &o.w, oldpath);
	if (rc == 0)
		rc = op_walk_parent(&o, &o.w2, newpath);
	if (rc < 0)
		goto out;
	odir = vfs__walk_top(&o.w);
	ndir = vfs__walk_top(&o.w2);
	if (odir->mnt != ndir->mnt)
		rc = -EXDEV;
	else if (o.w.last_type != VFS__LAST_NORM)
		rc = -EBUSY;
	else if (o.w2.last_type != VFS__LAST_NORM)
		rc = (flags & VFS_RENAME_NOREPLACE) ? -EEXIST : -EBUSY;
	else if (vfs__readonly(odir))
		rc = -EROFS;
	else
		rc = vfs__step(v, odir, o.w.last, &src, &sa);
	if (rc < 0) {
		src = NULL;
		goto out;
	}
	rc = vfs__step(v, ndir, o.w2.last, &dst, &da);
	if (rc < 0)
		dst = NULL;
	if (rc == -ENOENT && !exchange)
		rc = 0;
	else if (rc == 0 && (flags & VFS_RENAME_NOREPLACE))
		rc = -EEXIST;
	if (rc < 0)
		goto out;
	/* A trailing slash is only for directories; an exchange also needs
	 * one on the target to name a directory. */
	if ((exchange && !S_ISDIR(da.mode) && o.w2.trailing_slash) ||
	    (!S_ISDIR(sa.mode) &&
	     (o.w.trailing_slash || (!exchange && o.w2.trailing_slash))))
		rc = -ENOTDIR;
	else if (vfs__walk_holds(&o.w2, src))
		rc = -EINVAL;
	else if (dst != NULL && vfs__walk_holds(&o.w, dst))
		rc = exchange ? -EINVAL : -ENOTEMPTY;
	else if (src != dst)
		rc = do_rename(&o.c, odir, o.w.last, ndir, o.w2.last, flags);
out:
	vfs__node_put(v, src);
	vfs__node_put(v, dst);
	return op_end(&o, rc);
}

VFS_EXTERN int vfs_readlink(vfs *v, const char *path, char *buf, size_t size)
{
	struct op o;
	vfs_node *n;
	int rc;

	if (buf == NULL || size == 0)
		return -EINVAL;
	rc = op_begin(v, &o);
	if (rc < 0)
		return rc;
	rc = op_resolve(&o, path, false, &n);
	if (rc == 0)
		rc = vfs_node_readlink(v, n, buf, size);
	return op_end(&o, rc);
}

static int node_statfs(vfs_node *n, vfs_statvfs *out)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (n->mnt != NULL)
		rc = n->mnt->store->ops.statfs(n->mnt->store->state, out);
	else
		out->bsize = 4096;
	out->namemax = VFS_NAME_MAX;
	out->flags = vfs__readonly(n) ? VFS_MOUNT_RDONLY : 0;
	return rc;
}

VFS_EXTERN int vfs_statfs(vfs *v, const char *path, vfs_statvfs *out)
{
	struct op o;
	vfs_node *n;
	int rc;

	if (out == NULL)
		return -EFAULT;
	rc = op_begin(v, &o);
	if (rc < 0)
		return rc;
	rc = op_resolve(&o, path, true, &n);
	if (rc == 0)
		rc = node_statfs(n, out);
	return op_end(&o, rc);
}

VFS_EXTERN int vfs_realpath(vfs *v, const char *path, char *buf, size_t size)
{
	struct op o;
	vfs_node *n;
	int rc;

	if (buf == NULL)
		return -EFAULT;
	rc = op_begin(v, &o);
	if (rc < 0)
		return rc;
	rc = op_resolve(&o, path, true, &n);
	if (rc == 0)
		rc = vfs__walk_path(&o.w, buf, size);
	return op_end(&o, rc);
}

/* ---- the node API ------------------------------------------------------ */

/* One node call: the namespace read lock and the caller's credentials. */
#define NODE_BEGIN(v, cred, c)                                                 \
	if ((v) == NULL || (cred) == NULL)                                     \
		return -EINVAL;                                                \
	pthread_rwlock_rdlock(&(v)->mlock);                                    \
	vfs__ctx_node((v), (cred), &(c));

#define NODE_END(v) pthread_rwlock_unlock(&(v)->mlock);

VFS_EXTERN int vfs_node_root(vfs *v, vfs_node **out)
{
	int rc;

	if (v == NULL || out == NULL)
		return -EINVAL;
	pthread_rwlock_rdlock(&v->mlock);
	rc = vfs__root(v, out);
	pthread_rwlock_unlock(&v->mlock);
	return rc;
}

VFS_EXTERN int vfs_node_resolve(vfs *v, const vfs_cred *cred, const char *path,
                                int flags, vfs_node **out)
{
	struct vfs_ctx c;
	struct vfs_walk w;
	int rc;

	if (out == NULL || (flags & ~VFS_NOFOLLOW) != 0)
		return -EINVAL;
	NODE_BEGIN(v, cred, c)
	vfs__walk_init(&w, &c);
	rc = vfs__walk(&w, path,
	               (flags & VFS_NOFOLLOW) ? VFS__WALK_NOFOLLOW : 0);
	if (rc == 0) {
		*out = vfs__walk_top(&w);
		vfs__node_hold(v, *out);
	}
	vfs__walk_done(&w);
	NODE_END(v)
	return rc;
}

VFS_EXTERN void vfs_node_hold(vfs *v, vfs_node *node, uint64_t n)
{
	if (v == NULL || node == NULL || n == 0)
		return;
	pthread_mutex_lock(&v->nlock);
	node->refs += n;
	pthread_mutex_unlock(&v->nlock);
}

VFS_EXTERN void vfs_node_put(vfs *v, vfs_node *node, uint64_t n)
{
	if (v == NULL || node == NULL)
		return;
	pthread_rwlock_rdlock(&v->mlock);
	vfs__node_put_n(v, node, n);
	pthread_rwlock_unlock(&v->mlock);
}

VFS_EXTERN int vfs_node_lookup(vfs *v, const vfs_cred *cred, vfs_node *dir,
                               const char *name, vfs_node **out, vfs_attr *attr)
{
	struct vfs_ctx c;
	vfs_attr a, tmp;
	int rc;

	if (dir == NULL || out == NULL)
		return -EINVAL;
	rc = vfs__name_check(name);
	if (rc < 0)
		return rc;
	NODE_BEGIN(v, cred, c)
	rc = 0;
	if (!S_ISDIR(dir->type))
		rc = -ENOTDIR;
	else if (c.check && (rc = vfs__node_getattr(v, dir, &a)) == 0)
		rc = vfs__permission(&c, &a, VFS__MAY_EXEC);
	if (rc == 0)
		rc = vfs__step(v, dir, name, out, attr != NULL ? attr : &tmp);
	NODE_END(v)
	return rc;
}

VFS_EXTERN int vfs_node_getattr(vfs *v, vfs_node *node, vfs_attr *out)
{
	int rc;

	if (v == NULL || node == NULL || out == NULL)
		return -EINVAL;
	pthread_rwlock_rdlock(&v->mlock);
	rc = vfs__node_getattr(v, node, out);
	pthread_rwlock_unlock(&v->mlock);
	return rc;
}

VFS_EXTERN int vfs_node_setattr(vfs *v, const vfs_cred *cred, vfs_node *node,
                                const vfs_setattr *set, vfs_attr *out)
{
	struct vfs_ctx c;
	vfs_setattr s;
	int rc;

	if (node == NULL || set == NULL || (set->valid & ~SET_ALL) != 0)
		return -EINVAL;
	s = *set;
	if ((s.valid & SET_TIMES) == (VFS_SET_ATIME_NOW | VFS_SET_MTIME_NOW))
		s.valid |= VFS__SET_TOUCH;
	/* A size change here always sets mtime: FUSE sends open(O_TRUNC)
	 * as a size alone (no descriptor, no mtime) and expects the
	 * filesystem to stamp it, so it cannot be told from a truncate(2)
	 * that keeps the times of an empty file. */
	if ((s.valid & VFS_SET_SIZE) &&
	    !(s.valid & (VFS_SET_MTIME | VFS_SET_MTIME_NOW)))
		s.valid |= VFS_SET_MTIME_NOW;
	NODE_BEGIN(v, cred, c)
	rc = vfs__do_setattr(&c, node, &s, out);
	NODE_END(v)
	return rc;
}

VFS_EXTERN int vfs_node_mknod(vfs *v, const vfs_cred *cred, vfs_node *dir,
                              const char *name, uint32_t mode, uint64_t rdev,
                              const char *target, vfs_node **out,
                              vfs_attr *attr)
{
	struct vfs_ctx c;
	int rc;

	if (dir == NULL)
		return -EINVAL;
	rc = vfs__name_check(name);
	if (rc == 0 && S_ISLNK(mode))
		rc = target_check(target);
	if (rc < 0)
		return rc;
	NODE_BEGIN(v, cred, c)
	rc = vfs__do_mknod(&c, dir, name, mode, rdev, target, out, attr);
	NODE_END(v)
	return rc;
}

VFS_EXTERN int vfs_node_link(vfs *v, const vfs_cred *cred, vfs_node *node,
                             vfs_node *newdir, const char *newname,
                             vfs_attr *attr)
{
	struct vfs_ctx c;
	int rc;

	if (node == NULL || newdir == NULL)
		return -EINVAL;
	rc = vfs__name_check(newname);
	if (rc < 0)
		return rc;
	NODE_BEGIN(v, cred, c)
	rc = do_link(&c, node, newdir, newname, attr);
	NODE_END(v)
	return rc;
}

/* vfs_node_unlink and vfs_node_rmdir: the same checks around one call. */
static int node_remove(vfs *v, const vfs_cred *cred, vfs_node *dir,
                       const char *name, bool is_rmdir)
{
	struct vfs_ctx c;
	int rc;

	if (dir == NULL)
		return -EINVAL;
	rc = vfs__name_check(name);
	if (rc < 0)
		return rc;
	NODE_BEGIN(v, cred, c)
	rc = is_rmdir ? do_rmdir(&c, dir, name) : vfs__do_unlink(&c, dir, name);
	NODE_END(v)
	return rc;
}

VFS_EXTERN int vfs_node_unlink(vfs *v, const vfs_cred *cred, vfs_node *dir,
                               const char *name)
{
	return node_remove(v, cred, dir, name, false);
}

VFS_EXTERN int vfs_node_rmdir(vfs *v, const vfs_cred *cred, vfs_node *dir,
                              const char *name)
{
	return node_remove(v, cred, dir, name, true);
}

VFS_EXTERN int vfs_node_rename(vfs *v, const vfs_cred *cred, vfs_node *olddir,
                               const char *oldname, vfs_node *newdir,
                               const char *newname, unsigned flags)
{
	struct vfs_ctx c;
	int rc;

	if (olddir == NULL || newdir == NULL)
		return -EINVAL;
	rc = vfs__name_check(oldname);
	if (rc == 0)
		rc = vfs__name_check(newname);
	if (rc < 0)
		return rc;
	NODE_BEGIN(v, cred, c)
	rc = do_rename(&c, olddir, oldname, newdir, newname, flags);
	NODE_END(v)
	return rc;
}

VFS_EXTERN int vfs_node_readlink(vfs *v, vfs_node *node, char *buf, size_t size)
{
	int rc;

	if (v == NULL || node == NULL || buf == NULL)
		return -EINVAL;
	if (!S_ISLNK(node->type))
		return -EINVAL;
	rc = node->mnt->store->ops.readlink(node->mnt->store->state, node->id,
	                                    buf, size);
	if (rc >= 0 && (size_t)rc > size)
		rc = (int)size;
	return rc;
}

VFS_EXTERN int vfs_node_statfs(vfs *v, vfs_node *node, vfs_statvfs *out)
{
	if (v == NULL || node == NULL || out == NULL)
		return -EINVAL;
	return node_statfs(node, out);
}

VFS_EXTERN int vfs_node_open(vfs *v, const vfs_cred *cred, vfs_node *node,
                             int flags)
{
	struct vfs_ctx c;
	int rc;

	if (node == NULL)
		return -EINVAL;
	NODE_BEGIN(v, cred, c)
	rc = vfs__open_node(&c, node, flags & ~(O_CREAT | O_EXCL), 0);
	NODE_END(v)
	return rc;
}

VFS_EXTERN int vfs_node_create(vfs *v, const vfs_cred *cred, vfs_node *dir,
                               const char *name, int flags, uint32_t mode,
                               vfs_node **out, vfs_attr *attr)
{
	struct vfs_ctx c;
	vfs_attr a;
	int rc;

	/* An O_CREAT open: O_DIRECTORY is EINVAL, as in vfs_open(). */
	if (dir == NULL || out == NULL || (flags & O_ACCMODE) == O_ACCMODE ||
	    (flags & O_DIRECTORY))
		return -EINVAL;
	rc = vfs__name_check(name);
	if (rc < 0)
		return rc;
	if (attr == NULL)
		attr = &a;
	NODE_BEGIN(v, cred, c)
	rc = vfs__create_open(&c, dir, name, mode, flags & ~(O_CREAT | O_EXCL),
	                      0, out, attr);
	if (rc == -EEXIST && !(flags & O_EXCL)) {
		flags &= ~O_CREAT;
		/* Open what is there, as open(O_CREAT) without O_EXCL. */
		rc = vfs__step(v, dir, name, out, attr);
		if (rc == 0) {
			rc = S_ISDIR(attr->mode)
			             ? -EISDIR
			             : vfs__open_node(&c, *out, flags, 0);
			if (rc < 0)
				vfs__node_put(v, *out);
		}
	}
	NODE_END(v)
	return rc;
}
