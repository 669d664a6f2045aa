/*
 * The memory store: a tree of nodes kept in RAM, like tmpfs.
 *
 * This file holds, in order:
 *   1. the data structures: nodes, directory entries, the page tree of a
 *      regular file, and the store itself;
 *   2. the id table, which maps a node id to its node;
 *   3. the page tree of regular files (sparse data);
 *   4. directories: a name hash for lookup and a sequence-ordered array
 *      for readdir;
 *   5. node creation and freeing;
 *   6. the vtable members (vfs_backend_ops, see vfs/backend.h);
 *   7. the constructors: vfs_memory_new() and the SPEC constructor.
 *
 * Node ids are inode numbers. They come from a 64-bit counter that starts
 * at 1 (the root) and is never reused, so an id the core kept after a node
 * was freed can never name another node; a hash table from id to node
 * makes validating an id one probe.
 *
 * Regular files are sparse: data lives in 4 KiB pages held in a radix tree
 * indexed by page number (64 slots per tree node, grown in height as the
 * file grows). A hole has no page and reads as zeros. 4 KiB matches the
 * block size statfs() reports and the page size of the machines this runs
 * on, so a small file costs one page and a write into a hole allocates
 * little; the tree keeps a lookup at most nine levels deep even at the
 * 2^62-byte size limit. Bytes of a page past the end of file are always
 * zero (truncation clears them), so a file that grows again reads zeros.
 *
 * Each directory entry gets a sequence number from a per-directory counter
 * when it is inserted. It is the entry's readdir cookie: entries are kept
 * in an array ordered by sequence number (removed ones leave a tombstone
 * until the array is compacted), so resuming after a cookie is a binary
 * search, and an entry that stays in place is passed exactly once whatever
 * is added or removed meanwhile. A rename over an existing name keeps the
 * target entry (and so its cookie) and only changes the node it names.
 *
 * Only file pages count against the byte limit (and show in statfs
 * blocks); names, symlink targets and node metadata are bounded by the
 * inode limit and by VFS_NAME_MAX and VFS_PATH_MAX instead.
 *
 * Every mutation checks its limits and allocates everything it needs
 * before it changes anything, so a failed call leaves the store as it was.
 * The one partial success is the one Linux has: a write that crosses the
 * file size limit writes the bytes below it and returns that count.
 *
 * Locking: one mutex per store guards all of its state. readdir() drops it
 * while calling the fill callback and finds its place again by sequence
 * number afterwards.
 */
#include "vfs/vfs_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- 1. Data structures ----------------------------------------------- */

#define MEMFS_PAGE_SHIFT 12
#define MEMFS_PAGE_SIZE  ((size_t)1 << MEMFS_PAGE_SHIFT)
#define MEMFS_FAN_SHIFT  6
#define MEMFS_FAN        (1u << MEMFS_FAN_SHIFT)
/* 9 levels of 6 bits index 2^54 pages, more than 2^62 bytes need. */
#define MEMFS_MAX_HEIGHT 9
#define MEMFS_LINK_MAX   (UINT32_MAX - 1)
/* Reported in statfs when the store has no limit. */
#define MEMFS_UNLIMITED_BLOCKS ((uint64_t)1 << 38)
#define MEMFS_UNLIMITED_FILES  ((uint64_t)1 << 32)
/* A page pointer with this bit set was inserted by a write in progress. */
#define MEMFS_NEW_PAGE ((uintptr_t)1)

typedef struct memfs_node memfs_node;

/** One interior node of a file's page tree. */
typedef struct memfs_rnode {
	void *slot[MEMFS_FAN]; /* children, or pages at the lowest level */
	unsigned used;         /* non-NULL slots */
} memfs_rnode;

/** A name in a directory. */
typedef struct memfs_dirent {
	struct memfs_dirent *hnext; /* name hash chain */
	memfs_node *node;
	uint64_t seq; /* readdir cookie, unique in the directory */
	uint64_t hash;
	size_t namelen;
	char name[]; /* NUL-terminated */
} memfs_dirent;

/** A directory's entry array slot; de is NULL for a removed entry. */
typedef struct memfs_slot {
	uint64_t seq;
	memfs_dirent *de;
} memfs_slot;

struct memfs_node {
	memfs_node *idnext; /* id table chain */
	uint64_t ino;       /* also the node id */
	uint64_t nlookup;
	uint32_t mode, nlink, uid, gid;
	uint64_t rdev;
	int64_t size; /* regular files */
	struct timespec atime, mtime, ctime;
	union {
		struct {
			void *root;      /* memfs_rnode, NULL when empty */
			unsigned height; /* levels of root; 0 when empty */
			uint64_t npages;
		} reg;
		struct {
			memfs_node *parent; /* NULL for the root or removed */
			memfs_dirent **buckets;
			size_t nbuckets; /* a power of two, or 0 */
			size_t count;    /* live entries */
			memfs_slot *slots;
			size_t nslots; /* used slots, tombstones included */
			size_t cap;
			size_t ndead;
			uint64_t nextseq;
			uint64_t compactions; /* tells readdir slots moved */
		} dir;
		struct {
			char *target;
			size_t len;
		} lnk;
	} u;
};

typedef struct memfs_store {
	pthread_mutex_t lock;
	memfs_node **ids;    /* protected by lock */
	size_t nidbuckets;   /* protected by lock; a power of two */
	uint64_t ninodes;    /* protected by lock; live nodes */
	uint64_t next_ino;   /* protected by lock */
	uint64_t used_pages; /* protected by lock; pages of every file */
	uint64_t seed;       /* name hash seed, fixed at creation */
	uint64_t max_bytes;  /* 0: no limit */
	uint64_t max_inodes; /* 0: no limit */
	int64_t max_file_size;
	memfs_node *root;
} memfs_store;

/* ---- 2. The id table -------------------------------------------------- */

static memfs_node *memfs_id_get(memfs_store *st, uint64_t id)
{
	memfs_node *n = st->ids[id & (st->nidbuckets - 1)];
	while (n && n->ino != id)
		n = n->idnext;
	return n;
}

/* Doubling is opportunistic: if it fails the chains only grow longer. */
static void memfs_id_grow(memfs_store *st)
{
	size_t nb = st->nidbuckets * 2;
	memfs_node **ids;

	if (st->ninodes < st->nidbuckets || nb < st->nidbuckets)
		return;
	ids = calloc(nb, sizeof(*ids));
	if (!ids)
		return;
	for (size_t i = 0; i < st->nidbuckets; i++) {
		memfs_node *n = st->ids[i], *next;
		for (; n; n = next) {
			next = n->idnext;
			n->idnext = ids[n->ino & (nb - 1)];
			ids[n->ino & (nb - 1)] = n;
		}
	}
	free(st->ids);
	st->ids = ids;
	st->nidbuckets = nb;
}

static void memfs_id_insert(memfs_store *st, memfs_node *n)
{
	memfs_node **b;

	memfs_id_grow(st);
	b = &st->ids[n->ino & (st->nidbuckets - 1)];
	n->idnext = *b;
	*b = n;
	st->ninodes++;
}

static void memfs_id_remove(memfs_store *st, memfs_node *n)
{
	memfs_node **p = &st->ids[n->ino & (st->nidbuckets - 1)];

	while (*p && *p != n)
		p = &(*p)->idnext;
	if (*p)
		*p = n->idnext;
	st->ninodes--;
}

/* ---- 3. The page tree ------------------------------------------------- */

/* Page indexes a tree of this height covers. */
static uint64_t memfs_span(unsigned height)
{
	return (uint64_t)1 << (MEMFS_FAN_SHIFT * height);
}

static unsigned memfs_slot_index(uint64_t idx, unsigned level)
{
	return (unsigned)(idx >> (MEMFS_FAN_SHIFT * level)) & (MEMFS_FAN - 1);
}

/* The slot holding page idx, or NULL if the path to it does not exist. */
static void **memfs_page_slot(memfs_node *n, uint64_t idx)
{
	memfs_rnode *r = n->u.reg.root;

	if (!r || idx >= memfs_span(n->u.reg.height))
		return NULL;
	for (unsigned h = n->u.reg.height; h > 1; h--) {
		r = r->slot[memfs_slot_index(idx, h - 1)];
		if (!r)
			return NULL;
	}
	return &r->slot[memfs_slot_index(idx, 0)];
}

static char *memfs_page_get(memfs_node *n, uint64_t idx)
{
	void **s = memfs_page_slot(n, idx);
	return s ? *s : NULL;
}

/*
 * Put a page at idx (whose slot is empty). On -ENOMEM the tree may keep
 * new empty interior nodes; they hold no data and are freed with the file.
 */
static int memfs_page_put(memfs_node *n, uint64_t idx, void *page)
{
	memfs_rnode *r;

	if (!n->u.reg.root) {
		unsigned h = 1;
		while (idx >= memfs_span(h))
			h++;
		r = calloc(1, sizeof(*r));
		if (!r)
			return -ENOMEM;
		n->u.reg.root = r;
		n->u.reg.height = h;
	}
	while (idx >= memfs_span(n->u.reg.height)) {
		r = n->u.reg.root;
		if (r->used == 0) {
			/* An empty root serves at any height. */
			n->u.reg.height++;
			continue;
		}
		r = calloc(1, sizeof(*r));
		if (!r)
			return -ENOMEM;
		r->slot[0] = n->u.reg.root;
		r->used = 1;
		n->u.reg.root = r;
		n->u.reg.height++;
	}
	r = n->u.reg.root;
	for (unsigned h = n->u.reg.height; h > 1; h--) {
		unsigned i = memfs_slot_index(idx, h - 1);
		if (!r->slot[i]) {
			memfs_rnode *c = calloc(1, sizeof(*c));
			if (!c)
				return -ENOMEM;
			r->slot[i] = c;
			r->used++;
		}
		r = r->slot[i];
	}
	r->slot[memfs_slot_index(idx, 0)] = page;
	r->used++;
	return 0;
}

/* Clear the slot of page idx (the caller frees the page) and free the
 * interior nodes this leaves empty. */
static void memfs_page_del(memfs_node *n, uint64_t idx)
{
	memfs_rnode *path[MEMFS_MAX_HEIGHT];
	unsigned h = n->u.reg.height, depth = 0;
	memfs_rnode *r = n->u.reg.root;

	if (!r || idx >= memfs_span(h))
		return;
	for (; h > 1; h--) {
		path[depth++] = r;
		r = r->slot[memfs_slot_index(idx, h - 1)];
		if (!r)
			return;
	}
	if (!r->slot[memfs_slot_index(idx, 0)])
		return;
	r->slot[memfs_slot_index(idx, 0)] = NULL;
	r->used--;
	/* Walk back up, freeing empty nodes. path[k] sits at level
	 * height - k; its child on the way down is at level height - k - 1. */
	while (r->used == 0) {
		if (depth == 0) {
			free(r);
			n->u.reg.root = NULL;
			n->u.reg.height = 0;
			return;
		}
		depth--;
		free(r);
		r = path[depth];
		r->slot[memfs_slot_index(idx, n->u.reg.height - depth - 1)] =
		        NULL;
		r->used--;
	}
}

/*
 * Free every page at index >= first under r, a node of the given height
 * whose first page index is base, and every interior node this empties.
 * Returns the pages freed.
 */
static uint64_t memfs_tree_trim(memfs_rnode *r, unsigned height, uint64_t base,
                                uint64_t first)
{
	uint64_t span = memfs_span(height - 1), freed = 0;

	for (unsigned i = 0; i < MEMFS_FAN; i++) {
		uint64_t cbase = base + i * span;
		void *c = r->slot[i];

		if (!c || cbase + span <= first)
			continue;
		if (height == 1) {
			free(c);
			freed++;
		} else {
			memfs_rnode *cr = c;
			freed += memfs_tree_trim(cr, height - 1, cbase, first);
			if (cr->used != 0)
				continue;
			free(cr);
		}
		r->slot[i] = NULL;
		r->used--;
	}
	return freed;
}

/* Drop pages from index first on; update the page counts. */
static void memfs_pages_trim(memfs_store *st, memfs_node *n, uint64_t first)
{
	memfs_rnode *r = n->u.reg.root;
	uint64_t freed;

	if (!r)
		return;
	freed = memfs_tree_trim(r, n->u.reg.height, 0, first);
	n->u.reg.npages -= freed;
	st->used_pages -= freed;
	if (r->used == 0) {
		free(r);
		n->u.reg.root = NULL;
		n->u.reg.height = 0;
	}
}

/* Set a regular file's size. Growing allocates nothing; shrinking frees
 * the pages past the end and zeroes the tail of the last one. */
static void memfs_resize(memfs_store *st, memfs_node *n, int64_t size)
{
	if (size < n->size) {
		uint64_t keep = ((uint64_t)size + MEMFS_PAGE_SIZE - 1) >>
		                MEMFS_PAGE_SHIFT;
		size_t tail = (size_t)size & (MEMFS_PAGE_SIZE - 1);
		memfs_pages_trim(st, n, keep);
		if (tail) {
			char *p = memfs_page_get(n, (uint64_t)size >>
			                                    MEMFS_PAGE_SHIFT);
			if (p)
				memset(p + tail, 0, MEMFS_PAGE_SIZE - tail);
		}
	}
	n->size = size;
}

/* Pages the byte limit still allows (the limit is set). */
static uint64_t memfs_free_pages(const memfs_store *st)
{
	uint64_t limit = st->max_bytes / MEMFS_PAGE_SIZE;
	return limit > st->used_pages ? limit - st->used_pages : 0;
}

/* ---- 4. Directories --------------------------------------------------- */

/* FNV-1a with a per-store seed, then a final avalanche so that the low
 * bits used for bucket selection depend on every byte. */
static uint64_t memfs_hash(uint64_t seed, const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static memfs_dirent *memfs_dir_find(memfs_store *st, memfs_node *dir,
                                    const char *name)
{
	size_t len = strlen(name);
	uint64_t h;
	memfs_dirent *de;

	if (dir->u.dir.nbuckets == 0)
		return NULL;
	h = memfs_hash(st->seed, name, len);
	de = dir->u.dir.buckets[h & (dir->u.dir.nbuckets - 1)];
	for (; de; de = de->hnext) {
		if (de->hash == h && de->namelen == len &&
		    memcmp(de->name, name, len) == 0)
			return de;
	}
	return NULL;
}

static memfs_dirent *memfs_dirent_new(memfs_store *st, const char *name)
{
	size_t len = strlen(name);
	memfs_dirent *de = malloc(sizeof(*de) + len + 1);

	if (!de)
		return NULL;
	de->hnext = NULL;
	de->node = NULL;
	de->seq = 0;
	de->hash = memfs_hash(st->seed, name, len);
	de->namelen = len;
	memcpy(de->name, name, len + 1);
	return de;
}

static void memfs_dir_rehash(memfs_node *dir, size_t nb)
{
	memfs_dirent **b = calloc(nb, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < dir->u.dir.nbuckets; i++) {
		memfs_dirent *de = dir->u.dir.buckets[i], *next;
		for (; de; de = next) {
			next = de->hnext;
			de->hnext = b[de->hash & (nb - 1)];
			b[de->hash & (nb - 1)] = de;
		}
	}
	free(dir->u.dir.buckets);
	dir->u.dir.buckets = b;
	dir->u.dir.nbuckets = nb;
}

/* Make sure one more entry can be inserted without failing. */
static int memfs_dir_reserve(memfs_node *dir)
{
	if (dir->u.dir.nbuckets == 0) {
		dir->u.dir.buckets = calloc(8, sizeof(*dir->u.dir.buckets));
		if (!dir->u.dir.buckets)
			return -ENOMEM;
		dir->u.dir.nbuckets = 8;
	}
	if (dir->u.dir.nslots == dir->u.dir.cap) {
		size_t cap = dir->u.dir.cap ? dir->u.dir.cap * 2 : 8;
		memfs_slot *s;
		if (cap > SIZE_MAX / sizeof(*s))
			return -ENOMEM;
		s = realloc(dir->u.dir.slots, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		dir->u.dir.slots = s;
		dir->u.dir.cap = cap;
	}
	return 0;
}

/* Insert after memfs_dir_reserve(); cannot fail. */
static void memfs_dir_insert(memfs_node *dir, memfs_dirent *de)
{
	memfs_dirent **b;

	de->seq = ++dir->u.dir.nextseq;
	dir->u.dir.slots[dir->u.dir.nslots].seq = de->seq;
	dir->u.dir.slots[dir->u.dir.nslots].de = de;
	dir->u.dir.nslots++;
	b = &dir->u.dir.buckets[de->hash & (dir->u.dir.nbuckets - 1)];
	de->hnext = *b;
	*b = de;
	dir->u.dir.count++;
	if (dir->u.dir.count > dir->u.dir.nbuckets &&
	    dir->u.dir.nbuckets <= SIZE_MAX / 2 / sizeof(*b))
		memfs_dir_rehash(dir, dir->u.dir.nbuckets * 2);
}

/* The index of the first slot whose seq is above cookie. */
static size_t memfs_dir_search(memfs_node *dir, uint64_t cookie)
{
	size_t lo = 0, hi = dir->u.dir.nslots;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (dir->u.dir.slots[mid].seq <= cookie)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Unlink de from dir (the caller frees it); cannot fail. */
static void memfs_dir_remove(memfs_node *dir, memfs_dirent *de)
{
	memfs_dirent **p =
	        &dir->u.dir.buckets[de->hash & (dir->u.dir.nbuckets - 1)];
	size_t i;

	while (*p != de)
		p = &(*p)->hnext;
	*p = de->hnext;
	dir->u.dir.count--;

	i = memfs_dir_search(dir, de->seq - 1);
	dir->u.dir.slots[i].de = NULL;
	dir->u.dir.ndead++;

	/* Compact once tombstones are the majority: amortised O(1). */
	if (dir->u.dir.ndead > 16 && dir->u.dir.ndead * 2 > dir->u.dir.nslots) {
		size_t j = 0;
		for (i = 0; i < dir->u.dir.nslots; i++) {
			if (dir->u.dir.slots[i].de)
				dir->u.dir.slots[j++] = dir->u.dir.slots[i];
		}
		dir->u.dir.nslots = j;
		dir->u.dir.ndead = 0;
		dir->u.dir.compactions++;
		if (dir->u.dir.cap > 64 && j < dir->u.dir.cap / 4) {
			size_t cap = dir->u.dir.cap / 2;
			memfs_slot *s =
			        realloc(dir->u.dir.slots, cap * sizeof(*s));
			if (s) {
				dir->u.dir.slots = s;
				dir->u.dir.cap = cap;
			}
		}
	}
	if (dir->u.dir.nbuckets > 8 &&
	    dir->u.dir.count < dir->u.dir.nbuckets / 8)
		memfs_dir_rehash(dir, dir->u.dir.nbuckets / 2);
}

/* Is anc an ancestor of (or the same as) dir? Both are directories. */
static bool memfs_is_ancestor(memfs_node *anc, memfs_node *dir)
{
	for (; dir; dir = dir->u.dir.parent) {
		if (dir == anc)
			return true;
	}
	return false;
}

/* ---- 5. Nodes --------------------------------------------------------- */

static memfs_node *memfs_node_alloc(uint32_t mode, uint32_t uid, uint32_t gid)
{
	memfs_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->mode = mode;
	n->uid = uid;
	n->gid = gid;
	n->nlink = S_ISDIR(mode) ? 2 : 1;
	n->atime = n->mtime = n->ctime = vfs__now();
	return n;
}

/* Free a node's contents and the node; it is no longer in the id table. */
static void memfs_node_destroy(memfs_store *st, memfs_node *n)
{
	switch (n->mode & S_IFMT) {
	case S_IFREG:
		memfs_pages_trim(st, n, 0);
		break;
	case S_IFDIR:
		for (size_t i = 0; i < n->u.dir.nslots; i++)
			free(n->u.dir.slots[i].de);
		free(n->u.dir.slots);
		free(n->u.dir.buckets);
		break;
	case S_IFLNK:
		free(n->u.lnk.target);
		break;
	default:
		break;
	}
	free(n);
}

/* Free n if nothing refers to it any more. */
static void memfs_node_release(memfs_store *st, memfs_node *n)
{
	if (n->nlink == 0 && n->nlookup == 0) {
		memfs_id_remove(st, n);
		memfs_node_destroy(st, n);
	}
}

static void memfs_fill_attr(const memfs_node *n, vfs_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = n->ino;
	a->mode = n->mode;
	a->nlink = n->nlink;
	a->uid = n->uid;
	a->gid = n->gid;
	a->rdev = n->rdev;
	a->blksize = (uint32_t)MEMFS_PAGE_SIZE;
	switch (n->mode & S_IFMT) {
	case S_IFREG:
		a->size = n->size;
		a->blocks =
		        (int64_t)(n->u.reg.npages * (MEMFS_PAGE_SIZE / 512));
		break;
	case S_IFDIR:
		a->size = (int64_t)n->u.dir.count;
		break;
	case S_IFLNK:
		a->size = (int64_t)n->u.lnk.len;
		break;
	default:
		break;
	}
	a->atime = n->atime;
	a->mtime = n->mtime;
	a->ctime = n->ctime;
}

static void memfs_touch_dir(memfs_node *dir, struct timespec now)
{
	dir->mtime = dir->ctime = now;
}

/* The directory with this id, or an error. */
static int memfs_get_dir(memfs_store *st, uint64_t id, memfs_node **out)
{
	memfs_node *n = memfs_id_get(st, id);

	if (!n)
		return -ESTALE;
	if (!S_ISDIR(n->mode))
		return -ENOTDIR;
	*out = n;
	return 0;
}

/* ---- 6. Vtable members ------------------------------------------------ */

static void memfs_destroy(void *store)
{
	memfs_store *st = store;

	if (!st)
		return;
	for (size_t i = 0; i < st->nidbuckets; i++) {
		memfs_node *n = st->ids[i], *next;
		for (; n; n = next) {
			next = n->idnext;
			memfs_node_destroy(st, n);
		}
	}
	free(st->ids);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static int memfs_root(void *store, uint64_t *out, vfs_attr *attr)
{
	memfs_store *st = store;

	pthread_mutex_lock(&st->lock);
	st->root->nlookup++;
	*out = st->root->ino;
	if (attr)
		memfs_fill_attr(st->root, attr);
	pthread_mutex_unlock(&st->lock);
	return 0;
}

static int memfs_lookup(void *store, uint64_t dirid, const char *name,
                        uint64_t *out, vfs_attr *attr)
{
	memfs_store *st = store;
	memfs_node *dir;
	memfs_dirent *de;
	int rc;

	pthread_mutex_lock(&st->lock);
	rc = memfs_get_dir(st, dirid, &dir);
	if (rc < 0)
		goto out;
	de = memfs_dir_find(st, dir, name);
	if (!de) {
		rc = -ENOENT;
		goto out;
	}
	de->node->nlookup++;
	*out = de->node->ino;
	if (attr)
		memfs_fill_attr(de->node, attr);
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}

static void memfs_forget(void *store, uint64_t id, uint64_t nlookup)
{
	memfs_store *st = store;
	memfs_node *n;

	pthread_mutex_lock(&st->lock);
	n = memfs_id_get(st, id);
	if (n) {
		n->nlookup = nlookup < n->nlookup ? n->nlookup - nlookup : 0;
		if (n != st->root)
			memfs_node_release(st, n);
	}
	pthread_mutex_unlock(&st->lock);
}

static int memfs_getattr(void *store, uint64_t id, vfs_attr *out)
{
	memfs_store *st = store;
	memfs_node *n;
	int rc = 0;

	pthread_mutex_lock(&st->lock);
	n = memfs_id_get(st, id);
	if (n)
		memfs_fill_attr(n, out);
	else
		rc = -ESTALE;
	pthread_mutex_unlock(&st->lock);
	return rc;
}

static int memfs_setattr(void *store, uint64_t id, const vfs_setattr *set,
                         vfs_attr *out)
{
	memfs_store *st = store;
	struct timespec now = vfs__now();
	memfs_node *n;
	bool cut = false;
	int rc = 0;

	pthread_mutex_lock(&st->lock);
	n = memfs_id_get(st, id);
	if (!n) {
		rc = -ESTALE;
		goto out;
	}
	if (set->valid & VFS_SET_SIZE) {
		if (S_ISDIR(n->mode)) {
			rc = -EISDIR;
			goto out;
		}
		if (!S_ISREG(n->mode) || set->size < 0) {
			rc = -EINVAL;
			goto out;
		}
		if (set->size > st->max_file_size) {
			rc = -EFBIG;
			goto out;
		}
		/* As tmpfs: a new size, or a cut that finds pages to trim
		 * (even to the same size), stamps mtime and ctime; an empty
		 * or all-hole file cut to its own size stays as it is. */
		cut = set->size != n->size || n->u.reg.npages > 0;
	}
	/* Nothing below can fail. */
	if (set->valid & VFS_SET_MODE)
		n->mode = (n->mode & S_IFMT) | (set->mode & 07777);
	if (set->valid & VFS_SET_UID)
		n->uid = set->uid;
	if (set->valid & VFS_SET_GID)
		n->gid = set->gid;
	if (set->valid & VFS_SET_SIZE)
		memfs_resize(st, n, set->size);
	if (set->valid & VFS_SET_ATIME_NOW)
		n->atime = now;
	else if (set->valid & VFS_SET_ATIME)
		n->atime = set->atime;
	if ((set->valid & VFS_SET_MTIME_NOW) || cut)
		n->mtime = now;
	else if (set->valid & VFS_SET_MTIME)
		n->mtime = set->mtime;
	if (cut || (set->valid & ~(uint32_t)VFS_SET_SIZE))
		n->ctime = now;
	if (out)
		memfs_fill_attr(n, out);
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}

static int memfs_mknod(void *store, uint64_t dirid, const char *name,
                       const vfs_newnode *nn, uint64_t *out, vfs_attr *attr)
{
	memfs_store *st = store;
	memfs_node *dir, *n = NULL;
	memfs_dirent *de = NULL;
	uint32_t type = nn->mode & S_IFMT;
	struct timespec now;
	int rc;

	switch (type) {
	case S_IFREG:
	case S_IFDIR:
	case S_IFLNK:
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK:
		break;
	default:
		return -EINVAL;
	}
	if (type == S_IFLNK && (!nn->target || nn->target_len == 0 ||
	                        nn->target_len >= VFS_PATH_MAX))
		return -EINVAL;

	pthread_mutex_lock(&st->lock);
	rc = memfs_get_dir(st, dirid, &dir);
	if (rc < 0)
		goto out;
	if (memfs_dir_find(st, dir, name)) {
		rc = -EEXIST;
		goto out;
	}
	if (dir->nlink == 0) {
		rc = -ENOENT; /* the directory was removed */
		goto out;
	}
	if (st->max_inodes && st->ninodes >= st->max_inodes) {
		rc = -ENOSPC;
		goto out;
	}
	if (type == S_IFDIR && dir->nlink >= MEMFS_LINK_MAX) {
		rc = -EMLINK;
		goto out;
	}

	rc = -ENOMEM;
	n = memfs_node_alloc((nn->mode & S_IFMT) | (nn->mode & 07777), nn->uid,
	                     nn->gid);
	if (!n)
		goto out;
	if (type == S_IFLNK) {
		n->u.lnk.target = malloc(nn->target_len);
		if (!n->u.lnk.target)
			goto out;
		memcpy(n->u.lnk.target, nn->target, nn->target_len);
		n->u.lnk.len = nn->target_len;
	}
	if (type == S_IFCHR || type == S_IFBLK)
		n->rdev = nn->rdev;
	de = memfs_dirent_new(st, name);
	if (!de)
		goto out;
	rc = memfs_dir_reserve(dir);
	if (rc < 0)
		goto out;

	/* Commit: nothing below can fail. */
	n->ino = st->next_ino++;
	n->nlookup = 1;
	now = n->ctime;
	memfs_id_insert(st, n);
	de->node = n;
	memfs_dir_insert(dir, de);
	if (type == S_IFDIR) {
		n->u.dir.parent = dir;
		dir->nlink++;
	}
	memfs_touch_dir(dir, now);
	*out = n->ino;
	if (attr)
		memfs_fill_attr(n, attr);
	n = NULL;
	de = NULL;
	rc = 0;
out:
	pthread_mutex_unlock(&st->lock);
	if (n) {
		if (type == S_IFLNK)
			free(n->u.lnk.target);
		free(n);
	}
	free(de);
	return rc;
}

static int memfs_link(void *store, uint64_t id, uint64_t dirid,
                      const char *name, vfs_attr *attr)
{
	memfs_store *st = store;
	memfs_node *dir, *n;
	memfs_dirent *de = NULL;
	struct timespec now = vfs__now();
	int rc;

	pthread_mutex_lock(&st->lock);
	rc = memfs_get_dir(st, dirid, &dir);
	if (rc < 0)
		goto out;
	n = memfs_id_get(st, id);
	if (!n) {
		rc = -ESTALE;
		goto out;
	}
	if (memfs_dir_find(st, dir, name)) {
		rc = -EEXIST;
		goto out;
	}
	if (S_ISDIR(n->mode)) {
		rc = -EPERM;
		goto out;
	}
	if (n->nlink == 0 || dir->nlink == 0) {
		rc = -ENOENT;
		goto out;
	}
	if (n->nlink >= MEMFS_LINK_MAX) {
		rc = -EMLINK;
		goto out;
	}
	de = memfs_dirent_new(st, name);
	if (!de) {
		rc = -ENOMEM;
		goto out;
	}
	rc = memfs_dir_reserve(dir);
	if (rc < 0)
		goto out;

	de->node = n;
	memfs_dir_insert(dir, de);
	de = NULL;
	n->nlink++;
	n->ctime = now;
	memfs_touch_dir(dir, now);
	if (attr)
		memfs_fill_attr(n, attr);
out:
	pthread_mutex_unlock(&st->lock);
	free(de);
	return rc;
}

static int memfs_unlink(void *store, uint64_t dirid, const char *name)
{
	memfs_store *st = store;
	memfs_node *dir, *n;
	memfs_dirent *de;
	struct timespec now = vfs__now();
	int rc;

	pthread_mutex_lock(&st->lock);
	rc = memfs_get_dir(st, dirid, &dir);
	if (rc < 0)
		goto out;
	de = memfs_dir_find(st, dir, name);
	if (!de) {
		rc = -ENOENT;
		goto out;
	}
	n = de->node;
	if (S_ISDIR(n->mode)) {
		rc = -EISDIR;
		goto out;
	}
	memfs_dir_remove(dir, de);
	free(de);
	n->nlink--;
	n->ctime = now;
	memfs_touch_dir(dir, now);
	memfs_node_release(st, n);
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}

static int memfs_rmdir(void *store, uint64_t dirid, const char *name)
{
	memfs_store *st = store;
	memfs_node *dir, *n;
	memfs_dirent *de;
	struct timespec now = vfs__now();
	int rc;

	pthread_mutex_lock(&st->lock);
	rc = memfs_get_dir(st, dirid, &dir);
	if (rc < 0)
		goto out;
	de = memfs_dir_find(st, dir, name);
	if (!de) {
		rc = -ENOENT;
		goto out;
	}
	n = de->node;
	if (!S_ISDIR(n->mode)) {
		rc = -ENOTDIR;
		goto out;
	}
	if (n->u.dir.count != 0) {
		rc = -ENOTEMPTY;
		goto out;
	}
	memfs_dir_remove(dir, de);
	free(de);
	n->nlink = 0;
	n->u.dir.parent = NULL;
	n->ctime = now;
	dir->nlink--;
	memfs_touch_dir(dir, now);
	memfs_node_release(st, n);
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}

/* Move directory d from parent from to parent to: ".." and link counts. */
static void memfs_reparent(memfs_node *d, memfs_node *from, memfs_node *to)
{
	if (!S_ISDIR(d->mode) || from == to)
		return;
	d->u.dir.parent = to;
	from->nlink--;
	to->nlink++;
}

static int memfs_rename(void *store, uint64_t olddirid, const char *oldname,
                        uint64_t newdirid, const char *newname, unsigned flags)
{
	memfs_store *st = store;
	memfs_node *od, *nd, *src, *dst;
	memfs_dirent *ode, *nde, *fresh = NULL;
	struct timespec now = vfs__now();
	int rc;

	if ((flags & ~(VFS_RENAME_NOREPLACE | VFS_RENAME_EXCHANGE)) ||
	    flags == (VFS_RENAME_NOREPLACE | VFS_RENAME_EXCHANGE))
		return -EINVAL;

	pthread_mutex_lock(&st->lock);
	rc = memfs_get_dir(st, olddirid, &od);
	if (rc < 0)
		goto out;
	rc = memfs_get_dir(st, newdirid, &nd);
	if (rc < 0)
		goto out;
	ode = memfs_dir_find(st, od, oldname);
	if (!ode) {
		rc = -ENOENT;
		goto out;
	}
	src = ode->node;
	nde = memfs_dir_find(st, nd, newname);
	dst = nde ? nde->node : NULL;
	if (!nde && nd->nlink == 0) {
		rc = -ENOENT; /* the target directory was removed */
		goto out;
	}
	if ((flags & VFS_RENAME_NOREPLACE) && nde) {
		rc = -EEXIST;
		goto out;
	}
	if ((flags & VFS_RENAME_EXCHANGE) && !nde) {
		rc = -ENOENT;
		goto out;
	}
	if (src == dst)
		goto out; /* the same node: nothing changes */
	/* Linux's order: the source may not be an ancestor of the target's
	 * directory (EINVAL), nor the target one of the source's (ENOTEMPTY,
	 * EINVAL for an exchange), before the types are compared. */
	if (S_ISDIR(src->mode) && od != nd && memfs_is_ancestor(src, nd)) {
		rc = -EINVAL;
		goto out;
	}
	if (dst && S_ISDIR(dst->mode) && od != nd &&
	    memfs_is_ancestor(dst, od)) {
		rc = (flags & VFS_RENAME_EXCHANGE) ? -EINVAL : -ENOTEMPTY;
		goto out;
	}

	if (flags & VFS_RENAME_EXCHANGE) {
		ode->node = dst;
		nde->node = src;
		memfs_reparent(src, od, nd);
		memfs_reparent(dst, nd, od);
		src->ctime = dst->ctime = now;
		memfs_touch_dir(od, now);
		memfs_touch_dir(nd, now);
		goto out;
	}

	if (dst) {
		if (S_ISDIR(src->mode) && !S_ISDIR(dst->mode)) {
			rc = -ENOTDIR;
			goto out;
		}
		if (!S_ISDIR(src->mode) && S_ISDIR(dst->mode)) {
			rc = -EISDIR;
			goto out;
		}
		if (S_ISDIR(dst->mode) && dst->u.dir.count != 0) {
			rc = -ENOTEMPTY;
			goto out;
		}
	} else {
		if (S_ISDIR(src->mode) && od != nd &&
		    nd->nlink >= MEMFS_LINK_MAX) {
			rc = -EMLINK;
			goto out;
		}
		fresh = memfs_dirent_new(st, newname);
		if (!fresh) {
			rc = -ENOMEM;
			goto out;
		}
		rc = memfs_dir_reserve(nd);
		if (rc < 0)
			goto out;
	}

	/* Commit: nothing below can fail. */
	if (dst) {
		/* Keep the target entry (and its readdir cookie). */
		nde->node = src;
		if (S_ISDIR(dst->mode)) {
			dst->nlink = 0;
			dst->u.dir.parent = NULL;
			nd->nlink--;
		} else {
			dst->nlink--;
		}
		dst->ctime = now;
	} else {
		fresh->node = src;
		memfs_dir_insert(nd, fresh);
		fresh = NULL;
	}
	memfs_dir_remove(od, ode);
	free(ode);
	memfs_reparent(src, od, nd);
	src->ctime = now;
	memfs_touch_dir(od, now);
	memfs_touch_dir(nd, now);
	if (dst)
		memfs_node_release(st, dst);
out:
	pthread_mutex_unlock(&st->lock);
	free(fresh);
	return rc;
}

static int memfs_readlink(void *store, uint64_t id, char *buf, size_t size)
{
	memfs_store *st = store;
	memfs_node *n;
	int rc;

	pthread_mutex_lock(&st->lock);
	n = memfs_id_get(st, id);
	if (!n) {
		rc = -ESTALE;
	} else if (!S_ISLNK(n->mode)) {
		rc = -EINVAL;
	} else {
		size_t len = n->u.lnk.len;
		memcpy(buf, n->u.lnk.target, len < size ? len : size);
		rc = (int)len;
	}
	pthread_mutex_unlock(&st->lock);
	return rc;
}

static int memfs_readdir(void *store, uint64_t dirid, uint64_t cookie,
                         vfs_fill_fn fill, void *ctx)
{
	memfs_store *st = store;
	memfs_node *dir;
	char name[VFS_NAME_MAX + 1];
	uint64_t gen;
	size_t i;
	int rc;

	pthread_mutex_lock(&st->lock);
	rc = memfs_get_dir(st, dirid, &dir);
	if (rc < 0)
		goto out;
	if (dir->nlink == 0) {
		rc = -ENOENT; /* removed, as Linux's getdents says */
		goto out;
	}
	i = memfs_dir_search(dir, cookie);
	for (;;) {
		memfs_dirent *de;
		uint64_t ino, seq;
		uint32_t type;
		size_t len;
		int stop;

		while (i < dir->u.dir.nslots && !dir->u.dir.slots[i].de)
			i++;
		if (i >= dir->u.dir.nslots)
			break;
		de = dir->u.dir.slots[i].de;
		len = de->namelen;
		memcpy(name, de->name, len + 1);
		ino = de->node->ino;
		type = de->node->mode & S_IFMT;
		seq = de->seq;
		gen = dir->u.dir.compactions;

		/* The core holds a lookup on dir, so it outlives the unlock;
		 * the entry array may change, so find our place again. */
		pthread_mutex_unlock(&st->lock);
		stop = fill(ctx, name, len, ino, type, seq);
		pthread_mutex_lock(&st->lock);
		if (stop)
			break;
		if (gen == dir->u.dir.compactions && i < dir->u.dir.nslots &&
		    dir->u.dir.slots[i].seq == seq)
			i++;
		else
			i = memfs_dir_search(dir, seq);
	}
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}

/* Create and open in one step. A memory file needs no open state, so this
 * is mknod() and nothing that could fail after it: all or nothing. */
static int memfs_create_open(void *store, uint64_t dirid, const char *name,
                             const vfs_newnode *nn, int flags, uint64_t *out,
                             vfs_attr *attr, void **fh)
{
	*fh = NULL;
	if ((nn->mode & S_IFMT) != S_IFREG)
		return -EINVAL;
	return memfs_mknod(store, dirid, name, nn, out, attr);
}

static int memfs_open(void *store, uint64_t id, int flags, void **fh)
{
	memfs_store *st = store;
	memfs_node *n;
	int rc = 0;

	*fh = NULL;
	pthread_mutex_lock(&st->lock);
	n = memfs_id_get(st, id);
	if (!n)
		rc = -ESTALE;
	else if (S_ISLNK(n->mode))
		rc = -ELOOP;
	else if (!S_ISREG(n->mode) && !S_ISDIR(n->mode))
		rc = -ENXIO; /* FIFOs, sockets and devices are metadata */
	pthread_mutex_unlock(&st->lock);
	return rc;
}

/* relatime: record an access only when it tells something new. */
static void memfs_mark_access(memfs_node *n)
{
	struct timespec now = vfs__now();
	struct timespec a = n->atime;

	if (a.tv_sec < n->mtime.tv_sec ||
	    (a.tv_sec == n->mtime.tv_sec && a.tv_nsec <= n->mtime.tv_nsec) ||
	    a.tv_sec < n->ctime.tv_sec ||
	    (a.tv_sec == n->ctime.tv_sec && a.tv_nsec <= n->ctime.tv_nsec) ||
	    now.tv_sec - a.tv_sec >= 24 * 3600)
		n->atime = now;
}

static int64_t memfs_read(void *store, uint64_t id, void *fh, void *buf,
                          size_t size, int64_t off)
{
	memfs_store *st = store;
	memfs_node *n;
	char *dst = buf;
	int64_t rc;
	size_t done = 0, count;

	if (off < 0)
		return -EINVAL;
	pthread_mutex_lock(&st->lock);
	n = memfs_id_get(st, id);
	if (!n) {
		rc = -ESTALE;
		goto out;
	}
	if (S_ISDIR(n->mode)) {
		rc = -EISDIR;
		goto out;
	}
	if (!S_ISREG(n->mode)) {
		rc = -EINVAL;
		goto out;
	}
	if (off >= n->size || size == 0) {
		rc = 0;
		goto out;
	}
	count = (uint64_t)(n->size - off) < size ? (size_t)(n->size - off)
	                                         : size;
	while (done < count) {
		uint64_t pos = (uint64_t)off + done;
		size_t in = (size_t)(pos & (MEMFS_PAGE_SIZE - 1));
		size_t len = MEMFS_PAGE_SIZE - in;
		char *p = memfs_page_get(n, pos >> MEMFS_PAGE_SHIFT);
		if (len > count - done)
			len = count - done;
		if (p)
			memcpy(dst + done, p + in, len);
		else
			memset(dst + done, 0, len);
		done += len;
	}
	memfs_mark_access(n);
	rc = (int64_t)count;
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}

/* Undo the first phase of a write: drop pages it inserted in [first, end). */
static void memfs_write_rollback(memfs_node *n, uint64_t first, uint64_t end)
{
	for (uint64_t idx = first; idx < end; idx++) {
		void **s = memfs_page_slot(n, idx);
		if (s && ((uintptr_t)*s & MEMFS_NEW_PAGE)) {
			free((void *)((uintptr_t)*s & ~MEMFS_NEW_PAGE));
			memfs_page_del(n, idx);
		}
	}
}

static int64_t memfs_write(void *store, uint64_t id, void *fh, const void *buf,
                           size_t size, int64_t *off, unsigned flags)
{
	memfs_store *st = store;
	const char *src = buf;
	memfs_node *n;
	uint64_t first, last, idx, need = 0;
	int64_t pos, rc;
	size_t done;

	pthread_mutex_lock(&st->lock);
	n = memfs_id_get(st, id);
	if (!n) {
		rc = -ESTALE;
		goto out;
	}
	if (S_ISDIR(n->mode)) {
		rc = -EISDIR;
		goto out;
	}
	if (!S_ISREG(n->mode)) {
		rc = -EINVAL;
		goto out;
	}
	pos = (flags & VFS_WRITE_APPEND) ? n->size : *off;
	if (pos < 0) {
		rc = -EINVAL;
		goto out;
	}
	if (size == 0) {
		*off = pos;
		rc = 0;
		goto out;
	}
	/* As Linux at s_maxbytes: a write that starts below the size limit
	 * and crosses it writes what fits; one that starts at it fails. */
	if (pos >= st->max_file_size) {
		rc = -EFBIG;
		goto out;
	}
	if (size > (uint64_t)(st->max_file_size - pos))
		size = (size_t)(st->max_file_size - pos);

	/* Count the holes to fill and check the byte limit first. */
	first = (uint64_t)pos >> MEMFS_PAGE_SHIFT;
	last = ((uint64_t)pos + size - 1) >> MEMFS_PAGE_SHIFT;
	for (idx = first; idx <= last; idx++) {
		if (!memfs_page_get(n, idx))
			need++;
	}
	if (st->max_bytes && need > memfs_free_pages(st)) {
		rc = -ENOSPC;
		goto out;
	}

	/* Phase one: insert the missing pages, marked new, so that a
	 * failure can take exactly those out again. */
	for (idx = first; need && idx <= last; idx++) {
		void *p;
		if (memfs_page_get(n, idx))
			continue;
		p = malloc(MEMFS_PAGE_SIZE);
		if (!p || memfs_page_put(n, idx,
		                         (void *)((uintptr_t)p |
		                                  MEMFS_NEW_PAGE)) < 0) {
			free(p);
			memfs_write_rollback(n, first, idx);
			rc = -ENOMEM;
			goto out;
		}
	}

	/* Phase two: copy. Cannot fail. */
	done = 0;
	for (idx = first; idx <= last; idx++) {
		uint64_t at = (uint64_t)pos + done;
		size_t in = (size_t)(at & (MEMFS_PAGE_SIZE - 1));
		size_t len = MEMFS_PAGE_SIZE - in;
		void **s = memfs_page_slot(n, idx);
		char *p;

		if (len > size - done)
			len = size - done;
		if ((uintptr_t)*s & MEMFS_NEW_PAGE) {
			p = (char *)((uintptr_t)*s & ~MEMFS_NEW_PAGE);
			*s = p;
			memset(p, 0, in);
			memset(p + in + len, 0, MEMFS_PAGE_SIZE - in - len);
		} else {
			p = *s;
		}
		memcpy(p + in, src + done, len);
		done += len;
	}
	n->u.reg.npages += need;
	st->used_pages += need;
	if (pos + (int64_t)size > n->size)
		n->size = pos + (int64_t)size;
	n->mtime = n->ctime = vfs__now();
	*off = pos;
	rc = (int64_t)size;
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}

static int memfs_statfs(void *store, vfs_statvfs *out)
{
	memfs_store *st = store;
	uint64_t blocks, files;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&st->lock);
	blocks = st->max_bytes ? st->max_bytes / MEMFS_PAGE_SIZE
	                       : MEMFS_UNLIMITED_BLOCKS;
	files = st->max_inodes ? st->max_inodes : MEMFS_UNLIMITED_FILES;
	out->bsize = MEMFS_PAGE_SIZE;
	out->blocks = blocks;
	out->bfree = blocks > st->used_pages ? blocks - st->used_pages : 0;
	out->bavail = out->bfree;
	out->files = files;
	out->ffree = files > st->ninodes ? files - st->ninodes : 0;
	out->namemax = VFS_NAME_MAX;
	pthread_mutex_unlock(&st->lock);
	return 0;
}

static const vfs_backend_ops memfs_ops = {
        .version = VFS_BACKEND_VERSION,
        .size = sizeof(vfs_backend_ops),
        .name = "memory",
        .destroy = memfs_destroy,
        .root = memfs_root,
        .lookup = memfs_lookup,
        .forget = memfs_forget,
        .getattr = memfs_getattr,
        .setattr = memfs_setattr,
        .mknod = memfs_mknod,
        .link = memfs_link,
        .unlink = memfs_unlink,
        .rmdir = memfs_rmdir,
        .rename = memfs_rename,
        .readlink = memfs_readlink,
        .readdir = memfs_readdir,
        .open = memfs_open,
        .create = memfs_create_open,
        .read = memfs_read,
        .write = memfs_write,
        .statfs = memfs_statfs,
};

/* ---- 7. Constructors -------------------------------------------------- */

static uint64_t memfs_seed(const void *addr)
{
	uint64_t seed;
	struct timespec now;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed))
		return seed;
	now = vfs__now();
	return (uint64_t)now.tv_sec * 1000000007ull ^ (uint64_t)now.tv_nsec ^
	       (uint64_t)(uintptr_t)addr;
}

static int memfs_create(vfs_store **out, const vfs_memory_options *opts,
                        unsigned mount_flags)
{
	memfs_store *st;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (opts &&
	    (opts->version < 1 || opts->version > VFS_MEMORY_OPTIONS_VERSION))
		return -EINVAL;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	if (pthread_mutex_init(&st->lock, NULL) != 0) {
		free(st);
		return -ENOMEM;
	}
	st->ids = calloc(64, sizeof(*st->ids));
	if (st->ids)
		st->nidbuckets = 64;
	/* Owned by whoever creates the store, as a tmpfs a user mounts. */
	st->root = memfs_node_alloc(S_IFDIR | 0755, (uint32_t)geteuid(),
	                            (uint32_t)getegid());
	if (!st->ids || !st->root) {
		free(st->root);
		st->root = NULL;
		rc = -ENOMEM;
		goto fail;
	}
	st->seed = memfs_seed(st);
	st->max_file_size = VFS_FILE_SIZE_MAX;
	if (opts) {
		st->max_bytes = opts->max_bytes;
		st->max_inodes = opts->max_inodes;
		if (opts->max_file_size &&
		    opts->max_file_size < (uint64_t)VFS_FILE_SIZE_MAX)
			st->max_file_size = (int64_t)opts->max_file_size;
	}
	st->root->ino = 1;
	st->next_ino = 2;
	memfs_id_insert(st, st->root);

	rc = vfs_store_new(out, &memfs_ops, st, mount_flags);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	memfs_destroy(st);
	return rc;
}

int vfs_memory_new(vfs_store **out, const vfs_memory_options *opts)
{
	return memfs_create(out, opts, 0);
}

int vfs__memory_open(vfs_store **out, const char *arg, const vfs__kv *kv,
                     size_t nkv, unsigned mount_flags, char *err, size_t errlen)
{
	vfs_memory_options o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.version = VFS_MEMORY_OPTIONS_VERSION;
	if (arg)
		return vfs__err(err, errlen, -EINVAL,
		                "memory: takes no argument, got \"memory:%s\"",
		                arg);
	for (size_t i = 0; i < nkv; i++) {
		uint64_t *dst;
		if (strcmp(kv[i].key, "size") == 0)
			dst = &o.max_bytes;
		else if (strcmp(kv[i].key, "inodes") == 0)
			dst = &o.max_inodes;
		else if (strcmp(kv[i].key, "maxfile") == 0)
			dst = &o.max_file_size;
		else
			return vfs__err(err, errlen, -EINVAL,
			                "memory: unknown option \"%s\"",
			                kv[i].key);
		rc = vfs__parse_size(kv[i].val, dst);
		if (rc < 0)
			return vfs__err(
			        err, errlen, -EINVAL,
			        "memory: bad value \"%s\" for option %s",
			        kv[i].val, kv[i].key);
	}
	rc = memfs_create(out, &o, mount_flags);
	if (rc < 0)
		return vfs__err(err, errlen, rc,
		                "memory: cannot create store: %s",
		                vfs_strerror(rc));
	return 0;
}
