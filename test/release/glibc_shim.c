/*
 * Test only. Debian ships no musl-built libstdc++, so the musl binaries are tested with Debian's
 * glibc-built libstdc++.so.6 and libgcc_s.so.1, which reference these glibc-only symbols. This
 * object, preloaded into the musl process, defines them on top of musl's own functions. Real OpenWrt
 * has musl-built libstdcpp6 and libgcc1 and needs none of it. Built with -nostdlib: the functions
 * it calls are resolved from musl at load time.
 */
typedef unsigned long size_t;

extern long getrandom(void *buf, size_t len, unsigned flags);
extern size_t strftime_l(char *s, size_t n, const char *fmt, const void *tm, void *loc);
extern unsigned long getauxval(unsigned long type);

char __libc_single_threaded = 0;

unsigned int arc4random(void) {
  unsigned int v = 0;
  getrandom(&v, sizeof v, 0);
  return v;
}

size_t __strftime_l(char *s, size_t n, const char *fmt, const void *tm, void *loc) {
  return strftime_l(s, n, fmt, tm, loc);
}

unsigned long __getauxval(unsigned long type) {
  return getauxval(type);
}

/* thread_local destructors are then not run at thread exit: acceptable in a test */
int __cxa_thread_atexit_impl(void (*dtor)(void *), void *obj, void *dso) {
  (void)dtor;
  (void)obj;
  (void)dso;
  return 0;
}

/* "not supported": libgcc's unwinder falls back to dl_iterate_phdr */
int _dl_find_object(void *pc, void *result) {
  (void)pc;
  (void)result;
  return -1;
}
#ifdef __x86_64__
/*
 * libgcc_s keeps these only as hidden compatibility symbols, which musl's loader does not bind;
 * all zero means "no CPU features known", so callers take their generic code paths.
 */
struct {
  unsigned int vendor, type, subtype, features[1];
} __cpu_model;

int __cpu_indicator_init(void) {
  return 0;
}
#endif
