/*
 * fakexen.c: an LD_PRELOAD shim that lets Debian's unmodified xenstored
 * (C) and oxenstored (OCaml) run on a machine without a hypervisor, so the
 * guestbridge tests talk to the daemon a real Xen host runs.
 *
 * It replaces the few libxenctrl/libxenevtchn/libxengnttab entry points the
 * daemons call at start-up with harmless fakes, and redirects the files and
 * socket paths they hard-code (/proc/xen/xsd_*, /var/run/xenstored/...) into
 * a per-test state directory. Definitions are unversioned on purpose: the
 * dynamic loader lets them satisfy the binaries' versioned imports.
 *
 * Environment:
 *   FAKEXEN_DIR     directory holding xsd_port, xsd_kva and ring-<domid>
 *   FAKEXEN_SOCKET  where /var/run/xenstored/socket really goes
 *   FAKEXEN_RUNDIR  where the rest of /var/run/xenstored/ really goes
 *   FAKEXEN_DEBUG   when set, every faked call is logged to stderr
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define FIRST_RESERVED_DOMID 0x7FF0u
#define PAGE 4096
#define PATHLEN 4096

static void dbg(const char *fmt, ...)
{
	if (!getenv("FAKEXEN_DEBUG"))
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("fakexen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- path redirection ------------------------------------------------ */

/* redirect returns the path the daemon should really use for p (in buf),
 * or p itself when p is not one of the hypervisor/host paths we fake. */
static const char *redirect(const char *p, char *buf, size_t n)
{
	static const char *const rundirs[] = { "/var/run/xenstored", "/run/xenstored" };
	const char *dir = getenv("FAKEXEN_DIR");
	if (!p)
		return p;
	if (dir && strncmp(p, "/proc/xen/", 10) == 0 &&
	    (strcmp(p + 10, "xsd_port") == 0 || strcmp(p + 10, "xsd_kva") == 0)) {
		snprintf(buf, n, "%s/%s", dir, p + 10);
		dbg("redirect %s -> %s", p, buf);
		return buf;
	}
	for (size_t i = 0; i < sizeof(rundirs) / sizeof(rundirs[0]); i++) {
		size_t l = strlen(rundirs[i]);
		if (strncmp(p, rundirs[i], l) != 0 || (p[l] != '\0' && p[l] != '/'))
			continue;
		const char *sock = getenv("FAKEXEN_SOCKET");
		const char *run = getenv("FAKEXEN_RUNDIR");
		if (sock && strcmp(p + l, "/socket") == 0)
			snprintf(buf, n, "%s", sock);
		else if (run)
			snprintf(buf, n, "%s%s", run, p + l);
		else
			return p;
		dbg("redirect %s -> %s", p, buf);
		return buf;
	}
	return p;
}

/* next returns the libc definition that this shim's function of the same
 * name hides. */
static void *next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);
	if (!f) {
		fprintf(stderr, "fakexen: dlsym(%s): %s\n", name, dlerror());
		abort();
	}
	return f;
}

static int open_redirected(const char *sym, const char *p, int flags, va_list ap)
{
	int (*real)(const char *, int, ...) = next(sym);
	char buf[PATHLEN];
	mode_t mode = 0;
	if (flags & (O_CREAT | O_TMPFILE))
		mode = va_arg(ap, mode_t);
	return real(redirect(p, buf, sizeof(buf)), flags, mode);
}

int open(const char *p, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	int r = open_redirected("open", p, flags, ap);
	va_end(ap);
	return r;
}

int open64(const char *p, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	int r = open_redirected("open64", p, flags, ap);
	va_end(ap);
	return r;
}

int unlink(const char *p)
{
	int (*real)(const char *) = next("unlink");
	char buf[PATHLEN];
	return real(redirect(p, buf, sizeof(buf)));
}

int mkdir(const char *p, mode_t mode)
{
	int (*real)(const char *, mode_t) = next("mkdir");
	char buf[PATHLEN];
	return real(redirect(p, buf, sizeof(buf)), mode);
}

int rename(const char *from, const char *to)
{
	int (*real)(const char *, const char *) = next("rename");
	char b1[PATHLEN], b2[PATHLEN];
	return real(redirect(from, b1, sizeof(b1)), redirect(to, b2, sizeof(b2)));
}

int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t) = next("bind");
	if (sa && sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
		char buf[PATHLEN];
		const char *to = redirect(un->sun_path, buf, sizeof(buf));
		if (to != un->sun_path) {
			struct sockaddr_un copy = { .sun_family = AF_UNIX };
			if (strlen(to) >= sizeof(copy.sun_path)) {
				errno = ENAMETOOLONG;
				return -1;
			}
			strcpy(copy.sun_path, to);
			return real(fd, (struct sockaddr *)&copy, sizeof(copy));
		}
	}
	return real(fd, sa, len);
}

/* oxenstored asks for a million open files; as non-root (or in a container)
 * that is EPERM, so settle for the hard limit instead of dying. */
int setrlimit(__rlimit_resource_t res, const struct rlimit *rl)
{
	int (*real)(__rlimit_resource_t, const struct rlimit *) = next("setrlimit");
	int r = real(res, rl);
	if (r != 0 && errno == EPERM && res == RLIMIT_NOFILE) {
		struct rlimit cur;
		if (getrlimit(RLIMIT_NOFILE, &cur) == 0) {
			struct rlimit clamped = *rl;
			if (clamped.rlim_max > cur.rlim_max)
				clamped.rlim_max = cur.rlim_max;
			if (clamped.rlim_cur > clamped.rlim_max)
				clamped.rlim_cur = clamped.rlim_max;
			dbg("setrlimit(NOFILE) clamped to %lu", (unsigned long)clamped.rlim_max);
			r = real(res, &clamped);
		}
	}
	return r;
}

/* ---- libxenctrl ------------------------------------------------------ */

static int dummy_handle;

void *xc_interface_open(void *logger, void *dombuild_logger, unsigned flags)
{
	(void)logger; (void)dombuild_logger; (void)flags;
	dbg("xc_interface_open");
	return &dummy_handle;
}

int xc_interface_close(void *xch)
{
	(void)xch;
	dbg("xc_interface_close");
	return 0;
}

/* Leading fields of xc_dominfo_t (xenctrl.h): domid, ssidref, then the flag
 * bit-field word whose bit 5 is "running". Nothing after them is read by
 * xenstored, so nothing else is written. */
struct dominfo_head {
	uint32_t domid;
	uint32_t ssidref;
	uint32_t flags;
};
#define DOMINFO_RUNNING (1u << 5)

int xc_domain_getinfo(void *xch, uint32_t first, unsigned max, void *info)
{
	(void)xch;
	dbg("xc_domain_getinfo(%u, %u)", first, max);
	if (max == 0 || first >= FIRST_RESERVED_DOMID)
		return 0;
	struct dominfo_head *h = info;
	h->domid = first;
	h->ssidref = 0;
	h->flags = DOMINFO_RUNNING;
	return 1;
}

/* Leading fields of xen_domctl_getdomaininfo (what oxenstored uses):
 * uint16 domain, pad, uint32 flags, where XEN_DOMINF_running is bit 5. */
struct domaininfo_head {
	uint16_t domain;
	uint16_t pad;
	uint32_t flags;
};

int xc_domain_getinfolist(void *xch, uint32_t first, unsigned max, void *info)
{
	(void)xch;
	dbg("xc_domain_getinfolist(%u, %u)", first, max);
	if (max == 0 || first >= FIRST_RESERVED_DOMID)
		return 0;
	struct domaininfo_head *h = info;
	h->domain = (uint16_t)first;
	h->flags = DOMINFO_RUNNING;
	return 1;
}

/* ---- libxenevtchn ---------------------------------------------------- */

/* The event channel fd is the read end of a pipe nobody writes, so the
 * daemons' poll loop simply never sees an event. */
struct evtchn {
	int rfd, wfd;
};

static void *evtchn_new(void)
{
	struct evtchn *e = calloc(1, sizeof(*e));
	int p[2];
	if (!e || pipe2(p, O_CLOEXEC) != 0) {
		free(e);
		return NULL;
	}
	e->rfd = p[0];
	e->wfd = p[1];
	return e;
}

void *xenevtchn_open(void *logger, unsigned flags)
{
	(void)logger; (void)flags;
	dbg("xenevtchn_open");
	return evtchn_new();
}

void *xenevtchn_fdopen(void *logger, int fd, unsigned flags)
{
	(void)logger; (void)fd; (void)flags;
	dbg("xenevtchn_fdopen(%d)", fd);
	return evtchn_new();
}

int xenevtchn_close(void *h)
{
	struct evtchn *e = h;
	dbg("xenevtchn_close");
	if (e) {
		close(e->rfd);
		close(e->wfd);
		free(e);
	}
	return 0;
}

int xenevtchn_fd(void *h)
{
	return h ? ((struct evtchn *)h)->rfd : -1;
}

int xenevtchn_bind_virq(void *h, unsigned virq)
{
	(void)h;
	dbg("xenevtchn_bind_virq(%u)", virq);
	return 1000;
}

int xenevtchn_bind_interdomain(void *h, uint32_t domid, uint32_t remote)
{
	static int next_port = 2;
	(void)h;
	dbg("xenevtchn_bind_interdomain(%u, %u) = %d", domid, remote, next_port);
	return next_port++;
}

int xenevtchn_notify(void *h, uint32_t port) { (void)h; (void)port; return 0; }
int xenevtchn_unmask(void *h, uint32_t port) { (void)h; (void)port; return 0; }
int xenevtchn_unbind(void *h, uint32_t port) { (void)h; (void)port; return 0; }

int xenevtchn_pending(void *h)
{
	(void)h;
	errno = EAGAIN;
	return -1;
}

/* ---- libxengnttab ---------------------------------------------------- */

void *xengnttab_open(void *logger, unsigned flags)
{
	(void)logger; (void)flags;
	dbg("xengnttab_open");
	return &dummy_handle;
}

int xengnttab_close(void *h) { (void)h; return 0; }
int xengnttab_set_max_grants(void *h, uint32_t n) { (void)h; (void)n; return 0; }

/* map_ring maps the file $FAKEXEN_DIR/ring-<domid> as that domain's ring
 * page, so XS_INTRODUCE works when a test created that file. */
static void *map_ring(const char *who, uint32_t domid, size_t size, int prot)
{
	const char *dir = getenv("FAKEXEN_DIR");
	char path[PATHLEN];
	if (!dir) {
		errno = ENOENT;
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/ring-%u", dir, domid);
	int (*real_open)(const char *, int, ...) = next("open");
	int fd = real_open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		dbg("%s(%u): %s", who, domid, strerror(errno));
		return NULL;
	}
	void *p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
	close(fd);
	dbg("%s(%u) = %p", who, domid, p);
	return p == MAP_FAILED ? NULL : p;
}

/* The C daemon maps a domU's ring through the grant table... */
void *xengnttab_map_grant_ref(void *h, uint32_t domid, uint32_t ref, int prot)
{
	(void)h; (void)ref;
	return map_ring("xengnttab_map_grant_ref", domid, PAGE, prot);
}

/* ...oxenstored through a foreign mapping of the ring's frame. */
void *xc_map_foreign_range(void *xch, uint32_t domid, int size, int prot, unsigned long mfn)
{
	(void)xch; (void)mfn;
	return map_ring("xc_map_foreign_range", domid, size > 0 ? (size_t)size : PAGE, prot);
}

int xengnttab_unmap(void *h, void *addr, uint32_t count)
{
	(void)h;
	return munmap(addr, (size_t)count * PAGE);
}
